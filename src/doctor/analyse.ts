// Per network and traffic class: which base chain of someone else's firewall drops or rejects
// it, or may. Pure: tables in (as read from the kernel), findings out.
import type { IpFamily, NetworkDef } from '../definition/types.js';
import { decideAction, type Action, type HostFirewallPolicy } from './actions.js';
import { baseChainsOn, evaluateBaseChain, type Outcome } from './evaluate.js';
import type { Hook, Source, Table, TableFamily } from './model.js';
import { isOwn, isOwnTable, ownerOf } from './owners.js';
import { probesFor, TRAFFIC_LABEL, type Traffic } from './probes.js';

export interface Finding {
  network: string;
  bridge: string;
  traffic: Traffic;
  trafficLabel: string;
  ipFamily: IpFamily;
  protocols: ('udp' | 'tcp')[];
  verdict: 'drop' | 'reject' | 'may-drop';
  family: TableFamily;
  table: string;
  hook: Hook;
  baseChain: string;
  chain: string;
  policy?: 'drop';          // the base chain's policy decides (no rule)
  rule?: string;
  handle?: number;
  source: Source;
  owner: string | null;
  action: Action;
  does: string;
}

export interface AnalyseOptions { uplinks: readonly string[]; hostFirewall: HostFirewallPolicy }

const blocking = (o: Outcome): boolean => !o.own && o.fate !== 'accept';
// A chain surely blocks when every way through it ends in a drop or reject of someone else's.
const verdictOf = (outcomes: readonly Outcome[], first: Outcome): Finding['verdict'] =>
  (outcomes.every((o) => !o.own && (o.fate === 'drop' || o.fate === 'reject')) && first.fate !== 'unknown' ? first.fate as 'drop' | 'reject' : 'may-drop');

export const analyseNetwork = (def: NetworkDef, tables: readonly Table[], opts: AnalyseOptions): Finding[] => {
  const foreign = tables.filter((t) => !isOwnTable(t));
  const findings: Finding[] = [];
  const seen = new Map<string, Finding>();
  for (const probe of probesFor(def, opts.uplinks)) {
    for (const { table, chain } of baseChainsOn(foreign, probe.packet.hook, probe.family)) {
      const outcomes = evaluateBaseChain({ isOwn }, table, chain, probe.packet);
      const blocks = outcomes.filter(blocking);
      // name a drop/reject reached for sure before one a condition only may lead to, and either
      // before an unknown verdict
      const decided = blocks.filter((o) => o.fate !== 'unknown');
      const first = decided.find((o) => o.sure) ?? decided[0] ?? blocks[0];
      if (first === undefined) continue;
      const w = first.where;
      const verdict = verdictOf(outcomes, first);
      // one finding per place and verdict: TCP and UDP (and several uplinks) stopped alike are one
      const key = [probe.traffic, probe.family, verdict, table.family, table.name, chain.name, w.chain, w.rule?.index ?? 'policy'].join('|');
      const known = seen.get(key);
      if (known !== undefined) {
        if (!known.protocols.includes(probe.protocol)) known.protocols.push(probe.protocol);
        continue;
      }
      const owner = ownerOf(table, w);
      const { action, does } = decideAction(def, { table, base: chain, hook: probe.packet.hook, owner }, opts.hostFirewall);
      const finding: Finding = {
        network: def.name, bridge: def.bridge.name, traffic: probe.traffic, trafficLabel: TRAFFIC_LABEL[probe.traffic],
        ipFamily: probe.family, protocols: [probe.protocol], verdict,
        family: table.family, table: table.name, hook: probe.packet.hook, baseChain: chain.name, chain: w.chain,
        ...(w.rule === undefined ? { policy: 'drop' as const } : { rule: w.rule.text, ...(w.rule.handle === undefined ? {} : { handle: w.rule.handle }) }),
        source: table.source, owner, action, does,
      };
      seen.set(key, finding);
      findings.push(finding);
    }
  }
  return findings;
};
