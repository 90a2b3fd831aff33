// The daemon listens to `nft monitor` but reacts only to events about its own objects: another
// manager's table changed over and over (a host `inet` table, iptables-nft's filter INPUT: what a
// busy host firewall or Docker does all day) costs no cycle. Counted with the daemon's own metric
// (`vnetfw_daemon_cycles_total`, through its socket) on a real kernel: after the foreign changes, an
// observation window of 2 s (the daemon debounces kernel events for 100 ms and an idle check takes
// well under a second), no cycle; then one change to our own table, and exactly one cycle follows,
// which shows the daemon was listening all along.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  bg, casesDir, cliBuilt, cliPath, inNs, must, netnsSkipReason, nsDelAll, nsNew, run, sleep, vnet, vnetRO, waitFor, waitForValue, writeConf,
} from '../support/index.js';
import { parseExposition, seriesSum } from '../support/prom-text.js';

const skip = netnsSkipReason ?? (cliBuilt ? undefined : 'dist/ is not built (npm test builds it)');
const xml = join(casesDir, 'nat-default.xml');
const WINDOW_MS = 2_000;

const dirs: string[] = [];
afterAll(async () => {
  await nsDelAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const cycles = async (st: string): Promise<number> => {
  const r = await must(vnetRO(st, ['metrics']), 'vnetfw metrics');
  return seriesSum(parseExposition(r.stdout), 'vnetfw_daemon_cycles_total');
};

describe.skipIf(skip !== undefined)(`nft monitor events of other tables${skip === undefined ? '' : ` (skipped: ${skip})`}`, () => {
  it('cost the daemon no cycle; one change to its own table costs exactly one', async () => {
    const ns = await nsNew('monfor');
    const dir = mkdtempSync(join(tmpdir(), 'vnetfw-monfor-'));
    dirs.push(dir);
    const st = join(dir, 'state');
    const conf = writeConf(join(dir, 'network.conf'), 'nftables');
    await must(vnet(ns, st, conf, ['define', xml]), 'define');
    await must(vnet(ns, st, conf, ['start', 'default']), 'start');
    // No periodic check during the test: every cycle is one the kernel's events asked for.
    const daemon = bg(['ip', 'netns', 'exec', ns, process.execPath, cliPath, '--state-dir', st, '--config', conf, 'daemon', '--check-every', '3600']);
    try {
      await waitFor(() => run(['sh', '-c', `test -S ${join(st, 'daemon.sock')}`]), 20_000, 'the daemon');
      // Answered once the daemon's first cycle is done. Each reconcile is followed by one drift
      // check (the monitor, stopped while the daemon reconciles, says it resumed): the count is
      // read once it has stayed the same for a second; from then on the daemon is idle, listening.
      await must(vnet(ns, st, conf, ['reconcile']), 'reconcile through the daemon');
      let last = -1;
      const before = await waitForValue(async () => {
        const n = await cycles(st);
        const same = n === last;
        last = n;
        return same ? n : undefined;
      }, 20_000, 'the cycle count to settle after the reconcile', 1_000);
      expect(await cycles(st), 'asking for the metrics costs no cycle').toBe(before);

      // Someone else's tables, changed 20 times each, one program per change (one event each).
      await must(inNs(ns, ['nft', 'add', 'table', 'inet', 'hostfw']), 'add table');
      await must(inNs(ns, ['nft', 'add', 'chain', 'inet', 'hostfw', 'input', '{ type filter hook input priority 0; policy accept; }']), 'add chain');
      for (let i = 0; i < 20; i++) {
        await must(inNs(ns, ['nft', 'add', 'rule', 'inet', 'hostfw', 'input', 'tcp', 'dport', String(2000 + i), 'accept']), 'add rule');
        await must(inNs(ns, ['iptables', '-w', '-A', 'INPUT', '-s', `10.9.9.${i + 1}`, '-j', 'ACCEPT']), 'iptables -A INPUT');
      }
      await must(inNs(ns, ['nft', 'flush', 'chain', 'inet', 'hostfw', 'input']), 'flush chain');
      await must(inNs(ns, ['iptables', '-w', '-F', 'INPUT']), 'iptables -F INPUT');
      await must(inNs(ns, ['nft', 'delete', 'table', 'inet', 'hostfw']), 'delete table');
      // The observation window (see the top of the file).
      await sleep(WINDOW_MS);
      expect(await cycles(st), `cycles after 44 foreign changes and ${WINDOW_MS} ms`).toBe(before);

      // One change to our own table (a chain added and deleted in one transaction: no drift, so
      // no repair and no echo of one): exactly one cycle.
      await must(inNs(ns, ['nft', '-f', '-'], { input: 'add chain ip libvirt_network probe\ndelete chain ip libvirt_network probe\n' }), 'own change');
      await waitFor(async () => (await cycles(st)) > before, 10_000, 'a cycle after a change to our table');
      await sleep(WINDOW_MS);
      expect(await cycles(st)).toBe(before + 1);
    } finally {
      daemon.kill();
      await daemon.done;
    }
    await must(vnet(ns, st, conf, ['stop', 'default']), 'stop');
  }, 120_000);
});
