// What a host's firewall holds, read from the kernel (nft's JSON, iptables-save text), reduced to
// what decides the fate of a packet on the input, forward and output hooks: tables, their chains
// (base chains with hook, priority and policy) and rules as conditions and a verdict. Anything the
// model cannot express becomes an `unknown` condition or verdict ("may match" / "may drop"), never
// silently nothing. One reader for every user: `vnetfw doctor` and the neighbour detection of
// `start`.
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
