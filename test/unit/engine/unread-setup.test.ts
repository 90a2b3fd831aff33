// The first apply on iptables when the log does not record the private set-up (FakeRunner, no
// root): it reads nothing first and creates the set-up with `-N` lines. When the set-up was there
// after all (libvirt's chains, left by another program), the batch fails at such a line, nothing
// of it stays, the set-up is read and the batch applied again without it.
import { afterEach, describe, expect, it } from 'vitest';
import { closeEngineWorlds, defineRenumbered, engineWorld } from '../../doubles/engine-world.js';
import { runNetworkOps } from '../../../src/engine/index.js';

afterEach(closeEngineWorlds);

const LIBVIRT_SETUP_V4 = '*filter\n-N LIBVIRT_INP\n-I INPUT --jump LIBVIRT_INP\n-N LIBVIRT_OUT\n-I OUTPUT --jump LIBVIRT_OUT\n'
  + '-N LIBVIRT_FWO\n-I FORWARD --jump LIBVIRT_FWO\n-N LIBVIRT_FWI\n-I FORWARD --jump LIBVIRT_FWI\n-N LIBVIRT_FWX\n-I FORWARD --jump LIBVIRT_FWX\nCOMMIT\n'
  + '*nat\n-N LIBVIRT_PRT\n-I POSTROUTING --jump LIBVIRT_PRT\nCOMMIT\n*mangle\n-N LIBVIRT_PRT\n-I POSTROUTING --jump LIBVIRT_PRT\nCOMMIT\n';

describe('iptables apply without reading the set-up first', () => {
  it('given a fresh host, when a network starts, then two restores run and no ruleset is read', async () => {
    const w = await engineWorld({ backend: 'iptables' });
    await defineRenumbered(w, 1);
    const [r] = await runNetworkOps(w.env, [{ name: 'n0', event: { type: 'START', backend: 'iptables' } }]);
    expect(r?.status?.state).toBe('active');
    const fw = w.fake.calls.map((c) => c.req.argv[0] ?? '').filter((p) => p.includes('tables'));
    expect(fw).toEqual(['iptables-restore', 'ip6tables-restore']);
    expect(w.fake.calls.find((c) => c.req.argv[0] === 'iptables-restore')?.req.stdin).toContain('-N LIBVIRT_INP\n');
  });

  it('given libvirt\'s private chains already on ipv4 (not in our log), when a network starts, then the failed batch is taken back, the set-up read, and the network applied without re-creating it', async () => {
    const w = await engineWorld({ backend: 'iptables' });
    await defineRenumbered(w, 1);
    const pre = await w.fake.run({ argv: ['iptables-restore', '-w', '--noflush'], stdin: LIBVIRT_SETUP_V4 });
    expect(pre.exitCode).toBe(0);
    const setupOnly = w.fake.dump();
    const from = w.fake.calls.length;

    const [r] = await runNetworkOps(w.env, [{ name: 'n0', event: { type: 'START', backend: 'iptables' } }]);

    expect(r?.status?.state).toBe('active');
    const calls = w.fake.calls.slice(from).filter((c) => (c.req.argv[0] ?? '').includes('tables'));
    const first = calls[0];
    expect(first?.req.argv[0]).toBe('iptables-restore');
    expect(first?.result.exitCode).toBe(1);
    expect(first?.result.stderr).toMatch(/line 2 failed/);
    // read after the refusal, then applied knowing the set-up
    expect(calls.slice(1, 3).map((c) => c.req.argv[0])).toEqual(['iptables-save', 'ip6tables-save']);
    const second = calls.slice(3).find((c) => c.req.argv[0] === 'iptables-restore');
    expect(second?.result.exitCode).toBe(0);
    expect(second?.req.stdin).not.toContain('-N LIBVIRT');
    // every chain once, with one jump each: nothing of the set-up doubled
    const v4 = w.fake.dump().split('# ip6tables')[0] ?? '';
    expect(v4.match(/^-A INPUT -j LIBVIRT_INP$/gm)).toHaveLength(1);
    expect(v4.match(/^-A FORWARD -j LIBVIRT_FWX$/gm)).toHaveLength(1);

    // and a stop leaves exactly libvirt's set-up, as it was found
    const [s] = await runNetworkOps(w.env, [{ name: 'n0', event: { type: 'STOP' } }]);
    expect(s?.status?.state).toBe('stopped');
    expect(w.fake.dump().split('# ip6tables')[0]).toBe(setupOnly.split('# ip6tables')[0]);
  });

  it('given a start and a stop on iptables, when the network starts again, then the recorded set-up is trusted: nothing read, nothing re-created', async () => {
    const w = await engineWorld({ backend: 'iptables' });
    await defineRenumbered(w, 1);
    await runNetworkOps(w.env, [{ name: 'n0', event: { type: 'START', backend: 'iptables' } }]);
    await runNetworkOps(w.env, [{ name: 'n0', event: { type: 'STOP' } }]);
    expect(w.store.state().setup?.iptables).toBeGreaterThan(0);
    expect(w.records.filter((r) => r.type === 'setup.recorded')).toHaveLength(1);
    const from = w.fake.calls.length;

    const [r] = await runNetworkOps(w.env, [{ name: 'n0', event: { type: 'START', backend: 'iptables' } }]);

    expect(r?.status?.state).toBe('active');
    const calls = w.fake.calls.slice(from).filter((c) => (c.req.argv[0] ?? '').includes('tables'));
    // (an IPv4-only network: with the set-up in place, nothing for ip6tables)
    expect(calls.map((c) => c.req.argv[0])).toEqual(['iptables-restore']);
    expect(calls.every((c) => !(c.req.stdin ?? '').includes('-N '))).toBe(true);
    expect(w.records.filter((r) => r.type === 'setup.recorded')).toHaveLength(1);
  });
});
