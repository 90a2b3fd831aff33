import type { EngineEnv } from './env.js';
import { findDrift, repairDrift, type Drift } from './drift.js';
import type { ReconcileAction } from './reconcile.js';
import { runNetworkOp } from './machine-driver.js';

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

const describe = (d: readonly Drift[]): string => {
  const missing = d.reduce((n, x) => n + x.missing.length, 0);
  const foreign = d.reduce((n, x) => n + x.foreign.length, 0);
  return `repaired drift (${missing} missing, ${foreign} foreign)`;
};

// The kernel against the log for every active network, and each drifted network put back through
// its machine (REPAIR), recorded as `verify --repair` records it: drift.found, the repair
// operation, drift.repaired. The cheap check (nft by handle, iptables by rule counts per chain);
// `verify` also runs `iptables -C` per rule. One network failing to repair does not stop the others.
// `fresh`: networks whose complete rule set the caller has just applied and recorded; when every
// active network is one of them there is nothing the kernel could lack yet, and nothing is read.
export const checkAndRepair = async (env: EngineEnv, fresh: ReadonlySet<string> = new Set()): Promise<{ drift: Drift[]; actions: ReconcileAction[] }> => {
  const active = Object.values(env.journal.store.state().networks).filter((n) => n.state === 'active');
  if (active.every((n) => fresh.has(n.name))) return { drift: [], actions: [] };
  const drift = await findDrift(env);
  const actions: ReconcileAction[] = [];
  for (const name of [...new Set(drift.map((d) => d.network))]) {
    try {
      await repairDrift(env, drift.filter((d) => d.network === name), (n) => runNetworkOp(env, n, { type: 'REPAIR' }));
      actions.push({ network: name, action: describe(drift.filter((d) => d.network === name)), ok: true });
    } catch (err) {
      actions.push({ network: name, action: 'failed', ok: false, error: `repairing drift: ${message(err)}` });
    }
  }
  return { drift, actions };
};
