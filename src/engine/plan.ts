import type { NetConf } from '../config/index.js';
import type { Backend, IntegrationStep } from '../firewall/index.js';
import type { NetworkEvent, SwitchStrategy } from '../../machines/index.js';
import type { NetworkStatus, OperationKind, ProjectionState } from '../../state/index.js';
import type { Drift } from './drift.js';
import type { OpExtra, OpKind } from './open-operation.js';

// What reconcile does, decided in one place from the recorded state, what the kernel was seen to
// hold and the configuration; nothing here reads or writes anything. The executors (reconcile.ts,
// drift.ts) carry the operations out in the order given.

export type Settled = 'active' | 'stopped';

export type PlannedOp =
  // Undo the network's interrupted operation from the log and the kernel (recovery.ts); its
  // recorded state is `to` afterwards (null: no operation was open, nothing to undo).
  | { op: 'recover'; network: string; interrupted: OperationKind | null; to: Settled | null }
  // The backend the configuration resolves to; `changed`: not yet what the log records.
  | { op: 'config'; backend: Backend; strategy: SwitchStrategy; path: string; changed: boolean }
  // A recorded state no machine event leads out of, set straight in the log (no kernel work).
  | { op: 'set-state'; network: string; from: Settled; to: Settled }
  // An event through the network's machine (all of these share one operation and its batches).
  | { op: 'event'; network: string; event: NetworkEvent }
  // A make-before-break switch that died after its new rules were recorded: remove the old ones.
  | { op: 'finish-switch'; network: string; to: Backend }
  // Drift put back: the private set-up of `setups`, the rules re-applied (REPAIR) if `rules`, the
  // neighbour steps taken again.
  | { op: 'repair-drift'; network: string; setups: Array<'iptables' | 'nftables'>; rules: boolean; neighbours: IntegrationStep[] };

export interface PlanConfig extends Pick<NetConf, 'path' | 'switchStrategy'> {
  // Resolved lazily: a missing program only matters when some network wants rules.
  backend: () => Backend;
}

// What was read from the kernel: the drift a check found (absent: the kernel was not read).
export interface KernelView { drift?: readonly Drift[] }

// What an interrupted operation was for: an interrupted start still means "should run".
export type Desire = 'active' | 'stopped' | 'repair';

const desireOf = (st: NetworkStatus): Desire | undefined => {
  switch (st.inFlight?.kind) {
    case 'start': return 'active';
    case 'stop': return 'stopped';
    case 'repair': return 'repair';
    default: return undefined;
  }
};

// Where a network stands once its interrupted operation is undone: on exactly its recorded
// removals (an open network has none and is active if it was).
export const stateAfterRollback = (st: NetworkStatus): Settled =>
  Object.keys(st.removals).length > 0 || (st.state === 'active' && st.definition?.forward.mode === 'open') ? 'active' : 'stopped';

// Every network with an operation that never ended (the process died mid-way).
const isInterrupted = (st: NetworkStatus): boolean => st.inFlight !== null || !['stopped', 'active', 'failed'].includes(st.state);

// The networks to recover, in the order the log defined them, and their state afterwards.
export const planRecovery = (state: ProjectionState, names?: readonly string[]): Array<Extract<PlannedOp, { op: 'recover' }>> =>
  Object.values(state.networks).filter((n) => isInterrupted(n) && (names === undefined || names.includes(n.name)))
    .map((n) => ({ op: 'recover', network: n.name, interrupted: n.inFlight?.kind ?? null, to: n.inFlight === null ? null : stateAfterRollback(n) }));

