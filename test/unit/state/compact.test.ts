// `log compact`: the log then starts with a checkpoint in front of a snapshot.written record; it
// verifies end to end, replays to the same state, goes on taking appends, survives a kill at every
// step of the rewrite, and a changed checkpoint is caught.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  canonicalJson, event, GENESIS_HASH, isStateError, listSegments, liveSegments, lockPath, openStore, sealRecord, segmentPath, verifyLog,
  type CompactStep, type LogRecord, type ProjectionState, type Store,
} from '../../../state/index.js';
import { anchorProblem, checkpointLine, readCheckpoint } from '../../../state/checkpoint.js';
import { defined, filler, startOp, tmpStateDir } from './helpers.js';

const copies: string[] = [];
afterEach(() => { for (const d of copies.splice(0)) rmSync(d, { recursive: true, force: true }); });

const all = async (s: Store): Promise<LogRecord[]> => { const out: LogRecord[] = []; for await (const r of s.records()) out.push(r); return out; };
const lines = (dir: string, seg = 1): string[] => readFileSync(segmentPath(dir, seg), 'utf8').split('\n').slice(0, -1);
const replay = async (dir: string): Promise<ProjectionState> => {
  const s = await openStore(dir, { readonly: true, rebuild: true });
  try { return s.state(); } finally { await s.close(); }
};

// Given: two networks defined and started, with snapshot.written records at known seqs.
const givenLog = async (dir: string, opts: { segmentBytes?: number } = {}): Promise<{ store: Store; snaps: number[] }> => {
  const store = await openStore(dir, { snapshotEvery: 1_000_000, ...opts });
  const snaps: number[] = [];
  await store.append([defined('a'), defined('b'), ...startOp('a', 'op-a')]);
  await store.snapshot();
  snaps.push(store.state().seq);
  await store.append([...startOp('b', 'op-b'), ...Array.from({ length: 5 }, (_, i) => filler(i))]);
  await store.snapshot();
  snaps.push(store.state().seq);
  await store.append([event('operation.started', { kind: 'stop', from: 'iptables' }, { network: 'a', op: 'op-stop' }), filler(9)]);
  return { store, snaps };
};

