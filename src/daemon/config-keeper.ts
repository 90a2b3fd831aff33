import { ConfigError, loadConfig, type LoadConfigOptions, type NetConf } from '../config/index.js';

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

// The file's warnings (unknown keys, sections, ...) go to `warn` when they differ from the previous
// reading's, not at every cycle.
export const createConfigKeeper = (
  path: string, warn: (line: string) => void = () => undefined,
  load: (p: string, o: LoadConfigOptions) => Promise<NetConf> = loadConfig,
): ConfigKeeper => {
  let lastGood: NetConf | null = null;
  let lastError: string | null = null;
  let lastWarnings = '';
  return {
    async read() {
      const warnings: string[] = [];
      try {
        lastGood = await load(path, { warn: (w) => { warnings.push(w); } });
        if (warnings.join('\n') !== lastWarnings) for (const w of warnings) warn(`warning: ${w}`);
        lastWarnings = warnings.join('\n');
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
