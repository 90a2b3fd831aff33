export { runDaemon, type DaemonOptions } from './daemon.js';
