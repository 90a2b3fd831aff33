// Real kernel, real neighbours: libvirt's default NAT network started next to Docker's iptables
// chains (FORWARD policy DROP, DOCKER-USER), a NixOS-like `inet nixos-fw` table (input and forward
// policy drop) and Debian's real firewalld (default zone public), on each backend. Topology: a
// guest namespace behind the bridge, the host namespace (where the neighbour and vnetfw live, and
// UDP services on 53 and 67), a wan namespace with no route back (only masqueraded traffic is
// answered). For each neighbour, first with host_firewall = "off" (the neighbour does cut the
// guest off), then integrated: the guest reaches the wan and the host's UDP 53 and 67; stop leaves
// the neighbour's configuration exactly as it was; SIGKILL between integration steps, then
// `reconcile` (and stop) ends exactly as well. One topology (and one firewalld) per neighbour.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { netnsSkipReason } from './helpers/index.js';
import {
  bg, cliBuilt, cliPath, inNs, makeCrashShims, must, nsDelAll, run, statusOf, topoAttach, topoUp, waitFor,
  type Backend, type Bg, type Res, type Topo,
} from '../fixtures/oracle/kernel.js';
import {
  dockerConfig, firewalldAvailable, firewalldConfig, firewalldDown, firewalldStart, firewalldStop, firewalldUp, fwCmd, layDocker,
  layNixos, neighboursDir, nixosConfig, type Firewalld, type NeighbourKind,
} from '../fixtures/neighbours/neighbours.js';

const skipReason = netnsSkipReason ?? (cliBuilt ? undefined : 'dist/ is not built (run `npm run build`)');
const canRun = skipReason === undefined;
const fwSkip = canRun && !firewalldAvailable() ? 'firewalld or dbus-daemon is not installed' : undefined;
const BACKENDS: readonly Backend[] = ['nftables', 'iptables'];
// libvirt's default network with STP off: the guest's port forwards at once (same rules).
const NET_XML = join(neighboursDir, 'default.xml');

const tmp = canRun ? mkdtempSync(join(tmpdir(), 'vnetfw-neigh-')) : '';
let caseNo = 0;

interface World { t: Topo; udp: Bg; wan: Bg; env: NodeJS.ProcessEnv; config: () => Promise<string>; fw?: Firewalld }

const cli = (w: World, st: string, conf: string, args: readonly string[], env: NodeJS.ProcessEnv = w.env): Promise<Res> =>
  inNs(w.t.H, [process.execPath, cliPath, '--state-dir', st, '--config', conf, ...args], { env, timeoutMs: 120_000 });

const newCase = (backend: Backend, hostFirewall?: string): { st: string; conf: string } => {
  const dir = join(tmp, `case${++caseNo}`);
  const conf = join(tmp, `case${caseNo}.conf`);
  writeFileSync(conf, `firewall_backend = "${backend}"\n${hostFirewall === undefined ? '' : `host_firewall = "${hostFirewall}"\n`}`);
  return { st: dir, conf };
};

// UDP echo services: the wan's on 7000 (it answers only masqueraded traffic: no route back), the
// host's on 53 and 67.
const guestReachesWan = (w: World): Promise<Res> => inNs(w.t.G, ['python3', join(neighboursDir, 'udp_echo.py'), 'ask', '10.200.0.2', '7000']);
const guestAsks = (w: World, port: number): Promise<Res> =>
  inNs(w.t.G, ['python3', join(neighboursDir, 'udp_echo.py'), 'ask', '192.168.122.1', String(port)]);
// The guest's port on the bridge forwards (STP has let it through).
const portForwards = (w: World): Promise<Res> => run(['sh', '-c', `bridge -n ${w.t.H} link show dev ${w.t.p}gh | grep -q 'state forwarding'`]);

const setUp = async (kind: NeighbourKind): Promise<World> => {
  const t = await topoUp(`nb${kind.slice(0, 2)}`);
  const udp = bg(['ip', 'netns', 'exec', t.H, 'python3', join(neighboursDir, 'udp_echo.py'), 'serve', '53', '67']);
  const wan = bg(['ip', 'netns', 'exec', t.W, 'python3', join(neighboursDir, 'udp_echo.py'), 'serve', '7000']);
  await waitFor(() => inNs(t.H, ['sh', '-c', 'ss -Hlun | grep -q ":67 "']), 10_000, 'the UDP services');
  await waitFor(() => inNs(t.W, ['sh', '-c', 'ss -Hlun | grep -q ":7000 "']), 10_000, "the wan's UDP service");
  const w: World = { t, udp, wan, env: process.env, config: () => Promise.resolve('') };
  if (kind === 'docker') { await layDocker(t.H); w.config = () => dockerConfig(t.H); }
  if (kind === 'nixos') { await layNixos(t.H); w.config = () => nixosConfig(t.H); }
  if (kind === 'firewalld') {
    const fw = await firewalldUp(t.H, join(tmp, `fw-${kind}`), true);
    w.fw = fw;
    w.env = fw.env;
    w.config = () => firewalldConfig(fw);
  }
  return w;
};

