import { defer, from, lastValueFrom, mergeMap, toArray } from 'rxjs';
import type { Backend } from '../firewall/index.js';
import type { NetworkStatus } from '../../state/index.js';
import type { Drift } from './drift.js';
import type { EngineEnv } from './env.js';
import { removeMany } from './network-work.js';
import { openScope } from './open-operation.js';
import { interruptedNetworks, rollbackInFlight } from './recovery.js';
import { networkStatus } from './network-lookup.js';
import { checkAndRepair } from './repair.js';
import { runNetworkOps } from './machine-driver.js';
import type { NetworkEvent } from '../../machines/index.js';
import { errorMessage } from '../errors.js';

export type Desire = 'active' | 'stopped' | 'repair';

export interface ReconcileAction { network: string; action: string; ok: boolean; error?: string }
// `drift`: what the kernel lacked or held beyond the log after the operations; each drifted
// network's repair is one of `actions`.
export interface ReconcileReport { recovered: string[]; actions: ReconcileAction[]; backend: Backend | null; drift: Drift[] }


// What the interrupted operation was for: an interrupted start still means "should run".
const desireOf = (st: NetworkStatus): Desire | undefined => {
  switch (st.inFlight?.kind) {
    case 'start': return 'active';
    case 'stop': return 'stopped';
    case 'repair': return 'repair';
    default: return undefined;
  }
};

// Undoes, from the log and the kernel, every operation that never ended among `names` (all when
// undefined), and sets each network's recorded state to what its recorded removals say. Returns
// the kind of each interrupted operation.
const recoverWhere = async (env: EngineEnv, names: readonly string[] | undefined, why: string): Promise<Map<string, NetworkStatus>> => {
  const found = new Map<string, NetworkStatus>();
  for (const st of interruptedNetworks(env).filter((n) => names === undefined || names.includes(n.name))) {
    found.set(st.name, st);
    env.onProgress?.(st.name, `recovering interrupted ${st.inFlight?.kind ?? 'operation'}`);
    await rollbackInFlight(env, st.name, why, { writeTransition: true });
  }
  return found;
};

// Step 1 of reconcile: every network, each with what its interrupted operation was for.
export const recoverInterrupted = async (env: EngineEnv): Promise<Map<string, Desire | undefined>> =>
  new Map([...(await recoverWhere(env, undefined, 'interrupted (recovered by reconcile)'))].map(([n, st]) => [n, desireOf(st)]));

// The same for just the networks a command names (start/stop after a crash need no separate
// `reconcile` first). An interrupted stop is finished (its rules may already be gone).
export const recoverNamed = async (env: EngineEnv, names: readonly string[]): Promise<string[]> => {
  const found = await recoverWhere(env, names, 'interrupted (recovered before a new operation)');
  const stillUp = [...found.values()]
    .filter((st) => st.inFlight?.kind === 'stop' && networkStatus(env.journal.store, st.name).state === 'active').map((st) => st.name);
  if (stillUp.length > 0) await runNetworkOps(env, stillUp.map((name) => ({ name, event: { type: 'STOP' as const } })));
  return [...found.keys()];
};

// A network holding rules on its target backend and on others (a make-before-break switch that
// died after the new rules were recorded): only the removal of the old ones is left to do.
const finishSwitch = async (env: EngineEnv, st: NetworkStatus, to: Backend): Promise<void> => {
  const scope = await openScope(env, st.name, 'switch', { to, strategy: 'make-before-break' });
  await removeMany(scope, [st], to);
  await env.journal.write({ type: 'operation.committed', network: st.name, op: scope.op, data: { backend: to } });
};

// Decides what one network needs: running or not, on the configured backend. Recorded states
// that no machine event leads out of (active with no rules recorded) are first set straight.
const plan = async (env: EngineEnv, name: string, desire: Desire | undefined, backend: () => Backend): Promise<NetworkEvent | 'finish-switch' | null> => {
  const st = networkStatus(env.journal.store, name);
  const open = st.definition?.forward.mode === 'open';
  if (desire === 'stopped' && (st.state !== 'stopped' || Object.keys(st.removals).length > 0)) {
    if (st.state === 'stopped') {
      await env.journal.write({ type: 'network.transition', network: name, data: { from: 'stopped', to: 'active', event: 'RECOVER' } });
    }
    return { type: 'STOP' };
  }
  if (desire === 'active' && st.state === 'stopped') return { type: 'START', backend: backend() };
  if (st.state !== 'active' || open) return null;
  const to = backend();
  const have = Object.keys(st.removals) as Backend[];
  if (have.length === 0) {
    // Active but no rules recorded (a remove-first switch died between its two halves).
    await env.journal.write({ type: 'network.transition', network: name, data: { from: 'active', to: 'stopped', event: 'RECOVER' } });
    return { type: 'START', backend: to };
  }
  if (!have.includes(to)) return { type: 'SWITCH', to, strategy: env.config.switchStrategy };
  if (have.length > 1) return 'finish-switch';
  if (desire === 'repair') return { type: 'REPAIR' };
  return null;
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
// Every decision is in the log.
export const reconcile = async (env: EngineEnv, opts: { concurrency?: number } = {}): Promise<ReconcileReport> => {
  const desires = await recoverInterrupted(env);
  const names = Object.keys(env.journal.store.state().networks).sort();
  const backend = env.backend;
  const wantsRules = names.some((n) => {
    const st = networkStatus(env.journal.store, n);
    return st.state === 'active' || desires.get(n) === 'active';
  });
  const resolved: Backend | null = wantsRules ? backend() : null;
  const cfg = env.journal.store.state().config;
  if (resolved !== null && (cfg?.backend !== resolved || cfg.strategy !== env.config.switchStrategy)) {
    env.journal.note({ type: 'config.changed', data: { backend: resolved, strategy: env.config.switchStrategy, path: env.config.path } });
  }
  // Networks whose operations can share batches go to the kernel together (one transaction per
  // program for all of them); the rest (finishing a half-done switch) are independent and run in
  // parallel up to `concurrency`.
  const events: Array<{ name: string; event: NetworkEvent }> = [];
  const finishing: string[] = [];
  for (const name of names) {
    const p = await plan(env, name, desires.get(name), backend);
    if (p === 'finish-switch') finishing.push(name);
    else if (p !== null) events.push({ name, event: p });
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
    mergeMap((name) => defer(async (): Promise<ReconcileAction> => {
      try {
        await finishSwitch(env, networkStatus(env.journal.store, name), backend());
        return { network: name, action: `finished switch to ${backend()}`, ok: true };
      } catch (err) {
        return { network: name, action: 'failed', ok: false, error: errorMessage(err) };
      }
    }), opts.concurrency ?? 4),
    toArray(),
  )));
  const checked = await checkAndRepair(env, fresh);
  actions.push(...checked.actions);
  await env.journal.flush();
  return { recovered: [...desires.keys()], actions, backend: resolved, drift: checked.drift };
};
