import type { NetConf } from '../config/index.js';
import type { Backend } from '../firewall/index.js';
import type { Runner } from '../exec/types.js';
import type { Sysctl } from '../host/index.js';
import type { Journal } from './journal.js';

// Everything an operation needs from the outside world, injected so tests can use fakes.
export interface EngineEnv {
  journal: Journal;
  runner: Runner;
  sysctl: Sysctl;
  config: NetConf;
  // The configured backend, resolved lazily: a missing program only matters when rules are added.
  backend: () => Backend;
  signal?: AbortSignal;
  // Called on every machine transition and progress step, for terminals and the daemon.
  onProgress?: (network: string, message: string) => void;
  // One-line warnings for the user (a neighbour vnetfw will not change); default: none.
  warn?: (line: string) => void;
  // A drift check could not judge a network's neighbour (firewalld not answering yet) or just put a
  // binding back: the daemon looks again within a second.
  onUnsettled?: (network: string) => void;
}
