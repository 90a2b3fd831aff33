// What vnetfw does (or would do) about a block, given network.conf's host_firewall and what its
// integration covers: firewalld (the bridge into a zone), iptables' FORWARD with policy DROP
// (accept rules in DOCKER-USER or at the top of FORWARD), and the input/forward chains with
// policy drop of host nftables tables (only with host_firewall = "integrate" written in the
// file). Anything else is reported only. Pure.
import type { NetworkDef } from '../definition/types.js';
import type { Chain, Hook, Table } from './model.js';
import { isIptablesTable } from './owners.js';

export type HostFirewallMode = 'integrate' | 'report' | 'off';
export interface HostFirewallPolicy { mode: HostFirewallMode; explicit: boolean }
export type Action = 'integrate' | 'report' | 'none';
export interface ActionDecision { action: Action; does: string }

export interface BlockSite { table: Table; base: Chain; hook: Hook; owner: string | null }

// `<bridge zone='...'/>` (libvirt's attribute; read loosely until the definition carries it).
const zoneOf = (def: NetworkDef): unknown => (def.bridge as { zone?: unknown }).zone;

const report = (why: string): ActionDecision => ({ action: 'report', does: `reports it only: ${why}` });

export const decideAction = (def: NetworkDef, site: BlockSite, policy: HostFirewallPolicy): ActionDecision => {
  const { table, base } = site;
  const bridge = def.bridge.name;
  const open = def.forward.mode === 'open';
  if (policy.mode === 'off') return { action: 'none', does: 'nothing: host_firewall = "off"' };
  if (table.source === 'iptables-legacy') return report('vnetfw does not change iptables-legacy tables');
  if (policy.mode === 'report') return report('host_firewall = "report"');
  if (site.owner === 'firewalld') {
    if (open && zoneOf(def) === undefined) return report('an open network is put in a firewalld zone only when its <bridge zone=...> names one');
    return { action: 'integrate', does: `puts ${bridge} in a firewalld zone that accepts guest traffic (at start; the daemon and \`vnetfw reconcile\` put it back)` };
  }
  const dropPolicy = base.base?.policy === 'drop';
  if (isIptablesTable(table)) {
    if (table.name === 'filter' && base.name === 'FORWARD' && dropPolicy && !open) {
      return { action: 'integrate', does: `adds accept rules for ${bridge} to DOCKER-USER (or the top of FORWARD) at start, removed at stop` };
    }
    return report(`vnetfw changes iptables only where FORWARD's policy is DROP (here: ${table.name} ${base.name})`);
  }
  const where = `${table.family} ${table.name} ${base.name}`;
  if (!dropPolicy || site.hook === 'output' || (open && site.hook === 'forward')) {
    return report(`vnetfw integrates with host nftables tables only in input and forward chains whose policy is drop (here: ${where})`);
  }
  if (!policy.explicit) return report(`vnetfw changes ${where} only when network.conf sets host_firewall = "integrate" itself`);
  return { action: 'integrate', does: `inserts accept rules for ${bridge} at the top of ${where} at start, removed at stop` };
};
