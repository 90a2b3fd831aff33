// The daemon's warm-up of the composition (FakeRunner, no root): it composes every backend's
// batches for the defined networks and throws them away, so it must run no program and write no
// record, whatever is defined.
import { afterEach, describe, expect, it } from 'vitest';
import { closeEngineWorlds, defineRenumbered, engineWorld } from '../../doubles/engine-world.js';
import { warmUpComposition } from '../../../src/engine/index.js';

afterEach(closeEngineWorlds);

describe('warmUpComposition', () => {
  it('given 3 defined networks, when warmed up, then no program ran and the log did not move', async () => {
    const w = await engineWorld();
    await defineRenumbered(w, 3);
    await w.env.journal.flush();
    const seq = w.store.state().seq;
    const records = w.records.length;
    expect(seq).toBeGreaterThan(0);

    warmUpComposition(w.env);
    await w.env.journal.flush();

    expect(w.fake.calls).toHaveLength(0);
    expect(w.store.state().seq).toBe(seq);
    expect(w.records).toHaveLength(records);
  });

  it('given no network, when warmed up, then nothing happens', async () => {
    const w = await engineWorld();
    warmUpComposition(w.env);
    expect(w.fake.calls).toHaveLength(0);
    expect(w.store.state().seq).toBe(0);
  });
});
