export { networkMachine } from './network-machine.js';
export type { NetworkMachine } from './network-machine.js';
export { acceptsEvent, assertRestorable, restoreNetworkActor, settledStateFor, observeTransitions } from './restore.js';
export type { NetworkActor, RecordedNetwork, SettledNetwork, TransitionCallback } from './restore.js';
export { SETTLED_STATES } from './types.js';
export type {
  Backend, NetworkState, SettledState, SwitchStrategy, Operation, NetworkContext, NetworkInput, NetworkEvent,
  ApplyInput, ApplyOutput, RemoveInput, SwitchInput, SwitchOutput, RollbackInput, RollbackOutput,
} from './types.js';
