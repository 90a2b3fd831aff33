// The bridges of one operation's networks go to the kernel as one `ip -batch -` after one read of
// the links (FakeRunner, no root). ip stops at the first line that fails: the networks before it
// are started, the failing one is left as it was (its half-made bridge deleted, someone else's
// bridge kept), the ones after it go in a second batch.
import { afterEach, describe, expect, it } from 'vitest';
import { closeEngineWorlds, defineRenumbered, engineWorld, type EngineWorld } from '../../doubles/engine-world.js';
import { runNetworkOps, type EngineEnv } from '../../../src/engine/index.js';
import { FakeRunner } from '../../doubles/fake-runner.js';

afterEach(closeEngineWorlds);

const world = async (n: number): Promise<EngineWorld> => {
  const w = await engineWorld();
  await defineRenumbered(w, n);
  return w;
};

const startAll = (w: { env: EngineEnv }, n: number) =>
  runNetworkOps(w.env, Array.from({ length: n }, (_, i) => ({ name: `n${i}`, event: { type: 'START', backend: 'nftables' } as const })));
const ipRuns = (fake: FakeRunner): string[] => fake.calls.filter((c) => c.req.argv[0] === 'ip').map((c) => c.req.argv.join(' '));
const links = (fake: FakeRunner): string => fake.dump().split('# links\n')[1] ?? '';
const isBatch = (argv: readonly string[]): boolean => argv.join(' ') === 'ip -batch -';

