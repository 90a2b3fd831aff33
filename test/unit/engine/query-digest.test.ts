// The log keeps a query's output in full only when the query found something: a drift check that
// finds nothing leaves digests (sha256 and size of each output), one that finds drift leaves the
// outputs that show it, and a failed query is always kept. Logs written before (full outputs) and
// after still verify and replay to the same state. FakeRunner, no root.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { casesDir, closeEngineWorlds, engineWorld, type EngineWorld } from '../../doubles/engine-world.js';
import { defineNetwork, findDrift, runNetworkOp } from '../../../src/engine/index.js';
import {
  canonicalJson, digestOutput, openStore, verifyLog, type EventData,
} from '../../../state/index.js';

afterEach(closeEngineWorlds);

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');
type Finished = EventData['command.finished'];

// Given: a host with network `default` started on nftables, every record collected.
const givenStartedNetwork = async (): Promise<EngineWorld> => {
  const w = await engineWorld({ configBackend: 'nftables' });
  await defineNetwork(w.env.journal, join(casesDir, 'nat-default.xml'));
  await runNetworkOp(w.env, 'default', { type: 'START', backend: 'nftables' });
  return w;
};

// When: one drift check runs; then: the finished records it wrote, beside what each program printed.
const whenTheCheckRuns = async (w: Awaited<ReturnType<typeof givenStartedNetwork>>): Promise<Array<{ logged: Finished; printed: { stdout: string; stderr: string } }>> => {
  const fromRecord = w.records.length;
  const fromCall = w.fake.calls.length;
  await findDrift(w.env);
  const finished = w.records.slice(fromRecord).filter((r) => r.type === 'command.finished').map((r) => r.data as Finished);
  const calls = w.fake.calls.slice(fromCall);
  expect(finished).toHaveLength(calls.length);
  return finished.map((logged, i) => ({ logged, printed: { stdout: calls[i]!.result.stdout, stderr: calls[i]!.result.stderr } }));
};

describe('query outputs in the log', () => {
  it('given an idle host, when the drift check finds nothing, then each output is logged as its sha256 and size', async () => {
    const w = await givenStartedNetwork();
    const runs = await whenTheCheckRuns(w);
    expect(runs.length).toBeGreaterThan(0);
    expect(runs.some((r) => r.printed.stdout.includes('libvirt_network'))).toBe(true);
    for (const { logged, printed } of runs) {
      expect(logged.stdout).toBe('');
      expect(logged.stdoutSha256).toBe(printed.stdout === '' ? undefined : sha256(printed.stdout));
      expect(logged.stdoutBytes).toBe(printed.stdout === '' ? undefined : Buffer.byteLength(printed.stdout));
      expect(logged.truncated).toBe(printed.stdout === '' && printed.stderr === '' ? undefined : true);
      expect(logged.exitCode).toBe(0);
    }
    expect(w.records.some((r) => r.type === 'drift.found')).toBe(false);
  });

  it('given a flushed chain, when the drift check finds it, then the outputs that show it are logged in full', async () => {
    const w = await givenStartedNetwork();
    await w.fake.run({ argv: ['nft', 'flush', 'chain', 'ip', 'libvirt_network', 'guest_output'] });
    const runs = await whenTheCheckRuns(w);
    expect(w.records.at(-1)?.type).toBe('drift.found');
    expect(runs.some((r) => r.printed.stdout.includes('guest_output'))).toBe(true);
    for (const { logged, printed } of runs) {
      expect(logged.stdout).toBe(printed.stdout);
      expect(logged.stdoutSha256).toBeUndefined();
    }
  });

  it('given a query that fails, when the check runs, then its output is logged in full though nothing drifted', async () => {
    const w = await givenStartedNetwork();
    // nft itself failing (an absent table would be drift: the set-up has both families).
    w.fake.failWhen((req) => req.argv.includes('ip6') ? { exitCode: 1, stderr: 'Error: Operation not permitted' } : false);
    const runs = await whenTheCheckRuns(w);
    const failed = runs.filter((r) => r.logged.exitCode !== 0);
    expect(failed).toHaveLength(1);
    expect(failed[0]?.logged.stderr).toBe('Error: Operation not permitted');
    expect(runs.filter((r) => r.logged.exitCode === 0).every((r) => r.logged.stdoutSha256 !== undefined)).toBe(true);
  });

  it('given a log with full and with digested outputs, when it is verified and replayed, then both read and the state is the same', async () => {
    const w = await givenStartedNetwork();
    await whenTheCheckRuns(w);                                            // digests
    await w.fake.run({ argv: ['nft', 'flush', 'chain', 'ip', 'libvirt_network', 'guest_output'] });
    await whenTheCheckRuns(w);                                            // full outputs
    const live = w.store.state();
    await w.store.close();
    const v = await verifyLog(join(w.dir, 'state'));
    expect(v).toMatchObject({ ok: true, seq: live.seq });
    const replayed = await openStore(join(w.dir, 'state'), { readonly: true, rebuild: true });
    expect(canonicalJson(replayed.state())).toBe(canonicalJson(live));
    await replayed.close();
  });
});

describe('digestOutput', () => {
  it('given outputs, when digested, then each non-empty one becomes its sha256 and byte count; exit code and argv stay', () => {
    const d: Finished = { step: 3, exitCode: 0, stdout: 'table ip libvirt_network { # handle 1\n}\n', stderr: 'ü', durationMs: 4, argv: ['nft', 'list', 'ruleset'] };
    expect(digestOutput(d)).toEqual({
      step: 3, exitCode: 0, durationMs: 4, argv: ['nft', 'list', 'ruleset'], truncated: true,
      stdout: '', stdoutBytes: 40, stdoutSha256: sha256(d.stdout),
      stderr: '', stderrBytes: 2, stderrSha256: sha256('ü'),
    });
  });

  it('given empty outputs, when digested, then the record is unchanged', () => {
    const d: Finished = { step: 1, exitCode: 0, stdout: '', stderr: '', durationMs: 1 };
    expect(digestOutput(d)).toBe(d);
  });
});
