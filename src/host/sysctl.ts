import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NetworkDef } from '../definition/types.js';
import { HostError } from './errors.js';

export interface SysctlSetting { key: string; value: string }

// Keys are paths below /proc/sys, e.g. 'net/ipv4/ip_forward'.
export interface Sysctl {
  // undefined when the key does not exist (e.g. IPv6 disabled on the host)
  read(key: string): Promise<string | undefined>;
  // Writes only when the value differs; returns the previous value (undefined: key missing).
  write(key: string, value: string): Promise<string | undefined>;
}

export class SysctlError extends HostError {
  constructor(message: string, cause?: unknown) {
    super('ESYSCTL', message, cause);
    this.name = 'SysctlError';
  }
}

// Like libvirt (networkEnableIPForwarding): any forwarding mode turns on forwarding for each
// family the network has an address in; an isolated network (mode none) needs none.
export function forwardingSysctls(def: NetworkDef): SysctlSetting[] {
  if (def.forward.mode === 'none') return [];
  const out: SysctlSetting[] = [];
  if (def.ips.some((ip) => ip.family === 'ipv4')) out.push({ key: 'net/ipv4/ip_forward', value: '1' });
  if (def.ips.some((ip) => ip.family === 'ipv6')) out.push({ key: 'net/ipv6/conf/all/forwarding', value: '1' });
  return out;
}

export function createSysctl(fsRoot = '/proc/sys'): Sysctl {
  const path = (key: string): string => {
    if (key.split('/').some((p) => p === '..' || p === '') ) throw new SysctlError(`invalid sysctl key '${key}'`);
    return join(fsRoot, key);
  };
  const read = async (key: string): Promise<string | undefined> => {
    try {
      return (await readFile(path(key), 'utf8')).trim();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new SysctlError(`cannot read sysctl ${key}: ${(e as Error).message}`, e);
    }
  };
  return {
    read,
    async write(key, value) {
      const previous = await read(key);
      if (previous === undefined) throw new SysctlError(`sysctl ${key} does not exist on this host`);
      if (previous === value) return previous;
      try {
        await writeFile(path(key), `${value}\n`);
      } catch (e) {
        throw new SysctlError(`cannot write sysctl ${key}=${value}: ${(e as Error).message}`, e);
      }
      return previous;
    },
  };
}
