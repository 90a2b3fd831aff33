import { waitFor } from 'xstate';
import {
  acceptsEvent, assertRestorable, networkMachine, observeTransitions, restoreNetworkActor, settledStateFor,
  type NetworkActor, type NetworkContext, type NetworkEvent, type NetworkState, type SettledState,
} from '../../machines/index.js';
import type { NetworkStatus } from '../../state/index.js';
import type { EngineEnv } from './env.js';
import { EngineError } from './errors.js';
import { installedBackend, networkActors, type ActorDeps } from './network-actors.js';
import { networkStatus } from './network-lookup.js';
import { createOpBatches } from './op-batches.js';
import { openOp } from './open-operation.js';
import { operationOf } from './plan.js';
import { recordTransition } from './transitions.js';
import { errorMessage } from '../errors.js';

interface Settled { state: SettledState; context: NetworkContext }

// Where a network's machine starts from: its recorded state, settled. An interrupted operation
// must be recovered first; a state no machine can be restored in fails here, before anything is
// written.
const settle = (env: EngineEnv, st: NetworkStatus): Settled => {
  const isOpen = st.definition?.forward.mode === 'open';
  const backend = installedBackend(st) ?? (st.state === 'active' && isOpen ? env.backend() : null);
  const settled = settledStateFor({
    state: st.state as NetworkState,
    context: { network: st.name, backend, target: null, strategy: env.config.switchStrategy, op: null, lastError: st.lastError ?? null },
  }, st.inFlight !== null);
  if (settled.recover) throw new EngineError('EINFLIGHT', `network '${st.name}' has an interrupted operation: run 'vnetfw reconcile' first`);
  assertRestorable(settled);
  return { state: settled.state, context: settled.context };
};

export interface OpResult { name: string; status?: NetworkStatus; error?: string }

interface Item { name: string; event: NetworkEvent; before: NetworkStatus; settled: Settled }

// Drives several networks through one operation each, one xstate machine per network. The
// machines decide the states; the actors (network-actors.ts) do the work, joining batches so that
// the firewall work of all networks reaches the kernel as one transaction per program. Every
// transition is in the log. A network whose event does not apply (START while active) is left as
// it is. Order: each machine's recorded state settled once, the operation opened, then the
// machines restored with their actors and driven.
export const runNetworkOps = async (env: EngineEnv, requests: ReadonlyArray<{ name: string; event: NetworkEvent }>): Promise<OpResult[]> => {
  const store = env.journal.store;
  const items: Item[] = requests.map((r) => {
    const before = networkStatus(store, r.name);
    return { ...r, before, settled: settle(env, before) };
  });
  const acting = items.filter((i) => acceptsEvent(i.settled, i.event));
  const scope = await openOp(env, acting.flatMap((i) => {
    const o = operationOf(i.event, installedBackend(i.before));
    return o === null ? [] : [{ network: i.name, ...o }];
  }));
  const failures = new Map<string, unknown>();
  const deps: ActorDeps = { env, scope, batches: createOpBatches(env, scope, acting), failures };

  const machine = networkMachine.provide({ actors: networkActors(deps) });
  const restore = (name: string, settled: Settled): NetworkActor => {
    const actor = restoreNetworkActor(machine, settled);
    observeTransitions(actor, (from, to, ev) => {
      if (to === 'rolling-back') failures.set(name, actor.getSnapshot().context.lastError);
      recordTransition(env.journal, { network: name, op: scope.op, from, to, event: ev });
      env.onProgress?.(name, to);
    });
    actor.subscribe({ error: () => undefined });
    return actor;
  };

  const drive = async ({ name, event, actor }: { name: string; event: NetworkEvent; actor: NetworkActor }): Promise<OpResult> => {
    actor.start();
    actor.send(event);
    const done = await waitFor(actor, (s) => s.value === 'stopped' || s.value === 'active' || s.value === 'failed', { timeout: 10 * 60_000 });
    actor.stop();
    await env.journal.flush();   // the last transition is noted, not yet written
    if (failures.has(name) || done.value === 'failed') return { name, error: `${name}: ${done.context.lastError ?? errorMessage(failures.get(name))}` };
    return { name, status: networkStatus(store, name) };
  };
  const actors = items.map((i) => ({ name: i.name, event: i.event, actor: restore(i.name, i.settled) }));
  const results = await Promise.all(actors.map(drive));
  await env.journal.flush();
  return results;
};

export const runNetworkOp = async (env: EngineEnv, name: string, event: NetworkEvent): Promise<NetworkStatus> => {
  const [r] = await runNetworkOps(env, [{ name, event }]);
  if (r?.status === undefined) throw new EngineError('EOPFAILED', r?.error ?? `${name}: operation failed`);
  return r.status;
};
