import { fromPromise, waitFor } from 'xstate';
import {
  networkMachine, observeTransitions, restoreNetworkActor, settledStateFor,
  type ApplyInput, type ApplyOutput, type NetworkActor, type NetworkEvent, type NetworkState, type RemoveInput,
  type RollbackInput, type RollbackOutput, type SwitchInput, type SwitchOutput,
} from '../../machines/index.js';
import type { NetworkDef } from '../definition/types.js';
import type { Backend, FwRemoval } from '../firewall/index.js';
import type { NetworkStatus } from '../../state/index.js';
import { createBatcher } from './batcher.js';
import type { EngineEnv } from './env.js';
import {
  applyMany, prepareHost, removeBridgeIfOurs, removeMany, repairWork, switchMany, switchRemoveFirst, undoHost,
} from './network-work.js';
import { openOp, type OpExtra, type OpKind } from './open-operation.js';
import { integrate, removeIntegration } from './neighbours.js';
import { rollbackInFlight } from './recovery.js';
import { EngineError } from './errors.js';
import { definitionOf, networkStatus } from './network-lookup.js';
import { forNetwork, type OpScope } from './steps.js';
import { errorMessage } from '../errors.js';


const installedBackend = (st: NetworkStatus): Backend | null => st.backend ?? (Object.keys(st.removals) as Backend[])[0] ?? null;

const restore = (env: EngineEnv, st: NetworkStatus, machine: typeof networkMachine): NetworkActor => {
  const isOpen = st.definition?.forward.mode === 'open';
  const backend = installedBackend(st) ?? (st.state === 'active' && isOpen ? env.backend() : null);
  const settled = settledStateFor({
    state: st.state as NetworkState,
    context: { network: st.name, backend, target: null, strategy: env.config.switchStrategy, op: null, lastError: st.lastError ?? null },
  }, st.inFlight !== null);
  if (settled.recover) throw new EngineError('EINFLIGHT', `network '${st.name}' has an interrupted operation: run 'vnetfw reconcile' first`);
  return restoreNetworkActor(machine, { state: settled.state, context: settled.context });
};

const kindOf = (ev: NetworkEvent): { kind: OpKind; extra: OpExtra } | null => {
  switch (ev.type) {
    case 'START': return { kind: 'start', extra: { to: ev.backend } };
    case 'STOP': return { kind: 'stop', extra: {} };
    case 'SWITCH': return { kind: 'switch', extra: { to: ev.to, strategy: ev.strategy } };
    case 'REPAIR': return { kind: 'repair', extra: {} };
    default: return null;
  }
};

export interface OpResult { name: string; status?: NetworkStatus; error?: string }

