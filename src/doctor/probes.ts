// The traffic a network's guests need, as packets the evaluator can walk through the hooks:
// guest -> outside and the replies back in (forwarding networks), guest <-> guest on the bridge,
// guest -> host DHCP/DNS/TFTP, host -> guest DHCP replies. Pure.
import { parseAddress } from '../definition/index.js';
import type { IpDef, IpFamily, NetworkDef } from '../definition/types.js';
import type { AddrSpec, IfaceSpec, Packet } from './model.js';

export type Traffic = 'guest-out' | 'reply-in' | 'guest-guest' | 'dhcp-in' | 'dns-in' | 'tftp-in' | 'dhcp-out';
export const TRAFFIC_LABEL: Record<Traffic, string> = {
  'guest-out': 'guest -> outside',
  'reply-in': 'replies back in',
  'guest-guest': 'guest <-> guest',
  'dhcp-in': 'guest -> host DHCP',
  'dns-in': 'guest -> host DNS',
  'tftp-in': 'guest -> host TFTP',
  'dhcp-out': 'host -> guest DHCP replies',
};

export interface Probe { traffic: Traffic; family: IpFamily; protocol: 'udp' | 'tcp'; packet: Packet }

const bits = (f: IpFamily): number => (f === 'ipv4' ? 32 : 128);
const net = (ip: IpDef, addr: bigint): bigint => {
  const all = (1n << BigInt(bits(ip.family))) - 1n;
  return addr & ((all << BigInt(bits(ip.family) - ip.prefix)) & all);
};
const must = (s: string, f: IpFamily): bigint => {
  const v = parseAddress(s, f);
  if (v === undefined) throw new Error(`not an ${f} address: ${s}`);   // definitions are validated
  return v;
};

// The interfaces guests reach the outside through: `<forward dev=...>`, else the host's default
// route interfaces, else "some interface other than the bridge".
export const uplinkSpecs = (def: NetworkDef, uplinks: readonly string[]): IfaceSpec[] => {
  if (def.forward.dev !== undefined) return [{ kind: 'name', name: def.forward.dev }];
  const named = uplinks.filter((u) => u !== def.bridge.name);
  return named.length > 0 ? named.map((name) => ({ kind: 'name', name })) : [{ kind: 'other', not: [def.bridge.name] }];
};

// Forwarded traffic is described as TCP and UDP flows to any port: what guests mostly send, and
// precise enough that a rule for ICMP only, or for one port, shows as what it is.
const L4 = ['tcp', 'udp'] as const;

export const probesFor = (def: NetworkDef, uplinks: readonly string[]): Probe[] => {
  const br: IfaceSpec = { kind: 'name', name: def.bridge.name };
  const none: IfaceSpec = { kind: 'none' };
  const forwards = def.forward.mode === 'nat' || def.forward.mode === 'route' || def.forward.mode === 'open';
  const out: Probe[] = [];
  for (const ip of def.ips) {
    const f = ip.family;
    const host = must(ip.address, f);
    const inside: AddrSpec = { kind: 'inside', addr: net(ip, host), len: ip.prefix };
    const outside: AddrSpec = { kind: 'outside', addr: net(ip, host), len: ip.prefix };
    const linkLocal: AddrSpec = { kind: 'inside', addr: must('fe80::', 'ipv6'), len: 10 };
    const base = { family: f, ctstate: 'new' as const, ctstatus: [], daddrType: 'unicast' as const };
    const add = (traffic: Traffic, protocol: Probe['protocol'], packet: Packet): void => { out.push({ traffic, family: f, protocol, packet }); };
    if (forwards) {
      for (const up of uplinkSpecs(def, uplinks)) {
        for (const l4proto of L4) {
          add('guest-out', l4proto, { ...base, l4proto, hook: 'forward', iif: br, oif: up, saddr: inside, daddr: outside });
          add('reply-in', l4proto, { ...base, l4proto, hook: 'forward', iif: up, oif: br, saddr: outside, daddr: inside, ctstate: 'established' });
        }
      }
    }
    for (const l4proto of L4) add('guest-guest', l4proto, { ...base, l4proto, hook: 'forward', iif: br, oif: br, saddr: inside, daddr: inside });
    const toHost = { ...base, hook: 'input' as const, iif: br, oif: none, saddr: inside, daddr: { kind: 'exact', addr: host } as AddrSpec, daddrType: 'local' as const };
    for (const proto of ['udp', 'tcp'] as const) add('dns-in', proto, { ...toHost, l4proto: proto, dport: 53 });
    if (ip.tftpRoot !== undefined) add('tftp-in', 'udp', { ...toHost, l4proto: 'udp', dport: 69 });
    if (ip.dhcpRanges.length + ip.dhcpHosts.length > 0) {
      if (f === 'ipv4') {
        add('dhcp-in', 'udp', { ...toHost, l4proto: 'udp', sport: 68, dport: 67, saddr: { kind: 'exact', addr: 0n }, daddr: { kind: 'exact', addr: must('255.255.255.255', f) }, daddrType: 'broadcast' });
        add('dhcp-out', 'udp', { ...base, hook: 'output', iif: none, oif: br, l4proto: 'udp', sport: 67, dport: 68, saddr: { kind: 'exact', addr: host }, daddr: inside, daddrType: 'unknown' });
      } else {
        add('dhcp-in', 'udp', { ...toHost, l4proto: 'udp', sport: 546, dport: 547, saddr: linkLocal, daddr: { kind: 'exact', addr: must('ff02::1:2', f) }, daddrType: 'multicast' });
        add('dhcp-out', 'udp', { ...base, hook: 'output', iif: none, oif: br, l4proto: 'udp', sport: 547, dport: 546, saddr: linkLocal, daddr: linkLocal, daddrType: 'unknown' });
      }
    }
  }
  return out;
};
