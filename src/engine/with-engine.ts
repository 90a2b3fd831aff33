import { loadConfig, resolveFirewall, type NetConf } from '../config/index.js';
import { createExecaRunner } from '../exec/index.js';
import type { Runner } from '../exec/types.js';
import { createSysctl, type Sysctl } from '../host/index.js';
import type { Backend } from '../firewall/index.js';
import { withStore, type OpenOptions } from '../../state/index.js';
import type { EngineEnv } from './env.js';
import { createJournal } from './journal.js';

export interface OpenEngineOptions {
  stateDir: string;
  configPath: string;
  // The configuration to use instead of reading configPath (the daemon keeps its last good one).
  config?: NetConf;
  runner?: Runner;
  sysctl?: Sysctl;
  lockTimeoutMs?: number;
  onProgress?: (network: string, message: string) => void;
  warn?: (line: string) => void;          // network.conf warnings; default stderr
  onUnsettled?: (network: string) => void; // see EngineEnv
  // How the store is opened beyond the defaults (the daemon: its memory of the log between cycles,
  // a snapshot at close after fewer records).
  store?: Pick<OpenOptions, 'warm' | 'closeSnapshotAfter'>;
}

// How long a command waits for another writer (the daemon, another command) before giving up.
export const lockTimeoutMs = (): number => {
  const v = Number(process.env.VNETFW_LOCK_TIMEOUT ?? '30');
  return Number.isFinite(v) && v >= 0 ? v * 1000 : 30_000;
};

export const makeBackendResolver = (config: NetConf): (() => Backend) => {
  let cached: Backend | undefined;
  return () => (cached ??= resolveFirewall(config));
};

// Opens the state for writing (one writer at a time), loads network.conf, wires the real runner.
export const withEngine = async <T>(opts: OpenEngineOptions, fn: (env: EngineEnv) => Promise<T>): Promise<T> => {
  const config = opts.config ?? await loadConfig(opts.configPath, opts.warn === undefined ? {} : { warn: opts.warn });
  return withStore(opts.stateDir, async (store) => {
    const journal = createJournal(store);
    const env: EngineEnv = {
      journal,
      runner: opts.runner ?? createExecaRunner(),
      sysctl: opts.sysctl ?? createSysctl(),
      config,
      backend: makeBackendResolver(config),
      ...(opts.onProgress === undefined ? {} : { onProgress: opts.onProgress }),
      warn: opts.warn ?? ((line: string) => { process.stderr.write(`vnetfw: warning: ${line}\n`); }),
      ...(opts.onUnsettled === undefined ? {} : { onUnsettled: opts.onUnsettled }),
    };
    try {
      return await fn(env);
    } finally {
      await journal.flush();
    }
  }, { ...opts.store, wait: true, timeoutMs: opts.lockTimeoutMs ?? lockTimeoutMs() });
};