const tearDown = async (w: World | undefined): Promise<void> => {
  if (w === undefined) return;
  for (const p of [w.udp, w.wan]) { p.kill(); await p.done; }
  if (w.fw !== undefined) await firewalldDown(w.fw);
};

// The guest's cable goes into the bridge once vnetfw created it; STP makes the port forward after
// the kernel's delay, hence the wait.
const startAndAttach = async (w: World, st: string, conf: string): Promise<Res> => {
  await must(cli(w, st, conf, ['define', NET_XML]), 'define');
  const r = await must(cli(w, st, conf, ['start', 'default']), 'start');
  await topoAttach(w.t, 'virbr0');
  return r;
};

// With integration: the guest reaches the wan (masqueraded: the wan has no route back) and the
// host's UDP 53 and 67; verify is clean. Then stop; the neighbour's configuration is as before.
const integratedCase = async (w: World, backend: Backend, hostFirewall?: string): Promise<void> => {
  const before = await w.config();
  const { st, conf } = newCase(backend, hostFirewall);
  await startAndAttach(w, st, conf);
  await waitFor(() => guestReachesWan(w), 15_000, 'the guest to reach the wan');
  await must(guestAsks(w, 53), 'guest -> host UDP 53');
  await must(guestAsks(w, 67), 'guest -> host UDP 67');
  await must(cli(w, st, conf, ['verify']), 'verify');
  expect(await w.config()).not.toBe(before);   // integrated: the neighbour knows about the bridge
  await must(cli(w, st, conf, ['stop', 'default']), 'stop');
  expect(await w.config()).toBe(before);
};

// host_firewall = "off": the neighbour really cuts the guest off (what integration must fix).
const offCase = async (w: World, blocked: { wan: boolean; host: boolean }): Promise<void> => {
  const { st, conf } = newCase('nftables', 'off');
  await startAndAttach(w, st, conf);
  // Once the guest's port forwards, a failure below is the neighbour's doing.
  await waitFor(() => portForwards(w), 15_000, "the guest's bridge port to forward");
  expect((await guestReachesWan(w)).code === 0, 'guest -> wan').toBe(!blocked.wan);
  expect((await guestAsks(w, 67)).code === 0, 'guest -> host UDP 67').toBe(!blocked.host);
  await must(cli(w, st, conf, ['stop', 'default']), 'stop');
};

// SIGKILL right after the first integration step and right before the last, then `reconcile`:
// the network ends up running with its neighbour integrated (guest works, verify clean), and a
// stop leaves the neighbour's configuration exactly as before.
const crashCase = async (w: World, backend: Backend, isStep: (line: string) => boolean, hostFirewall?: string): Promise<void> => {
  const before = await w.config();
  const shims = makeCrashShims(join(tmp, 'shims'));
  const fwShim = join(shims, 'firewall-cmd');
  writeFileSync(fwShim, `#!/bin/bash
n=$(( $(cat "$CRASH_COUNTER" 2>/dev/null || echo 0) + 1 )); echo $n > "$CRASH_COUNTER"
echo "$n firewall-cmd $*" >> "$CRASH_COUNTER.log"
if [ "$n" = "\${CRASH_AT:-0}" ] && [ "\${CRASH_WHEN:-before}" = before ]; then kill -9 $PPID; exit 137; fi
/usr/bin/firewall-cmd "$@"; rc=$?
if [ "$n" = "\${CRASH_AT:-0}" ]; then kill -9 $PPID; fi
exit $rc
`, { mode: 0o755 });
  // A dry run counts the calls, to find the integration steps' numbers.
  const probe = newCase(backend, hostFirewall);
  const counter = join(tmp, `count${caseNo}`);
  const crashEnv = (at: number, when: string): NodeJS.ProcessEnv =>
    ({ ...w.env, PATH: `${shims}:${process.env.PATH ?? ''}`, CRASH_COUNTER: counter, CRASH_AT: String(at), CRASH_WHEN: when });
  await must(cli(w, probe.st, probe.conf, ['define', NET_XML]), 'define');
  rmSync(counter, { force: true }); rmSync(`${counter}.log`, { force: true });
  await must(cli(w, probe.st, probe.conf, ['start', 'default'], crashEnv(0, 'before')), 'counting start');
  const { readFileSync } = await import('node:fs');
  const calls = readFileSync(`${counter}.log`, 'utf8').trim().split('\n');
  const steps = calls.filter(isStep).map((l) => Number(l.split(' ')[0]));
  expect(steps.length, calls.join('\n')).toBeGreaterThan(0);
  await must(cli(w, probe.st, probe.conf, ['stop', 'default']), 'stop');
  expect(await w.config()).toBe(before);
  const points: Array<[number, string]> = [[steps[0] ?? 0, 'after'], [steps[steps.length - 1] ?? 0, 'before']];
  for (const [at, when] of points) {
    const c = newCase(backend, hostFirewall);
    await must(cli(w, c.st, c.conf, ['define', NET_XML]), 'define');
    rmSync(counter, { force: true });
    const killed = await cli(w, c.st, c.conf, ['start', 'default'], crashEnv(at, when));
    expect(killed.code, `start killed at call ${at} ${when}: ${killed.stderr}`).not.toBe(0);
    await must(cli(w, c.st, c.conf, ['reconcile']), 'reconcile');
    const s = await statusOf(c.st, 'default');
    if (s.state === 'active') {
      await topoAttach(w.t, 'virbr0').catch(() => undefined);
      await waitFor(() => guestReachesWan(w), 15_000, `the guest to reach the wan after reconcile (crash at ${at} ${when})`);
      await must(guestAsks(w, 67), 'guest -> host UDP 67 after reconcile');
      await must(cli(w, c.st, c.conf, ['verify']), 'verify after reconcile');
      await must(cli(w, c.st, c.conf, ['stop', 'default']), 'stop');
    }
    expect(await w.config(), `neighbour's configuration after crash at call ${at} ${when}`).toBe(before);
  }
};

