// Who a table or chain belongs to, from the names each program gives its objects, and which are
// vnetfw's own (never reported: our rules are the ones that let guests through).
import type { Table, Where } from './model.js';

// libvirt's layout (ip/ip6 libvirt_network; LIBVIRT_* chains in iptables' tables) and vnetfw's
// indexed layout (inet vnetfw).
const OWN_TABLES = new Set(['ip/libvirt_network', 'ip6/libvirt_network', 'inet/vnetfw']);
export const isOwn = (table: Table, chain: string): boolean =>
  OWN_TABLES.has(`${table.family}/${table.name}`) || (table.name !== 'vnetfw' && chain.startsWith('LIBVIRT_'));
export const isOwnTable = (table: Table): boolean => OWN_TABLES.has(`${table.family}/${table.name}`);

// iptables' tables as nft shows them (iptables-nft) or as iptables-legacy-save prints them.
export const IPTABLES_TABLES = new Set(['filter', 'mangle', 'raw', 'security']);
export const isIptablesTable = (table: Table): boolean =>
  table.source !== 'nft' || ((table.family === 'ip' || table.family === 'ip6') && IPTABLES_TABLES.has(table.name) && [...table.chains.values()].some((c) => c.base !== undefined && /^[A-Z]+$/.test(c.name)));

const BY_CHAIN: [RegExp, string][] = [
  [/^DOCKER/, 'Docker'],
  [/^ufw6?-/, 'ufw'],
  [/^nixos-fw/, 'NixOS nixos-fw'],
  [/^(IN|FWD|FWDI|FWDO)_|_(direct|ZONES)$/, 'firewalld'],
];
const BY_TABLE: Record<string, string> = { firewalld: 'firewalld', 'docker-bridges': 'Docker', 'nixos-fw': 'NixOS nixos-fw' };

// The owners the doctor names (its findings' owner is one of these, or null: not known), for the
// metrics' series of each from the start. iptables-legacy's owners are told apart at run time.
export const NAMED_OWNERS: readonly string[] = [...new Set([...BY_CHAIN.map(([, o]) => o), ...Object.values(BY_TABLE)])];

const byChain = (name: string): string | undefined => BY_CHAIN.find(([re]) => re.test(name))?.[1];

export const ownerOf = (table: Table, where: Where): string | null => {
  const named = BY_TABLE[table.name];
  if (named !== undefined) return named;
  // a rule in a chain someone named, else the table's chains tell whose built-in chain policy it is
  const owner = byChain(where.chain) ?? [...table.chains.keys()].map(byChain).find((o) => o !== undefined);
  if (table.source === 'iptables-legacy') return owner === undefined ? 'iptables-legacy' : `${owner} (iptables-legacy)`;
  return owner ?? null;
};
