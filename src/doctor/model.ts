// The doctor's view of a host firewall: what was read from the kernel (nft's JSON, iptables-save
// text), reduced to what decides the fate of a packet on the input, forward and output hooks.
// Anything the model cannot express becomes an `unknown` condition or verdict, which the evaluator
// treats as "may match" / "may drop": the doctor never calls a chain it cannot read "fine".
import type { IpFamily } from '../definition/types.js';

export type Hook = 'input' | 'forward' | 'output';
export const HOOKS: readonly Hook[] = ['input', 'forward', 'output'];
export type TableFamily = 'ip' | 'ip6' | 'inet';
// Where a table was read from: nft's JSON, iptables-nft-save (an iptables-nft table whose xt
// matches nft's JSON cannot show), or iptables-legacy-save (legacy's own tables).
export type Source = 'nft' | 'iptables-nft' | 'iptables-legacy';

// The packet fields a condition can test. `daddrtype` is fib/addrtype's local/broadcast/...
export type Field = 'iifname' | 'oifname' | 'saddr' | 'daddr' | 'l4proto' | 'sport' | 'dport' | 'ctstate' | 'ctstatus' | 'daddrtype' | 'nfproto';

// One value a field is compared with: a name (interfaces, protocols, states; `*` suffix as a
// wildcard), a port range, or an address prefix.
export type Value =
  | { kind: 'name'; name: string }
  | { kind: 'ports'; lo: number; hi: number }
  | { kind: 'prefix'; family: IpFamily; addr: bigint; len: number };

export type Cond =
  // `proto` restricts port fields to one protocol (udp dport 53 matches only UDP packets)
  | { kind: 'test'; field: Field; negate: boolean; values: Value[]; proto?: 'tcp' | 'udp' }
  // a condition that may be true or false for our packets (fib, mark, limit, xt, icmp type, ...)
  | { kind: 'unknown'; what: string };

export type Verdict =
  | { kind: 'accept' | 'drop' | 'reject' | 'return' | 'continue' }
  | { kind: 'jump' | 'goto'; target: string }
  // a verdict map: the first entry whose values match the key decides; none: next rule
  | { kind: 'vmap'; field: Field; entries: { values: Value[]; verdict: Verdict }[]; proto?: 'tcp' | 'udp' }
  // anything else that may end the packet's walk (queue, an unknown xt target, ...)
  | { kind: 'unknown'; what: string };

export interface Rule {
  conds: Cond[];
  verdict: Verdict | null;    // null: no verdict (counter, log, mark ...): the walk goes on
  text: string;               // as shown to the user
  handle?: number;
}

export interface BaseHook { hook: Hook; priority: number; policy: 'accept' | 'drop' }

export interface Chain { name: string; base?: BaseHook; rules: Rule[] }

export interface Table {
  family: TableFamily;
  name: string;
  source: Source;
  chains: Map<string, Chain>;
}

// The packet a traffic class sends, as far as rules can see it. Addresses are either one
// address or "some address inside / outside a prefix"; interfaces one name, "none" (no input
// interface on output, no output interface on input), or "some interface other than these".
export type AddrSpec =
  | { kind: 'exact'; addr: bigint }
  | { kind: 'inside' | 'outside'; addr: bigint; len: number };
export type IfaceSpec = { kind: 'name'; name: string } | { kind: 'none' } | { kind: 'other'; not: string[] };
export type AddrType = 'local' | 'broadcast' | 'multicast' | 'unicast' | 'unknown';

export interface Packet {
  family: IpFamily;
  hook: Hook;
  iif: IfaceSpec;
  oif: IfaceSpec;
  saddr: AddrSpec;
  daddr: AddrSpec;
  l4proto: 'tcp' | 'udp' | 'any';
  sport?: number;
  dport?: number;
  ctstate: 'new' | 'established';
  // conntrack status bits our flows have (none are destination-NATed, so never 'dnat')
  ctstatus: string[];
  daddrType: AddrType;
}

// Where the walk of a packet ended.
export interface Where {
  family: TableFamily;
  table: string;
  source: Source;
  baseChain: string;
  chain: string;              // the chain holding the rule (or the base chain, for its policy)
  rule?: { index: number; text: string; handle?: number };   // absent: the base chain's policy
}
