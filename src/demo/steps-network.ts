// Steps 1 and 2: the `default` NAT network started by the real CLI, and a guest behind it that
// reaches the wan only through the masquerade.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, sleep } from './proc.js';
import { uninterruptedReference } from './reference.js';
import { attachGuest, GUEST_IP, HOST_UPLINK_IP, WAN_IP } from './topology.js';
import { EchoServer, inNs, TcpSession } from './traffic.js';
import { DEFAULT_NETWORK_XML, type World } from './world.js';

export interface StepOutcome { ok: boolean; detail: string }
export const ECHO_PORT = 7777;

export const startNetwork = async (w: World): Promise<StepOutcome> => {
  const xml = join(w.tmp, 'default.xml');
  writeFileSync(xml, DEFAULT_NETWORK_XML);
  w.setBackend('nftables');
  w.say.info(`state dir ${w.stateDir}, config: firewall_backend = "nftables"`);
  const def = await w.cli(['define', xml]);
  if (def.code !== 0) return { ok: false, detail: `vnetfw define failed: ${def.stderr.trim()}` };
  w.say.info(`$ vnetfw define default.xml  → ${def.stdout.trim()}`);
  const st = await w.cli(['start', 'default']);
  if (st.code !== 0) return { ok: false, detail: `vnetfw start default failed: ${st.stderr.trim()}` };
  w.say.info(`$ vnetfw start default  (${st.ms} ms, including Node's start-up)`);
  const status = await w.cli(['status', 'default', '--json']);
  const s = JSON.parse(status.stdout || '{}') as { state?: string; backend?: string; rules?: number };
  const tables = await run(inNs(w.t.H, ['nft', 'list', 'tables']));
  const hasTable = tables.stdout.includes('table ip libvirt_network');
  w.say.info(`status: ${s.state ?? '?'} on ${s.backend ?? '?'}, ${s.rules ?? '?'} rules; nft shows 'table ip libvirt_network': ${hasTable ? 'yes' : 'no'}`);
  w.reference = uninterruptedReference(w).catch(() => false);
  w.say.info('plugging the guest into virbr0; STP keeps a new port learning for ~4 s…');
  const waited = await attachGuest(w.t, 'virbr0');
  w.say.info(`guest port forwarding after ${waited} ms`);
  const ok = s.state === 'active' && s.backend === 'nftables' && hasTable;
  return { ok, detail: ok ? 'default is active on nftables, virbr0 192.168.122.1/24 up' : 'default is not active on nftables' };
};

// Opens the long TCP session that step 3 must keep alive; returns it with the server.
export const guestReachesWan = async (w: World): Promise<StepOutcome & { server?: EchoServer; session?: TcpSession }> => {
  const ping = await run(inNs(w.t.G, ['ping', '-n', '-c', '5', '-i', '0.05', '-W', '1', WAN_IP]));
  const rx = /(\d+) received/.exec(ping.stdout)?.[1] ?? '0';
  w.say.info(`guest ${GUEST_IP} pings wan ${WAN_IP}: ${rx}/5 answered (the wan has no route to 192.168.122.0/24)`);
  const server = new EchoServer(w.t.W, ECHO_PORT);
  await server.ready;
  const session = new TcpSession(w.t.G, WAN_IP, ECHO_PORT);
  for (let i = 0; i < 50 && (server.peers.length === 0 || session.stats().echoed === 0); i++) await sleep(20);
  const seen = server.peers[0] ?? null;
  w.m.masquerade = { wanSawSource: seen, expected: HOST_UPLINK_IP };
  w.say.info(`guest opens a TCP session to ${WAN_IP}:${ECHO_PORT}; the wan sees it coming from ${seen ?? 'nobody'}`
    + ` (${seen === HOST_UPLINK_IP ? 'the host\'s address: masqueraded' : 'not masqueraded!'})`);
  const ok = rx === '5' && seen === HOST_UPLINK_IP && session.alive;
  return { ok, detail: ok ? `guest reaches the wan through the masquerade as ${HOST_UPLINK_IP}` : 'guest traffic did not go through the masquerade', server, session };
};
