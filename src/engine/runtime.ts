import { fromPromise, waitFor } from 'xstate';
import {
  networkMachine, observeTransitions, restoreNetworkActor, settledStateFor,
  type ApplyInput, type ApplyOutput, type NetworkEvent, type NetworkState, type RemoveInput, type RollbackInput,
  type RollbackOutput, type SwitchInput, type SwitchOutput,
} from '../../machines/index.js';
import type { Backend } from '../firewall/index.js';
import type { NetworkStatus } from '../../state/index.js';
import type { EngineEnv } from './env.js';
import { definitionOf, EngineError, networkStatus } from './registry.js';
import { openScope, repairWork, startWork, stopWork, switchWork, type OpKind } from './operations.js';
import { rollbackInFlight } from './recovery.js';
import type { OpScope } from './steps.js';

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

const installedBackend = (st: NetworkStatus): Backend | null => {
  const keys = Object.keys(st.removals) as Backend[];
  return st.backend ?? keys[0] ?? null;
};

// Drives one network through one operation with its xstate machine: the machine decides the
// states, the actors below do the work, and every transition lands in the log.
export const runNetworkOp = async (env: EngineEnv, name: string, event: NetworkEvent): Promise<NetworkStatus> => {
  const before = networkStatus(env.journal.store, name);
  const isOpen = before.definition?.forward.mode === 'open';
  const backend = installedBackend(before) ?? (before.state === 'active' && isOpen ? env.backend() : null);
  const settled = settledStateFor({
    state: before.state as NetworkState,
    context: { network: name, backend, target: null, strategy: env.config.switchStrategy, op: null, lastError: before.lastError ?? null },
  }, before.inFlight !== null);
  if (settled.recover) throw new EngineError('EINFLIGHT', `network '${name}' has an interrupted operation: run 'vnetfw reconcile' first`);

  let scope: OpScope | null = null;
  let failure: unknown = null;
  const begin = async (kind: OpKind, extra: { from?: Backend; to?: Backend; strategy?: string }): Promise<OpScope> => {
    scope = await openScope(env, name, kind, extra);
    return scope;
  };
  const commit = async (s: OpScope, b: Backend | null): Promise<void> => {
    await env.journal.write({ type: 'operation.committed', network: name, op: s.op, data: b === null ? {} : { backend: b } });
  };
  const machine = networkMachine.provide({
    actors: {
      apply: fromPromise<ApplyOutput, ApplyInput>(async ({ input }) => {
        const def = definitionOf(env.journal.store, name);
        const st = networkStatus(env.journal.store, name);
        const s = await begin(input.mode === 'repair' ? 'repair' : 'start', { to: input.backend });
        if (input.mode === 'repair') await repairWork(s, st, def, input.backend);
        else await startWork(env, s, def, input.backend);
        await commit(s, input.backend);
        return { backend: input.backend };
      }),
      remove: fromPromise<void, RemoveInput>(async () => {
        const st = networkStatus(env.journal.store, name);
        const s = await begin('stop', {});
        await stopWork(s, st);
        await commit(s, null);
      }),
      switchBackend: fromPromise<SwitchOutput, SwitchInput>(async ({ input }) => {
        const def = definitionOf(env.journal.store, name);
        const st = networkStatus(env.journal.store, name);
        const s = await begin('switch', { from: input.from, to: input.to, strategy: input.strategy });
        await switchWork(s, st, def, input.to, input.strategy);
        await commit(s, input.to);
        return { backend: input.to };
      }),
      rollback: fromPromise<RollbackOutput, RollbackInput>(async ({ input }) => {
        // The work functions undo their own partial work before they fail; this pass reads the
        // log and removes anything still unaccounted for (the same code crash recovery uses).
        if (scope !== null) await rollbackInFlight(env, name, failure);
        const st = networkStatus(env.journal.store, name);
        const left = installedBackend(st);
        return { backend: left ?? (input.failedOp === 'start' ? null : input.backend) };
      }),
    },
  });
  const actor = restoreNetworkActor(machine, { state: settled.state, context: settled.context });
  observeTransitions(actor, (from, to, ev) => {
    env.journal.note({ type: 'network.transition', network: name, ...(scope === null ? {} : { op: scope.op }), data: { from, to, event: ev } });
    env.onProgress?.(name, to);
  });
  actor.subscribe({ error: () => undefined });
  actor.start();
  const errSub = actor.subscribe((snap) => {
    if (snap.value === 'rolling-back' && failure === null) failure = snap.context.lastError;
  });
  actor.send(event);
  const done = await waitFor(actor, (s) => s.value === 'stopped' || s.value === 'active' || s.value === 'failed', { timeout: 10 * 60_000 });
  errSub.unsubscribe();
  actor.stop();
  await env.journal.flush();
  if (failure !== null || done.value === 'failed') {
    throw new EngineError('EOPFAILED', `${name}: ${done.context.lastError ?? message(failure)}`);
  }
  return networkStatus(env.journal.store, name);
};
