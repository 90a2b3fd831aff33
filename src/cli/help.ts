// `--help` text, generated from the command specs: usage lines, description, subcommands, options.
import { optionsOf, pathName } from './parse.js';
import { GLOBAL_OPTIONS, type ArgSpec, type Command, type OptionSpec, type OptionsSpec } from './spec.js';

const argText = (a: ArgSpec): string => {
  const n = a.variadic === true ? `${a.name}...` : a.name;
  return a.optional === true ? `[${n}]` : n;
};

const optionUsage = (name: string, o: OptionSpec): string => {
  const text = o.type === 'string' ? `--${name} ${o.value ?? 'VALUE'}` : `--${name}`;
  return o.required === true ? text : `[${text}]`;
};

const visible = (c: Command): Command[] => (c.subcommands ?? []).filter((s) => s.hidden !== true);

// One line per way of calling: the command itself (when it runs), then each subcommand's.
export const usageLines = (path: readonly Command[]): string[] => {
  const cmd = path[path.length - 1]!;
  const words = ['vnetfw', pathName(path)].filter((w) => w !== '').join(' ');
  const own = cmd.run === undefined ? [] : [[
    words,
    ...(cmd.args ?? []).map(argText),
    ...Object.entries(cmd.options ?? {}).map(([n, o]) => optionUsage(n, o)),
  ].join(' ')];
  const subs = visible(cmd).flatMap((s) => usageLines([...path, s]));
  return path.length === 1 ? ['vnetfw [--state-dir DIR] [--config FILE] [--json] [--debug] <command> [args]'] : [...own, ...subs];
};

const table = (rows: Array<[string, string]>): string[] => {
  const width = Math.min(30, Math.max(...rows.map(([l]) => l.length)));
  return rows.flatMap(([l, r]) => {
    const [first = '', ...more] = r.split('\n');
    const head = l.length > width ? [`  ${l}`, `  ${''.padEnd(width)}  ${first}`] : [`  ${l.padEnd(width)}  ${first}`];
    return [...head, ...more.map((m) => `  ${''.padEnd(width)}  ${m}`)];
  });
};

const optionRows = (spec: OptionsSpec): Array<[string, string]> => Object.entries(spec).map(([n, o]) => [
  `${o.short === undefined ? '' : `-${o.short}, `}--${n}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`,
  o.description,
]);

// Every command reachable below `cmd`, as `name ARGS` rows: the program's command list.
const commandRows = (path: readonly Command[]): Array<[string, string]> => visible(path[path.length - 1]!).flatMap((s) => {
  const p = [...path, s];
  const args = (s.args ?? []).map(argText).join(' ');
  const own: Array<[string, string]> = s.run === undefined ? [] : [[[pathName(p), args].filter((w) => w !== '').join(' '), s.summary]];
  return [...own, ...commandRows(p)];
});

export const helpText = (path: readonly Command[]): string => {
  const cmd = path[path.length - 1]!;
  const usage = usageLines(path);
  const own = path.length === 1 ? { ...GLOBAL_OPTIONS, ...optionsOf(path) } : cmd.options ?? {};
  const sections = [
    usage.map((u, i) => `${i === 0 ? 'usage: ' : '       '}${u}`).join('\n'),
    cmd.summary.replace(/^./, (c) => c.toUpperCase()) + (cmd.summary.endsWith('.') ? '' : '.'),
    ...(cmd.description === undefined ? [] : [cmd.description.trimEnd()]),
    ...(visible(cmd).length === 0 ? [] : [['commands:', ...table(commandRows(path))].join('\n')]),
    ...(Object.keys(own).length === 0 ? [] : [[path.length === 1 ? 'global options:' : 'options:', ...table(optionRows(own))].join('\n')]),
    ...(path.length === 1 ? [] : [`global options: ${Object.entries(GLOBAL_OPTIONS).map(([n, o]) => `--${n}${o.type === 'string' ? ` ${o.value}` : ''}`).join(', ')} (see 'vnetfw --help')`]),
  ];
  return `${sections.join('\n\n')}\n`;
};
