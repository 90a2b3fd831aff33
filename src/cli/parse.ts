// argv -> the command to run with its options and arguments, checked against the command's spec.
// Node's util.parseArgs splits argv into tokens (`--opt=v`, `-h`, `--`, values of string options);
// this module picks the command path (`log verify`) and turns every misuse into a UsageError
// (exit 2) with a one-line message that names the command and the option or argument at fault.
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { GLOBAL_OPTIONS, type ArgSpec, type Command, type OptionSpec, type OptionsSpec } from './spec.js';

type Token = NonNullable<ReturnType<typeof parseArgs>['tokens']>[number];

// `--version` exists only on the program itself, before any command.
export const VERSION_OPTION: OptionsSpec = { version: { type: 'boolean', short: 'V', description: 'print the version and exit' } };

export type Parsed =
  | { kind: 'help'; path: Command[] }
  | { kind: 'no-command'; path: Command[] }
  | { kind: 'version' }
  | { kind: 'run'; path: Command[]; options: Record<string, string | boolean>; args: string[] };

export const pathName = (path: readonly Command[]): string => path.slice(1).map((c) => c.name).join(' ');

export const optionsOf = (path: readonly Command[]): OptionsSpec => {
  const leaf = path[path.length - 1];
  return { ...GLOBAL_OPTIONS, ...(path.length === 1 ? VERSION_OPTION : {}), ...leaf?.options };
};

const tokenize = (args: readonly string[], options: OptionsSpec): Token[] => {
  const config: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, o] of Object.entries(options)) config[name] = o.short === undefined ? { type: o.type } : { type: o.type, short: o.short };
  return parseArgs({ args: [...args], options: config, strict: false, allowPositionals: true, tokens: true }).tokens;
};

const visible = (c: Command): readonly Command[] => (c.subcommands ?? []).filter((s) => s.hidden !== true);

const longName = (spec: OptionsSpec, name: string): string =>
  Object.entries(spec).find(([, o]) => o.short === name)?.[0] ?? name;

const seeHelp = (path: readonly Command[]): string => `see 'vnetfw ${[pathName(path), '--help'].filter((s) => s !== '').join(' ')}'`;

const label = (a: ArgSpec): string => (a.variadic === true ? `${a.name}...` : a.name);

// Counts positionals against the spec: required ones, optional ones, at most one variadic last.
const checkArgs = (path: readonly Command[], positionals: readonly string[]): void => {
  const specs = path[path.length - 1]?.args ?? [];
  const prefix = pathName(path);
  const min = specs.filter((a) => a.optional !== true).length;
  const max = specs.some((a) => a.variadic === true) ? Infinity : specs.length;
  if (positionals.length < min) {
    const missing = specs[positionals.length] ?? specs[0]!;
    const what = specs.length === 1 ? (missing.variadic === true ? `at least one ${missing.name}` : `exactly one ${missing.name}`) : label(missing);
    throw new UsageError(`${prefix}: expected ${what} (${seeHelp(path)})`);
  }
  if (positionals.length > max) {
    throw new UsageError(`${prefix}: unexpected argument '${positionals[max] ?? ''}' (${seeHelp(path)})`);
  }
};

const checkOption = (path: readonly Command[], spec: OptionSpec | undefined, t: Extract<Token, { kind: 'option' }>): void => {
  const where = path.length === 1 ? '' : `${pathName(path)}: `;
  if (spec === undefined) throw new UsageError(`${where}unknown option '${t.rawName}' (${seeHelp(path)})`);
  if (spec.type === 'boolean' && t.inlineValue === true) throw new UsageError(`${where}option '${t.rawName}' takes no value`);
  if (spec.type === 'string' && (t.value === undefined || t.value === '')) throw new UsageError(`${where}option '${t.rawName}' needs a value`);
};

// Descends from the program through subcommands: a command's first positional, when it names one
// of its subcommands, selects it. Returns the path and argv without the words that named it.
const resolvePath = (root: Command, argv: readonly string[]): { path: Command[]; rest: string[] } => {
  const path: Command[] = [root];
  let rest = [...argv];
  for (;;) {
    const cur = path[path.length - 1]!;
    if (cur.subcommands === undefined || cur.subcommands.length === 0) return { path, rest };
    const spec = optionsOf(path);
    const tokens = tokenize(rest, spec);
    const at = tokens.findIndex((t) => t.kind === 'positional' || t.kind === 'option-terminator');
    const first = tokens[at];
    if (first?.kind !== 'positional') return { path, rest };
    // Before a command's name only the options of the level it is named at (`vnetfw --json list`).
    for (const t of tokens.slice(0, at)) if (t.kind === 'option') checkOption(path, spec[longName(spec, t.name)], t);
    const sub = cur.subcommands.find((s) => s.name === first.value);
    if (sub === undefined) {
      if (cur.run !== undefined) return { path, rest };
      const where = path.length === 1 ? 'unknown command' : `${pathName(path)}: unknown command`;
      throw new UsageError(`${where} '${first.value}' (see 'vnetfw ${[pathName(path), '--help'].filter((s) => s !== '').join(' ')}')`);
    }
    path.push(sub);
    rest = rest.filter((_, i) => i !== first.index);
  }
};

export const parseCommandLine = (root: Command, argv: readonly string[]): Parsed => {
  const { path, rest } = resolvePath(root, argv);
  const spec = optionsOf(path);
  const tokens = tokenize(rest, spec);
  const asked = (name: string): boolean => tokens.some((t) => t.kind === 'option' && longName(spec, t.name) === name);
  // --help wins over every other mistake on the line: whoever asks for help gets it.
  if (asked('help')) return { kind: 'help', path };
  if (path.length === 1 && asked('version')) return { kind: 'version' };
  const options: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'positional') positionals.push(t.value);
    else if (t.kind === 'option') {
      const name = longName(spec, t.name);
      const o = spec[name];
      checkOption(path, o, t);
      options[name] = o?.type === 'string' ? t.value ?? '' : true;
    }
  }
  const leaf = path[path.length - 1]!;
  if (leaf.run === undefined) {
    if (path.length === 1) return { kind: 'no-command', path };
    throw new UsageError(`${pathName(path)}: expected a command: ${visible(leaf).map((s) => s.name).join(', ')} (${seeHelp(path)})`);
  }
  for (const [name, o] of Object.entries(leaf.options ?? {})) {
    if (o.required === true && options[name] === undefined) throw new UsageError(`${pathName(path)}: option '--${name}' is required (${seeHelp(path)})`);
  }
  checkArgs(path, positionals);
  return { kind: 'run', path, options, args: positionals };
};
