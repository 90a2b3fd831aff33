import { fromPromise } from 'xstate';
import type {
  ApplyInput, ApplyOutput, RemoveInput, RollbackInput, RollbackOutput, SwitchInput, SwitchOutput,
} from '../../machines/index.js';
import type { NetworkDef } from '../definition/types.js';
import type { Backend } from '../firewall/index.js';
import type { NetworkStatus } from '../../state/index.js';
import type { EngineEnv } from './env.js';
import { integrate, removeIntegration } from './neighbours.js';
import { definitionOf, networkStatus } from './network-lookup.js';
import { repairWork, switchRemoveFirst, undoHost } from './network-work.js';
import type { OpBatches } from './op-batches.js';
import { rollbackInFlight } from './recovery.js';
import { forNetwork, type OpScope } from './steps.js';

export const installedBackend = (st: NetworkStatus): Backend | null => st.backend ?? (Object.keys(st.removals) as Backend[])[0] ?? null;

// What one network's machine needs while an operation runs: the opened operation, its batches,
// and where a failure is kept for the rollback that follows it.
export interface ActorDeps {
  env: EngineEnv;
  scope: OpScope;
  batches: OpBatches;
  failures: ReadonlyMap<string, unknown>;
}

// The actors injected into the machine of every network of one operation (`networkMachine.provide`,
// once per operation: each call re-resolves the whole machine definition, which for 40 networks
// was most of a switch's CPU): the work behind each transitional state. Each actor learns its
// network from its input.
export const networkActors = ({ env, scope, batches, failures }: ActorDeps) => {
  const store = env.journal.store;
  // Buffered: what the kernel holds is already durable (removal.recorded / .cleared); the outcome
  // goes to disk with the next record, so N networks in one operation cost one fsync, not N.
  const commit = (name: string, b: Backend | null): Promise<void> => {
    env.journal.note({ type: 'operation.committed', network: name, op: scope.op, data: b === null ? {} : { backend: b } });
    return Promise.resolve();
  };
  return {
    apply: fromPromise<ApplyOutput, ApplyInput>(async ({ input }) => {
      const name = input.network;
      const sc = forNetwork(scope, name);
      let def: NetworkDef;
      try { def = definitionOf(store, name); } catch (err) {
        if (input.mode !== 'repair') { batches.host.leave(name); batches.start.leave(name); }
        throw err;
      }
      if (input.mode === 'repair') {
        await repairWork(sc, networkStatus(store, name), def, input.backend);
      } else {
        let created: boolean;
        try {
          created = (await batches.host.join(name, def)).created;
        } catch (err) { batches.start.leave(name); throw err; }
        // Neighbours (firewalld, Docker, host tables) before the rules: a neighbour that
        // refuses fails the start before any rule is in place.
        try { await integrate(env, sc, def); } catch (err) { batches.start.leave(name); await undoHost(sc, def, created); throw err; }
        try { await batches.start.join(name, { def, backend: input.backend }); } catch (err) {
          await removeIntegration(sc, name, 'rollback');
          await undoHost(sc, def, created);
          throw err;
        }
      }
      await commit(name, input.backend);
      return { backend: input.backend };
    }),
    remove: fromPromise<void, RemoveInput>(async ({ input }) => {
      const name = input.network;
      const sc = forNetwork(scope, name);
      try {
        await batches.stop.join(name, networkStatus(store, name));
        await removeIntegration(sc, name);
      } catch (err) { batches.unbridge.leave(name); throw err; }
      await batches.unbridge.join(name, networkStatus(store, name));
      await commit(name, null);
    }),
    switchBackend: fromPromise<SwitchOutput, SwitchInput>(async ({ input }) => {
      const name = input.network;
      const sc = forNetwork(scope, name);
      const def = definitionOf(store, name);
      const st = networkStatus(store, name);
      if (input.strategy === 'remove-first') await switchRemoveFirst(sc, st, def, input.to);
      else await batches.switch.join(name, { st, def, to: input.to });
      await commit(name, input.to);
      return { backend: input.to };
    }),
    rollback: fromPromise<RollbackOutput, RollbackInput>(async ({ input }) => {
      const name = input.network;
      // The work undoes its own partial work before failing; this pass reads the log and the
      // kernel and removes anything still unaccounted for (the code crash recovery uses).
      await rollbackInFlight(env, name, failures.get(name) ?? input.failedOp);
      return { backend: installedBackend(networkStatus(store, name)) };
    }),
  };
};
