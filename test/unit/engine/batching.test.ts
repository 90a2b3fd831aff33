// Batching in the engine (FakeRunner, no root): several networks in one operation share one batch
// per program and keep the order they were named in; the tolerated DHCP checksum rule rides in the
// main iptables batch, and an iptables without the CHECKSUM target still gets the network started
// (the rule is then left out, as libvirt tolerates it); reconcile switches many networks at once.
import { afterEach, describe, expect, it } from 'vitest';
import { closeEngineWorlds, defineRenumbered, engineWorld, type EngineWorld } from '../../doubles/engine-world.js';
import { reconcile, runNetworkOps } from '../../../src/engine/index.js';
import { FakeRunner } from '../../doubles/fake-runner.js';
import type { Backend } from '../../../src/firewall/index.js';

afterEach(closeEngineWorlds);

const world = async (n: number): Promise<EngineWorld & { use(b: Backend): void }> => {
  let backend: Backend = 'iptables';
  const w = await engineWorld({ backend: () => backend });
  await defineRenumbered(w, n);
  return { ...w, use: (b) => { backend = b; } };
};

const programs = (fake: FakeRunner, from = 0): string[] => fake.calls.slice(from).map((c) => c.req.argv[0] ?? '');

describe('batches shared by several networks', () => {
  it('start of 5 networks: one restore per family for all of them, in the order named', async () => {
    const w = await world(5);
    const names = ['n3', 'n0', 'n4', 'n1', 'n2'];
    const res = await runNetworkOps(w.env, names.map((name) => ({ name, event: { type: 'START', backend: 'iptables' } })));
    expect(res.every((r) => r.status?.state === 'active')).toBe(true);
    const restores = w.fake.calls.filter((c) => c.req.argv[0]?.endsWith('-restore'));
    expect(restores.map((c) => c.req.argv[0])).toEqual(['iptables-restore', 'ip6tables-restore']);
    // the checksum rules rode in the main batch
    expect(restores[0]?.req.stdin).toContain('--jump CHECKSUM');
    const order = [...(restores[0]?.req.stdin ?? '').matchAll(/-I LIBVIRT_FWX --in-interface (virbr\d)/g)].map((m) => m[1]);
    expect(order).toEqual(['virbr3', 'virbr0', 'virbr4', 'virbr1', 'virbr2']);
  });

  it('an iptables without CHECKSUM: the batch is retried without it and the network starts, as libvirt tolerates', async () => {
    const w = await world(1);
    w.fake.failWhen((req) => ((req.stdin ?? '').includes('CHECKSUM') || req.argv.includes('CHECKSUM')
      ? { exitCode: 2, stderr: "iptables v1.8.9 (nf_tables): Couldn't load target `CHECKSUM'" } : false));
    const [r] = await runNetworkOps(w.env, [{ name: 'n0', event: { type: 'START', backend: 'iptables' } }]);
    expect(r?.status?.state).toBe('active');
    const dump = w.fake.dump();
    expect(dump).toContain('MASQUERADE');
    expect(dump).not.toContain('CHECKSUM');
    // the checksum commands were tried one by one (and failed), the rest went in batches
    expect(w.fake.calls.filter((c) => c.req.argv[0] === 'iptables' && c.req.argv.includes('--insert') && c.req.argv.includes('CHECKSUM')).length).toBe(1);
    // and the removal recorded for the network has no checksum rule to remove
    const removal = w.store.state().networks.n0?.removals.iptables;
    expect(JSON.stringify(removal)).not.toContain('CHECKSUM');
  });

  it('reconcile switches 6 networks with one batch per program, then removes the old rules in one', async () => {
    const w = await world(6);
    w.use('nftables');
    await reconcile(w.env);   // nothing active yet: nothing to do
    await runNetworkOps(w.env, [0, 1, 2, 3, 4, 5].map((i) => ({ name: `n${i}`, event: { type: 'START', backend: 'nftables' } })));
    const before = w.fake.calls.length;
    w.use('iptables');
    const report = await reconcile(w.env);
    expect(report.actions.map((a) => a.action)).toEqual(Array(6).fill('switched to iptables'));
    // one restore per family (the iptables set-up goes in as if absent, nothing read first), one
    // nft removal for all six
    expect(programs(w.fake, before)).toEqual(['iptables-restore', 'ip6tables-restore', 'nft']);
    for (let i = 0; i < 6; i++) expect(w.store.state().networks[`n${i}`]).toMatchObject({ state: 'active', backend: 'iptables', inFlight: null });
    expect(w.fake.dump()).not.toMatch(/virbr\d.*reject/);   // no nft rule of any network left
  });

  // A failure before the operation changed anything (the first restore cannot take the xtables
  // lock) leaves the log with the operation started and rolled back, nothing in flight, the old
  // rules in place, and the next reconcile free to run.
  it('a switch whose first program fails before changing anything is rolled back, with nothing left in flight', async () => {
    const w = await world(3);
    w.use('nftables');
    await runNetworkOps(w.env, [0, 1, 2].map((i) => ({ name: `n${i}`, event: { type: 'START', backend: 'nftables' } })));
    const kernel = w.fake.dump();
    w.use('iptables');
    w.fake.failWhen((req) => (req.argv[0] === 'iptables-restore' ? { exitCode: 4, stderr: 'Another app is currently holding the xtables lock.' } : false));
    const report = await reconcile(w.env);
    expect(report.actions.filter((a) => !a.ok).map((a) => a.network)).toEqual(['n0', 'n1', 'n2']);
    expect(w.fake.dump()).toBe(kernel);
    const seen = new Map<string, string[]>();
    for await (const r of w.store.records()) {
      if (r.network !== undefined && r.type.startsWith('operation.')) seen.set(r.network, [...(seen.get(r.network) ?? []), r.type]);
    }
    for (let i = 0; i < 3; i++) {
      expect(w.store.state().networks[`n${i}`]).toMatchObject({ state: 'active', backend: 'nftables', inFlight: null });
      expect(seen.get(`n${i}`)?.slice(-2)).toEqual(['operation.started', 'operation.rolled-back']);
    }
    w.fake.clearFailures();
    const again = await reconcile(w.env);
    expect(again.actions.map((a) => a.action)).toEqual(Array(3).fill('switched to iptables'));
  });
});