describe('log compact', () => {
  it('given snapshots in the log, when compacting before a seq, then the log starts with a checkpoint at the last snapshot before it and replays to the same state', async () => {
    const dir = tmpStateDir();
    const { store, snaps } = await givenLog(dir);
    const before = store.state();
    const kept = (await all(store)).filter((r) => r.seq >= snaps[1]!);

    const r = await store.compact({ seq: snaps[1]! + 2 });

    expect(r).toMatchObject({ compacted: true, from: 1, through: snaps[1]! - 1, dropped: snaps[1]! - 1, seq: before.seq });
    const got = await all(store);
    expect(got[0]).toMatchObject({ type: 'log.checkpoint', seq: snaps[1]! - 1, prev: GENESIS_HASH });
    expect((got[0]!.data as { lastHash: string }).lastHash).toBe(kept[0]!.prev);
    expect(got.slice(1)).toEqual(kept);                  // the kept records, hashes unchanged
    expect(canonicalJson(store.state())).toBe(canonicalJson(before));
    await store.append([filler(50)]);                   // appends go on from the same chain
    const after = store.state();
    await store.close();
    expect(await verifyLog(dir)).toMatchObject({ ok: true, seq: after.seq, records: after.seq - snaps[1]! + 1, checkpoint: { from: 1, through: snaps[1]! - 1 } });
    expect(canonicalJson(await replay(dir))).toBe(canonicalJson(after));
    const reopened = await openStore(dir);               // a writer opening the compacted log
    expect(reopened.state().seq).toBe(after.seq);
    await reopened.close();
  });

  it('given a target past the end of the log, when compacting, then a snapshot.written is appended and everything before it goes', async () => {
    const dir = tmpStateDir();
    const { store } = await givenLog(dir);
    const before = store.state();
    const r = await store.compact({ seq: before.seq + 100 });
    expect(r).toMatchObject({ compacted: true, through: before.seq, seq: before.seq + 1 });
    expect((await all(store)).map((x) => x.type)).toEqual(['log.checkpoint', 'snapshot.written']);
    await store.close();
    expect(r.bytesAfter).toBe(statSync(segmentPath(dir, 1)).size);
    expect(await verifyLog(dir)).toMatchObject({ ok: true, records: 1, snapshots: 1 });
    const { seq: _s, hash: _h, ...content } = before;
    const { seq: _s2, hash: _h2, ...replayed } = await replay(dir);
    expect(canonicalJson(replayed)).toBe(canonicalJson(content));
  });

  it('given a compacted log, when compacting again by time, then the checkpoint still stands for every dropped seq from 1', async () => {
    const dir = tmpStateDir();
    const { store } = await givenLog(dir);
    await store.compact({ seq: 8 });
    const r = await store.compact({ time: Date.now() + 60_000 });
    expect(r).toMatchObject({ compacted: true, from: 1 });
    await store.close();
    expect(await verifyLog(dir)).toMatchObject({ ok: true, checkpoint: { from: 1, through: r.through } });
  });

  it('given no snapshot.written in reach, when compacting, then nothing is dropped and the log is unchanged', async () => {
    const dir = tmpStateDir();
    const { store, snaps } = await givenLog(dir);
    expect(await store.compact({ time: 0 })).toMatchObject({ compacted: false, dropped: 0, through: 0 });
    expect((await store.compact({ seq: snaps[0]! })).compacted).toBe(true);
    const bytes = readFileSync(segmentPath(dir, 1));
    const again = await store.compact({ seq: snaps[1]! - 1 });   // the log already starts at snaps[0]
    expect(again).toMatchObject({ compacted: false, dropped: 0, through: snaps[0]! - 1 });
    expect(again.reason).toMatch(/snapshot\.written/);
    await store.close();
    expect(readFileSync(segmentPath(dir, 1)).equals(bytes)).toBe(true);
  });

  it('refuses to compact a log that does not verify, and changes nothing', async () => {
    const dir = tmpStateDir();
    const { store } = await givenLog(dir);
    await store.snapshot();
    await store.close();
    const ls = lines(dir);
    ls[2] = ls[2]!.replace('"to":"iptables"', '"to":"nftables"');   // same length: the snapshot still points at its line
    expect(ls[2]).toContain('"to":"nftables"');
    writeFileSync(segmentPath(dir, 1), ls.map((l) => `${l}\n`).join(''));
    const bytes = readFileSync(segmentPath(dir, 1));
    // A writer open reads only the tail after its snapshot, so it opens; compaction reads it all.
    const s = await openStore(dir);
    await expect(s.compact({ seq: 1000 })).rejects.toSatisfy((e: unknown) => isStateError(e, 'ETAMPER') && /record seq 3.*nothing was compacted/.test((e as Error).message));
    await s.close();
    expect(readFileSync(segmentPath(dir, 1)).subarray(0, bytes.length).equals(bytes)).toBe(true);
  });

  it('a kill at any step of the rewrite leaves a log that verifies and replays to the same state, old segments included', async () => {
    const dir = tmpStateDir();
    const { store, snaps } = await givenLog(dir, { segmentBytes: 1500 });
    expect(listSegments(dir).length).toBeGreaterThan(3);
    const before = store.state();
    const seen: CompactStep[] = [];
    await store.compact({ seq: snaps[1]! }, {
      onStep: (step) => {
        seen.push(step);
        // What a kill right here leaves on disk: the directory as it is (the lock's owner is dead).
        const copy = mkdtempSync(join(tmpdir(), `vnetfw-compact-kill-${step}-`));
        copies.push(copy);
        cpSync(dir, join(copy, 'state'), { recursive: true });
        copies.push(`${copy}/state`);
      },
    });
    await store.close();
    expect(seen).toEqual(['snapshots', 'renamed', 'removed']);
    for (const copy of copies.filter((c) => !c.endsWith('/state'))) {
      const d = join(copy, 'state');
      unlinkSync(lockPath(d));
      // Killed right after the rename, the dropped segments are still there; they are not the log.
      if (copy.includes('-renamed-')) expect(listSegments(d).length).toBeGreaterThan(liveSegments(d).length);
      // Killed before the rename: the old log (its snapshots gone); after it: the new one.
      const v = await verifyLog(d);
      expect(v).toMatchObject({ ok: true, seq: before.seq });
      expect(v.ok && v.checkpoint?.through).toBe(copy.includes('-snapshots-') ? undefined : snaps[1]! - 1);
      expect(canonicalJson(await replay(d))).toBe(canonicalJson(before));
      const w = await openStore(d);                      // the next writer finishes the job
      expect(canonicalJson(w.state())).toBe(canonicalJson(before));
      await w.close();
      expect(listSegments(d)).toEqual(liveSegments(d));
      expect(existsSync(segmentPath(d, 1))).toBe(listSegments(d)[0] === 1);
    }
  });

  it('a reader following the log goes on across a compaction', async () => {
    const dir = tmpStateDir();
    const { store } = await givenLog(dir);
    const reader = await openStore(dir, { readonly: true, pollMs: 10 });
    const got: number[] = [];
    let failed: unknown;
    const sub = reader.follow().subscribe({ next: (r) => got.push(r.seq), error: (e: unknown) => { failed = e; } });
    await store.compact({ seq: 1000 });
    await store.append([filler(70), filler(71)]);
    const want = store.state().seq;
    for (const until = Date.now() + 10_000; !got.includes(want) && failed === undefined && Date.now() < until;) await new Promise((r) => setTimeout(r, 10));
    sub.unsubscribe();
    expect(failed).toBeUndefined();
    expect(got.slice(-3)).toEqual([want - 2, want - 1, want]);
    expect(reader.state().seq).toBe(want);
    await reader.close();
    await store.close();
  });

  it('a checkpoint whose state was changed (its hash recomputed) is caught by verify and by open', async () => {
    const dir = tmpStateDir();
    const { store } = await givenLog(dir);
    await store.compact({ seq: 1000 });
    await store.close();
    const ls = lines(dir);
    const cp = JSON.parse(ls[0]!) as { seq: number; time: string; from: number; through: number; lastHash: string; state: ProjectionState };
    const state = { ...cp.state, sysctl: { 'net.ipv4.ip_forward': { value: '0' } } };
    const { line } = sealRecord({
      v: 1, seq: cp.seq, time: cp.time, type: 'log.checkpoint', prev: GENESIS_HASH,
      data: { from: cp.from, through: cp.through, lastHash: cp.lastHash, state: state as unknown as Record<string, unknown> },
    });
    writeFileSync(segmentPath(dir, 1), [line.trimEnd(), ...ls.slice(1)].map((l) => `${l}\n`).join(''));
    rmSync(join(dir, 'snapshots'), { recursive: true, force: true });
    expect(await verifyLog(dir)).toMatchObject({ ok: false, seq: cp.seq + 1 });
    await expect(openStore(dir, { readonly: true })).rejects.toSatisfy((e: unknown) => isStateError(e, 'ETAMPER'));
  });
});

