import { fromPromise } from 'xstate';
import {
  networkMachine, observeTransitions, restoreNetworkActor,
  type ApplyInput, type ApplyOutput, type Backend, type NetworkActor, type NetworkContext, type RemoveInput,
  type RollbackInput, type RollbackOutput, type SettledState, type SwitchInput, type SwitchOutput,
} from '../../../machines/index.js';

export type Outcome = 'ok' | 'fail' | 'hang';
export interface Plan {
  apply?: Outcome;
  remove?: Outcome;
  switchBackend?: Outcome;
  rollback?: Outcome;
  rollbackTo?: Backend | null;     // what a successful rollback reports as installed
}

const settle = <T>(name: string, outcome: Outcome | undefined, value: T): Promise<T> =>
  outcome === 'fail' ? Promise.reject(new Error(`${name} failed`))
    : outcome === 'hang' ? new Promise<T>(() => undefined)
      : Promise.resolve(value);

// The machine with fake actors that record each call as one line and behave as `plan` says.
export function fakeMachine(plan: Plan, calls: string[]) {
  return networkMachine.provide({
    actors: {
      apply: fromPromise<ApplyOutput, ApplyInput>(({ input }) => {
        calls.push(`apply ${input.backend} ${input.mode}`);
        return settle('apply', plan.apply, { backend: input.backend });
      }),
      remove: fromPromise<void, RemoveInput>(({ input }) => {
        calls.push(`remove ${input.backend}`);
        return settle('remove', plan.remove, undefined);
      }),
      switchBackend: fromPromise<SwitchOutput, SwitchInput>(({ input }) => {
        calls.push(`switch ${input.from}->${input.to} ${input.strategy}`);
        return settle('switchBackend', plan.switchBackend, { backend: input.to });
      }),
      rollback: fromPromise<RollbackOutput, RollbackInput>(({ input }) => {
        calls.push(`rollback ${input.failedOp} to=${input.backend ?? 'none'} attempted=${input.attempted ?? 'none'}`);
        return settle('rollback', plan.rollback, { backend: plan.rollbackTo === undefined ? input.backend : plan.rollbackTo });
      }),
    },
  });
}

export const ctx = (over: Partial<NetworkContext> = {}): NetworkContext => ({
  network: 'default', backend: null, target: null, strategy: 'make-before-break', op: null, lastError: null, ...over,
});

// A started actor in a settled state, with its transitions recorded as 'from>to:event'.
export function startIn(state: SettledState, context: NetworkContext, plan: Plan) {
  const calls: string[] = [];
  const transitions: string[] = [];
  const actor: NetworkActor = restoreNetworkActor(fakeMachine(plan, calls), { state, context });
  observeTransitions(actor, (from, to, ev) => transitions.push(`${from}>${to}:${eventKind(ev)}`));
  actor.start();
  return { actor, calls, transitions };
}

export const eventKind = (type: string): string =>
  type.startsWith('xstate.done.actor') ? 'done' : type.startsWith('xstate.error.actor') ? 'error' : type;

// One macrotask: every promise-actor chain of fakes has run by then.
export const flush = () => new Promise<void>((r) => setTimeout(r, 5));
