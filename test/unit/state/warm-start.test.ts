import { appendFileSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  createWarmHolder, isStateError, logMovedSince, openStore, segmentPath, type WarmHolder,
} from '../../../state/index.js';
import { defined, filler, startOp, tmpStateDir } from './helpers.js';

// A marker only the holder's copy of the state carries: an open that shows it started from memory.
const mark = (holder: WarmHolder): void => {
  const w = holder.current!;
  w.state = { ...w.state, networks: { ...w.state.networks, 'from-memory': w.state.networks.a! } };
};

const cold = async (dir: string): Promise<unknown> => {
  const s = await openStore(dir, { readonly: true, rebuild: true });
  try { return s.state(); } finally { await s.close(); }
};

const daemonCycle = async (dir: string, holder: WarmHolder, events = [filler(1)]): Promise<void> => {
  const s = await openStore(dir, { warm: holder });
  await s.append(events);
  await s.close();
};

describe('a writer starting from the last writer of the same process (warm start)', () => {
  it('given a closed writer, when nobody wrote since, then the next open starts from its state and the log has not moved', async () => {
    const dir = tmpStateDir();
    const holder = createWarmHolder();
    await daemonCycle(dir, holder, [defined('a'), ...startOp('a')]);
    expect(holder.current?.state.seq).toBe(8);
    expect(logMovedSince(dir, holder.current!)).toBe(false);
    mark(holder);
    const s = await openStore(dir, { warm: holder });
    expect(holder.current).toBeUndefined();             // taken while the store is open
    expect(Object.keys(s.state().networks)).toContain('from-memory');
    await s.close();
    expect(holder.current?.state.networks['from-memory']).toBeDefined();
  });

  it('given another process appended in between, then the open folds only those records onto its state', async () => {
    const dir = tmpStateDir();
    const holder = createWarmHolder();
    await daemonCycle(dir, holder, [defined('a'), defined('b')]);
    const other = await openStore(dir);
    await other.append(startOp('b', 'op-b'));
    await other.close();
    expect(logMovedSince(dir, holder.current!)).toBe(true);
    const s = await openStore(dir, { warm: holder });
    const state = s.state();
    await s.close();
    expect(state).toEqual(await cold(dir));
    expect(state.networks.b?.state).toBe('active');
  });

  it('given the log was compacted in between (the segment replaced), then the open does not use its memory', async () => {
    const dir = tmpStateDir();
    const holder = createWarmHolder();
    await daemonCycle(dir, holder, [defined('a'), ...startOp('a'), ...Array.from({ length: 5 }, (_, i) => filler(i))]);
    const other = await openStore(dir);
    await other.snapshot();
    await other.append([filler(9)]);
    expect((await other.compact({ seq: other.state().seq })).compacted).toBe(true);
    await other.close();
    expect(logMovedSince(dir, holder.current!)).toBe(true);
    mark(holder);
    const s = await openStore(dir, { warm: holder });
    const state = s.state();
    await s.close();
    expect(state.networks['from-memory']).toBeUndefined();
    expect(state.seq).toBe((await cold(dir) as { seq: number }).seq);
  });

  it('given the segment was cut short of where we stopped, then the open does not use its memory', async () => {
    const dir = tmpStateDir();
    const holder = createWarmHolder();
    await daemonCycle(dir, holder, [defined('a'), ...startOp('a')]);
    await daemonCycle(dir, holder, [filler(1)]);
    const seg = segmentPath(dir, 1);
    const lines = readFileSync(seg, 'utf8').split('\n').filter((l) => l !== '');
    truncateSync(seg, statSync(seg).size - Buffer.byteLength(`${lines.at(-1)!}\n`));
    mark(holder);
    const s = await openStore(dir, { warm: holder });
    const state = s.state();
    await s.close();
    expect(state.networks['from-memory']).toBeUndefined();
    expect(state.seq).toBe(8);
  });

  it('given a record after ours that does not chain to it, then the open refuses the log as the cold path does', async () => {
    const dir = tmpStateDir();
    const holder = createWarmHolder();
    await daemonCycle(dir, holder, [defined('a'), ...startOp('a')]);
    const seg = segmentPath(dir, 1);
    const first = readFileSync(seg, 'utf8').split('\n')[0]!;
    appendFileSync(seg, `${first.replace('"seq":1', '"seq":9')}\n`);
    const err = await openStore(dir, { warm: holder }).then(() => null, (e: unknown) => e);
    expect(isStateError(err, 'ETAMPER')).toBe(true);
    expect(holder.current).toBeUndefined();
  });
});
