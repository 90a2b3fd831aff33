// What the CLI, the daemon, the demo and the benches use of the engine; everything else stays inside.
export type { EngineEnv } from './env.js';
export { createJournal } from './journal.js';
export { EngineError } from './errors.js';
export { defineNetwork, defineNetworks, undefineNetwork } from './definitions.js';
export { runNetworkOp, runNetworkOps } from './machine-driver.js';
export { lockTimeoutMs, withEngine } from './with-engine.js';
export { reconcile, recoverNamed, type ReconcileReport } from './reconcile.js';
export { findDrift, repairDrift, type Drift } from './drift.js';
export { checkAndRepair } from './repair.js';
export { warmUpComposition } from './warm-up.js';
export { adoptFromLibvirt } from './adopt.js';
export { doctorNetworks, type DoctorReport } from './doctor.js';
export { runLibvirtHook, type HookOutcome } from './libvirt-hook.js';
