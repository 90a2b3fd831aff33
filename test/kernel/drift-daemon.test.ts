// Drift on a real kernel: someone flushes one of our chains. `verify` reports it (exit 3) and
// `verify --repair` puts back exactly libvirt's ruleset; `reconcile` alone does the same. With the
// daemon running it is found within 5 s and repaired unasked, also right after the daemon's own
// switch and while network.conf is invalid. Also: the daemon reconciles a changed network.conf, answers
// `reconcile` through its socket, leaves networks up on SIGTERM, and a restart changes nothing.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BACKENDS, canon, casesDir, cliBuilt, field, inNs, logRecords, mentions, netnsSkipReason, nsDelAll, nsNew, reference, waitFor,
  statusOf, vnet, vnetBg, vnetRO, writeConf, type Backend, type Reference,
} from '../support/index.js';

const skip = netnsSkipReason ?? (cliBuilt ? undefined : 'dist/ is not built (npm test builds it)');
const xml = join(casesDir, 'nat-default.xml');
const FLUSH: Record<Backend, string[]> = {
  nftables: ['nft', 'flush', 'chain', 'ip', 'libvirt_network', 'guest_output'],
  iptables: ['iptables', '-w', '-F', 'LIBVIRT_FWO'],
};

// Polls `cond` until it holds; returns how long that took, or throws after `ms`. Ruleset dumps
// (several processes each) are polled less often than strings, not to slow down what they wait for.
const within = (ms: number, what: string, cond: () => Promise<boolean> | boolean, everyMs = 50): Promise<number> => waitFor(cond, ms, what, everyMs);

// The log as written (flat JSONL records), read straight from its files: polling it costs
// milliseconds, so the test can act right after a record appears.
const readLog = (st: string): Array<Record<string, unknown>> => {
  const dir = join(st, 'log');
  return readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort()
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l.startsWith('{') && l.endsWith('}')))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
};

interface Daemon { out: () => string; err: () => string; exited: Promise<number | null>; kill: () => void }
const startDaemon = (ns: string, st: string, conf: string, extra: readonly string[]): Daemon => {
  const d = vnetBg(ns, st, conf, ['daemon', ...extra]);
  return { out: d.out, err: d.err, exited: d.done.then((r) => r.code), kill: () => d.kill() };
};