describe('the bridges of one operation', () => {
  it('start of 4 networks: one read of the links, one ip -batch making all four (addressed, up)', async () => {
    const w = await world(4);
    const res = await startAll(w, 4);
    expect(res.map((r) => r.status?.state)).toEqual(['active', 'active', 'active', 'active']);
    expect(ipRuns(w.fake)).toEqual(['ip -j link show', 'ip -batch -']);
    expect(w.fake.calls.find((c) => isBatch(c.req.argv))?.req.timeoutMs).toBe(60_000 + 4 * 500);
    for (let i = 0; i < 4; i++) {
      expect(links(w.fake)).toMatch(new RegExp(`virbr${i} bridge up .*192\\.168\\.${100 + i}\\.1/24`));
      expect(w.store.state().networks[`n${i}`]).toMatchObject({ bridgeCreated: true, bridge: `virbr${i}` });
    }
  });

  it('a bridge that already exists is used, not made, and not deleted at stop', async () => {
    const w = await world(2);
    await w.fake.run({ argv: ['ip', 'link', 'add', 'virbr1', 'type', 'bridge'] });
    await startAll(w, 2);
    const batch = w.fake.calls.find((c) => isBatch(c.req.argv));
    expect(batch?.req.stdin).toContain('link add virbr0 ');
    expect(batch?.req.stdin).not.toContain('virbr1');
    expect(w.store.state().networks.n1).toMatchObject({ state: 'active', bridgeCreated: false });
    await runNetworkOps(w.env, [{ name: 'n0', event: { type: 'STOP' } }, { name: 'n1', event: { type: 'STOP' } }]);
    expect(links(w.fake)).not.toContain('virbr0');
    expect(links(w.fake)).toContain('virbr1');
  });

  it('someone makes a bridge between the read and the batch: that network fails and its bridge stays, the others start', async () => {
    const w = await world(3);
    let raced = false;
    w.fake.failWhen((req) => {
      if (isBatch(req.argv) && !raced) {
        raced = true;
        void w.fake.run({ argv: ['ip', 'link', 'add', 'virbr1', 'type', 'dummy'] });   // applied at once by the fake
      }
      return false;
    });
    const res = await startAll(w, 3);
    expect(res.map((r) => r.status?.state ?? 'failed')).toEqual(['active', 'failed', 'active']);
    expect(res[1]?.error).toMatch(/^n1: /);
    expect(w.fake.calls.filter((c) => isBatch(c.req.argv)).map((c) => (c.req.stdin ?? '').match(/^link add (\S+)/gm))).toEqual([
      ['link add virbr0', 'link add virbr1', 'link add virbr2'], ['link add virbr2'],
    ]);
    expect(links(w.fake)).toMatch(/virbr1 dummy down/);
    expect(w.store.state().networks.n1).toMatchObject({ state: 'stopped', bridgeCreated: false, inFlight: null, removals: {} });
    expect(w.fake.dump()).not.toContain('192.168.101.');
  });

  it('ip stops at an address line of the second network: its half-made bridge goes, the others start', async () => {
    const w = await world(3);
    let first = true;
    w.fake.failWhen((req) => {
      if (!isBatch(req.argv) || !first) return false;
      first = false;
      // What ip does when the 5th line fails: lines 1-4 applied (n0 complete, n1's link add), then it stops.
      const lines = (req.stdin ?? '').split('\n');
      for (const line of lines.slice(0, 4)) void w.fake.run({ argv: ['ip', ...line.split(' ')] });
      expect(lines[4]).toMatch(/^addr add 192\.168\.101\.1\/24 /);
      return { exitCode: 1, stderr: 'Error: ipv4: Address already assigned.\nCommand failed -:5\n' };
    });
    const res = await startAll(w, 3);
    expect(res.map((r) => r.status?.state ?? 'failed')).toEqual(['active', 'failed', 'active']);
    expect(links(w.fake)).not.toContain('virbr1');
    expect(links(w.fake)).toMatch(/virbr0 bridge up/);
    expect(links(w.fake)).toMatch(/virbr2 bridge up/);
    expect(w.store.state().networks.n1).toMatchObject({ state: 'stopped', bridgeCreated: false, inFlight: null, removals: {} });
  });

  it('a batch killed without saying where it stopped: every bridge it was to make that exists goes, all its networks fail', async () => {
    const w = await world(3);
    w.fake.failWhen((req) => (isBatch(req.argv) ? { signal: 'SIGKILL', afterApply: true } : false));
    const res = await startAll(w, 3);
    expect(res.map((r) => r.status?.state ?? 'failed')).toEqual(['failed', 'failed', 'failed']);
    expect(links(w.fake)).not.toMatch(/virbr/);
    for (let i = 0; i < 3; i++) expect(w.store.state().networks[`n${i}`]).toMatchObject({ state: 'stopped', bridgeCreated: false, inFlight: null });
  });

  it('stop of 4 networks: one ip -force -batch deleting the four bridges vnetfw made', async () => {
    const w = await world(4);
    await startAll(w, 4);
    const from = w.fake.calls.length;
    const res = await runNetworkOps(w.env, Array.from({ length: 4 }, (_, i) => ({ name: `n${i}`, event: { type: 'STOP' } as const })));
    expect(res.map((r) => r.status?.state)).toEqual(['stopped', 'stopped', 'stopped', 'stopped']);
    const ip = w.fake.calls.slice(from).filter((c) => c.req.argv[0] === 'ip');
    // One read of the links (which groups are in use), then one batch.
    expect(ip.map((c) => c.req.argv.join(' '))).toEqual(['ip -j link show', 'ip -force -batch -']);
    // The kernel takes ~50 ms per bridge it unregisters: the batch's limit grows with its bridges.
    expect(ip[1]?.req.timeoutMs).toBe(60_000 + 4 * 500);
    // Each bridge down and into one fresh group, then the group deleted in one kernel operation.
    const group = /^link del group (\d+)$/m.exec(ip[1]?.req.stdin ?? '')?.[1];
    expect(Number(group)).toBeGreaterThanOrEqual(2 ** 30);
    expect(ip[1]?.req.stdin).toBe(`${[0, 1, 2, 3].map((i) => `link set dev virbr${i} down\nlink set dev virbr${i} group ${group ?? ''}\n`).join('')}link del group ${group ?? ''}\n`);
    expect(links(w.fake)).not.toMatch(/virbr/);
    for (let i = 0; i < 4; i++) expect(w.store.state().networks[`n${i}`]).toMatchObject({ bridgeCreated: false, inFlight: null });
  });

  it('stop of many: a link that is not ours stays, whatever group it is in', async () => {
    const w = await world(2);
    await startAll(w, 2);
    await w.fake.run({ argv: ['ip', 'link', 'add', 'other0', 'type', 'bridge'] });
    await w.fake.run({ argv: ['ip', 'link', 'set', 'dev', 'other0', 'group', '7'] });
    const res = await runNetworkOps(w.env, Array.from({ length: 2 }, (_, i) => ({ name: `n${i}`, event: { type: 'STOP' } as const })));
    expect(res.map((r) => r.status?.state)).toEqual(['stopped', 'stopped']);
    expect(links(w.fake)).not.toMatch(/virbr/);
    expect(links(w.fake)).toMatch(/other0/);
  });

  it('stop: every bridge already removed by someone: the empty group is not a failure', async () => {
    const w = await world(2);
    await startAll(w, 2);
    for (const b of ['virbr0', 'virbr1']) await w.fake.run({ argv: ['ip', 'link', 'del', 'dev', b] });
    const res = await runNetworkOps(w.env, Array.from({ length: 2 }, (_, i) => ({ name: `n${i}`, event: { type: 'STOP' } as const })));
    expect(res.map((r) => r.status?.state)).toEqual(['stopped', 'stopped']);
    expect(res.map((r) => r.error)).toEqual([undefined, undefined]);
  });

  it('stop of many: the kernel refuses the group deletion: every network of it fails, naming why', async () => {
    const w = await world(2);
    await startAll(w, 2);
    w.fake.failWhen((req) => req.argv.join(' ') === 'ip -force -batch -' && /link del group/.test(req.stdin ?? '')
      && { exitCode: 1, stderr: 'RTNETLINK answers: Operation not permitted\nCommand failed -:5\n' });
    const res = await runNetworkOps(w.env, Array.from({ length: 2 }, (_, i) => ({ name: `n${i}`, event: { type: 'STOP' } as const })));
    expect(res.map((r) => r.error ?? '')).toEqual([expect.stringMatching(/could not delete bridge virbr0: RTNETLINK answers: Operation not permitted/), expect.stringMatching(/could not delete bridge virbr1: RTNETLINK answers: Operation not permitted/)]);
  });

  it('stop: a bridge someone already removed does not keep the others', async () => {
    const w = await world(3);
    await startAll(w, 3);
    await w.fake.run({ argv: ['ip', 'link', 'del', 'dev', 'virbr1'] });
    const res = await runNetworkOps(w.env, Array.from({ length: 3 }, (_, i) => ({ name: `n${i}`, event: { type: 'STOP' } as const })));
    expect(res.map((r) => r.status?.state)).toEqual(['stopped', 'stopped', 'stopped']);
    expect(links(w.fake)).not.toMatch(/virbr/);
  });
});
