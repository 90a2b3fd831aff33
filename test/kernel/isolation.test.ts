// Real kernel: an isolated network stays isolated while its backend is switched. The oracle's
// topology (topo.sh) with the isolated case; unlike topo.sh's default the wan HAS a route back to
// the guests and the host forwards (as tools/oracle/baseline-isolation sets it up), so only the
// firewall stands between the guest and the wan. The guest sends a UDP datagram upstream every
// millisecond while the configured backend is switched six times (nftables <-> iptables, each a
// `vnetfw reconcile`): not one datagram may arrive. A control at the end (our table deleted by
// hand) shows the same datagrams do arrive when nothing filters them.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  bg, casesDir, cliBuilt, inNs, IP, must, netnsSkipReason, nsDelAll, oracleDir, run, statusOf, topoAttach, topoUp, vnet, waitFor, writeConf,
  type Backend,
} from '../support/index.js';

const skipReason = netnsSkipReason ?? (cliBuilt ? undefined : 'dist/ is not built (run `npm run build`)');
const canRun = skipReason === undefined;
const UDP = join(oracleDir, 'udp_count.py');

const fileAppears = async (file: string, what: string, ms = 10_000): Promise<void> => { await waitFor(() => existsSync(file), ms, what, 20); };

// The listener counts from when it is bound until told to stop; no window sized in advance.
const startListener = (tmp: string, ns: string, tag: string) => {
  const stop = join(tmp, `listen-${tag}.stop`);
  const ready = join(tmp, `listen-${tag}.ready`);
  const p = bg(['ip', 'netns', 'exec', ns, 'python3', UDP, 'listen', '9000', stop, ready]);
  return {
    ready: (): Promise<void> => fileAppears(ready, `the ${tag} listener`),
    // Control only: waits (with a deadline) until the first datagram arrived.
    received: (): Promise<void> => fileAppears(`${ready}.got`, `a datagram at the ${tag} listener`),
    stop: async (): Promise<number> => { writeFileSync(stop, ''); return Number((await p.done).stdout.trim()); },
  };
};

const startSender = (tmp: string, ns: string, tag: string) => {
  const stop = join(tmp, `send-${tag}.stop`);
  const ready = join(tmp, `send-${tag}.ready`);
  const p = bg(['ip', 'netns', 'exec', ns, 'python3', UDP, 'send', '10.200.0.2', '9000', stop, ready]);
  return {
    ready: (): Promise<void> => fileAppears(ready, `the ${tag} sender`),
    stop: async (): Promise<number> => { writeFileSync(stop, ''); return Number((await p.done).stdout.trim()); },
  };
};

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

    await must(cli(['reconcile']), 'reconcile (converged)');
    const listener = startListener(tmp, t.W, 'main');
    await listener.ready();
    const sender = startSender(tmp, t.G, 'main');
    await sender.ready();
    const switchMs: number[] = [];
    let backend: Backend = 'nftables';
    for (let i = 0; i < 6; i++) {
      backend = backend === 'nftables' ? 'iptables' : 'nftables';
      writeConf(conf, backend);
      const r = await must(cli(['reconcile']), `switch ${i + 1} to ${backend}`);
      switchMs.push(Math.round(r.ms));
      const st = await statusOf(stateDir, 'default');
      expect([st.state, st.backend, st.backends]).toEqual(['active', backend, [backend]]);
    }
    const sent = await sender.stop();
    const arrived = await listener.stop();

    // Control: with our table gone (the private iptables chains hold no rule of the network),
    // the same datagrams do reach the wan.
    await must(inNs(t.H, ['nft', 'delete', 'table', 'ip', 'libvirt_network']), 'control: delete our table');
    const ctlListener = startListener(tmp, t.W, 'control');
    await ctlListener.ready();
    const ctlSender = startSender(tmp, t.G, 'control');
    await ctlSender.ready();
    await ctlListener.received();
    const ctlSent = await ctlSender.stop();
    const ctlArrived = await ctlListener.stop();

    console.log(`isolation: 6 switches (reconcile runs: ${switchMs.join(', ')} ms); guest sent=${sent} datagrams, leaked=${arrived}; `
      + `control without rules: sent=${ctlSent} arrived=${ctlArrived}`);
    expect(sent).toBeGreaterThan(0);
    expect(arrived, 'datagrams leaked to the wan').toBe(0);
    expect(ctlSent).toBeGreaterThan(0);
    expect(ctlArrived).toBeGreaterThan(0);
  });
});
