// The journal's group commit: writes asked for before the next append begins share it (one fsync),
// each caller gets its own record back, and the log keeps the order the events were asked for in.
import { describe, expect, it } from 'vitest';
import { createJournal } from '../../../src/engine/index.js';
import { event, openStore, type NewEvent, type Store } from '../../../state/index.js';
import { tmpStateDir } from '../state/helpers.js';

const intent = (step: number): NewEvent =>
  event('command.intended', { step, argv: ['nft', '-f', '-'], commands: [], purpose: 'apply' }, { network: 'default', op: 'op-1' });
const started = event('operation.started', { kind: 'start', to: 'nftables' }, { network: 'default', op: 'op-1' });

// The real store, with each append's size kept.
const counting = async (): Promise<{ store: Store; appends: number[] }> => {
  const store = await openStore(tmpStateDir());
  const appends: number[] = [];
  const append = store.append.bind(store);
  store.append = (events) => { appends.push(events.length); return append(events); };
  return { store, appends };
};

describe('journal group commit', () => {
  it('given two writes asked for in the same turn, then one append holds both and each write returns its own record', async () => {
    const { store, appends } = await counting();
    const j = createJournal(store);
    j.note(started);

    const [a, b] = await Promise.all([j.write(intent(1)), j.write(intent(2))]);

    expect(appends).toEqual([3]);
    expect([a.seq, b.seq]).toEqual([2, 3]);
    expect([(a.data as { step: number }).step, (b.data as { step: number }).step]).toEqual([1, 2]);
    await store.close();
  });

  it('given a note between two same-turn writes, then the log has them in the order asked', async () => {
    const { store, appends } = await counting();
    const j = createJournal(store);

    const first = j.write(intent(1));
    j.note(event('network.transition', { from: 'stopped', to: 'applying', event: 'START' }, { network: 'default', op: 'op-1' }));
    const second = j.write(intent(2));
    await Promise.all([first, second]);

    expect(appends).toEqual([3]);
    expect(store.state().seq).toBe(3);
    const types: string[] = [];
    for await (const r of store.records()) types.push(r.type);
    expect(types).toEqual(['command.intended', 'network.transition', 'command.intended']);
    await store.close();
  });

  it('given a write asked for after the append began, then it goes in the next append, after the first is durable', async () => {
    const { store, appends } = await counting();
    const j = createJournal(store);

    const first = j.write(intent(1));
    for (let i = 0; i < 100 && appends.length === 0; i++) await Promise.resolve();   // the first append has begun
    expect(appends).toEqual([1]);
    const second = j.write(intent(2));
    const [a, b] = await Promise.all([first, second]);

    expect(appends).toEqual([1, 1]);
    expect([a.seq, b.seq]).toEqual([1, 2]);
    await store.close();
  });

  it('given a flush joining a write, then it returns once that write is durable', async () => {
    const { store, appends } = await counting();
    const j = createJournal(store);

    const w = j.write(intent(1));
    await j.flush();

    expect(store.state().seq).toBe(1);
    expect(appends).toEqual([1]);
    await w;
    await store.close();
  });
});
