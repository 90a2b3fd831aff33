import { createActor, type Actor, type AnyEventObject } from 'xstate';
import { networkMachine, type NetworkMachine } from './network-machine.js';
import { SETTLED_STATES, type NetworkContext, type NetworkEvent, type NetworkState, type SettledState } from './types.js';

export type NetworkActor = Actor<NetworkMachine>;

export interface RecordedNetwork { state: NetworkState; context: NetworkContext }
export interface SettledNetwork {
  state: SettledState;
  context: NetworkContext;
  // An operation was interrupted: the kernel may hold part of it; the engine must reconcile.
  recover: boolean;
}

/**
 * Maps what the event log last recorded for a network to the settled state to restore it in.
 * A transitional state means the process died mid-operation; since `context.backend` only changes
 * when an operation completes, it still names what was installed before it, so the pre-operation
 * state is `active` when a backend is recorded and `stopped` otherwise. `inFlight` (an operation
 * began in the log but never ended) flags recovery even when the recorded state is settled.
 * `failed` stays failed: it is not interrupted, it waits for RETRY, RESET or STOP.
 */
export function settledStateFor(recorded: RecordedNetwork, inFlight: boolean): SettledNetwork {
  const settled = (SETTLED_STATES as readonly string[]).includes(recorded.state);
  const state: SettledState = settled
    ? (recorded.state as SettledState)
    : recorded.context.backend !== null ? 'active' : 'stopped';
  const context: NetworkContext = state === 'failed'
    ? { ...recorded.context }
    : { ...recorded.context, target: null, backend: state === 'stopped' ? null : recorded.context.backend };
  return { state, context, recover: inFlight || !settled };
}

/**
 * Creates (does not start) an actor already in a settled state, without running any actor:
 * `active` does not re-apply. Only settled states are accepted, because restoring into a state
 * with an invoke would start its actor again (xstate 5 re-runs the invoke of a restored state); use settledStateFor first.
 */
export function restoreNetworkActor(
  machine: NetworkMachine,
  recorded: { state: SettledState; context: NetworkContext },
): NetworkActor {
  assertRestorable(recorded);
  const { state, context } = recorded;
  const snapshot = machine.resolveState({ value: state, context });
  return createActor(machine, { snapshot, input: { network: context.network, strategy: context.strategy } });
}

/** Throws what `restoreNetworkActor` would throw, without creating anything. */
export function assertRestorable(recorded: { state: SettledState; context: NetworkContext }): void {
  const { state, context } = recorded;
  if (!(SETTLED_STATES as readonly string[]).includes(state)) {
    throw new Error(`cannot restore network '${context.network}' into transitional state '${state}'`);
  }
  if (state === 'active' && context.backend === null) {
    throw new Error(`cannot restore network '${context.network}' as active without an installed backend`);
  }
}

/**
 * Whether a network restored in `recorded` takes `event` (START while stopped, SWITCH to another
 * backend, ...): the machine's own transitions and guards answer, nothing runs.
 */
export function acceptsEvent(recorded: { state: SettledState; context: NetworkContext }, event: NetworkEvent): boolean {
  return networkMachine.resolveState({ value: recorded.state, context: recorded.context }).can(event);
}

export type TransitionCallback = (from: NetworkState, to: NetworkState, eventType: string) => void;

/**
 * Calls `cb` on every change of state value (not on context-only changes), with the event that
 * caused it (e.g. 'START', 'xstate.done.actor.0.network.applying'), so the engine can log each
 * transition. Call before `actor.start()` so the first transition is not missed. Returns an
 * unsubscribe function.
 */
export function observeTransitions(actor: NetworkActor, cb: TransitionCallback): () => void {
  let current = actor.getSnapshot().value as NetworkState;
  const sub = actor.system.inspect((ev) => {
    if (ev.type !== '@xstate.snapshot' || ev.actorRef !== actor) return;
    const next = (ev.snapshot as { value?: unknown }).value as NetworkState | undefined;
    if (next === undefined || next === current) return;
    const from = current;
    current = next;
    cb(from, next, (ev.event as AnyEventObject).type);
  });
  return () => sub.unsubscribe();
}
