// Real kernel: an isolated network stays isolated while its backend is switched. The oracle's
// topology (topo.sh) with the isolated case; unlike topo.sh's default the wan HAS a route back to
// the guests and the host forwards (as tools/oracle/baseline-isolation sets it up), so only the
// firewall stands between the guest and the wan. The guest sends a UDP datagram upstream every
// millisecond while the configured backend is switched six times (nftables <-> iptables, each a
// `vnetfw reconcile`): not one datagram may arrive. A control at the end (our table deleted by
// hand) shows the same datagrams do arrive when nothing filters them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { netnsSkipReason } from './helpers/index.js';
import {
  bg, casesDir, cliBuilt, inNs, IP, must, nsDelAll, oracleDir, run, sleep, statusOf, topoAttach, topoUp, vnet, writeConf, type Backend,
} from '../fixtures/oracle/kernel.js';

const skipReason = netnsSkipReason ?? (cliBuilt ? undefined : 'dist/ is not built (run `npm run build`)');
const canRun = skipReason === undefined;
const UDP = join(oracleDir, 'udp_count.py');

describe.skipIf(!canRun)(`isolated network under six live switches${canRun ? '' : ` (skipped: ${skipReason ?? ''})`}`, () => {
  const tmp = canRun ? mkdtempSync(join(tmpdir(), 'vnetfw-isolation-')) : '';
  afterAll(async () => {
    await nsDelAll();
    if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
  });

  it('six switches nftables <-> iptables: not one datagram leaks', async () => {
    const t = await topoUp('vsi');
    const stateDir = join(tmp, 'state');
    const conf = join(tmp, 'network.conf');
    const cli = (args: string[]): ReturnType<typeof vnet> => vnet(t.H, stateDir, conf, args);
    writeConf(conf, 'nftables');
    await must(cli(['define', join(casesDir, 'isolated.xml')]), 'define');
    await must(cli(['start', 'default']), 'start');
    await topoAttach(t, 'virbr0');
    await must(inNs(t.H, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']), 'forwarding on');
    await must(run([IP, '-n', t.W, 'route', 'add', '192.168.122.0/24', 'via', '10.200.0.1']), 'route back');

    // How long one reconcile takes here, to size the listener's window (it counts for a fixed time).
    const probe = await must(cli(['reconcile']), 'reconcile (converged)');
    const windowS = Math.ceil(2 + 6 * (3 * probe.ms + 400) / 1000);
    const listener = bg(['ip', 'netns', 'exec', t.W, 'python3', UDP, 'listen', '9000', String(windowS)]);
    const listenStart = performance.now();
    await sleep(300);
    const stop = join(tmp, 'stop');
    const sender = bg(['ip', 'netns', 'exec', t.G, 'python3', UDP, 'send', '10.200.0.2', '9000', stop]);
    await sleep(300);
    const switchMs: number[] = [];
    let backend: Backend = 'nftables';
    for (let i = 0; i < 6; i++) {
      backend = backend === 'nftables' ? 'iptables' : 'nftables';
      writeConf(conf, backend);
      const r = await must(cli(['reconcile']), `switch ${i + 1} to ${backend}`);
      switchMs.push(Math.round(r.ms));
      const st = await statusOf(stateDir, 'default');
      expect([st.state, st.backend, st.backends]).toEqual(['active', backend, [backend]]);
      await sleep(300);
    }
    writeFileSync(stop, '');
    const sent = Number((await sender.done).stdout.trim());
    const stoppedAt = (performance.now() - listenStart) / 1000;
    const arrived = Number((await listener.done).stdout.trim());

    // Control: with our table gone (the private iptables chains hold no rule of the network),
    // the same datagrams do reach the wan.
    await must(inNs(t.H, ['nft', 'delete', 'table', 'ip', 'libvirt_network']), 'control: delete our table');
    const ctlListener = bg(['ip', 'netns', 'exec', t.W, 'python3', UDP, 'listen', '9000', '2']);
    await sleep(300);
    const stop2 = join(tmp, 'stop2');
    const ctlSender = bg(['ip', 'netns', 'exec', t.G, 'python3', UDP, 'send', '10.200.0.2', '9000', stop2]);
    await sleep(1000);
    writeFileSync(stop2, '');
    const ctlSent = Number((await ctlSender.done).stdout.trim());
    const ctlArrived = Number((await ctlListener.done).stdout.trim());

    console.log(`isolation: 6 switches (reconcile runs: ${switchMs.join(', ')} ms); guest sent=${sent} datagrams, leaked=${arrived}; `
      + `control without rules: sent=${ctlSent} arrived=${ctlArrived}`);
    expect(stoppedAt, `the sender outlived the listener's ${windowS} s window`).toBeLessThan(windowS - 0.2);
    expect(sent).toBeGreaterThan(0);
    expect(arrived, 'datagrams leaked to the wan').toBe(0);
    expect(ctlSent).toBeGreaterThan(0);
    expect(ctlArrived).toBeGreaterThan(0);
  });
});
