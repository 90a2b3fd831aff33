import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  emptyState, foldAll, isStateError, listSnapshots, lockPath, openStore, snapshotDir, withStore, type LogRecord,
} from '../../../state/index.js';
import { defined, filler, startOp, tmpStateDir } from './helpers.js';
import { writeLockFor } from '../../../state/lock.js';

const all = async (dir: string): Promise<LogRecord[]> => {
  const s = await openStore(dir, { readonly: true, rebuild: true });
  const out: LogRecord[] = [];
  for await (const r of s.records()) out.push(r);
  await s.close();
  return out;
};

describe('snapshots', () => {
  it('snapshot + tail equals a full replay, across segments', async () => {
    const dir = tmpStateDir();
    const s = await openStore(dir, { snapshotEvery: 7, segmentBytes: 4000 });
    await s.append([defined('a'), defined('b')]);
    for (let i = 0; i < 5; i++) {
      await s.append(startOp('a', `a-${i}`));
      await s.append([filler(i)]);
      await s.append(startOp('b', `b-${i}`).slice(0, 4)); // b stays in flight
    }
    await s.close();
    expect(listSnapshots(dir).length).toBe(2); // older ones pruned
    const records = await all(dir);
    const replayed = foldAll(records, emptyState());
    const fromSnap = await openStore(dir, { readonly: true });
    expect(fromSnap.state()).toEqual(replayed);
    await fromSnap.close();
    const rebuilt = await openStore(dir, { readonly: true, rebuild: true });
    expect(rebuilt.state()).toEqual(replayed);
    await rebuilt.close();
    expect(replayed.networks.b?.inFlight?.steps).toHaveLength(1);
  });

  it('open reads only the tail after the snapshot', async () => {
    const dir = tmpStateDir();
    const s = await openStore(dir, { snapshotEvery: 10 });
    await s.append([defined()]);
    for (let i = 0; i < 24; i++) await s.append([filler(i)]);
    await s.close();
    // 25 records; a snapshot.written record after seq 10 (seq 11) and ten records after that one
    // (seq 22): the tail is counted from the last snapshot.
    expect(listSnapshots(dir)[0]).toBe(22);
    // Wreck the part of the log the snapshot covers: if open read it, it would report tampering.
    const seg = join(dir, 'log', '000001.jsonl');
    const text = readFileSync(seg, 'utf8');
    const i = text.indexOf('"seq":3,');
    writeFileSync(seg, `${text.slice(0, i - 20)}XXXXXXXXXXXXXXXXXXXX${text.slice(i)}`);
    const again = await openStore(dir);
    expect(again.state().seq).toBe(27);
    await again.close();
    await expect(openStore(dir, { rebuild: true })).rejects.toThrow(/seq 3/);
  });

  it('a snapshot that does not match the log is ignored', async () => {
    const dir = tmpStateDir();
    const s = await openStore(dir, { snapshotEvery: 5 });
    await s.append([defined()]);
    for (let i = 0; i < 6; i++) await s.append([filler(i)]);
    await s.close();
    const snap = join(snapshotDir(dir), '6.json');     // at the snapshot.written record after seq 5
    const body = JSON.parse(readFileSync(snap, 'utf8')) as { state: { networks: Record<string, unknown> } };
    body.state.networks = {};
    writeFileSync(snap, JSON.stringify(body));
    const again = await openStore(dir, { readonly: true });
    expect(Object.keys(again.state().networks)).toEqual(['default']);
    await again.close();
  });

  it('a writer open with a long tail writes a snapshot', async () => {
    const dir = tmpStateDir();
    const s = await openStore(dir, { snapshotEvery: 1000 });
    for (let i = 0; i < 30; i++) await s.append([filler(i)]);
    await s.close();
    expect(listSnapshots(dir)).toEqual([]);
    await (await openStore(dir, { snapshotEvery: 10 })).close();
    expect(listSnapshots(dir)).toEqual([31]);          // seq 31: its snapshot.written record
  });

  it('close() writes a snapshot when 1,000 records are uncovered', async () => {
    const dir = tmpStateDir();
    const s = await openStore(dir);
    await s.append(Array.from({ length: 1000 }, (_, i) => filler(i)));
    await s.close();
    expect(listSnapshots(dir)).toEqual([1001]);
  });

  it('closeSnapshotAfter: close() snapshots after fewer records (the daemon: 200), and not before', async () => {
    const dir = tmpStateDir();
    const s = await openStore(dir, { closeSnapshotAfter: 200 });
    await s.append(Array.from({ length: 199 }, (_, i) => filler(i)));
    await s.close();
    expect(listSnapshots(dir)).toEqual([]);
    const again = await openStore(dir, { closeSnapshotAfter: 200 });
    await again.append([filler(199)]);
    await again.close();
    expect(listSnapshots(dir)).toEqual([201]);
  });
});

describe('writer lock', () => {
  it('a second writer gets ELOCKED naming the directory and pid; readers are not blocked', async () => {
    const dir = tmpStateDir();
    const s = await openStore(dir);
    const err = await openStore(dir).catch((e: unknown) => e);
    expect(isStateError(err, 'ELOCKED')).toBe(true);
    expect((err as Error).message).toBe(`state directory ${dir} is in use by another vnetfw process (pid ${process.pid})`);
    const r = await openStore(dir, { readonly: true });
    await r.close();
    await s.close();
    expect(existsSync(lockPath(dir))).toBe(false);
    await (await openStore(dir)).close();
  });

  it('takes over a stale lock of a dead process and logs it', async () => {
    const dir = tmpStateDir();
    await (await openStore(dir)).close();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const pid = Number(dead.stdout);
    writeLockFor(dir, pid);
    const s = await openStore(dir);
    const recs: LogRecord[] = [];
    for await (const r of s.records()) recs.push(r);
    expect(recs.at(-1)).toMatchObject({ type: 'lock.recovered', data: { pid } });
    expect(readFileSync(lockPath(dir), 'utf8').split('\n')[0]).toBe(String(process.pid));
    await s.close();
  });

  it('withStore waits for the lock when asked, and times out otherwise', async () => {
    const dir = tmpStateDir();
    const holder = await openStore(dir);
    await expect(withStore(dir, () => 1)).rejects.toSatisfy((e: unknown) => isStateError(e, 'ELOCKED'));
    await expect(withStore(dir, () => 1, { wait: true, timeoutMs: 100, lockPollMs: 10 })).rejects.toThrow(/gave up after waiting/);
    setTimeout(() => { void holder.close(); }, 50);
    const seq = await withStore(dir, async (s) => (await s.append([defined()]))[0]!.seq, { wait: true, timeoutMs: 5000, lockPollMs: 10 });
    expect(seq).toBe(1);
    expect(existsSync(lockPath(dir))).toBe(false);
  });
});
