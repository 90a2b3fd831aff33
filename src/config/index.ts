export {
  ConfigError, DEFAULT_PRIORITY, FIREWALL_LAYOUTS, HOST_FIREWALL_MODES, SWITCH_STRATEGIES, defaultConfig, parseConfig, readConfigFile,
} from './config.js';
export type { FirewallLayout, HostFirewall, NetConf, SwitchStrategy } from './config.js';
export { BACKEND_PROGRAM, isOnPath, loadConfig, resolveBackend } from './backend.js';
export type { LoadConfigOptions } from './backend.js';
export { configuredLayout, resolveFirewall } from './firewall.js';