describe.skipIf(skip !== undefined)(`drift and the daemon${skip === undefined ? '' : ` (skipped: ${skip})`}`, () => {
  let ref: Reference;
  const dirs: string[] = [];
  const tmp = (tag: string): string => { const d = mkdtempSync(join(tmpdir(), `vnetfw-${tag}-`)); dirs.push(d); return d; };
  beforeAll(async () => { ref = await reference('nat-default'); }, 120_000);
  // nat-default defined and started on `be` in a fresh namespace and state directory.
  const started = async (tag: string, be: Backend): Promise<{ ns: string; st: string; conf: string }> => {
    const ns = await nsNew(tag);
    const dir = tmp(tag);
    const st = join(dir, 'state');
    const conf = writeConf(join(dir, 'network.conf'), be);
    expect((await vnet(ns, st, conf, ['define', xml])).code).toBe(0);
    expect((await vnet(ns, st, conf, ['start', 'default'])).code).toBe(0);
    return { ns, st, conf };
  };
  afterAll(async () => {
    await nsDelAll();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  for (const be of BACKENDS) {
    it(`${be}: a flushed chain is reported by verify (exit 3) and repaired to libvirt's ruleset, by verify --repair and by reconcile`, async () => {
      const { ns, st, conf } = await started('drift', be);
      expect((await vnet(ns, st, conf, ['verify'])).code).toBe(0);
      expect(await canon(ns, be)).toBe(ref.full[be]);

      expect((await inNs(ns, FLUSH[be])).code).toBe(0);
      const found = await vnet(ns, st, conf, ['verify']);
      expect(found.code).toBe(3);
      expect(found.stdout).toMatch(/default \((nftables|iptables)\): 2 missing/);
      const logged = (await logRecords(st)).filter((r) => r.type === 'drift.found');
      expect(logged).toHaveLength(1);
      expect(logged[0]?.network).toBe('default');
      expect(field(logged[0] ?? { seq: 0, time: '', type: '', data: {} }, 'missing')).toHaveLength(2);

      const repaired = await vnet(ns, st, conf, ['verify', '--repair']);
      expect(repaired.code).toBe(0);
      expect(repaired.stdout).toContain('default: repaired');
      expect(await canon(ns, be)).toBe(ref.full[be]);
      expect((await vnet(ns, st, conf, ['verify'])).code).toBe(0);
      expect((await logRecords(st)).filter((r) => r.type === 'drift.repaired').map((r) => r.network)).toEqual(['default']);

      // After any incident one reconcile converges: it checks the kernel too, and repairs.
      expect((await inNs(ns, FLUSH[be])).code).toBe(0);
      const rc = await vnet(ns, st, conf, ['reconcile']);
      expect(rc.code).toBe(0);
      expect(rc.stdout).toContain(`default: drift on ${be}: 2 missing, 0 foreign`);
      expect(rc.stdout).toContain('default: repaired drift (2 missing, 0 foreign)');
      expect(await canon(ns, be)).toBe(ref.full[be]);
      expect((await logRecords(st)).filter((r) => r.type === 'drift.repaired')).toHaveLength(2);
      const again = await vnet(ns, st, conf, ['reconcile']);
      expect(again.stdout).toBe('converged: nothing to do\n');
      expect((await vnetRO(st, ['log', 'verify'])).code).toBe(0);
    });
  }

  // The private set-up the rules hang from: a jump gone (as after someone's `iptables -D` or a
  // flush of FORWARD) leaves every rule in place and lets no packet reach them.
  const dropJump = async (ns: string, be: Backend): Promise<void> => {
    if (be === 'iptables') { expect((await inNs(ns, ['iptables', '-w', '-D', 'FORWARD', '-j', 'LIBVIRT_FWI'])).code).toBe(0); return; }
    const chain = (await inNs(ns, ['nft', '-a', 'list', 'chain', 'ip', 'libvirt_network', 'forward'])).stdout;
    const handle = /jump guest_input # handle (\d+)/.exec(chain)?.[1];
    expect(handle, chain).toBeDefined();
    expect((await inNs(ns, ['nft', 'delete', 'rule', 'ip', 'libvirt_network', 'forward', 'handle', handle ?? ''])).code).toBe(0);
  };
  for (const be of BACKENDS) {
    it(`${be}: a jump of the private set-up removed is reported by verify (exit 3) and put back in libvirt's order, by verify --repair and by reconcile`, async () => {
      const { ns, st, conf } = await started('setup', be);
      expect(await canon(ns, be)).toBe(ref.full[be]);

      await dropJump(ns, be);
      const found = await vnet(ns, st, conf, ['verify']);
      expect(found.code, found.stdout).toBe(3);
      const jump = be === 'iptables' ? 'iptables --table filter --insert FORWARD --jump LIBVIRT_FWI' : 'nft insert rule ip libvirt_network forward counter jump guest_input';
      expect(found.stdout).toContain(jump);
      const repaired = await vnet(ns, st, conf, ['verify', '--repair']);
      expect(repaired.code, repaired.stdout + repaired.stderr).toBe(0);
      // The jumps in libvirt's order again (guest <-> guest accepted before what goes out to the
      // bridge is rejected), the rules untouched.
      expect(await canon(ns, be)).toBe(ref.full[be]);
      expect((await vnet(ns, st, conf, ['verify'])).code).toBe(0);

      await dropJump(ns, be);
      const rc = await vnet(ns, st, conf, ['reconcile']);
      expect(rc.code, rc.stdout + rc.stderr).toBe(0);
      expect(rc.stdout).toContain('default: repaired drift');
      expect(await canon(ns, be)).toBe(ref.full[be]);
      expect((await vnet(ns, st, conf, ['reconcile'])).stdout).toBe('converged: nothing to do\n');
      expect((await vnetRO(st, ['log', 'verify'])).code).toBe(0);
    });
  }

  it('nftables: the ip6 table of the private set-up deleted, on a network without IPv6 rules, is reported by verify (exit 3) and put back', async () => {
    const { ns, st, conf } = await started('setup6', 'nftables');
    expect(await canon(ns, 'nftables')).toBe(ref.full.nftables);
    // nat-default has no IPv6 address: none of its rules is in the ip6 table, only libvirt's set-up.
    expect((await inNs(ns, ['nft', 'delete', 'table', 'ip6', 'libvirt_network'])).code).toBe(0);
    const found = await vnet(ns, st, conf, ['verify']);
    expect(found.code, found.stdout + found.stderr).toBe(3);
    expect(found.stdout).toContain('nft add table ip6 libvirt_network');
    const repaired = await vnet(ns, st, conf, ['verify', '--repair']);
    expect(repaired.code, repaired.stdout + repaired.stderr).toBe(0);
    expect(await canon(ns, 'nftables')).toBe(ref.full.nftables);
    expect((await vnet(ns, st, conf, ['verify'])).code).toBe(0);
  });

  it('the daemon finds drift within 5 s and repairs it (also right after its own switch, and with a broken network.conf), follows network.conf, serves reconcile, leaves networks up on SIGTERM', async () => {
    const { ns, st, conf } = await started('daemon', 'nftables');
    // The periodic check is set far beyond every deadline below: only events can meet them.
    const d = startDaemon(ns, st, conf, ['--check-every', '600']);
    const inSync = (be: Backend) => async (): Promise<boolean> => await canon(ns, be) === ref.full[be];
    // The daemon finds drift within 5 s (a new drift.found record naming the network) and repairs
    // it to libvirt's exact ruleset; the repair itself gets a looser deadline on a busy machine.
    const flushAndExpectRepair = async (be: Backend, what: string): Promise<void> => {
      const found = (): number => readLog(st).filter((r) => r.type === 'drift.found' && r.network === 'default').length;
      const before = found();
      const t0 = Date.now();
      expect((await inNs(ns, FLUSH[be])).code).toBe(0);
      // (the drift.found record is the proof the flush did remove something of ours)
      await within(5000 - (Date.now() - t0), `drift found after ${what}`, () => found() > before);
      const foundMs = Date.now() - t0;
      await within(15_000, `${be} repaired after ${what}`, inSync(be), 250);
      console.log(`${what}: drift found ${foundMs} ms after the flush, repaired after ${Date.now() - t0} ms`);
    };
    try {
      await within(15_000, 'the daemon is ready', () => d.out().includes('ready: watching'));

      // 1. drift on nftables, found within 5 s and repaired unasked
      await flushAndExpectRepair('nftables', 'a flushed nftables chain');

      // 2. network.conf changes: the daemon switches the network by itself. A foreign flush right
      // after the daemon's own work (its switch and the check that follows it, read from the log
      // file as it is written) is repaired too, not lost in the daemon's own echo.
      writeConf(conf, 'iptables');
      await within(10_000, 'the daemon switched and checked the kernel after', () => {
        const recs = readLog(st);
        const done = recs.findIndex((r) => r.type === 'operation.committed' && r.backend === 'iptables');
        return done >= 0 && recs.slice(done).some((r) => r.type === 'command.finished' && Array.isArray(r.argv) && r.argv[0] === 'ip6tables-save');
      });
      await flushAndExpectRepair('iptables', 'a flush right after the switch');
      expect(mentions(await canon(ns, 'nftables'), 'virbr0')).toEqual([]);
      expect(await statusOf(st, 'default')).toMatchObject({ state: 'active', backend: 'iptables' });

      // 3. network.conf turns invalid: reported on stderr and in the log, drift still repaired
      writeFileSync(conf, 'firewall_backend = "bogus"\n');
      await within(5000, 'the daemon reports the bad file', () => d.err().includes(`${conf}: firewall_backend 'bogus' is invalid`));
      await within(5000, 'config.invalid in the log', () => readLog(st).some((r) => r.type === 'config.invalid' && r.path === conf));
      await flushAndExpectRepair('iptables', 'a flush with a bad network.conf');
      const bad = await vnet(ns, st, conf, ['reconcile']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain(`${conf}: firewall_backend 'bogus' is invalid`);
      expect(await statusOf(st, 'default')).toMatchObject({ state: 'active', backend: 'iptables' });
      writeConf(conf, 'iptables');
      await within(5000, 'the daemon sees the file fixed', () => d.err().includes(`${conf} is valid again`));

      // 4. the CLI's reconcile goes through the daemon and finds nothing to do
      const rc = await vnet(ns, st, conf, ['--json', 'reconcile']);
      expect(rc.code).toBe(0);
      expect(JSON.parse(rc.stdout)).toMatchObject({ actions: [], recovered: [], drift: [] });
      expect((await logRecords(st)).some((r) => r.type === 'config.restored')).toBe(true);
    } finally {
      d.kill();
    }
    expect(await d.exited).toBe(0);
    expect(d.err()).toContain('SIGTERM, exiting (networks stay up)');
    expect(await canon(ns, 'iptables')).toBe(ref.full.iptables);
    expect(await statusOf(st, 'default')).toMatchObject({ state: 'active', backend: 'iptables' });

    // A restarted daemon on a converged host changes nothing: no new operation in the log.
    const ops = async (): Promise<number> => (await logRecords(st)).filter((r) => r.type === 'operation.started').length;
    const before = await ops();
    const again = startDaemon(ns, st, conf, ['--no-monitor']);
    try {
      await within(15_000, 'the restarted daemon is ready', () => again.out().includes('ready: watching'));
    } finally {
      again.kill();
    }
    expect(await again.exited).toBe(0);
    expect(await ops()).toBe(before);
    expect(await canon(ns, 'iptables')).toBe(ref.full.iptables);
  });
});
