// vnetfw's indexed nftables layout (`firewall_layout = "indexed"`): the same filtering per network
// as libvirt's nftables rules, but dispatched so a packet meets a bounded number of rules however
// many networks are active. One table, `inet vnetfw` (both families in one table, so one lookup
// serves IPv4 and IPv6):
//
//   forward (filter, priority 0):   oifname vmap @to_guest ; iifname vmap @from_guest
//   postrouting_nat (nat, 100):     ip saddr vmap @nat4 ; ip6 saddr vmap @nat6
//   postrouting_mangle (filter, 0): meta nfproto ipv4 oifname @dhcp_csum udp dport 68 udp checksum set 0
//
// Per network: one filter chain `net_<name>` (jumped to from both interface maps) holding the
// network's guest_cross, guest_input, guest_output rules in libvirt's order, and for NAT networks
// one nat chain `nat_<name>` (jumped to by source subnet) with its guest_nat rules. A packet thus
// meets two map lookups and the rules of at most one network per hook.
//
// Objects are named after the network, so every undo is known before the batch runs (no echoed
// handles, and no `--echo`, which would make nft read the whole table). A network's commands are
// idempotent (`add chain` + `flush chain`, `add element` of an identical element): re-applying
// them replaces the network's rules in one transaction, which is how drift is repaired.
import type { NetworkDef } from '../definition/types.js';
import type { FwCommand, FwGroup, FwRuleSet } from './model.js';
import { buildNftablesRules } from './rules-nftables.js';
import { netOf, ruleSetFor } from './rules-common.js';

export const INDEXED_FAMILY = 'inet';
export const INDEXED_TABLE = 'vnetfw';
const T = [INDEXED_FAMILY, INDEXED_TABLE] as const;

export const INDEXED_MAPS = {
  toGuest: 'to_guest', fromGuest: 'from_guest', nat4: 'nat4', nat6: 'nat6', checksum: 'dhcp_csum',
} as const;

const cmd = (args: string[], extra: Partial<FwCommand> = {}): FwCommand => ({ program: 'nft', args, ...extra });

// Is this one of the indexed layout's commands (its table, any verb)?
export const isIndexedCommand = (c: FwCommand): boolean => {
  if (c.program !== 'nft') return false;
  const i = c.args.indexOf(INDEXED_FAMILY);
  return i > 0 && c.args[i + 1] === INDEXED_TABLE;
};

// A chain name from a network name: letters, digits, '_' and '-' kept; anything else (network
// names may hold '.', '+', ':') as '.' + two hex digits, so distinct networks get distinct chains.
export const chainPart = (name: string): string =>
  [...name].map((ch) => (/[A-Za-z0-9_-]/.test(ch) ? ch : `.${ch.codePointAt(0)?.toString(16).padStart(2, '0') ?? ''}`)).join('');
export const netChain = (network: string): string => `net_${chainPart(network)}`;
export const natChain = (network: string): string => `nat_${chainPart(network)}`;

// The table, its maps and base chains, and the base chains' dispatch rules. Every command is
// idempotent (the base chains are flushed and refilled in the same transaction), so this block
// rides in every apply batch: no kernel read is needed first, and a damaged base is rebuilt.
export const indexedSetup = (): FwCommand[] => [
  cmd(['add', 'table', ...T]),
  cmd(['add', 'map', ...T, INDEXED_MAPS.toGuest, '{ type ifname : verdict; }']),
  cmd(['add', 'map', ...T, INDEXED_MAPS.fromGuest, '{ type ifname : verdict; }']),
  cmd(['add', 'map', ...T, INDEXED_MAPS.nat4, '{ type ipv4_addr : verdict; flags interval; }']),
  cmd(['add', 'map', ...T, INDEXED_MAPS.nat6, '{ type ipv6_addr : verdict; flags interval; }']),
  cmd(['add', 'set', ...T, INDEXED_MAPS.checksum, '{ type ifname; }']),
  cmd(['add', 'chain', ...T, 'forward', '{ type filter hook forward priority 0; policy accept; }']),
  cmd(['add', 'chain', ...T, 'postrouting_nat', '{ type nat hook postrouting priority 100; policy accept; }']),
  cmd(['add', 'chain', ...T, 'postrouting_mangle', '{ type filter hook postrouting priority 0; policy accept; }']),
  cmd(['flush', 'chain', ...T, 'forward']),
  cmd(['add', 'rule', ...T, 'forward', 'oifname', 'vmap', `@${INDEXED_MAPS.toGuest}`]),
  cmd(['add', 'rule', ...T, 'forward', 'iifname', 'vmap', `@${INDEXED_MAPS.fromGuest}`]),
  cmd(['flush', 'chain', ...T, 'postrouting_nat']),
  cmd(['add', 'rule', ...T, 'postrouting_nat', 'ip', 'saddr', 'vmap', `@${INDEXED_MAPS.nat4}`]),
  cmd(['add', 'rule', ...T, 'postrouting_nat', 'ip6', 'saddr', 'vmap', `@${INDEXED_MAPS.nat6}`]),
  cmd(['flush', 'chain', ...T, 'postrouting_mangle']),
  // libvirt's era-2 DHCP checksum fix, IPv4 only (a zero UDP checksum is invalid over IPv6).
  cmd(['add', 'rule', ...T, 'postrouting_mangle', 'meta', 'nfproto', 'ipv4', 'oifname', `@${INDEXED_MAPS.checksum}`, 'udp', 'dport', '68', 'udp', 'checksum', 'set', '0']),
];

