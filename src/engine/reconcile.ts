import { defer, from, lastValueFrom, mergeMap, toArray } from 'rxjs';
import type { Backend } from '../firewall/index.js';
import type { NetworkStatus } from '../../state/index.js';
import type { Drift } from './drift.js';
import type { EngineEnv } from './env.js';
import { removeMany } from './network-work.js';
import { openScope } from './open-operation.js';
import { planRecovery, planReconcile, type PlannedOp } from './plan.js';
import { rollbackInFlight } from './recovery.js';
import { recordTransition } from './transitions.js';
import { networkStatus } from './network-lookup.js';
import { checkAndRepair } from './repair.js';
import { runNetworkOps } from './machine-driver.js';
import type { NetworkEvent } from '../../machines/index.js';
import { errorMessage } from '../errors.js';

export interface ReconcileAction { network: string; action: string; ok: boolean; error?: string }
// `drift`: what the kernel lacked or held beyond the log after the operations; each drifted
// network's repair is one of `actions`.
export interface ReconcileReport { recovered: string[]; actions: ReconcileAction[]; backend: Backend | null; drift: Drift[] }

// Undoes, from the log and the kernel, every operation that never ended among `names` (all when
// undefined), and sets each network's recorded state to what its recorded removals say.
const recover = async (env: EngineEnv, op: Extract<PlannedOp, { op: 'recover' }>, why: string): Promise<void> => {
  env.onProgress?.(op.network, `recovering interrupted ${op.interrupted ?? 'operation'}`);
  await rollbackInFlight(env, op.network, why, { writeTransition: true });
};

// The same for just the networks a command names (start/stop after a crash need no separate
// `reconcile` first). An interrupted stop is finished (its rules may already be gone).
export const recoverNamed = async (env: EngineEnv, names: readonly string[]): Promise<string[]> => {
  const found = planRecovery(env.journal.store.state(), names);
  for (const r of found) await recover(env, r, 'interrupted (recovered before a new operation)');
  const stillUp = found
    .filter((r) => r.interrupted === 'stop' && networkStatus(env.journal.store, r.network).state === 'active').map((r) => r.network);
  if (stillUp.length > 0) await runNetworkOps(env, stillUp.map((name) => ({ name, event: { type: 'STOP' as const } })));
  return found.map((r) => r.network);
};

// A network holding rules on its target backend and on others (a make-before-break switch that
// died after the new rules were recorded): only the removal of the old ones is left to do.
const finishSwitch = async (env: EngineEnv, st: NetworkStatus, to: Backend): Promise<void> => {
  const scope = await openScope(env, st.name, 'switch', { to, strategy: 'make-before-break' });
  await removeMany(scope, [st], to);
  await env.journal.write({ type: 'operation.committed', network: st.name, op: scope.op, data: { backend: to } });
};

const describeEvent = (e: NetworkEvent): string => {
  switch (e.type) {
    case 'START': return `started on ${e.backend}`;
    case 'STOP': return 'stopped';
    case 'SWITCH': return `switched to ${e.to}`;
    default: return 'repaired';
  }
};

// Recovery first, then every network driven to the configured backend, one operation per network
// at a time and up to `concurrency` networks in parallel; last, the kernel is checked against the
// log and drift repaired, so that one reconcile converges whatever happened (a crash, a flush).
// What to do is decided by `planReconcile` (plan.ts); this carries it out. Every decision is in
// the log.
export const reconcile = async (env: EngineEnv, opts: { concurrency?: number } = {}): Promise<ReconcileReport> => {
  const recovered: string[] = [];
  let resolved: Backend | null = null;
  // Networks whose operations can share batches go to the kernel together (one transaction per
  // program for all of them); the rest (finishing a half-done switch) are independent and run in
  // parallel up to `concurrency`.
  const events: Array<{ name: string; event: NetworkEvent }> = [];
  const finishing: Array<{ name: string; to: Backend }> = [];
  for (const p of planReconcile(env.journal.store.state(), {}, { path: env.config.path, switchStrategy: env.config.switchStrategy, backend: env.backend })) {
    switch (p.op) {
      case 'recover':
        recovered.push(p.network);
        await recover(env, p, 'interrupted (recovered by reconcile)');
        break;
      case 'config':
        resolved = p.backend;
        if (p.changed) env.journal.note({ type: 'config.changed', data: { backend: p.backend, strategy: p.strategy, path: p.path } });
        break;
      case 'set-state':
        recordTransition(env.journal, { network: p.network, from: p.from, to: p.to, event: 'RECOVER' });
        await env.journal.flush();
        break;
      case 'event':
        events.push({ name: p.network, event: p.event });
        break;
      case 'finish-switch':
        finishing.push({ name: p.network, to: p.to });
        break;
      case 'repair-drift':
        break;   // the kernel is read after the operations (checkAndRepair below)
    }
  }
  const actions: ReconcileAction[] = [];
  // Networks whose whole rule set this reconcile applied (and recorded) just now.
  const fresh = new Set<string>();
  if (events.length > 0) {
    for (const r of await runNetworkOps(env, events)) {
      const ev = events.find((e) => e.name === r.name)?.event;
      if (r.error === undefined && ev !== undefined && ev.type !== 'STOP') fresh.add(r.name);
      actions.push(r.error === undefined ? { network: r.name, action: ev === undefined ? 'done' : describeEvent(ev), ok: true } : { network: r.name, action: 'failed', ok: false, error: r.error });
    }
  }
  actions.push(...await lastValueFrom(from(finishing).pipe(
    mergeMap(({ name, to }) => defer(async (): Promise<ReconcileAction> => {
      try {
        await finishSwitch(env, networkStatus(env.journal.store, name), to);
        return { network: name, action: `finished switch to ${to}`, ok: true };
      } catch (err) {
        return { network: name, action: 'failed', ok: false, error: errorMessage(err) };
      }
    }), opts.concurrency ?? 4),
    toArray(),
  )));
  const checked = await checkAndRepair(env, fresh);
  actions.push(...checked.actions);
  await env.journal.flush();
  return { recovered, actions, backend: resolved, drift: checked.drift };
};
