// Real kernel: a live backend switch does not disturb the guests. The oracle's topology (topo.sh):
// a guest namespace behind the network's bridge, the host namespace where vnetfw runs, and a wan
// namespace upstream with no route back to the guests (only masqueraded traffic is answered).
// nat-default is started on nftables; the guest keeps one TCP session to the wan's echo server and
// pings the wan every 10 ms while the configured backend goes nftables -> iptables -> nftables,
// each time followed by `vnetfw reconcile`. Not one ping may be lost, the session must never
// break, and afterwards a new connection must reach the wan masqueraded (the wan sees 10.200.0.1).
// The same for a change of firewall_layout: libvirt's layout -> indexed -> libvirt's.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  bg, casesDir, cliBuilt, inNs, logRecords, must, netnsSkipReason, nsDelAll, opDurations, oracleDir, statusOf, topoAttach, topoUp,
  vnet, waitFor, writeConf, type Backend,
} from '../support/index.js';

const skipReason = netnsSkipReason ?? (cliBuilt ? undefined : 'dist/ is not built (run `npm run build`)');
const canRun = skipReason === undefined;
const PING_COUNT = 800;   // every 10 ms: about 8 s, long enough to cover both switches

describe.skipIf(!canRun)(`live switch with guest traffic${canRun ? '' : ` (skipped: ${skipReason ?? ''})`}`, () => {
  const tmp = canRun ? mkdtempSync(join(tmpdir(), 'vnetfw-traffic-')) : '';
  afterAll(async () => {
    await nsDelAll();
    if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
  });

  // Each step: the configuration written, and the backend status must then show.
  type Step = { conf: Backend | 'indexed'; want: string };
  const write = (file: string, c: Backend | 'indexed'): string =>
    (c === 'indexed' ? writeConf(file, 'nftables', 'firewall_layout = "indexed"\n') : writeConf(file, c));

  const underTraffic = async (tag: string, steps: readonly Step[]): Promise<void> => {
    const t = await topoUp(tag);
    const stateDir = join(tmp, tag, 'state');
    const conf = join(tmp, `${tag}.conf`);
    const cli = (args: string[]): ReturnType<typeof vnet> => vnet(t.H, stateDir, conf, args);
    writeConf(conf, 'nftables');
    await must(cli(['define', join(casesDir, 'nat-default.xml')]), 'define');
    await must(cli(['start', 'default']), 'start');
    await topoAttach(t, 'virbr0');

    const peers = join(tmp, `${tag}-peers`);
    const echoes = join(tmp, `${tag}-echoes`);
    writeFileSync(peers, '');
    writeFileSync(echoes, '');
    // Messages the wan echoed so far (both sessions): the test waits on traffic, never sleeps.
    const echoed = (): number => statSync(echoes).size;
    const echoedMore = (n: number, what: string): Promise<number> => { const from = echoed(); return waitFor(() => echoed() >= from + n, 15_000, what, 20); };
    const server = bg(['ip', 'netns', 'exec', t.W, 'python3', join(oracleDir, 'echo_server.py'), '7000', peers, echoes]);
    try {
      await waitFor(() => inNs(t.W, ['sh', '-c', 'ss -Hltn | grep -q ":7000 "']), 10_000, 'the echo server');
      // The path works (and is masqueraded: the wan has no route back to the guest). The bridge
      // has STP on: its new port forwards after the kernel's forward delay.
      await waitFor(() => inNs(t.G, ['ping', '-c', '1', '-W', '1', '10.200.0.2']), 15_000, 'the guest to reach the wan');
      await must(inNs(t.G, ['ping', '-c', '3', '-i', '0.2', '-W', '2', '10.200.0.2']), 'warm-up ping');

      const stop = join(tmp, `${tag}-stop`);
      const client = bg(['ip', 'netns', 'exec', t.G, 'python3', join(oracleDir, 'echo_client.py'), '10.200.0.2', '7000', stop]);
      const ping = bg(['ip', 'netns', 'exec', t.G, 'ping', '-q', '-c', String(PING_COUNT), '-i', '0.01', '10.200.0.2']);
      // The session is up and has carried 60 messages (~0.6 s) before the first switch.
      await echoedMore(60, 'the TCP session to carry traffic');

      const switches: Array<{ to: string; cliMs: number }> = [];
      for (const step of steps) {
        write(conf, step.conf);
        const r = await must(cli(['reconcile']), `reconcile to ${step.want}`);
        switches.push({ to: step.want, cliMs: Math.round(r.ms) });
        const st = await statusOf(stateDir, 'default');
        expect([st.state, st.backend, st.backends]).toEqual(['active', step.want, [step.want]]);
        // The session goes on over the new rules: 25 more messages echoed.
        await echoedMore(25, `the TCP session to carry traffic after the switch to ${step.want}`);
      }
      const pingCoveredSwitches = ping.running();
      const p = await ping.done;
      writeFileSync(stop, '');
      const c = await client.done;

      // A new connection after the switches: masqueraded, so the wan answers it.
      const stop2 = join(tmp, `${tag}-stop2`);
      const client2 = bg(['ip', 'netns', 'exec', t.G, 'python3', join(oracleDir, 'echo_client.py'), '10.200.0.2', '7000', stop2]);
      const peerLines = (): string[] => readFileSync(peers, 'utf8').trim().split('\n');
      const before2 = echoed();
      await waitFor(() => !client2.running() || (peerLines().length >= 2 && echoed() >= before2 + 10), 15_000, 'the new connection to carry traffic', 20);
      writeFileSync(stop2, '');
      const c2 = await client2.done;

      const m = /(\d+) packets transmitted, (\d+) received/.exec(p.stdout);
      const sent = Number(m?.[1] ?? NaN);
      const received = Number(m?.[2] ?? NaN);
      const tcp = /sent=(\d+) echoed=(\d+) broke=(.*)/.exec(c.stdout);
      const tcp2 = /sent=(\d+) echoed=(\d+) broke=(.*)/.exec(c2.stdout);
      const opMs = opDurations(await logRecords(stateDir), 'switch');
      console.log(`switch-traffic ${tag}: switches ${switches.map((s, i) => `->${s.to} ${s.cliMs} ms (reconcile run), ${opMs[i]?.ms ?? '?'} ms (operation in the log)`).join('; ')}`);
      console.log(`switch-traffic ${tag}: ping sent=${sent} received=${received} lost=${sent - received}; tcp session: ${c.stdout.trim()}; new connection: ${c2.stdout.trim()}; wan saw peers [${readFileSync(peers, 'utf8').trim().split('\n').join(', ')}]`);

      expect(pingCoveredSwitches, 'the pinger finished before both switches were done (machine too slow?)').toBe(true);
      expect(m, p.stdout + p.stderr).not.toBeNull();
      expect(sent).toBe(PING_COUNT);
      expect(sent - received, 'pings lost').toBe(0);
      expect(tcp, c.stdout + c.stderr).not.toBeNull();
      expect(tcp?.[3], 'the TCP session broke').toBe('no');
      expect(Number(tcp?.[2])).toBe(Number(tcp?.[1]));
      expect(Number(tcp?.[1])).toBeGreaterThan(100);
      expect(opMs.map((o) => o.outcome)).toEqual(steps.map(() => 'committed'));
      expect(tcp2, c2.stdout + c2.stderr).not.toBeNull();
      expect(tcp2?.[3]).toBe('no');
      expect(Number(tcp2?.[2])).toBeGreaterThan(0);
      // Two connections reached the wan, both from the host's wan address.
      expect(readFileSync(peers, 'utf8').trim().split('\n')).toEqual(['10.200.0.1', '10.200.0.1']);
    } finally {
      server.kill();
      await server.done;
    }
  };

  it('nftables -> iptables -> nftables: no ping lost, TCP session kept, new connections masqueraded', async () => {
    await underTraffic('vst', [{ conf: 'iptables', want: 'iptables' }, { conf: 'nftables', want: 'nftables' }]);
  });

  it('firewall_layout libvirt -> indexed -> libvirt: no ping lost, TCP session kept, new connections masqueraded', async () => {
    await underTraffic('vsl', [{ conf: 'indexed', want: 'nftables-indexed' }, { conf: 'nftables', want: 'nftables' }]);
  });
});
