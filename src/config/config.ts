// network.conf, libvirt style: `key = "value"` lines, '#' comments. A missing file means all
// defaults. Keys libvirt's network.conf has that vnetfw does not use, unknown keys, duplicates and
// `[sections]` are warnings naming the file and line (so a libvirt network.conf still works); a bad
// value of a key vnetfw uses is an error naming the file, key and value (exit 2).
import { readFileSync } from 'node:fs';
import { VnetfwError } from '../errors.js';
import { BACKENDS, type Backend } from '../firewall/model.js';
import { readConfLines, type ConfWarning } from './conf-lines.js';

export type SwitchStrategy = 'make-before-break' | 'remove-first';
export const SWITCH_STRATEGIES: readonly SwitchStrategy[] = ['make-before-break', 'remove-first'];
export type HostFirewall = 'integrate' | 'report' | 'off';
export const HOST_FIREWALL_MODES: readonly HostFirewall[] = ['integrate', 'report', 'off'];
export type FirewallLayout = 'libvirt' | 'indexed';
export const FIREWALL_LAYOUTS: readonly FirewallLayout[] = ['libvirt', 'indexed'];

export interface NetConf {
  path: string;
  firewallBackend?: Backend;              // unset: auto-detect along the priority list
  firewallBackendPriority: Backend[];
  switchStrategy: SwitchStrategy;
  hostFirewall: HostFirewall;
  // Host nftables tables vnetfw does not own are changed only when the file says integrate itself:
  // the default alone never gives that permission.
  hostFirewallExplicit: boolean;
  firewallLayout: FirewallLayout;
  // "FILE:LINE: message", already formatted; the caller decides where they go.
  warnings: string[];
}

export const DEFAULT_PRIORITY: readonly Backend[] = ['iptables', 'nftables'];

const KNOWN_KEYS = new Set<string>(['firewall_backend', 'firewall_backend_priority', 'switch_strategy', 'host_firewall', 'firewall_layout']);

// Bad config values exit 2; a backend that cannot be used is an operation failure (exit 1).
export class ConfigError extends VnetfwError {
  constructor(code: string, message: string, exitCode: 1 | 2 = 2) {
    super(code, message, { exitCode });
    this.name = 'ConfigError';
  }
}

export const defaultConfig = (path: string): NetConf => ({
  path,
  firewallBackendPriority: [...DEFAULT_PRIORITY],
  switchStrategy: 'make-before-break',
  hostFirewall: 'integrate',
  hostFirewallExplicit: false,
  firewallLayout: 'libvirt',
  warnings: [],
});

const unquote = (v: string): string => v.trim().replace(/^"(.*)"$/s, '$1').replace(/^'(.*)'$/s, '$1').trim();

const isBackend = (v: string): v is Backend => (BACKENDS as readonly string[]).includes(v);

const badValue = (path: string, key: string, value: string, expected: string): ConfigError =>
  new ConfigError('ECONF_VALUE', `${path}: ${key} '${value}' is invalid: must be ${expected}`);

const orList = (values: readonly string[]): string =>
  values.map((v) => `"${v}"`).join(values.length === 2 ? ' or ' : ', ').replace(/, ("[^"]*")$/, ' or $1');

// indexed is an nftables layout; its verdict maps have no iptables form.
export const layoutError = (conf: NetConf, backend: Backend, how: 'configured' | 'detected'): ConfigError =>
  new ConfigError('ECONF_LAYOUT', how === 'configured'
    ? `${conf.path}: firewall_layout '${conf.firewallLayout}' is invalid with firewall_backend '${backend}': it needs "nftables"`
    : `${conf.path}: firewall_layout '${conf.firewallLayout}' is invalid here: firewall_backend is unset and the backend detected is '${backend}'; set firewall_backend = "nftables"`);

export const formatWarning = (path: string, w: ConfWarning): string => `${path}:${w.line}: ${w.message}`;

export const parseConfig = (text: string, path: string): NetConf => {
  const conf = defaultConfig(path);
  const { entries, warnings } = readConfLines(text);
  const found = [...warnings];
  for (const e of entries.values()) {
    if (!KNOWN_KEYS.has(e.key)) found.push({ line: e.line, message: `unknown key '${e.key}' ignored` });
  }
  conf.warnings = found.sort((a, b) => a.line - b.line).map((w) => formatWarning(path, w));

  const str = (key: string): string | undefined => entries.get(key)?.value;
  const oneOf = <T extends string>(key: string, allowed: readonly T[]): T | undefined => {
    const v = str(key);
    if (v === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(v)) throw badValue(path, key, v, orList(allowed));
    return v as T;
  };

  conf.firewallBackend = oneOf('firewall_backend', BACKENDS);
  if (conf.firewallBackend === undefined) delete conf.firewallBackend;
  const priority = str('firewall_backend_priority');
  if (priority !== undefined) {
    const items = priority.replace(/^\[(.*)\]$/s, '$1').split(',').map(unquote);
    const seen = new Set<string>();
    for (const item of items) {
      if (!isBackend(item) || seen.has(item)) {
        throw badValue(path, 'firewall_backend_priority', priority, 'a comma-separated list of "iptables" and "nftables", each at most once');
      }
      seen.add(item);
    }
    conf.firewallBackendPriority = items as Backend[];
  }
  conf.switchStrategy = oneOf('switch_strategy', SWITCH_STRATEGIES) ?? conf.switchStrategy;
  const host = oneOf('host_firewall', HOST_FIREWALL_MODES);
  if (host !== undefined) { conf.hostFirewall = host; conf.hostFirewallExplicit = true; }
  conf.firewallLayout = oneOf('firewall_layout', FIREWALL_LAYOUTS) ?? conf.firewallLayout;
  if (conf.firewallLayout === 'indexed' && conf.firewallBackend === 'iptables') throw layoutError(conf, 'iptables', 'configured');
  return conf;
};

export const readConfigFile = async (path: string): Promise<NetConf> => {
  let text: string;
  try {
    // A file of a few lines, read at every daemon cycle: synchronously, rather than a trip through
    // libuv's thread pool that a busy event loop answers late.
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return defaultConfig(path);
    // Unlike libvirt we do not silently fall back to defaults for a file we were told to use.
    throw new ConfigError('ECONF_READ', `${path}: cannot read the configuration (${code ?? 'error'})`);
  }
  return parseConfig(text, path);
};