// What one network needs once recovered: running or not, on the configured backend.
const converge = (st: NetworkStatus, desire: Desire | undefined, config: PlanConfig): PlannedOp[] => {
  const network = st.name;
  if (desire === 'stopped' && (st.state !== 'stopped' || Object.keys(st.removals).length > 0)) {
    // Rules still recorded on a stopped network: it is active as far as its machine is concerned.
    return [...(st.state === 'stopped' ? [{ op: 'set-state', network, from: 'stopped', to: 'active' } as const] : []), { op: 'event', network, event: { type: 'STOP' } }];
  }
  if (desire === 'active' && st.state === 'stopped') return [{ op: 'event', network, event: { type: 'START', backend: config.backend() } }];
  if (st.state !== 'active' || st.definition?.forward.mode === 'open') return [];
  const to = config.backend();
  const have = Object.keys(st.removals) as Backend[];
  // Active but no rules recorded (a remove-first switch died between its two halves).
  if (have.length === 0) return [{ op: 'set-state', network, from: 'active', to: 'stopped' }, { op: 'event', network, event: { type: 'START', backend: to } }];
  if (!have.includes(to)) return [{ op: 'event', network, event: { type: 'SWITCH', to, strategy: config.switchStrategy } }];
  if (have.length > 1) return [{ op: 'finish-switch', network, to }];
  if (desire === 'repair') return [{ op: 'event', network, event: { type: 'REPAIR' } }];
  return [];
};

// The operation a machine event opens, as `operation.started` records it (`from`: the backend a
// switch leaves); RETRY and RESET open none.
export const operationOf = (ev: NetworkEvent, installed: Backend | null): { kind: OpKind; extra: OpExtra } | null => {
  switch (ev.type) {
    case 'START': return { kind: 'start', extra: { to: ev.backend } };
    case 'STOP': return { kind: 'stop', extra: {} };
    case 'SWITCH': return { kind: 'switch', extra: { ...(installed === null ? {} : { from: installed }), to: ev.to, strategy: ev.strategy } };
    case 'REPAIR': return { kind: 'repair', extra: {} };
    default: return null;
  }
};

// Each drifted network's repair, carried out in this order: the private set-up the rules hang from
// (per backend), the rules re-applied when more than set-up and neighbours is missing or foreign
// rules are there, then the neighbour steps taken again (a bridge back in its firewalld zone before
// its masquerade is back would let guests out unmasqueraded).
export const planDriftRepair = (drift: readonly Drift[]): Array<Extract<PlannedOp, { op: 'repair-drift' }>> =>
  [...new Set(drift.map((d) => d.network))].map((network) => {
    const mine = drift.filter((d) => d.network === network);
    return {
      op: 'repair-drift', network,
      setups: mine.filter((d) => d.setup !== undefined).flatMap((d) => (d.backend === 'iptables' || d.backend === 'nftables' ? [d.backend] : [])),
      rules: mine.some((d) => d.missing.length > (d.neighbours?.length ?? 0) + (d.setup?.length ?? 0) || d.foreign.length > 0),
      neighbours: mine.flatMap((d) => d.neighbours ?? []),
    };
  });

/**
 * Recorded state + kernel view + configuration -> the operations to run, in order: recovery of
 * every interrupted operation, the configured backend, then per network (by name) what brings it
 * to its wanted state on that backend, last the repair of drift on networks nothing else re-applies.
 * Lazy: the caller runs each recovery before the backend is resolved (resolving it may fail, and
 * recovery must not wait on that).
 */
export function* planReconcile(state: ProjectionState, kernel: KernelView, config: PlanConfig): Generator<PlannedOp> {
  const recovered = planRecovery(state);
  yield* recovered;
  const desires = new Map(recovered.map((r) => [r.network, desireOf(state.networks[r.network] as NetworkStatus)]));
  const after = (st: NetworkStatus): NetworkStatus => {
    const r = recovered.find((x) => x.network === st.name);
    return r?.to == null ? st : { ...st, inFlight: null, state: r.to };
  };
  const names = Object.keys(state.networks).sort();
  const statuses = names.map((n) => after(state.networks[n] as NetworkStatus));
  const wantsRules = statuses.some((st) => st.state === 'active' || desires.get(st.name) === 'active');
  if (wantsRules) {
    const backend = config.backend();
    const changed = state.config?.backend !== backend || state.config.strategy !== config.switchStrategy;
    yield { op: 'config', backend, strategy: config.switchStrategy, path: config.path, changed };
  }
  const busy = new Set<string>();
  for (const st of statuses) {
    const ops = converge(st, desires.get(st.name), config);
    if (ops.length > 0) busy.add(st.name);
    yield* ops;
  }
  yield* planDriftRepair((kernel.drift ?? []).filter((d) => !busy.has(d.network)));
}
