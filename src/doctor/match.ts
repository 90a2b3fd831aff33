// Three-valued matching of one condition against a packet description: 'yes' when every packet
// of the traffic class matches, 'no' when none does, 'maybe' when some might (or when we cannot
// tell). The evaluator follows both branches of a 'maybe'.
import type { IpFamily } from '../definition/types.js';
import type { AddrSpec, Cond, Field, IfaceSpec, Packet, Value } from './model.js';

export type Tri = 'yes' | 'no' | 'maybe';

const bits = (f: IpFamily): number => (f === 'ipv4' ? 32 : 128);
const maskOf = (len: number, f: IpFamily): bigint => {
  const all = (1n << BigInt(bits(f))) - 1n;
  return (all << BigInt(bits(f) - len)) & all;
};
const within = (addr: bigint, net: bigint, len: number, f: IpFamily): boolean => (addr & maskOf(len, f)) === (net & maskOf(len, f));

// Some address of `spec` (one address, inside or outside a prefix) in the prefix `p`?
const addrIn = (spec: AddrSpec, p: { addr: bigint; len: number }, f: IpFamily): Tri => {
  if (spec.kind === 'exact') return within(spec.addr, p.addr, p.len, f) ? 'yes' : 'no';
  const overlap = within(spec.addr, p.addr, Math.min(p.len, spec.len), f);
  if (spec.kind === 'inside') {
    if (!overlap) return 'no';
    return p.len <= spec.len ? 'yes' : 'maybe';
  }
  // outside spec: p inside spec's prefix matches none of these addresses; only /0 matches all
  if (overlap && p.len >= spec.len) return 'no';
  return p.len === 0 ? 'yes' : 'maybe';
};

// nft's `*` suffix and iptables' `+` (already turned into `*`) match a name prefix.
const nameMatches = (pattern: string, name: string): boolean =>
  (pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : pattern === name);

const ifaceIs = (spec: IfaceSpec, pattern: string): Tri => {
  if (spec.kind === 'name') return nameMatches(pattern, spec.name) ? 'yes' : 'no';
  if (spec.kind === 'none') return pattern === '' ? 'yes' : 'no';
  if (spec.not.some((n) => pattern === n)) return 'no';
  return 'maybe';
};

const PROTO_NUM: Record<string, string> = { '6': 'tcp', '17': 'udp', '1': 'icmp', '58': 'ipv6-icmp', icmpv6: 'ipv6-icmp' };
const protoName = (s: string): string => PROTO_NUM[s] ?? s;

const CT: Record<string, 'new' | 'established'> = { new: 'new', established: 'established' };

const one = (pkt: Packet, field: Field, v: Value, proto: 'tcp' | 'udp' | undefined): Tri => {
  switch (field) {
    case 'iifname': return v.kind === 'name' ? ifaceIs(pkt.iif, v.name) : 'maybe';
    case 'oifname': return v.kind === 'name' ? ifaceIs(pkt.oif, v.name) : 'maybe';
    case 'saddr':
    case 'daddr': {
      if (v.kind !== 'prefix') return 'maybe';
      if (v.family !== pkt.family) return 'no';
      return addrIn(field === 'saddr' ? pkt.saddr : pkt.daddr, v, v.family);
    }
    case 'l4proto': {
      if (v.kind !== 'name') return 'maybe';
      if (pkt.l4proto === 'any') return 'maybe';
      return protoName(v.name) === pkt.l4proto ? 'yes' : 'no';
    }
    case 'sport':
    case 'dport': {
      if (proto !== undefined && pkt.l4proto !== 'any' && proto !== pkt.l4proto) return 'no';
      const port = field === 'sport' ? pkt.sport : pkt.dport;
      if (v.kind !== 'ports' || port === undefined || pkt.l4proto === 'any') return 'maybe';
      return port >= v.lo && port <= v.hi ? 'yes' : 'no';
    }
    case 'ctstate': {
      if (v.kind !== 'name') return 'maybe';
      const s = CT[v.name.toLowerCase()];
      // related, invalid, untracked: never our packets' state (we describe new and established flows)
      return s === pkt.ctstate ? 'yes' : 'no';
    }
    case 'ctstatus':
      return v.kind === 'name' && pkt.ctstatus.includes(v.name) ? 'yes' : 'no';
    case 'daddrtype': {
      if (v.kind !== 'name' || pkt.daddrType === 'unknown') return 'maybe';
      return v.name.toLowerCase() === pkt.daddrType ? 'yes' : 'no';
    }
    case 'nfproto': {
      if (v.kind !== 'name') return 'maybe';
      return v.name === pkt.family ? 'yes' : 'no';
    }
  }
};

const anyOf = (ts: Tri[]): Tri => (ts.includes('yes') ? 'yes' : ts.every((t) => t === 'no') ? 'no' : 'maybe');
const not = (t: Tri): Tri => (t === 'yes' ? 'no' : t === 'no' ? 'yes' : 'maybe');

export const matchValues = (pkt: Packet, field: Field, values: readonly Value[], proto?: 'tcp' | 'udp'): Tri => {
  // A port test of another protocol fails even when negated (`udp dport != 53` needs UDP).
  if ((field === 'sport' || field === 'dport') && proto !== undefined && pkt.l4proto !== 'any' && proto !== pkt.l4proto) return 'no';
  return anyOf(values.map((v) => one(pkt, field, v, proto)));
};

export const matchCond = (pkt: Packet, c: Cond): Tri => {
  if (c.kind === 'unknown') return 'maybe';
  const t = matchValues(pkt, c.field, c.values, c.proto);
  if (!c.negate) return t;
  if ((c.field === 'sport' || c.field === 'dport') && c.proto !== undefined && pkt.l4proto !== 'any' && c.proto !== pkt.l4proto) return 'no';
  return not(t);
};

export const matchAll = (pkt: Packet, conds: readonly Cond[]): Tri => {
  let acc: Tri = 'yes';
  for (const c of conds) {
    const t = matchCond(pkt, c);
    if (t === 'no') return 'no';
    if (t === 'maybe') acc = 'maybe';
  }
  return acc;
};
