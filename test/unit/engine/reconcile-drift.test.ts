// reconcile converges the kernel too (FakeRunner, no root): rules someone flushed after the network
// started are found and put back by a plain reconcile, recorded as `verify --repair` records them
// (drift.found, a repair operation, drift.repaired); a converged host then needs nothing, and a
// reconcile that has just applied every active network's rules reads nothing back.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { casesDir, closeEngineWorlds, engineWorld, type EngineWorld } from '../../doubles/engine-world.js';
import { defineNetwork, reconcile, runNetworkOp } from '../../../src/engine/index.js';
import type { Backend } from '../../../src/firewall/index.js';

afterEach(closeEngineWorlds);

const world = async (backend: Backend): Promise<EngineWorld> => {
  const w = await engineWorld({ backend, configBackend: backend });
  await defineNetwork(w.env.journal, join(casesDir, 'nat-default.xml'));
  await runNetworkOp(w.env, 'default', { type: 'START', backend });
  return w;
};

const FLUSH: Partial<Record<Backend, string[]>> = {
  nftables: ['nft', 'flush', 'chain', 'ip', 'libvirt_network', 'guest_output'],
  iptables: ['iptables', '-w', '-F', 'LIBVIRT_FWO'],
};

describe('reconcile repairs drift', () => {
  for (const be of ['nftables', 'iptables'] as const) {
    it(`${be}: a flushed chain is found and put back by reconcile, and logged like verify --repair`, async () => {
      const w = await world(be);
      const started = w.fake.dump();
      await w.fake.run({ argv: FLUSH[be] ?? [] });
      expect(w.fake.dump()).not.toBe(started);
      const from = w.records.length;

      const report = await reconcile(w.env);
      expect(report.drift).toEqual([expect.objectContaining({ network: 'default', backend: be, foreign: [] })]);
      expect(report.drift[0]?.missing).toHaveLength(2);
      expect(report.actions).toEqual([{ network: 'default', action: 'repaired drift (2 missing, 0 foreign)', ok: true }]);
      expect(w.fake.dump().replace(/handle \d+/g, '')).toBe(started.replace(/handle \d+/g, ''));
      const types = w.records.slice(from).map((r) => r.type);
      expect(types).toContain('drift.found');
      expect(types.indexOf('drift.found')).toBeLessThan(types.indexOf('operation.started'));
      expect(types.at(-1)).toBe('drift.repaired');
      expect(w.store.state().networks.default?.state).toBe('active');

      const again = await reconcile(w.env);
      expect(again).toMatchObject({ actions: [], drift: [], recovered: [] });
    });
  }

  it('a reconcile that applied every active network just now reads nothing back', async () => {
    const w = await world('nftables');
    w.env.backend = () => 'iptables';
    w.env.config = { ...w.env.config, firewallBackend: 'iptables' };
    const before = w.fake.calls.length;
    const report = await reconcile(w.env);
    expect(report.actions).toEqual([{ network: 'default', action: 'switched to iptables', ok: true }]);
    const argvs = w.fake.calls.slice(before).map((c) => c.req.argv.join(' '));
    const lastApply = argvs.length - 1 - [...argvs].reverse().findIndex((a) => a.startsWith('iptables-restore') || a.startsWith('ip6tables-restore'));
    expect(lastApply).toBeLessThan(argvs.length);
    // after the new rules went in, only the old ones were removed: nothing was read back
    expect(argvs.slice(lastApply + 1).filter((a) => / list |-save$/.test(a))).toEqual([]);
    expect(report.drift).toEqual([]);
  });
});
