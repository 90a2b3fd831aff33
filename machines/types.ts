import type { Backend } from '../src/firewall/model.js';

export type { Backend };

// The states a network can be in; also what `vnetfw status` prints (documented in the README).
export type NetworkState =
  | 'stopped' | 'applying' | 'active' | 'stopping' | 'backend-switching' | 'rolling-back' | 'failed';

// States where no actor runs: the only states a machine is ever restored into.
export type SettledState = 'stopped' | 'active' | 'failed';
export const SETTLED_STATES: readonly SettledState[] = ['stopped', 'active', 'failed'];

export type SwitchStrategy = 'make-before-break' | 'remove-first';

// The operation a transitional state belongs to; a REPAIR runs in `applying` with op 'repair'.
export type Operation = 'start' | 'stop' | 'switch' | 'repair';

export interface NetworkContext {
  network: string;
  backend: Backend | null;        // the backend whose rules are installed (null: none)
  target: Backend | null;         // the backend an operation in progress is installing
  strategy: SwitchStrategy;
  op: Operation | null;           // the operation in progress, or the last one
  lastError: string | null;
}

export interface NetworkInput {
  network: string;
  strategy?: SwitchStrategy;
}

export type NetworkEvent =
  | { type: 'START'; backend: Backend }
  | { type: 'STOP' }
  | { type: 'SWITCH'; to: Backend; strategy: SwitchStrategy }
  | { type: 'REPAIR' }
  | { type: 'RETRY' }
  | { type: 'RESET' };

// Actor contracts. Every actor must be idempotent: an interrupted operation is finished or undone
// by running an actor again (xstate 5 re-runs the invoke of a restored state).
export interface ApplyInput { network: string; backend: Backend; mode: 'start' | 'repair' }
export interface ApplyOutput { backend: Backend }
export interface RemoveInput { network: string; backend: Backend }
export interface SwitchInput { network: string; from: Backend; to: Backend; strategy: SwitchStrategy }
export interface SwitchOutput { backend: Backend }
// `backend` is what was installed before the failed operation (what to go back to);
// `attempted` is what the operation was installing (whose partial rules to remove).
export interface RollbackInput {
  network: string;
  backend: Backend | null;
  attempted: Backend | null;
  failedOp: Operation;
}
export interface RollbackOutput { backend: Backend | null }
