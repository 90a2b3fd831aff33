// A host namespace with several virtual networks and a guest on each, plus two upstream
// namespaces, to test what the firewall lets through with real packets (both layouts):
//
//   guest namespaces --veth-- [bridges in H] H --veth--  W  (10.200.0.2, 2001:db8:200::2)
//                                            H --veth--  W2 (10.201.0.2)
//
// W and W2 have routes back to every guest subnet through H, so only the firewall decides what
// passes, and what arrives shows whether it was masqueraded (the peer address a server logs).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inNs, ipOk, nsAdd } from './netns.js';
import { bg, IP, run, type Bg } from './proc.js';
import { pollUntil, waitFor } from './wait.js';

export const PROBE = fileURLToPath(new URL('../fixtures/traffic/probe.py', import.meta.url));
export const PORT = 7100;

export interface GuestSpec { name: string; v4: string; gw4: string; v6?: string; gw6?: string }
export interface Dataplane { p: string; H: string; W: string; W2: string; wanDev: string; wan2Dev: string; guests: Map<string, string> }

// Routes back from the upstreams to every guest subnet (v4 /24 and v6 /64 of each guest). The
// namespaces are made with nsAdd: afterAll(nsDelAll) removes them.
export const dataplaneUp = async (p: string, guests: readonly GuestSpec[]): Promise<Dataplane> => {
  const d: Dataplane = { p, H: `${p}H`, W: `${p}W`, W2: `${p}V`, wanDev: `${p}wh`, wan2Dev: `${p}vh`, guests: new Map() };
  for (const ns of [d.H, d.W, d.W2]) await nsAdd(ns);
  await ipOk(['link', 'add', d.wanDev, 'netns', d.H, 'type', 'veth', 'peer', 'name', 'w0', 'netns', d.W]);
  await ipOk(['link', 'add', d.wan2Dev, 'netns', d.H, 'type', 'veth', 'peer', 'name', 'w0', 'netns', d.W2]);
  await ipOk(['-n', d.H, 'addr', 'add', '10.200.0.1/24', 'dev', d.wanDev]);
  await ipOk(['-n', d.H, 'addr', 'add', '2001:db8:200::1/64', 'dev', d.wanDev, 'nodad']);
  await ipOk(['-n', d.H, 'addr', 'add', '10.201.0.1/24', 'dev', d.wan2Dev]);
  await ipOk(['-n', d.W, 'addr', 'add', '10.200.0.2/24', 'dev', 'w0']);
  await ipOk(['-n', d.W, 'addr', 'add', '2001:db8:200::2/64', 'dev', 'w0', 'nodad']);
  await ipOk(['-n', d.W2, 'addr', 'add', '10.201.0.2/24', 'dev', 'w0']);
  for (const [ns, dev] of [[d.H, d.wanDev], [d.H, d.wan2Dev], [d.W, 'w0'], [d.W2, 'w0']] as const) await ipOk(['-n', ns, 'link', 'set', dev, 'up']);
  for (const g of guests) {
    const ns = `${p}${g.name}`;
    await nsAdd(ns);
    d.guests.set(g.name, ns);
    await ipOk(['link', 'add', `${p}g${g.name}`, 'netns', d.H, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await ipOk(['-n', ns, 'addr', 'add', g.v4, 'dev', 'eth0']);
    await ipOk(['-n', ns, 'link', 'set', 'eth0', 'up']);
    await ipOk(['-n', ns, 'route', 'add', 'default', 'via', g.gw4]);
    const net4 = g.v4.replace(/\.\d+\/24$/, '.0/24');
    await run([IP, '-n', d.W, 'route', 'add', net4, 'via', '10.200.0.1']);
    await run([IP, '-n', d.W2, 'route', 'add', net4, 'via', '10.201.0.1']);
    if (g.v6 !== undefined && g.gw6 !== undefined) {
      await ipOk(['-n', ns, 'addr', 'add', g.v6, 'dev', 'eth0', 'nodad']);
      await ipOk(['-n', ns, '-6', 'route', 'add', 'default', 'via', g.gw6]);
      await run([IP, '-n', d.W, '-6', 'route', 'add', g.v6.replace(/::\w+\/64$/, '::/64'), 'via', '2001:db8:200::1']);
    }
  }
  return d;
};

// After vnetfw created the bridges: plug each guest's cable in.
export const attachGuest = async (d: Dataplane, guest: string, bridge: string): Promise<void> => {
  await ipOk(['-n', d.H, 'link', 'set', `${d.p}g${guest}`, 'master', bridge]);
  await ipOk(['-n', d.H, 'link', 'set', `${d.p}g${guest}`, 'up']);
};

export interface Server { ns: string; peers: () => string[]; stop: () => Promise<void> }

export const startServer = async (tmp: string, ns: string): Promise<Server> => {
  const peers = join(tmp, `peers-${ns}`);
  const ready = join(tmp, `ready-${ns}`);
  writeFileSync(peers, '');
  const p: Bg = bg([IP, 'netns', 'exec', ns, 'python3', PROBE, 'serve', String(PORT), peers, ready]);
  try {
    await waitFor(() => { if (!p.running()) throw new Error('exited'); return existsSync(ready); }, 10_000, `the server in ${ns}`, 20);
  } catch (e) {
    p.kill();
    throw new Error(`server in ${ns} did not start: ${e instanceof Error ? e.message : String(e)}: ${(await p.done).stderr}`, { cause: e });
  }
  return {
    ns,
    peers: () => readFileSync(peers, 'utf8').split('\n').filter((l) => l !== ''),
    stop: async () => { p.kill(); await p.done; },
  };
};

// One TCP connection from `ns` to host:PORT: 'ok', 'refused' (a reject answered it), 'timeout'.
export const connect = async (ns: string, host: string): Promise<string> =>
  (await inNs(ns, ['python3', PROBE, 'connect', host, String(PORT)], { timeoutMs: 10_000 })).stdout.trim();

// Waits until a connection that must work does (bridge ports and IPv6 addresses settle).
export const connectEventually = (ns: string, host: string, ms = 15_000): Promise<string> =>
  pollUntil(() => connect(ns, host), (r) => r === 'ok', ms, 100);

export const netXml = (o: { name: string; bridge: string; forward?: string; dev?: string; ports?: [number, number]; ips: string[] }): string => {
  const nat = o.ports === undefined ? '' : `<nat><port start='${o.ports[0]}' end='${o.ports[1]}'/></nat>`;
  const fwd = o.forward === undefined ? '' : `<forward mode='${o.forward}'${o.dev === undefined ? '' : ` dev='${o.dev}'`}>${nat}</forward>`;
  return `<network><name>${o.name}</name><bridge name='${o.bridge}' stp='off' delay='0'/>${fwd}${o.ips.join('')}</network>\n`;
};
