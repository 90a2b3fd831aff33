import { assign, fromPromise, setup } from 'xstate';
import type {
  ApplyInput, ApplyOutput, NetworkContext, NetworkEvent, NetworkInput, Operation, RemoveInput,
  RollbackInput, RollbackOutput, SwitchInput, SwitchOutput,
} from './types.js';

// Placeholders: the machine itself does no I/O. The engine injects real actors with .provide(),
// so a machine nobody wired up fails loudly instead of touching the host.
const notProvided = (name: string) => (): Promise<never> =>
  Promise.reject(new Error(`network machine actor '${name}' was not provided`));

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

// Context invariants (a transitional state always has what its actor needs) hold by construction
// and are checked on restore; breaking one is a bug, reported as the actor's error.
function must<T>(value: T | null, what: string): T {
  if (value === null) throw new Error(`network machine invariant: ${what} is not set`);
  return value;
}

const ROLLBACK_FAILED = '; rollback failed: ';

/**
 * One network's lifecycle. Transitional states (`applying`, `stopping`, `backend-switching`,
 * `rolling-back`) each invoke one actor; every failure goes to `rolling-back`, which puts the
 * network back where it was before the operation (`active` if a backend remains installed,
 * else `stopped`); only a failed rollback ends in `failed`.
 *
 * Events that do not apply in a state are ignored (START while active, STOP while stopped,
 * SWITCH to the installed backend, anything during a transitional state): the engine serialises
 * operations per network, so there is nothing to queue.
 *
 * REPAIR (active) reuses `applying` with `op: 'repair'`, so that `status` only ever shows the
 * states `vnetfw status` documents; the apply actor gets `mode: 'repair'`.
 *
 * A failed stop rolls back too (re-installs what the partial stop removed, back to `active`):
 * removal ignores per-command errors like libvirt's fwRemoval, so `remove` only fails when
 * something beyond a rule went wrong, and then all-or-nothing still holds.
 */
export const networkMachine = setup({
  types: {
    context: {} as NetworkContext,
    events: {} as NetworkEvent,
    input: {} as NetworkInput,
  },
  actors: {
    apply: fromPromise<ApplyOutput, ApplyInput>(notProvided('apply')),
    remove: fromPromise<void, RemoveInput>(notProvided('remove')),
    switchBackend: fromPromise<SwitchOutput, SwitchInput>(notProvided('switchBackend')),
    rollback: fromPromise<RollbackOutput, RollbackInput>(notProvided('rollback')),
  },
  guards: {
    isOtherBackend: ({ context, event }) => event.type === 'SWITCH' && event.to !== context.backend,
    hasInstalledBackend: ({ context }) => context.backend !== null,
    rollbackLeftBackend: (_, params: { output: RollbackOutput }) => params.output.backend !== null,
  },
  actions: {
    beginOp: assign((_, params: { op: Operation }) => ({ op: params.op, lastError: null })),
    recordError: assign({ lastError: (_, params: { error: unknown }) => errorText(params.error) }),
  },
}).createMachine({
  id: 'network',
  context: ({ input }) => ({
    network: input.network,
    backend: null,
    target: null,
    strategy: input.strategy ?? 'make-before-break',
    op: null,
    lastError: null,
  }),
  initial: 'stopped',
  states: {
    stopped: {
      on: {
        START: {
          target: 'applying',
          actions: [{ type: 'beginOp', params: { op: 'start' } }, assign({ target: ({ event }) => event.backend })],
        },
      },
    },
    applying: {
      invoke: {
        src: 'apply',
        input: ({ context }) => ({
          network: context.network,
          backend: must(context.target, 'target backend'),
          mode: context.op === 'repair' ? 'repair' : 'start',
        }),
        onDone: { target: 'active', actions: assign({ backend: ({ event }) => event.output.backend, target: null }) },
        onError: { target: 'rolling-back', actions: { type: 'recordError', params: ({ event }) => ({ error: event.error }) } },
      },
    },
    active: {
      on: {
        STOP: { target: 'stopping', actions: { type: 'beginOp', params: { op: 'stop' } } },
        SWITCH: {
          guard: 'isOtherBackend',
          target: 'backend-switching',
          actions: [
            { type: 'beginOp', params: { op: 'switch' } },
            assign({ target: ({ event }) => event.to, strategy: ({ event }) => event.strategy }),
          ],
        },
        REPAIR: {
          target: 'applying',
          actions: [{ type: 'beginOp', params: { op: 'repair' } }, assign({ target: ({ context }) => context.backend })],
        },
      },
    },
    stopping: {
      invoke: {
        src: 'remove',
        input: ({ context }) => ({ network: context.network, backend: must(context.backend, 'installed backend') }),
        onDone: { target: 'stopped', actions: assign({ backend: null, target: null }) },
        onError: { target: 'rolling-back', actions: { type: 'recordError', params: ({ event }) => ({ error: event.error }) } },
      },
    },
    'backend-switching': {
      invoke: {
        src: 'switchBackend',
        input: ({ context }) => ({
          network: context.network,
          from: must(context.backend, 'installed backend'),
          to: must(context.target, 'target backend'),
          strategy: context.strategy,
        }),
        onDone: { target: 'active', actions: assign({ backend: ({ event }) => event.output.backend, target: null }) },
        onError: { target: 'rolling-back', actions: { type: 'recordError', params: ({ event }) => ({ error: event.error }) } },
      },
    },
    'rolling-back': {
      invoke: {
        src: 'rollback',
        input: ({ context }) => ({
          network: context.network,
          backend: context.backend,
          attempted: context.target,
          failedOp: context.op ?? 'start',
        }),
        onDone: [
          {
            guard: { type: 'rollbackLeftBackend', params: ({ event }) => ({ output: event.output }) },
            target: 'active',
            actions: assign({ backend: ({ event }) => event.output.backend, target: null }),
          },
          { target: 'stopped', actions: assign({ backend: null, target: null }) },
        ],
        onError: {
          target: 'failed',
          actions: assign({
            // Keep the operation's own error first; a retried rollback replaces the previous suffix.
            lastError: ({ context, event }) =>
              `${(context.lastError ?? 'operation failed').split(ROLLBACK_FAILED)[0]}${ROLLBACK_FAILED}${errorText(event.error)}`,
          }),
        },
      },
    },
    failed: {
      on: {
        // Run the rollback again: it converges on the pre-operation state.
        RETRY: 'rolling-back',
        // The operator (or `reconcile`) has cleaned up by other means: forget everything installed.
        RESET: { target: 'stopped', actions: assign({ backend: null, target: null, op: null, lastError: null }) },
        STOP: { guard: 'hasInstalledBackend', target: 'stopping', actions: { type: 'beginOp', params: { op: 'stop' } } },
      },
    },
  },
});

export type NetworkMachine = typeof networkMachine;
