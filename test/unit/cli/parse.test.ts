import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../../src/cli/parse.js';
import { command, type Command } from '../../../src/cli/spec.js';
import { UsageError } from '../../../src/errors.js';
import { cli } from './run-cli.js';

// A small tree of its own, so the parser's rules are tested apart from today's commands.
const ran: string[] = [];
const leaf = (name: string, extra: Partial<Command> = {}): Command => command({ name, summary: name, run: async () => { ran.push(name); return 0; }, ...extra });
const tree = command({
  name: 'vnetfw',
  summary: 'test',
  subcommands: [
    leaf('one', { args: [{ name: 'NAME' }], options: { fast: { type: 'boolean', description: '' }, mode: { type: 'string', value: 'M', description: '' } } }),
    leaf('many', { args: [{ name: 'NAME', variadic: true }] }),
    leaf('maybe', { args: [{ name: 'A' }, { name: 'B', optional: true }] }),
    leaf('log', {
      options: { follow: { type: 'boolean', description: '' } },
      subcommands: [leaf('verify'), leaf('compact', { options: { before: { type: 'string', value: 'SEQ', required: true, description: '' } } })],
    }),
    command({ name: 'group', summary: 'g', subcommands: [leaf('inner')] }),
  ],
});

const usage = (argv: string[]): string => {
  try { parseCommandLine(tree, argv); } catch (e) {
    if (e instanceof UsageError) return e.message;
    throw e;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
};

describe('parseCommandLine', () => {
  it('picks the command path and splits options from arguments, globals anywhere', () => {
    const p = parseCommandLine(tree, ['--state-dir', '/s', 'one', '--mode=x', 'n1', '--fast', '--json']);
    expect(p.kind).toBe('run');
    if (p.kind !== 'run') return;
    expect(p.path.map((c) => c.name)).toEqual(['vnetfw', 'one']);
    expect(p.args).toEqual(['n1']);
    expect(p.options).toEqual({ 'state-dir': '/s', mode: 'x', fast: true, json: true });
    const sub = parseCommandLine(tree, ['log', '--json', 'compact', '--before', '7']);
    expect(sub.kind === 'run' && sub.path.map((c) => c.name)).toEqual(['vnetfw', 'log', 'compact']);
    expect(sub.kind === 'run' && sub.options).toEqual({ json: true, before: '7' });
    const dash = parseCommandLine(tree, ['many', '--', '-x', 'y']);
    expect(dash.kind === 'run' && dash.args).toEqual(['-x', 'y']);
  });

  it('names what is wrong, in one line', () => {
    expect(usage(['nope'])).toBe("unknown command 'nope' (see 'vnetfw --help')");
    expect(usage(['--fast', 'one', 'x'])).toBe("unknown option '--fast' (see 'vnetfw --help')");
    expect(usage(['one', 'x', '--slow'])).toBe("one: unknown option '--slow' (see 'vnetfw one --help')");
    expect(usage(['one', 'x', '-q'])).toBe("one: unknown option '-q' (see 'vnetfw one --help')");
    expect(usage(['one', 'x', '--mode'])).toBe("one: option '--mode' needs a value");
    expect(usage(['one', 'x', '--mode='])).toBe("one: option '--mode' needs a value");
    expect(usage(['one', 'x', '--fast=yes'])).toBe("one: option '--fast' takes no value");
    expect(usage(['one'])).toBe("one: expected exactly one NAME (see 'vnetfw one --help')");
    expect(usage(['one', 'a', 'b'])).toBe("one: unexpected argument 'b' (see 'vnetfw one --help')");
    expect(usage(['many'])).toBe("many: expected at least one NAME (see 'vnetfw many --help')");
    expect(usage(['maybe'])).toBe("maybe: expected A (see 'vnetfw maybe --help')");
    expect(usage(['maybe', '1', '2', '3'])).toBe("maybe: unexpected argument '3' (see 'vnetfw maybe --help')");
    expect(usage(['log', 'verify', 'x'])).toBe("log verify: unexpected argument 'x' (see 'vnetfw log verify --help')");
    expect(usage(['log', 'verify', '--follow'])).toBe("log verify: unknown option '--follow' (see 'vnetfw log verify --help')");
    expect(usage(['log', 'compact'])).toBe("log compact: option '--before' is required (see 'vnetfw log compact --help')");
    expect(usage(['group'])).toBe("group: expected a command: inner (see 'vnetfw group --help')");
    expect(usage(['group', 'x'])).toBe("group: unknown command 'x' (see 'vnetfw group --help')");
    expect(usage(['--state-dir'])).toBe("option '--state-dir' needs a value");
  });

  it('--help anywhere on the line wins; --version only on the program', () => {
    expect(parseCommandLine(tree, ['one', '--slow', '--help'])).toMatchObject({ kind: 'help', path: [{ name: 'vnetfw' }, { name: 'one' }] });
    expect(parseCommandLine(tree, ['log', 'compact', '-h'])).toMatchObject({ kind: 'help', path: [{}, { name: 'log' }, { name: 'compact' }] });
    expect(parseCommandLine(tree, ['-V'])).toEqual({ kind: 'version' });
    expect(usage(['one', 'x', '--version'])).toBe("one: unknown option '--version' (see 'vnetfw one --help')");
    expect(parseCommandLine(tree, [])).toMatchObject({ kind: 'no-command' });
    expect(ran).toEqual([]);
  });
});

describe('vnetfw (main)', () => {
  it('bad usage: exit 2, one line on stderr, nothing on stdout', async () => {
    for (const argv of [['bogus'], ['--bogus', 'list'], ['status'], ['status', 'a', 'b'], ['start'], ['plan', 'x', '--backend'],
      ['plan', 'x', '--batch=1'], ['list', '--bogus'], ['log', 'verify', 'x'], ['completion'], ['completion', 'fish'], ['help', 'nope'],
      ['define'], ['undefine'], ['adopt'], ['reconcile', 'x'], ['demo', 'x'], ['daemon', '--check-every']]) {
      const r = await cli(argv);
      expect({ argv, code: r.code, out: r.out }).toEqual({ argv, code: 2, out: '' });
      expect(r.err).toMatch(/^vnetfw: [^\n]+\n$/);
    }
  });

  it('no command: the help on stderr, exit 2', async () => {
    const r = await cli([]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^usage: vnetfw /);
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(await cli(['--version'])).toEqual({ code: 0, out: `vnetfw ${pkg.version}\n`, err: '' });
    expect((await cli(['-V'])).out).toBe(`vnetfw ${pkg.version}\n`);
  });
});
