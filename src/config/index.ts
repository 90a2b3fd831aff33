export {
  BACKEND_PROGRAM, ConfigError, DEFAULT_PRIORITY, SWITCH_STRATEGIES, defaultConfig, isOnPath, loadConfig, parseConfig,
  resolveBackend,
} from './config.js';
export type { NetConf, SwitchStrategy } from './config.js';
