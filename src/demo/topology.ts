// The demo's little world, all in network namespaces of its own (the host's stack is never
// touched):
//   guest G (192.168.122.10) --veth-- [virbr0 in H] host H (10.200.0.1) --veth-- wan W (10.200.0.2)
// W has no route back to 192.168.122.0/24, so only masqueraded traffic gets answers. C is a
// spare namespace where a clean start produces the reference ruleset.
import { spawnSync } from 'node:child_process';
import { run, sleep, type ProcResult } from './proc.js';

export interface Topology { H: string; G: string; W: string; C: string; all: string[] }

export const GUEST_IP = '192.168.122.10';
export const HOST_UPLINK_IP = '10.200.0.1';
export const WAN_IP = '10.200.0.2';
export const GUEST_PORT_IN_HOST = 'vd-guest';

export const topologyNames = (pid: number): Topology => {
  const p = `vnetfw-demo-${pid}-`;
  const t = { H: `${p}H`, G: `${p}G`, W: `${p}W`, C: `${p}C` };
  return { ...t, all: [t.H, t.G, t.W, t.C] };
};

export interface PreflightDeps { getuid: () => number | undefined; platform: string; probeNetns: () => string | undefined }

// The real probe: can we add and delete a namespace? Returns why not, or undefined.
const probeNetns = (): string | undefined => {
  const name = `vnetfw-demo-probe-${process.pid}`;
  const r = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
  if (r.error !== undefined) return `cannot run 'ip' (iproute2): ${r.error.message}`;
  if (r.status !== 0) return `'ip netns add' fails here: ${(r.stderr ?? '').trim()}`;
  spawnSync('ip', ['netns', 'del', name]);
  return undefined;
};

export const defaultPreflightDeps: PreflightDeps = { getuid: () => process.getuid?.(), platform: process.platform, probeNetns };

// Why the demo cannot run here (a sentence for the user), or undefined. Injectable for tests.
export const preflight = (deps: PreflightDeps = defaultPreflightDeps): string | undefined => {
  if (deps.platform !== 'linux') return 'demo: needs Linux (network namespaces)';
  if (deps.getuid() !== 0) {
    return 'demo: needs root, because it creates network namespaces (it never touches the host\'s own firewall); run: sudo npx vnetfw demo';
  }
  const why = deps.probeNetns();
  return why === undefined ? undefined : `demo: network namespaces are not usable: ${why}`;
};

const must = async (argv: string[]): Promise<ProcResult> => {
  const r = await run(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr.trim() || `exit ${String(r.code)}`}`);
  return r;
};

export const topologyUp = async (t: Topology): Promise<void> => {
  for (const ns of t.all) {
    await must(['ip', 'netns', 'add', ns]);
    await must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
  // Each veth is created with both ends already inside the namespaces: nothing appears on the host.
  await must(['ip', 'link', 'add', GUEST_PORT_IN_HOST, 'netns', t.H, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', t.G]);
  await must(['ip', 'link', 'add', 'vd-wan', 'netns', t.H, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', t.W]);
  await must(['ip', '-n', t.H, 'addr', 'add', `${HOST_UPLINK_IP}/24`, 'dev', 'vd-wan']);
  await must(['ip', '-n', t.H, 'link', 'set', 'vd-wan', 'up']);
  await must(['ip', '-n', t.W, 'addr', 'add', `${WAN_IP}/24`, 'dev', 'eth0']);
  await must(['ip', '-n', t.W, 'link', 'set', 'eth0', 'up']);
  await must(['ip', '-n', t.G, 'addr', 'add', `${GUEST_IP}/24`, 'dev', 'eth0']);
  await must(['ip', '-n', t.G, 'link', 'set', 'eth0', 'up']);
  await must(['ip', '-n', t.G, 'route', 'add', 'default', 'via', '192.168.122.1']);
};

// After vnetfw created the bridge: plug the guest's cable into it. The bridge runs STP (libvirt's
// default, stp='on'), and the kernel keeps forward_delay at least 2 s while STP is on, so a new
// port listens and learns for ~4 s before it forwards; wait for that, as a booting guest would.
export const attachGuest = async (t: Topology, bridge: string): Promise<number> => {
  await must(['ip', '-n', t.H, 'link', 'set', GUEST_PORT_IN_HOST, 'master', bridge]);
  await must(['ip', '-n', t.H, 'link', 'set', GUEST_PORT_IN_HOST, 'up']);
  const t0 = performance.now();
  for (;;) {
    const r = await run(['ip', '-n', t.H, '-d', 'link', 'show', GUEST_PORT_IN_HOST]);
    if (/bridge_slave state forwarding/.test(r.stdout)) return Math.round(performance.now() - t0);
    if (performance.now() - t0 > 10_000) throw new Error(`bridge port ${GUEST_PORT_IN_HOST} did not reach forwarding within 10 s`);
    await sleep(100);
  }
};

// Best effort, every namespace tried even if one fails; returns the ones still present.
export const topologyDown = async (t: Topology): Promise<string[]> => {
  for (const ns of t.all) await run(['ip', 'netns', 'del', ns]);
  const left = await run(['ip', 'netns', 'list']);
  return t.all.filter((ns) => left.stdout.split('\n').some((l) => l.split(' ')[0] === ns));
};