describe('checkpoint records', () => {
  const state = (seq: number, hash: string): ProjectionState => ({ seq, hash, networks: {}, sysctl: {} });
  const anchor = (seq: number, prev: string, digest: string): LogRecord =>
    sealRecord({ v: 1, seq, time: '2026-01-01T00:00:00.000Z', type: 'snapshot.written', data: { digest }, prev }).record;
  const H = 'a'.repeat(64);

  it('given the state before a snapshot.written, when a checkpoint is made, then it reads back and that record attests it', async () => {
    const { stateDigest } = await import('../../../state/snapshot.js');
    const s = state(41, H);
    const a = anchor(42, H, stateDigest(s));
    const line = checkpointLine(1, s, a, '2026-01-01T00:00:00.000Z');
    const { decodeLine } = await import('../../../state/index.js');
    const d = decodeLine(line.trimEnd(), true);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    const cp = readCheckpoint(d.record);
    expect(cp).toEqual({ from: 1, through: 41, lastHash: H, state: s });
    if (typeof cp === 'string') return;
    expect(anchorProblem(cp, a)).toBeNull();
    expect(anchorProblem(cp, anchor(42, H, 'b'.repeat(64)))).toMatch(/was changed/);
    expect(anchorProblem(cp, sealRecord({ v: 1, seq: 42, time: a.time, type: 'drift.repaired', data: {}, prev: H }).record)).toMatch(/not the snapshot.written/);
  });

  it('refuses to make a checkpoint in front of a record that is not the snapshot.written right after the state', () => {
    expect(() => checkpointLine(1, state(41, H), anchor(43, H, H), 't')).toThrow(/not a snapshot.written right after/);
    expect(() => checkpointLine(1, state(41, H), anchor(42, 'c'.repeat(64), H), 't')).toThrow(/not a snapshot.written right after/);
  });

  it('given a checkpoint whose seq, range or state do not fit, when read, then it names the fault', () => {
    const rec = (seq: number, from: number, through: number, st: ProjectionState): LogRecord =>
      sealRecord({ v: 1, seq, time: 't', type: 'log.checkpoint', data: { from, through, lastHash: H, state: st as unknown as Record<string, unknown> }, prev: GENESIS_HASH }).record;
    expect(readCheckpoint(rec(5, 1, 6, state(6, H)))).toMatch(/seq 5 is not its through 6/);
    expect(readCheckpoint(rec(5, 7, 5, state(5, H)))).toMatch(/from 7 is not in 1..5/);
    expect(readCheckpoint(rec(5, 1, 5, state(4, H)))).toMatch(/not the state at seq 5/);
    expect(readCheckpoint(rec(5, 1, 5, state(5, 'd'.repeat(64))))).toMatch(/not the state at seq 5/);
  });
});
