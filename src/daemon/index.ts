export { runDaemon, type DaemonOptions } from './daemon.js';
export { requestDaemon, serveSocket, socketPath, type DaemonRequest, type DaemonResponse } from './socket.js';