afterAll(async () => {
  await nsDelAll();
  if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(!canRun)(`Docker's FORWARD DROP${canRun ? '' : ` (skipped: ${skipReason ?? ''})`}`, () => {
  let w: World | undefined;
  beforeAll(async () => { w = await setUp('docker'); }, 60_000);
  afterAll(async () => { await tearDown(w); });
  it('off: the guest is cut off from the wan on nftables', async () => { await offCase(w as World, { wan: true, host: false }); }, 60_000);
  for (const b of BACKENDS) {
    it(`${b}: accept rules in DOCKER-USER; guest reaches the wan and the host; stop restores Docker's chains`, async () => {
      await integratedCase(w as World, b);
    }, 60_000);
  }
  it('nftables: SIGKILL between integration steps, then reconcile, ends exact', async () => {
    await crashCase(w as World, 'nftables', (l) => / iptables .*--insert DOCKER-USER/.test(l));
  }, 120_000);
});

describe.skipIf(!canRun)(`NixOS-like inet nixos-fw${canRun ? '' : ` (skipped: ${skipReason ?? ''})`}`, () => {
  let w: World | undefined;
  beforeAll(async () => { w = await setUp('nixos'); }, 60_000);
  afterAll(async () => { await tearDown(w); });
  it('off: the guest is cut off from the wan and the host', async () => { await offCase(w as World, { wan: true, host: true }); }, 60_000);
  it('default (host_firewall not written): start warns naming the table and changes nothing', async () => {
    const ww = w as World;
    const before = await ww.config();
    const { st, conf } = newCase('nftables');
    const r = await startAndAttach(ww, st, conf);
    expect(r.stderr).toMatch(/warning: default: host nftables chain inet nixos-fw input .*host_firewall = "integrate"/);
    expect(await ww.config()).toBe(before);
    await must(cli(ww, st, conf, ['stop', 'default']), 'stop');
  }, 60_000);
  for (const b of BACKENDS) {
    it(`${b}, host_firewall = "integrate": accept rules in nixos-fw; guest reaches the wan and the host; stop restores the table`, async () => {
      await integratedCase(w as World, b, 'integrate');
    }, 60_000);
  }
  it('iptables: SIGKILL between integration steps, then reconcile, ends exact', async () => {
    await crashCase(w as World, 'iptables', (l) => / nft --echo --handle insert rule inet nixos-fw /.test(l), 'integrate');
  }, 120_000);
});

describe.skipIf(!canRun || fwSkip !== undefined)(`firewalld${canRun && fwSkip === undefined ? '' : ` (skipped: ${skipReason ?? fwSkip ?? ''})`}`, () => {
  let w: World | undefined;
  beforeAll(async () => { w = await setUp('firewalld'); }, 90_000);
  afterAll(async () => { await tearDown(w); });
  it('off: the guest is cut off from the wan and the host', async () => { await offCase(w as World, { wan: true, host: true }); }, 60_000);
  for (const b of BACKENDS) {
    it(`${b}: the bridge goes into zone libvirt; guest reaches the wan and the host; stop restores firewalld's zones`, async () => {
      await integratedCase(w as World, b);
    }, 60_000);
  }
  it('nftables: SIGKILL between integration steps, then reconcile, ends exact', async () => {
    await crashCase(w as World, 'nftables', (l) => / firewall-cmd --zone=libvirt --add-interface=virbr0/.test(l));
  }, 120_000);
});
