// Drift on a real kernel: someone flushes one of our chains. `verify` reports it (exit 3) and
// `verify --repair` puts back exactly libvirt's ruleset; with the daemon running it is repaired
// unasked within 5 s. Also: the daemon reconciles a changed network.conf, answers `reconcile`
// through its socket, leaves networks up on SIGTERM, and a restart changes nothing.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BACKENDS, canon, casesDir, cliBuilt, cliPath, inNs, mentions, nsDelAll, nsNew, reference, statusOf, vnet, vnetRO, writeConf,
  type Backend, type Reference,
} from '../fixtures/oracle/kernel.js';
import { netnsSkipReason } from './helpers/index.js';

const skip = netnsSkipReason ?? (cliBuilt ? undefined : 'dist/ is not built (npm test builds it)');
const xml = join(casesDir, 'nat-default.xml');
const FLUSH: Record<Backend, string[]> = {
  nftables: ['nft', 'flush', 'chain', 'ip', 'libvirt_network', 'guest_output'],
  iptables: ['iptables', '-w', '-F', 'LIBVIRT_FWO'],
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skip !== undefined)(`drift and the daemon${skip === undefined ? '' : ` (skipped: ${skip})`}`, () => {
  let ref: Reference;
  beforeAll(async () => { ref = await reference('nat-default'); }, 120_000);
  afterAll(async () => { await nsDelAll(); });

  for (const be of BACKENDS) {
    it(`${be}: a flushed chain is reported by verify (exit 3) and repaired to libvirt's ruleset`, async () => {
      const ns = await nsNew('drift');
      const dir = mkdtempSync(join(tmpdir(), 'vnetfw-drift-'));
      const st = join(dir, 'state');
      const conf = writeConf(join(dir, 'network.conf'), be);
      expect((await vnet(ns, st, conf, ['define', xml])).code).toBe(0);
      expect((await vnet(ns, st, conf, ['start', 'default'])).code).toBe(0);
      expect((await vnet(ns, st, conf, ['verify'])).code).toBe(0);
      expect(await canon(ns, be)).toBe(ref.full[be]);

      expect((await inNs(ns, FLUSH[be])).code).toBe(0);
      const found = await vnet(ns, st, conf, ['verify']);
      expect(found.code).toBe(3);
      expect(found.stdout).toMatch(/default \((nftables|iptables)\): 2 missing/);
      const logged = await vnetRO(st, ['--json', 'log', '--type', 'drift.found']);
      expect(logged.stdout.trim().split('\n').length).toBeGreaterThan(0);

      const repaired = await vnet(ns, st, conf, ['verify', '--repair']);
      expect(repaired.code).toBe(0);
      expect(repaired.stdout).toContain('default: repaired');
      expect(await canon(ns, be)).toBe(ref.full[be]);
      expect((await vnet(ns, st, conf, ['verify'])).code).toBe(0);
      expect((await vnetRO(st, ['--json', 'log', '--type', 'drift.repaired'])).stdout).toContain('"drift.repaired"');
      expect((await vnetRO(st, ['log', 'verify'])).code).toBe(0);
    });
  }

  it('the daemon repairs a flushed chain within 5 s, follows network.conf, serves reconcile, and leaves networks up on SIGTERM', async () => {
    const ns = await nsNew('daemon');
    const dir = mkdtempSync(join(tmpdir(), 'vnetfw-daemon-'));
    const st = join(dir, 'state');
    const conf = writeConf(join(dir, 'network.conf'), 'nftables');
    expect((await vnet(ns, st, conf, ['define', xml])).code).toBe(0);
    expect((await vnet(ns, st, conf, ['start', 'default'])).code).toBe(0);
    const daemon = spawn('ip', ['netns', 'exec', ns, process.execPath, cliPath, '--state-dir', st, '--config', conf, 'daemon', '--check-every', '60'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let said = '';
    daemon.stdout.on('data', (c: Buffer) => { said += c.toString(); });
    daemon.stderr.on('data', (c: Buffer) => { said += c.toString(); });
    const exited = new Promise<number | null>((r) => daemon.on('exit', (code) => r(code)));
    try {
      // Wait until it serves its socket (its start-up reconcile is done then).
      for (let i = 0; i < 50 && !said.includes('vnetfw daemon:'); i++) await sleep(100);
      await sleep(1500);
      const waitUntilInSync = async (be: Backend, limitMs: number): Promise<number> => {
        const t0 = Date.now();
        while (Date.now() - t0 < limitMs) {
          if (await canon(ns, be) === ref.full[be]) return Date.now() - t0;
          await sleep(100);
        }
        return -1;
      };
      // 1. drift on nftables, repaired unasked
      expect((await inNs(ns, FLUSH.nftables)).code).toBe(0);
      expect(await canon(ns, 'nftables')).not.toBe(ref.full.nftables);
      const nftMs = await waitUntilInSync('nftables', 5000);
      console.log(`daemon repaired a flushed nftables chain after ${nftMs} ms`);
      expect(nftMs).toBeGreaterThanOrEqual(0);

      // 2. network.conf changes: the daemon switches the network by itself
      writeConf(conf, 'iptables');
      const swMs = await waitUntilInSync('iptables', 10_000);
      expect(swMs).toBeGreaterThanOrEqual(0);
      expect(mentions(await canon(ns, 'nftables'), 'virbr0')).toEqual([]);
      expect(await statusOf(st, 'default')).toMatchObject({ state: 'active', backend: 'iptables' });

      // 3. drift on iptables, repaired unasked
      await sleep(500);
      expect((await inNs(ns, FLUSH.iptables)).code).toBe(0);
      const iptMs = await waitUntilInSync('iptables', 5000);
      console.log(`daemon repaired a flushed iptables chain after ${iptMs} ms`);
      expect(iptMs).toBeGreaterThanOrEqual(0);

      // 4. the CLI's reconcile goes through the daemon and finds nothing to do
      const rc = await vnet(ns, st, conf, ['--json', 'reconcile']);
      expect(rc.code).toBe(0);
      expect(JSON.parse(rc.stdout)).toMatchObject({ actions: [], recovered: [] });
    } finally {
      daemon.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(said).toContain('SIGTERM, exiting (networks stay up)');
    expect(await canon(ns, 'iptables')).toBe(ref.full.iptables);
    expect(await statusOf(st, 'default')).toMatchObject({ state: 'active', backend: 'iptables' });

    // A restarted daemon on a converged host changes nothing: no new operation in the log.
    const before = (await vnetRO(st, ['--json', 'log', '--type', 'operation.started'])).stdout.trim().split('\n').length;
    const again = spawn('ip', ['netns', 'exec', ns, process.execPath, cliPath, '--state-dir', st, '--config', conf, 'daemon', '--no-monitor'], { stdio: 'ignore' });
    const againExit = new Promise<number | null>((r) => again.on('exit', (code) => r(code)));
    await sleep(2500);
    again.kill('SIGTERM');
    expect(await againExit).toBe(0);
    const after = (await vnetRO(st, ['--json', 'log', '--type', 'operation.started'])).stdout.trim().split('\n').length;
    expect(after).toBe(before);
    expect(await canon(ns, 'iptables')).toBe(ref.full.iptables);
  });
});
