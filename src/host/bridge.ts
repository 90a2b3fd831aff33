import type { NetworkDef } from '../definition/types.js';

// Pure builders of the `ip` commands that create and remove a network's bridge. Full argv,
// program first; the caller runs them in order and stops at the first failure.

export function bridgeExistsQuery(name: string): string[] {
  return ['ip', '-j', 'link', 'show', 'dev', name];
}

// iproute2 takes `address` and `mtu` before `type` (they are generic link options; after
// `type bridge` only bridge options are accepted) and forward_delay in centiseconds.
export function bridgeCreateCommands(def: NetworkDef): string[][] {
  const name = def.bridge.name;
  const link = ['ip', 'link', 'add', name];
  if (def.mac !== undefined) link.push('address', def.mac);
  if (def.mtu !== undefined) link.push('mtu', String(def.mtu));
  link.push('type', 'bridge', 'stp_state', def.bridge.stp ? '1' : '0',
    'forward_delay', String(Math.round(def.bridge.delay * 100)));
  const cmds = [link];
  for (const ip of def.ips) {
    const cmd = ['ip', 'addr', 'add', `${ip.address}/${ip.prefix}`];
    if (ip.family === 'ipv4') {
      // libvirt sets the broadcast address explicitly; the kernel would leave it unset.
      const brd = ipv4Broadcast(ip.address, ip.prefix);
      if (brd !== null) cmd.push('broadcast', brd);
    }
    cmd.push('dev', name);
    // The bridge has no carrier yet; DAD would hold the address "tentative" and dnsmasq could
    // not bind to it.
    if (ip.family === 'ipv6') cmd.push('nodad');
    cmds.push(cmd);
  }
  cmds.push(['ip', 'link', 'set', 'dev', name, 'up']);
  return cmds;
}

export function bridgeDeleteCommands(name: string): string[][] {
  return [
    ['ip', 'link', 'set', 'dev', name, 'down'],
    ['ip', 'link', 'del', 'dev', name],
  ];
}

// The same deletion in two halves, for many bridges at once: each bridge down and into link group
// `group`, then the whole group deleted by one command (see bridgeGroupDeleteBatch).
export function bridgeIntoGroupCommands(name: string, group: number): string[][] {
  return [
    ['ip', 'link', 'set', 'dev', name, 'down'],
    ['ip', 'link', 'set', 'dev', name, 'group', String(group)],
  ];
}

export function linkGroupDeleteCommand(group: number): string[] {
  return ['ip', 'link', 'del', 'group', String(group)];
}

export interface LinkInfo { name: string; mtu: number; address: string; up: boolean }

// Reads `ip -j link show dev NAME` output; null when it is not a one-link JSON answer.
export function parseLinkShow(stdout: string): LinkInfo | null {
  try {
    const parsed: unknown = JSON.parse(stdout);
    if (!Array.isArray(parsed) || parsed.length !== 1) return null;
    const l = parsed[0] as { ifname?: unknown; mtu?: unknown; address?: unknown; flags?: unknown };
    if (typeof l.ifname !== 'string') return null;
    return {
      name: l.ifname,
      mtu: typeof l.mtu === 'number' ? l.mtu : 0,
      address: typeof l.address === 'string' ? l.address : '',
      up: Array.isArray(l.flags) && l.flags.includes('UP'),
    };
  } catch {
    return null;
  }
}

// null for /31 and /32, which have no broadcast address (RFC 3021).
export function ipv4Broadcast(address: string, prefix: number): string | null {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return null;
  if (prefix >= 31 || prefix < 0) return null;
  const addr = parts.reduce((acc, p) => ((acc << 8) | p) >>> 0, 0);
  const host = prefix === 0 ? 0xffffffff : (2 ** (32 - prefix) - 1);
  const brd = (addr | host) >>> 0;
  return [24, 16, 8, 0].map((s) => (brd >>> s) & 255).join('.');
}
