// What vnetfw does about the neighbours it found, for one network. Pure: the engine reads the
// kernel and firewalld, this decides.
import type { NetworkDef } from '../../definition/types.js';
import { describeHostChain } from './detect.js';
import type { HostFirewallMode, IntegrationStep, NeighbourFacts } from './model.js';
import { dockerSteps, firewalldBindStep, hostNftSteps, LIBVIRT_ZONE, VNETFW_ZONE, zoneInstallSteps } from './steps.js';

export interface IntegrationPlan {
  steps: IntegrationStep[];
  warnings: string[];
  // Set when the network cannot be started as asked (the zone it names cannot be used).
  error?: { code: string; message: string };
}

export interface PlanOptions {
  mode: HostFirewallMode;
  explicit: boolean;             // host_firewall is written in network.conf
  vnetfwZoneInstalled: boolean;  // the log records vnetfw's zone as installed by another network
}

export const planIntegration = (def: NetworkDef, facts: NeighbourFacts, opts: PlanOptions): IntegrationPlan => {
  const plan: IntegrationPlan = { steps: [], warnings: [] };
  if (opts.mode === 'off') return plan;
  const act = opts.mode === 'integrate';
  const zone = def.bridge.zone;
  const open = def.forward.mode === 'open';
  if (facts.firewalldSeen && facts.firewalld === null && (zone !== undefined || !open)) {
    plan.error = { code: 'EFIREWALLD', message: `firewalld's rules are in the kernel but firewalld does not answer (firewall-cmd --state): start firewalld, or set host_firewall = "off" in network.conf` };
    return plan;
  }
  if (zone !== undefined && facts.firewalld === null) {
    plan.error = { code: 'EFIREWALLD', message: `zone '${zone}' requested but firewalld is not running` };
    return plan;
  }
  if (facts.firewalld !== null && (zone !== undefined || !open)) {
    const zones = facts.firewalld.zones;
    if (zone !== undefined && !zones.includes(zone)) {
      plan.error = { code: 'EFIREWALLD', message: `firewalld has no zone '${zone}' (bridge zone in the network's definition)` };
      return plan;
    }
    const chosen = zone ?? (zones.includes(LIBVIRT_ZONE) ? LIBVIRT_ZONE : VNETFW_ZONE);
    if (act) {
      if (chosen === VNETFW_ZONE && !zones.includes(VNETFW_ZONE) && !opts.vnetfwZoneInstalled) plan.steps.push(...zoneInstallSteps());
      plan.steps.push(firewalldBindStep(def, chosen));
    } else {
      plan.warnings.push(`${def.name}: firewalld runs; its zones reject the traffic of ${def.bridge.name} unless it is put in zone '${chosen}' (host_firewall = "${opts.mode}")`);
    }
  }
  if (open) return plan;
  const hasFamily = (f: 'ipv4' | 'ipv6'): boolean => def.ips.some((ip) => ip.family === f);
  for (const fam of ['ipv4', 'ipv6'] as const) {
    const drop = facts.forwardDrop[fam];
    if (drop === null || !hasFamily(fam)) continue;
    if (act) plan.steps.push(...dockerSteps(def, fam, drop.dockerUser));
    else plan.warnings.push(`${def.name}: ${fam === 'ipv4' ? 'iptables' : 'ip6tables'} FORWARD has policy DROP${drop.dockerUser ? ' (Docker)' : ''}: guests' forwarded traffic is dropped (host_firewall = "${opts.mode}")`);
  }
  for (const chain of facts.hostTables) {
    if (act && opts.explicit) plan.steps.push(...hostNftSteps(def, chain));
    else plan.warnings.push(`${def.name}: host nftables chain ${describeHostChain(chain)} drops guests' traffic; vnetfw changes it only with host_firewall = "integrate" written in network.conf`);
  }
  return plan;
};
