// The metrics' log follower across `log compact`: the segment it read is replaced (checkpoint at
// its head, other offsets); it goes on with the records after the last one it saw, once each.
import { describe, expect, it } from 'vitest';
import { openLogTail } from '../../../src/metrics/log-tail.js';
import { openStore } from '../../../state/index.js';
import { defined, filler, startOp, tmpStateDir } from '../state/helpers.js';

describe('metrics log tail', () => {
  it('given a follower, when the log is compacted and appended to, then it reads the new records once and its state is the writer’s', async () => {
    const dir = tmpStateDir();
    const store = await openStore(dir);
    await store.append([defined('a'), ...startOp('a', 'op-a'), filler(1), filler(2)]);
    const tail = await openLogTail(dir);
    const seen: number[] = [];
    await tail.read((r) => seen.push(r.seq));
    expect(seen).toEqual([]);
    await store.append([filler(3)]);
    await tail.read((r) => seen.push(r.seq));
    const compacted = await store.compact({ seq: 1000 });
    expect(compacted.compacted).toBe(true);
    await store.append([filler(4), filler(5), filler(6), filler(7), filler(8), filler(9)]);
    await tail.read((r) => seen.push(r.seq));
    const last = store.state().seq;
    expect(seen).toEqual(Array.from({ length: last - seen[0]! + 1 }, (_, i) => seen[0]! + i));
    expect(seen.at(-1)).toBe(last);
    expect(tail.state().seq).toBe(last);
    expect(tail.state().networks.a?.state).toBe('active');
    await store.close();
  });
});
