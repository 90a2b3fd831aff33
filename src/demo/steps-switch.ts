// Step 3: live switches nftables → iptables → nftables under traffic. The guest pings the wan
// every 10 ms and keeps its TCP session; the numbers are shown while the switches happen.
import { sleep } from './proc.js';
import type { StepOutcome } from './steps-network.js';
import { Pinger, type TcpSession } from './traffic.js';
import { WAN_IP } from './topology.js';
import type { World } from './world.js';

const QUIET_MS = 400; // traffic before, between and after the switches, so each has a baseline

export const liveSwitch = async (w: World, session: TcpSession): Promise<StepOutcome> => {
  const pinger = new Pinger(w.t.G, WAN_IP);
  const show = (): void => {
    const p = pinger.stats();
    const t = session.stats();
    w.say.live(`pings sent ${p.sent}, lost ${p.lost} · tcp lines echoed ${t.echoed}, session ${session.alive ? 'alive' : 'BROKEN'}`);
  };
  const ticker = setInterval(show, 100);
  let allOk = true;
  try {
    await sleep(QUIET_MS);
    for (const to of ['iptables', 'nftables'] as const) {
      w.setBackend(to);
      const r = await w.cli(['reconcile']);
      const status = JSON.parse((await w.cli(['status', 'default', '--json'])).stdout || '{}') as { backend?: string; state?: string };
      const p = pinger.stats();
      w.m.switches.push({ to, ms: r.ms, exitCode: r.code, pingsLostSoFar: p.lost });
      const ok = r.code === 0 && status.backend === to && status.state === 'active';
      allOk &&= ok;
      w.say.info(`${ok ? '→' : '✘'} firewall_backend = "${to}"; $ vnetfw reconcile: ${r.stdout.trim() || r.stderr.trim()} in ${r.ms} ms`
        + ` · pings so far ${p.sent} sent, ${p.lost} lost · tcp ${session.alive ? 'alive' : 'BROKEN'}`);
      await sleep(QUIET_MS);
    }
  } finally {
    clearInterval(ticker);
  }
  const p = await pinger.stop();
  const t = await session.stop();
  w.m.pings = p;
  w.m.tcp = { sent: t.sent, echoed: t.echoed, broke: t.broke !== null, error: t.broke };
  w.say.info(`traffic during both switches: ${p.sent} pings, ${p.lost} lost; TCP ${t.echoed} lines echoed, session ${t.broke === null ? 'never broke' : `broke: ${t.broke}`}`);
  const ok = allOk && p.lost === 0 && p.sent > 0 && t.broke === null;
  const ms = w.m.switches.map((s) => `${s.ms} ms`).join(' and ');
  return { ok, detail: ok ? `two live switches (${ms}), 0 pings lost, TCP session kept` : 'the switches did not hold' };
};
