// Which firewall backend network.conf resolves to on this host: the requested one (if its program
// is on PATH) or the first of the priority list found on PATH.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Backend } from '../firewall/model.js';
import { ConfigError, layoutError, readConfigFile, type NetConf } from './config.js';

export const BACKEND_PROGRAM: Record<Backend, string> = { iptables: 'iptables', nftables: 'nft', 'nftables-indexed': 'nft' };

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

const detect = (conf: NetConf, onPath: (prog: string) => boolean): Backend | undefined =>
  conf.firewallBackendPriority.find((b) => onPath(BACKEND_PROGRAM[b]));

export const resolveBackend = (conf: NetConf, onPath: (prog: string) => boolean = (p) => isOnPath(p)): Backend => {
  if (conf.firewallBackend !== undefined) {
    if (conf.firewallLayout === 'indexed' && conf.firewallBackend === 'iptables') throw layoutError(conf, 'iptables', 'configured');
    if (!onPath(BACKEND_PROGRAM[conf.firewallBackend])) {
      throw new ConfigError('ECONF_BACKEND_UNAVAILABLE', `requested firewall_backend '${conf.firewallBackend}' is not available`, 1);
    }
    return conf.firewallBackend;
  }
  const found = detect(conf, onPath);
  if (found === undefined) throw new ConfigError('ECONF_NO_BACKEND', 'could not find a usable firewall backend', 1);
  if (conf.firewallLayout === 'indexed' && found === 'iptables') throw layoutError(conf, found, 'detected');
  return found;
};

export interface LoadConfigOptions {
  onPath?: (prog: string) => boolean;
  // Where the file's warnings go; default stderr, one line each.
  warn?: (line: string) => void;
}

const stderrWarn = (line: string): void => { process.stderr.write(`vnetfw: warning: ${line}\n`); };

// Reads and validates network.conf. With firewall_layout = "indexed" the backend detection runs
// here too, so that a host where detection picks iptables is refused when the file is loaded, not
// at the first start.
export const loadConfig = async (path: string, opts: LoadConfigOptions = {}): Promise<NetConf> => {
  const conf = await readConfigFile(path);
  for (const w of conf.warnings) (opts.warn ?? stderrWarn)(w);
  if (conf.firewallLayout === 'indexed' && conf.firewallBackend === undefined) {
    const found = detect(conf, opts.onPath ?? ((p) => isOnPath(p)));
    if (found === 'iptables') throw layoutError(conf, found, 'detected');
  }
  return conf;
};
