export type { EngineEnv } from './env.js';
export { createJournal, type Journal } from './journal.js';
export { runStep, newOpId, type OpScope, type StepRequest, type StepPurpose } from './steps.js';
export { EngineError, defineNetwork, undefineNetwork, definitionOf, networkStatus } from './registry.js';
export { applyFirewall, removeRemoval, removeCommands, queryPrivateState } from './firewall-driver.js';
export { runNetworkOp } from './runtime.js';
export { rollbackInFlight, interruptedNetworks } from './recovery.js';
export { withEngine, lockTimeoutMs, makeBackendResolver, type OpenEngineOptions } from './open.js';
export { listNftRules, parseNftRules, recordedHandles, mentionsNetwork } from './kernel-view.js';
