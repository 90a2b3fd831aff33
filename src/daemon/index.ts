export { runDaemon, type DaemonOptions, type ReconcileAnswer } from './daemon.js';
export { createObservers, type DaemonObservers } from './observers.js';
export type { CycleResult } from './cycle.js';
export type { CycleOutcome, Job, TriggerKind } from './schedule.js';
export { requestDaemon, serveSocket, socketPath, type DaemonRequest, type DaemonResponse } from './socket.js';