const quoted = (ifname: string): string => `"${ifname}"`;
const element = (map: string, key: string, verdict?: string[]): FwCommand =>
  cmd(['add', 'element', ...T, map, '{', key, ...(verdict === undefined ? [] : [':', ...verdict]), '}'], { autoRollback: true });

// libvirt's rules of one network, chain by chain, in the order the chain holds them (libvirt
// inserts each rule at the top, so the emission order reversed), counters dropped.
const libvirtChains = (def: NetworkDef): Map<string, Array<{ family: 'ip' | 'ip6'; rest: string[] }>> => {
  const chains = new Map<string, Array<{ family: 'ip' | 'ip6'; rest: string[] }>>();
  for (const c of buildNftablesRules(def).groups.flatMap((g) => g.commands)) {
    const [, , family, , chain, ...rest] = c.args;
    if (chain === undefined || (family !== 'ip' && family !== 'ip6')) continue;
    const list = chains.get(chain) ?? [];
    list.unshift({ family, rest: rest.filter((w) => w !== 'counter') });
    chains.set(chain, list);
  }
  return chains;
};

// In the inet table a rule that names no address family would match both; libvirt's rule lived in
// one family's table, so it is restricted to that family.
// `snat to` names its family in an inet table.
const familyScoped = (family: 'ip' | 'ip6', rest: string[]): string[] => {
  const words = rest.flatMap((w, i) => (w === 'snat' && rest[i + 1] === 'to' ? ['snat', family] : [w]));
  return words.includes(family) ? words : ['meta', 'nfproto', family === 'ip' ? 'ipv4' : 'ipv6', ...words];
};

export const buildIndexedRules = (def: NetworkDef): FwRuleSet => {
  const groups: FwGroup[] = [];
  if (def.forward.mode === 'open') return { backend: 'nftables-indexed', network: def.name, groups };
  const chains = libvirtChains(def);
  const net = netChain(def.name);
  const nat = natChain(def.name);
  const rule = (chain: string) => (r: { family: 'ip' | 'ip6'; rest: string[] }): FwCommand =>
    cmd(['add', 'rule', ...T, chain, ...familyScoped(r.family, r.rest)], { autoRollback: true });
  // libvirt's forward chain jumps to guest_cross, then guest_input, then guest_output.
  const filter = ['guest_cross', 'guest_input', 'guest_output'].flatMap((c) => chains.get(c) ?? []);
  const natRules = chains.get('guest_nat') ?? [];
  const commands: FwCommand[] = [
    cmd(['add', 'chain', ...T, net], { autoRollback: true }),
    cmd(['flush', 'chain', ...T, net]),
    ...filter.map(rule(net)),
  ];
  if (natRules.length > 0) {
    commands.push(cmd(['add', 'chain', ...T, nat], { autoRollback: true }), cmd(['flush', 'chain', ...T, nat]), ...natRules.map(rule(nat)));
  }
  const br = quoted(def.bridge.name);
  commands.push(element(INDEXED_MAPS.toGuest, br, ['jump', net]), element(INDEXED_MAPS.fromGuest, br, ['jump', net]));
  if (natRules.length > 0) {
    for (const ip of def.ips.filter((i) => ruleSetFor(def, i) === 'masquerade')) {
      commands.push(element(ip.family === 'ipv4' ? INDEXED_MAPS.nat4 : INDEXED_MAPS.nat6, netOf(ip), ['jump', nat]));
    }
  }
  if ((chains.get('postroute_mangle') ?? []).length > 0) commands.push(element(INDEXED_MAPS.checksum, br));
  groups.push({ ignoreErrors: false, commands });
  return { backend: 'nftables-indexed', network: def.name, groups };
};

// The undo of one indexed command, by name: elements by key, chains by name (the kernel deletes a
// chain with its rules). Rules and flushes need none: their chain's deletion takes them.
export const indexedUndo = (c: FwCommand): FwCommand | undefined => {
  const [verb, object, family, table, name] = c.args;
  if (verb !== 'add' || family !== INDEXED_FAMILY || table !== INDEXED_TABLE || name === undefined) return undefined;
  if (object === 'chain') return cmd(['delete', 'chain', ...T, name], { ignoreErrors: true });
  if (object === 'element') {
    const open = c.args.indexOf('{');
    const key = c.args[open + 1];
    if (open < 0 || key === undefined) return undefined;
    return cmd(['delete', 'element', ...T, name, '{', key, '}'], { ignoreErrors: true });
  }
  return undefined;
};
