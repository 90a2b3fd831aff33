import { isOnPath } from '../config/index.js';
import { analyseNetwork, readHostFirewall, type Finding, type HostFirewallPolicy } from '../doctor/index.js';
import type { EngineEnv } from './env.js';
import { EngineError } from './errors.js';
import { definitionOf } from './network-lookup.js';
import { newOpId, runStep, type OpScope } from './steps.js';

export interface DoctorReport { network: string; bridge: string; active: boolean; findings: Finding[] }

// network.conf's host_firewall (default integrate; "explicit" only when the file says so).
const policyOf = (env: EngineEnv): HostFirewallPolicy => ({ mode: env.config.hostFirewall, explicit: env.config.hostFirewallExplicit });

// `vnetfw doctor` and `status --json`'s blockedBy: the kernel is read once (every query logged
// like any program run), then each named (default: every active) network is analysed.
export const doctorNetworks = async (env: EngineEnv, names: readonly string[]): Promise<DoctorReport[]> => {
  const all = env.journal.store.state().networks;
  for (const n of names) if (all[n] === undefined) throw new EngineError('ENONET', `network '${n}' is not defined`, 2);
  const chosen = (names.length > 0 ? names.map((n) => all[n]) : Object.values(all).filter((n) => n?.state === 'active'))
    .filter((n) => n !== undefined)
    .sort((a, b) => a.name.localeCompare(b.name));
  const active = chosen.filter((n) => n.state === 'active');
  if (active.length === 0) return chosen.map((n) => ({ network: n.name, bridge: n.bridge, active: false, findings: [] }));
  const scope: OpScope = { op: newOpId(), network: undefined, networks: active.map((n) => n.name), journal: env.journal, runner: env.runner, counter: { next: 1 } };
  const view = await readHostFirewall((argv) => runStep(scope, { argv, purpose: 'query' }), (p) => isOnPath(p));
  const policy = policyOf(env);
  const reports = chosen.map((n) => ({
    network: n.name,
    bridge: n.bridge,
    active: n.state === 'active',
    findings: n.state === 'active' ? analyseNetwork(definitionOf(env.journal.store, n.name), view.tables, { uplinks: view.uplinks, hostFirewall: policy }) : [],
  }));
  // Rulesets that block a network stay in the log in full; nothing found: their digests only.
  if (reports.some((r) => r.findings.length > 0)) env.journal.keep(scope.op);
  return reports;
};
