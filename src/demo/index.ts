// `vnetfw demo`: the whole story on a real kernel, in namespaces of its own that are always
// removed (normal end, failure, Ctrl-C, SIGTERM), with a temporary state dir and config.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { textNarrator, silentNarrator } from './narrative.js';
import { killAll } from './proc.js';
import { auditTrail, crashAndRecover } from './steps-crash.js';
import { guestReachesWan, startNetwork, type StepOutcome } from './steps-network.js';
import { liveSwitch } from './steps-switch.js';
import { topologyDown, topologyNames, topologyUp } from './topology.js';
import type { EchoServer, TcpSession } from './traffic.js';
import { emptyMeasurements, World, type Measurements } from './world.js';

export { preflight, type PreflightDeps } from './topology.js';
export type { Measurements } from './world.js';

export interface DemoOptions { json: boolean; out: NodeJS.WritableStream; tty: boolean }

const STEPS: { title: string; why: string }[] = [
  { title: 'Start libvirt\'s `default` NAT network with nftables', why: 'vnetfw define + start, run for real inside a private host namespace' },
  { title: 'A guest reaches the outside through the masquerade', why: 'the wan namespace has no route back to 192.168.122.0/24: only NAT makes answers come back' },
  { title: 'Live switch to iptables and back, under traffic', why: 'make-before-break: the new backend\'s rules go in before the old ones go out, so no packet is dropped' },
  { title: 'Crash in the middle of a switch, then recover', why: 'vnetfw is SIGKILLed mid-operation; `reconcile` reads the log and the kernel and finishes the job' },
  { title: 'The audit trail', why: 'every program run was recorded in a hash-chained log before it ran' },
];

export const runDemo = async (opts: DemoOptions): Promise<Measurements> => {
  const t0 = performance.now();
  const m = emptyMeasurements();
  const say = opts.json ? silentNarrator : textNarrator(opts.out, opts.tty);
  const topo = topologyNames(process.pid);
  const tmp = mkdtempSync(join(tmpdir(), 'vnetfw-demo-'));
  let cleaned: Promise<string[]> | undefined;
  const cleanup = (): Promise<string[]> => (cleaned ??= (async () => {
    await killAll();
    const left = await topologyDown(topo);
    rmSync(tmp, { recursive: true, force: true });
    return left;
  })());
  // Ctrl-C reaches our children too (same process group); we still kill them ourselves, then
  // remove the namespaces before exiting with the conventional 128+signal code.
  const onSignal = (sig: NodeJS.Signals): void => {
    say.close();
    opts.out.write(`\n${sig === 'SIGINT' ? 'interrupted' : 'terminated'}: removing the demo's namespaces and files…\n`);
    void cleanup().then(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let server: EchoServer | undefined;
  let session: TcpSession | undefined;
  try {
    if (!opts.json) opts.out.write(`vnetfw demo: namespaces ${topo.H.replace(/-H$/, '-{H,G,W,C}')}, files in ${tmp} (all removed at the end)\n`);
    await topologyUp(topo);
    const w = new World(topo, tmp, say, m);
    const bodies: (() => Promise<StepOutcome>)[] = [
      () => startNetwork(w),
      async () => { const r = await guestReachesWan(w); server = r.server; session = r.session; return r; },
      () => (session === undefined ? Promise.resolve({ ok: false, detail: 'no TCP session' }) : liveSwitch(w, session)),
      () => crashAndRecover(w),
      () => auditTrail(w),
    ];
    for (const [i, body] of bodies.entries()) {
      const s = STEPS[i] ?? { title: '', why: '' };
      say.step(i + 1, s.title, s.why);
      const st = performance.now();
      let r: StepOutcome;
      try { r = await body(); } catch (e) { r = { ok: false, detail: e instanceof Error ? e.message : String(e) }; }
      const ms = Math.round(performance.now() - st);
      m.steps.push({ name: s.title, ok: r.ok, ms, detail: r.detail });
      say.result(r.ok, r.detail, ms);
      // Later steps build on earlier ones (the network, the session): stop at the first failure.
      if (!r.ok) break;
    }
    m.ok = m.steps.length === STEPS.length && m.steps.every((s) => s.ok);
  } catch (e) {
    m.error = e instanceof Error ? e.message : String(e);
    say.info(`✘ ${m.error}`);
  } finally {
    await server?.stop();
    const left = await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (left.length > 0) { m.ok = false; m.error = `could not remove namespaces: ${left.join(', ')}`; }
    m.durationMs = Math.round(performance.now() - t0);
  }
  if (!opts.json) {
    opts.out.write(`\n${m.ok ? '✔ all 5 steps held' : '✘ the demo did not hold (see above)'} in ${(m.durationMs / 1000).toFixed(1)} s;`
      + ` namespaces and temporary files removed.\n`);
  }
  return m;
};
