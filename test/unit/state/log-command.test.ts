import { readFileSync, writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runMain } from '../../support/in-process-cli.js';
import { parseSince, runLog } from '../../../src/cli/commands/log.js';
import type { CliContext } from '../../../src/cli/context.js';
import { program } from '../../../src/cli/program.js';
import { event, openStore, segmentPath } from '../../../state/index.js';
import { defined, startOp, tmpStateDir } from './helpers.js';


const times = ['2025-03-01T10:00:00.000Z', '2025-03-02T10:00:00.000Z'];
const fixture = async (): Promise<string> => {
  const dir = tmpStateDir();
  let t = times[0]!;
  const s = await openStore(dir, { now: () => new Date(t) });
  await s.append([defined('default'), defined('other')]);
  t = times[1]!;
  await s.append(startOp('default'));
  await s.append([event('operation.started', { kind: 'stop' }, { network: 'other', op: 'op-2' }),
    event('operation.failed', { reason: 'iptables exited 4' }, { network: 'other', op: 'op-2' })]);
  await s.close();
  return dir;
};

describe('vnetfw log', () => {
  it('--json prints one record per line, as stored', async () => {
    const dir = await fixture();
    const { code, out } = await runMain(['--state-dir', dir, '--json', 'log']);
    expect(code).toBe(0);
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(11);
    const stored = readFileSync(segmentPath(dir, 1), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual(stored);
  });

  it('filters by network, type (exact, family, list) and since', async () => {
    const dir = await fixture();
    const seqs = async (...a: string[]): Promise<number[]> =>
      (await runMain(['--state-dir', dir, 'log', '--json', ...a])).out.trimEnd().split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { seq: number }).seq);
    expect(await seqs('--network', 'other')).toEqual([2, 10, 11]);
    expect(await seqs('--type', 'command.intended')).toEqual([5]);
    expect(await seqs('--type', 'operation')).toEqual([3, 8, 10, 11]);
    expect(await seqs('--type', 'command.*,network.defined')).toEqual([1, 2, 5, 6]);
    expect(await seqs('--since', '2025-03-02')).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(await seqs('--network', 'other', '--type', 'operation', '--since', '2025-03-02T00:00:00Z')).toEqual([10, 11]);
  });

  it('prints a readable table', async () => {
    const dir = await fixture();
    const { code, out } = await runMain(['--state-dir', dir, 'log']);
    expect(code).toBe(0);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\s+SEQ\s+TIME\s+NETWORK\s+TYPE\s+SUMMARY$/);
    expect(lines).toHaveLength(12);
    expect(out).toMatch(/ {6}5 {2}2025-03-02T10:00:00\.000Z {2}default\s+command\.intended\s+#1 apply: iptables -w --table filter --insert LIBVIRT_INP --in-interface virbr0 --jump ACCEPT/);
    expect(out).toMatch(/command\.finished\s+#1 exit 0 in 3 ms/);
    expect(out).toMatch(/other\s+operation\.failed\s+iptables exited 4 \[op op-2\]/);
    expect(out).toMatch(/network\.transition\s+stopped -> applying \(START\)/);
  });

  it('rejects bad options with exit 2', async () => {
    const dir = await fixture();
    expect((await runMain(['--state-dir', dir, 'log', '--type', 'nope'])).err).toMatch(/--type 'nope' is not an event type/);
    expect((await runMain(['--state-dir', dir, 'log', '--since', 'yesterday'])).code).toBe(2);
    expect((await runMain(['--state-dir', dir, 'log', 'extra'])).code).toBe(2);
    expect(parseSince('2h', 10 * 3600e3)).toBe(8 * 3600e3);
  });

  it('log verify: exit 0 intact, exit 1 naming the seq', async () => {
    const dir = await fixture();
    const ok = await runMain(['--state-dir', dir, 'log', 'verify']);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^log verify: 11 records intact, seq 1\.\.11/);
    const seg = segmentPath(dir, 1);
    const lines = readFileSync(seg, 'utf8').split('\n');
    const edited = lines[5]!.replace('"durationMs":3', '"durationMs":4');
    expect(edited).not.toBe(lines[5]);
    lines[5] = edited;
    writeFileSync(seg, lines.join('\n'));
    const bad = await runMain(['--state-dir', dir, 'log', 'verify']);
    expect(bad.code).toBe(1);
    expect(bad.err).toBe('log verify: record seq 6: hash does not match the record (record was changed)\n');
    // `log` still shows a damaged log, but fails.
    const shown = await runMain(['--state-dir', dir, 'log']);
    expect(shown.code).toBe(1);
    expect(shown.err).toMatch(/seq 6/);
    expect(shown.out.trimEnd().split('\n')).toHaveLength(12);
  });

  it('an empty or missing state directory has an empty log', async () => {
    const dir = tmpStateDir();
    expect(await runMain(['--state-dir', dir, 'log'])).toEqual({ code: 0, out: '', err: '' });
    expect((await runMain(['--state-dir', dir, 'log', 'verify'])).code).toBe(0);
  });

  it('--follow shows new records as another process writes them', async () => {
    const dir = await fixture();
    const stdout = new PassThrough();
    let out = '';
    stdout.on('data', (c: Buffer) => { out += c.toString(); });
    const ctx: CliContext = { stateDir: dir, configPath: '/dev/null', json: true, debug: false, stdout, stderr: new PassThrough(), isTTY: false, program };
    const ac = new AbortController();
    const done = runLog({ follow: true, type: 'bridge' }, ctx, ac.signal);
    await new Promise((r) => setTimeout(r, 50));
    const w = await openStore(dir);
    await w.append([event('bridge.created', { bridge: 'virbr7' }, { network: 'default' }), event('drift.repaired', {})]);
    await w.close();
    for (let i = 0; i < 100 && !out.includes('virbr7'); i++) await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    expect(await done).toBe(0);
    expect(out.trimEnd().split('\n').map((l) => (JSON.parse(l) as { type: string }).type)).toEqual(['bridge.created']);
  });
});

describe('vnetfw log --network with shared batches', () => {
  it('a program run naming several networks shows under each of them', async () => {
    const { matches } = await import('../../../src/cli/commands/log.js');
    const rec = { v: 1, seq: 7, time: '2025-01-01T00:00:00.000Z', type: 'command.intended', op: 'o', data: { networks: ['a', 'b'] }, prev: 'p', hash: 'h' } as const;
    expect(matches(rec as never, { network: 'a' })).toBe(true);
    expect(matches(rec as never, { network: 'b' })).toBe(true);
    expect(matches(rec as never, { network: 'c' })).toBe(false);
  });
});
