// The doctor's view of a host firewall: the ruleset as src/ruleset reads it (re-exported here for
// the doctor's files), and the packets of a network's traffic walked through it. Anything the model
// cannot express is an `unknown` condition or verdict, which the evaluator treats as "may match" /
// "may drop": the doctor never calls a chain it cannot read "fine".
import type { IpFamily } from '../definition/types.js';

export type {
  BaseHook, Chain, Cond, Field, Hook, Rule, Source, Table, TableFamily, Value, Verdict,
} from '../ruleset/index.js';
export { HOOKS } from '../ruleset/index.js';
import type { Hook, Source, TableFamily } from '../ruleset/index.js';

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
