// network.conf, libvirt style: `key = "value"` lines, '#' comments. Read with ini; a missing file
// means all defaults; unknown keys are ignored (as libvirt does) so a libvirt network.conf works.
import { accessSync, constants } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { parse } from 'ini';
import { VnetfwError } from '../errors.js';
import { BACKENDS, type Backend } from '../firewall/model.js';

export type SwitchStrategy = 'make-before-break' | 'remove-first';
export const SWITCH_STRATEGIES: readonly SwitchStrategy[] = ['make-before-break', 'remove-first'];

export interface NetConf {
  path: string;
  firewallBackend?: Backend;              // unset: auto-detect along the priority list
  firewallBackendPriority: Backend[];
  switchStrategy: SwitchStrategy;
}

export const DEFAULT_PRIORITY: readonly Backend[] = ['iptables', 'nftables'];

// Bad config values exit 2; a backend that cannot be used is an operation failure (exit 1).
export class ConfigError extends VnetfwError {
  constructor(code: string, message: string, exitCode: 1 | 2 = 2) {
    super(code, message, { exitCode });
    this.name = 'ConfigError';
  }
}

export const defaultConfig = (path: string): NetConf => ({
  path, firewallBackendPriority: [...DEFAULT_PRIORITY], switchStrategy: 'make-before-break',
});

// ini unquotes "x" itself; libvirt's list syntax ["a", "b"] arrives as one raw string.
const unquote = (v: string): string => v.trim().replace(/^"(.*)"$/s, '$1').replace(/^'(.*)'$/s, '$1').trim();

const isBackend = (v: string): v is Backend => (BACKENDS as readonly string[]).includes(v);

const badValue = (path: string, key: string, value: string, expected: string): ConfigError =>
  new ConfigError('ECONF_VALUE', `${path}: ${key} '${value}' is invalid: must be ${expected}`);

export const parseConfig = (text: string, path: string): NetConf => {
  const conf = defaultConfig(path);
  const raw = parse(text) as Record<string, unknown>;
  const str = (key: string): string | undefined => {
    const v = raw[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw badValue(path, key, JSON.stringify(v), 'a string');
    return unquote(v);
  };
  const backend = str('firewall_backend');
  if (backend !== undefined) {
    if (!isBackend(backend)) throw badValue(path, 'firewall_backend', backend, '"iptables" or "nftables"');
    conf.firewallBackend = backend;
  }
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
  const strategy = str('switch_strategy');
  if (strategy !== undefined) {
    if (!(SWITCH_STRATEGIES as readonly string[]).includes(strategy)) {
      throw badValue(path, 'switch_strategy', strategy, '"make-before-break" or "remove-first"');
    }
    conf.switchStrategy = strategy as SwitchStrategy;
  }
  return conf;
};

export const loadConfig = async (path: string): Promise<NetConf> => {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return defaultConfig(path);
    // Unlike libvirt we do not silently fall back to defaults for a file we were told to use.
    throw new ConfigError('ECONF_READ', `${path}: cannot read the configuration (${code ?? 'error'})`);
  }
  return parseConfig(text, path);
};

export const BACKEND_PROGRAM: Record<Backend, string> = { iptables: 'iptables', nftables: 'nft' };

// A real PATH lookup: an executable regular file in one of $PATH's directories.
export const isOnPath = (prog: string, pathVar: string | undefined = process.env.PATH): boolean => {
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, prog), constants.X_OK);
      return true;
    } catch {
      // not here; try the next directory
    }
  }
  return false;
};

export const resolveBackend = (conf: NetConf, onPath: (prog: string) => boolean = (p) => isOnPath(p)): Backend => {
  if (conf.firewallBackend !== undefined) {
    if (!onPath(BACKEND_PROGRAM[conf.firewallBackend])) {
      throw new ConfigError('ECONF_BACKEND_UNAVAILABLE', `requested firewall_backend '${conf.firewallBackend}' is not available`, 1);
    }
    return conf.firewallBackend;
  }
  for (const b of conf.firewallBackendPriority) if (onPath(BACKEND_PROGRAM[b])) return b;
  throw new ConfigError('ECONF_NO_BACKEND', 'could not find a usable firewall backend', 1);
};
