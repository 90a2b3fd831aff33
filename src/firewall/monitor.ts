// `nft monitor`: the kernel's ruleset events as text, one per line (iptables-nft changes included:
// they are nftables objects in tables named filter, nat, mangle). The daemon reacts only to events
// about our objects: anything in our nftables tables (libvirt's layout and the indexed one), and iptables chains named LIBVIRT_*. Other
// managers' tables (firewalld, Docker, a host's own `inet filter`) change often and are not ours
// to check.
import { INDEXED_TABLE } from './rules-indexed.js';
import { NFT_TABLE } from './rules-nftables.js';

// Neighbours vnetfw integrates with: firewalld rebuilding its table (a reload or restart forgets
// the bridge's zone), Docker's DOCKER-USER, and our own accept rules in a host table (commented).
const isNeighbourEvent = (table: string | undefined, chain: string | undefined, line: string): boolean =>
  table === 'firewalld' || chain === 'DOCKER-USER' || line.includes('comment "vnetfw ');

export const NFT_MONITOR_ARGV: readonly string[] = ['nft', 'monitor'];

const OWN_TABLES: ReadonlySet<string> = new Set([NFT_TABLE, INDEXED_TABLE]);
const OBJECTS: ReadonlySet<string> = new Set(['table', 'chain', 'rule', 'set', 'map', 'element', 'flowtable']);
// verb, object, (family), table, chain
const HEAD = /^\s*(\S+)\s+(\S+)(?:\s+\S+(?:\s+(\S+)(?:\s+(\S+))?)?)?/;
const VERBS: ReadonlySet<string> = new Set(['add', 'insert', 'replace', 'delete', 'destroy', 'create', 'flush']);

// Does this `nft monitor` line report a change to one of our objects? Lines look like
// `add rule ip libvirt_network guest_output iifname "virbr0" accept` or
// `delete rule ip filter LIBVIRT_FWO handle 2`; `# new generation ...` lines and anything else
// are not changes. A rule added elsewhere that jumps to one of our chains counts too (iptables'
// jumps from FORWARD/INPUT/OUTPUT/POSTROUTING).
export const isOwnObjectEvent = (line: string): boolean => {
  // The first five words only: iptables-nft rules make long lines, and a switch makes thousands.
  const [, verb, object, table, chain] = HEAD.exec(line) ?? [];
  if (verb === undefined || !VERBS.has(verb) || object === undefined || !OBJECTS.has(object)) return false;
  if (table !== undefined && OWN_TABLES.has(table)) return true;
  if (chain !== undefined && chain.startsWith('LIBVIRT_')) return true;
  if (isNeighbourEvent(table, chain, line)) return true;
  return object === 'rule' && /\b(jump|goto) LIBVIRT_\w+/.test(line);
};
