import { describe, expect, it } from 'vitest';
import { program } from '../../../src/cli/program.js';
import type { Command } from '../../../src/cli/spec.js';
import { cli } from './run-cli.js';

const paths = (path: Command[]): Command[][] => [path, ...(path[path.length - 1]!.subcommands ?? []).flatMap((s) => paths([...path, s]))];
const every = paths([program]).slice(1).map((p) => p.slice(1).map((c) => c.name));

describe('--help', () => {
  it.each(every.map((words) => [words.join(' '), words] as const))('vnetfw %s --help: usage, options and description, exit 0', async (_name, words) => {
    const r = await cli([...words, '--help']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out.split('\n')[0]).toMatch(new RegExp(`^usage: vnetfw ${words.join(' ')}( |$)`));
    let cmd: Command = program;
    for (const w of words) cmd = cmd.subcommands!.find((c) => c.name === w)!;
    for (const [name, o] of Object.entries(cmd.options ?? {})) {
      expect(r.out).toContain(`--${name}`);
      expect(r.out).toContain(o.description.split('\n')[0]);
    }
    for (const a of cmd.args ?? []) expect(r.out.split('\n')[0]).toContain(a.name);
    if (cmd.description !== undefined) expect(r.out).toContain(cmd.description.split('\n')[0]);
    // -h and `vnetfw help WORDS` print the same text.
    expect((await cli([...words, '-h'])).out).toBe(r.out);
    expect((await cli(['help', ...words])).out).toBe(r.out);
  });

  it('vnetfw --help lists every command with its arguments, and the global options', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const words of every) expect(r.out).toMatch(new RegExp(`^  ${words.join(' ')}\\b`, 'm'));
    expect(r.out).toMatch(/^ {2}plan NAME\|FILE +print the firewall commands/m);
    expect(r.out).toMatch(/^ {2}start NAME\.\.\. +/m);
    for (const g of ['--state-dir DIR', '--config FILE', '--json', '--debug', '--version']) expect(r.out).toContain(g);
    expect((await cli(['help'])).out).toBe(r.out);
  });

  it('usage lines follow the documented forms', async () => {
    expect((await cli(['plan', '--help'])).out.split('\n')[0]).toBe('usage: vnetfw plan NAME|FILE [--backend B] [--layout L] [--batch]');
    expect((await cli(['verify', '--help'])).out.split('\n')[0]).toBe('usage: vnetfw verify [NAME...] [--repair]');
    expect((await cli(['log', '--help'])).out.split('\n').slice(0, 2)).toEqual([
      'usage: vnetfw log [--network N] [--type T] [--since TIME] [--follow]',
      '       vnetfw log verify',
    ]);
  });
});