// Drives several networks through one operation each, one xstate machine per network. The
// machines decide the states; the actors below do the work, joining batches so that the firewall
// work of all networks reaches the kernel as one transaction per program. Every transition is in
// the log. A network whose event does not apply (START while active) is left as it is.
export const runNetworkOps = async (env: EngineEnv, items: ReadonlyArray<{ name: string; event: NetworkEvent }>): Promise<OpResult[]> => {
  const store = env.journal.store;
  // Set once the operation is in the log; actors only run after that.
  const opened: { scope?: OpScope } = {};
  const scopeOf = (): OpScope => {
    if (opened.scope === undefined) throw new Error('operation not opened');
    return opened.scope;
  };
  const before = new Map(items.map((i) => [i.name, networkStatus(store, i.name)] as const));
  const acting = items.filter((i) => restore(env, before.get(i.name) as NetworkStatus, networkMachine).getSnapshot().can(i.event));
  // A batch holds its networks in the order the caller named them (libvirt's order when each was
  // started in turn), whatever order their machines happened to join in.
  const rank = new Map(items.map((i, k) => [i.name, k] as const));
  const ordered = <V>(inputs: Map<string, V>): Map<string, V> =>
    new Map([...inputs].sort(([a], [b]) => (rank.get(a) ?? 0) - (rank.get(b) ?? 0)));
  const count = (t: NetworkEvent['type'], pred: (e: NetworkEvent) => boolean = () => true): number => acting.filter((i) => i.event.type === t && pred(i.event)).length;
  const startBatch = createBatcher<{ def: NetworkDef; backend: Backend }, FwRemoval>(count('START'), async (joined) => {
    const inputs = ordered(joined);
    const byBackend = new Map<Backend, NetworkDef[]>();
    for (const { def, backend } of inputs.values()) byBackend.set(backend, [...(byBackend.get(backend) ?? []), def]);
    const out = new Map<string, FwRemoval | Error>();
    for (const [b, defs] of byBackend) for (const [n, r] of await applyMany(scopeOf(), b, defs)) out.set(n, r);
    return out;
  });
  const stopBatch = createBatcher<NetworkStatus, true>(count('STOP'), async (joined) => {
    const inputs = ordered(joined);
    await removeMany(scopeOf(), [...inputs.values()]);
    await env.journal.flush();
    return new Map([...inputs.keys()].map((n) => [n, true as const]));
  });
  const isMbb = (e: NetworkEvent): boolean => e.type === 'SWITCH' && e.strategy !== 'remove-first';
  const switchBatch = createBatcher<{ st: NetworkStatus; def: NetworkDef; to: Backend }, FwRemoval>(count('SWITCH', isMbb), async (joined) => {
    const inputs = ordered(joined);
    const to = [...inputs.values()][0]?.to as Backend;
    return switchMany(scopeOf(), [...inputs.values()], to);
  });
  // Buffered: what the kernel holds is already durable (removal.recorded / .cleared); the outcome
  // goes to disk with the next record, so N networks in one operation cost one fsync, not N.
  const commit = (name: string, b: Backend | null): Promise<void> => {
    env.journal.note({ type: 'operation.committed', network: name, op: scopeOf().op, data: b === null ? {} : { backend: b } });
    return Promise.resolve();
  };
  const failures = new Map<string, unknown>();

  const build = (name: string): NetworkActor => {
    const sc = (): OpScope => forNetwork(scopeOf(), name);
    const machine = networkMachine.provide({
      actors: {
        apply: fromPromise<ApplyOutput, ApplyInput>(async ({ input }) => {
          const def = definitionOf(store, name);
          if (input.mode === 'repair') {
            await repairWork(sc(), networkStatus(store, name), def, input.backend);
          } else {
            let created: boolean;
            try {
              created = (await prepareHost(env, sc(), def)).created;
            } catch (err) { startBatch.leave(name); throw err; }
            // Neighbours (firewalld, Docker, host tables) before the rules: a neighbour that
            // refuses fails the start before any rule is in place.
            try { await integrate(env, sc(), def); } catch (err) { startBatch.leave(name); await undoHost(sc(), def, created); throw err; }
            try { await startBatch.join(name, { def, backend: input.backend }); } catch (err) {
              await removeIntegration(sc(), name, 'rollback');
              await undoHost(sc(), def, created);
              throw err;
            }
          }
          await commit(name, input.backend);
          return { backend: input.backend };
        }),
        remove: fromPromise<void, RemoveInput>(async () => {
          await stopBatch.join(name, networkStatus(store, name));
          await removeIntegration(sc(), name);
          await removeBridgeIfOurs(sc(), networkStatus(store, name));
          await commit(name, null);
        }),
        switchBackend: fromPromise<SwitchOutput, SwitchInput>(async ({ input }) => {
          const def = definitionOf(store, name);
          const st = networkStatus(store, name);
          if (input.strategy === 'remove-first') await switchRemoveFirst(sc(), st, def, input.to);
          else await switchBatch.join(name, { st, def, to: input.to });
          await commit(name, input.to);
          return { backend: input.to };
        }),
        rollback: fromPromise<RollbackOutput, RollbackInput>(async ({ input }) => {
          // The work undoes its own partial work before failing; this pass reads the log and the
          // kernel and removes anything still unaccounted for (the code crash recovery uses).
          await rollbackInFlight(env, name, failures.get(name) ?? input.failedOp);
          return { backend: installedBackend(networkStatus(store, name)) };
        }),
      },
    });
    const actor = restore(env, networkStatus(store, name), machine);
    observeTransitions(actor, (from, to, ev) => {
      if (to === 'rolling-back') failures.set(name, actor.getSnapshot().context.lastError);
      // xstate names completion events after its internals; the log says what happened instead.
      const event = ev.startsWith('xstate.done.') ? 'DONE' : ev.startsWith('xstate.error.') ? 'FAILED' : ev;
      env.journal.note({ type: 'network.transition', network: name, ...(opened.scope === undefined ? {} : { op: opened.scope.op }), data: { from, to, event } });
      env.onProgress?.(name, to);
    });
    actor.subscribe({ error: () => undefined });
    return actor;
  };
  const actors = items.map((i) => ({ ...i, actor: build(i.name) }));

  opened.scope = await openOp(env, acting.flatMap((i) => {
    const k = kindOf(i.event);
    const st = before.get(i.name) as NetworkStatus;
    const from = installedBackend(st);
    return k === null ? [] : [{ network: i.name, kind: k.kind, extra: { ...(k.kind === 'switch' && from !== null ? { from } : {}), ...k.extra } }];
  }));

  const drive = async ({ name, event, actor }: { name: string; event: NetworkEvent; actor: NetworkActor }): Promise<OpResult> => {
    actor.start();
    actor.send(event);
    const done = await waitFor(actor, (s) => s.value === 'stopped' || s.value === 'active' || s.value === 'failed', { timeout: 10 * 60_000 });
    actor.stop();
    await env.journal.flush();   // the last transition is noted, not yet written
    if (failures.has(name) || done.value === 'failed') return { name, error: `${name}: ${done.context.lastError ?? errorMessage(failures.get(name))}` };
    return { name, status: networkStatus(store, name) };
  };
  const results = await Promise.all(actors.map(drive));
  await env.journal.flush();
  return results;
};

export const runNetworkOp = async (env: EngineEnv, name: string, event: NetworkEvent): Promise<NetworkStatus> => {
  const [r] = await runNetworkOps(env, [{ name, event }]);
  if (r?.status === undefined) throw new EngineError('EOPFAILED', r?.error ?? `${name}: operation failed`);
  return r.status;
};
