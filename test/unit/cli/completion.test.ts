// The completion scripts run in the real shells: bash through `complete -F`'s interface
// (COMP_WORDS/COMP_CWORD in, COMPREPLY out), zsh with its completion builtins replaced by
// functions that print what they are given.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../../state/index.js';
import { defined, def } from '../state/helpers.js';
import { event } from '../../../state/index.js';
import { cli } from './run-cli.js';

const has = (sh: string): boolean => spawnSync(sh, ['-c', 'true']).status === 0;
const work = mkdtempSync(join(tmpdir(), 'vnetfw-completion-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const script = async (shell: string): Promise<string> => {
  const r = await cli(['completion', shell]);
  expect(r.code).toBe(0);
  return r.out;
};

// Words typed so far, the last one being completed; the answer sorted.
const bash = (body: string, words: string[]): string[] => {
  const file = join(work, 'comp.bash');
  writeFileSync(file, body);
  const quoted = words.map((w) => `'${w.replace(/'/g, "'\\''")}'`).join(' ');
  const r = spawnSync('bash', ['-c', `source ${file}; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _vnetfw; printf '%s\\n' "\${COMPREPLY[@]}"`], { cwd: work, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter((l) => l !== '').sort();
};

const zsh = (body: string, words: string[]): string[] => {
  const file = join(work, 'comp.zsh');
  writeFileSync(file, body);
  const quoted = words.map((w) => `'${w.replace(/'/g, "'\\''")}'`).join(' ');
  const stubs = [
    'compdef() { :; }',
    'compadd() { local a; if [[ $1 == -a ]]; then a=${(P)2}; print -l -- ${(P)2}; else [[ $1 == -- ]] && shift; print -l -- "$@"; fi }',
    "_describe() { local d; for d in ${(P)2}; do print -- ${d%%:*}; done }",
    '_files() { print -- "<files $*>"; }',
  ].join('\n');
  const r = spawnSync('zsh', ['-fc', `${stubs}\nsource ${file}\nwords=(${quoted}); CURRENT=${words.length}; _vnetfw`], { cwd: work, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter((l) => l !== '').sort();
};

// A state directory with two defined networks, read by the script through `vnetfw list`.
const stateWithNetworks = async (): Promise<string> => {
  const dir = join(work, 'state');
  const s = await openStore(dir);
  await s.append([defined('default'), event('network.defined', { definition: def('lab', 'virbr9'), xml: '<network/>' }, { network: 'lab' })]);
  await s.close();
  return dir;
};

// The built CLI, as a program the scripts can run.
const dist = new URL('../../../dist/src/cli/main.js', import.meta.url).pathname;
const launcher = (): string => {
  const bin = join(work, 'vnetfw');
  writeFileSync(bin, `#!/bin/sh\nexec node ${new URL('../../../bin/vnetfw.js', import.meta.url).pathname} "$@"\n`);
  chmodSync(bin, 0o755);
  return bin;
};

describe.skipIf(!has('bash'))('vnetfw completion bash', () => {
  it('is valid bash', async () => {
    const r = spawnSync('bash', ['-n'], { input: await script('bash'), encoding: 'utf8' });
    expect(r.status).toBe(0);
  });

  it('completes commands, subcommands, options and option values', async () => {
    const s = await script('bash');
    expect(bash(s, ['vnetfw', 'st'])).toEqual(['start', 'status', 'stop']);
    expect(bash(s, ['vnetfw', '--json', 'lo'])).toEqual(['log']);
    expect(bash(s, ['vnetfw', 'log', ''])).toEqual(['compact', 'verify']);
    expect(bash(s, ['vnetfw', 'log', '--f'])).toEqual(['--follow']);
    expect(bash(s, ['vnetfw', 'log', 'verify', '--'])).toEqual(['--config', '--debug', '--help', '--json', '--state-dir']);
    expect(bash(s, ['vnetfw', 'plan', '--backend', ''])).toEqual(['iptables', 'nftables']);
    expect(bash(s, ['vnetfw', 'plan', '--backend', '=', 'nf'])).toEqual(['nftables']);
    expect(bash(s, ['vnetfw', 'completion', ''])).toEqual(['bash', 'zsh']);
    expect(bash(s, ['vnetfw', 'log', '--type', 'command.f'])).toEqual(['command.finished']);
    // an option's value is not taken for the command name
    expect(bash(s, ['vnetfw', '--state-dir', 'log', 'st'])).toEqual(['start', 'status', 'stop']);
  });

  it('completes files for FILE arguments', async () => {
    const s = await script('bash');
    writeFileSync(join(work, 'net-a.xml'), '');
    expect(bash(s, ['vnetfw', 'define', 'net-'])).toEqual(['net-a.xml']);
  });

  it.skipIf(!existsSync(dist))('completes defined network names from `vnetfw list` of the --state-dir given', async () => {
    const s = await script('bash');
    const state = await stateWithNetworks();
    const bin = launcher();
    expect(bash(s, [bin, '--state-dir', state, 'start', ''])).toEqual(['default', 'lab']);
    expect(bash(s, [bin, '--state-dir', state, 'stop', 'default', 'l'])).toEqual(['lab']);
    expect(bash(s, [bin, '--state-dir', state, 'status', 'default', ''])).toEqual([]);
  });
});

describe.skipIf(!has('zsh'))('vnetfw completion zsh', () => {
  it('is valid zsh', async () => {
    const r = spawnSync('zsh', ['-n'], { input: await script('zsh'), encoding: 'utf8' });
    expect(r.status).toBe(0);
  });

  it('completes commands, subcommands, options and option values', async () => {
    const s = await script('zsh');
    expect(zsh(s, ['vnetfw', ''])).toContain('reconcile');
    expect(zsh(s, ['vnetfw', 'log', ''])).toEqual(['compact', 'verify']);
    expect(zsh(s, ['vnetfw', 'log', '--'])).toContain('--follow');
    expect(zsh(s, ['vnetfw', 'plan', '--backend', ''])).toEqual(['iptables', 'nftables']);
    expect(zsh(s, ['vnetfw', 'define', ''])).toEqual(['<files >']);
    expect(zsh(s, ['vnetfw', '--state-dir', ''])).toEqual(['<files -/>']);
  });

  it.skipIf(!existsSync(dist))('completes defined network names', async () => {
    const s = await script('zsh');
    const state = await stateWithNetworks();
    expect(zsh(s, [launcher(), '--state-dir', state, 'verify', 'x', ''])).toEqual(['default', 'lab']);
  });
});
