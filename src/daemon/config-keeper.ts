import { ConfigError, loadConfig, type NetConf } from '../config/index.js';

// network.conf as the daemon sees it: read again at every cycle; when it turns invalid the daemon
// keeps working with the last configuration that was valid (a typo in the file must not stop drift
// repair), and says so until the file is fixed.
export interface ConfigReading {
  config: NetConf | null;     // the configuration to use: the file's, or the last good one
  error: string | null;       // the file's problem, while it has one
  firstSeen: boolean;         // this error was not reported before (record it in the log)
  restored: boolean;          // the file was invalid at the previous reading and is valid now
}

export interface ConfigKeeper { read(): Promise<ConfigReading> }

export const createConfigKeeper = (path: string, load: (p: string) => Promise<NetConf> = loadConfig): ConfigKeeper => {
  let lastGood: NetConf | null = null;
  let lastError: string | null = null;
  return {
    async read() {
      try {
        lastGood = await load(path);
        const restored = lastError !== null;
        lastError = null;
        return { config: lastGood, error: null, firstSeen: false, restored };
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        const firstSeen = err.message !== lastError;
        lastError = err.message;
        return { config: lastGood, error: err.message, firstSeen, restored: false };
      }
    },
  };
};
