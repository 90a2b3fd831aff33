// The machine driver's order: a request that cannot run fails before anything is written; the
// operation is in the log before any machine acts; a request a machine does not take opens nothing.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { casesDir, closeEngineWorlds, engineWorld, type EngineWorld } from '../../doubles/engine-world.js';
import { defineNetwork, runNetworkOp, runNetworkOps } from '../../../src/engine/index.js';
import { type LogRecord, type Store } from '../../../state/index.js';

afterEach(closeEngineWorlds);

const world = async (): Promise<EngineWorld> => {
  const w = await engineWorld({ configBackend: 'nftables' });
  await defineNetwork(w.env.journal, join(casesDir, 'nat-default.xml'));
  return w;
};

const records = async (store: Store): Promise<LogRecord[]> => {
  const out: LogRecord[] = [];
  for await (const r of store.records()) out.push(r);
  return out;
};

describe('machine driver', () => {
  it('opens the operation before any machine acts: operation.started precedes every transition and program run', async () => {
    const { env, store } = await world();
    await runNetworkOp(env, 'default', { type: 'START', backend: 'nftables' });
    const recs = await records(store);
    const started = recs.findIndex((r) => r.type === 'operation.started');
    expect(started).toBeGreaterThan(-1);
    const acting = recs.map((r, i) => ({ r, i })).filter(({ r }) => r.type === 'network.transition' || r.type === 'command.intended');
    expect(acting.length).toBeGreaterThan(0);
    for (const { r, i } of acting) {
      expect(i).toBeGreaterThan(started);
      expect(r.op).toBe(recs[started]?.op);
    }
  });

  it('an event the machine does not take (START while active) opens no operation and runs nothing', async () => {
    const { env, fake, store } = await world();
    await runNetworkOp(env, 'default', { type: 'START', backend: 'nftables' });
    const before = (await records(store)).length;
    const calls = fake.calls.length;
    const [r] = await runNetworkOps(env, [{ name: 'default', event: { type: 'START', backend: 'nftables' } }]);
    expect(r?.status?.state).toBe('active');
    expect((await records(store)).length).toBe(before);
    expect(fake.calls.length).toBe(calls);
  });

  it('an interrupted operation refuses (EINFLIGHT) with nothing written and nothing run', async () => {
    const { env, fake, store } = await world();
    await env.journal.write({ type: 'operation.started', network: 'default', op: 'dead', data: { kind: 'start', to: 'nftables' } });
    const before = (await records(store)).length;
    await expect(runNetworkOps(env, [{ name: 'default', event: { type: 'START', backend: 'nftables' } }])).rejects.toMatchObject({ code: 'EINFLIGHT' });
    expect((await records(store)).length).toBe(before);
    expect(fake.calls).toEqual([]);
  });

  it('a state no machine can be restored in (active, no rules recorded) fails before the operation is opened', async () => {
    const { env, store } = await world();
    await runNetworkOp(env, 'default', { type: 'START', backend: 'nftables' });
    await env.journal.write({ type: 'removal.cleared', network: 'default', op: 'x', data: { backend: 'nftables' } });
    const before = (await records(store)).length;
    await expect(runNetworkOps(env, [{ name: 'default', event: { type: 'STOP' } }])).rejects.toThrow(/without an installed backend/);
    expect((await records(store)).length).toBe(before);
  });
});
