// What the kernel's ruleset says about other firewall managers, decided from one
// `nft -j list ruleset` (iptables-nft tables included) and firewalld's own answers. Pure.
import { parseNftRuleset, type Table } from '../../ruleset/index.js';
import type { HostDropChain, NeighbourFacts } from './model.js';
import { noNeighbours } from './model.js';

// Names read from the kernel go into argv later: only plain nft identifiers are taken.
export const NFT_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
const OUR_TABLE = 'libvirt_network';
// iptables-nft keeps iptables' tables and chain names; Docker's are judged as iptables rules.
const XTABLES = new Set(['filter', 'nat', 'mangle', 'raw', 'security']);
const isXtablesChain = (c: { family: string; table: string; chain: string }): boolean =>
  (c.family === 'ip' || c.family === 'ip6') && XTABLES.has(c.table) && c.chain === c.chain.toUpperCase();
// firewalld's iptables backend: its zone dispatch chains in iptables' filter table.
const FIREWALLD_XT_CHAINS = new Set(['FORWARD_IN_ZONES', 'INPUT_ZONES', 'FWD_public', 'IN_public']);

// firewalldSeen, iptables FORWARD drop (Docker), host tables dropping input or forward: decided
// from the tables the ruleset reader (src/ruleset, the doctor's too) made of `nft -j list ruleset`.
// Not JSON, or no "nftables" array: RulesetError.
export const factsFromRuleset = (json: string): NeighbourFacts => factsFromTables(parseNftRuleset(json, () => '').tables);

const factsFromTables = (tables: readonly Table[]): NeighbourFacts => {
  const facts = noNeighbours();
  const base: Array<{ family: string; table: string; chain: string; hook: 'input' | 'forward'; policy: string }> = [];
  for (const t of tables) {
    if (t.family === 'inet' && t.name === 'firewalld') facts.firewalldSeen = true;
    for (const c of t.chains.values()) {
      if (c.base?.hook === 'input' || c.base?.hook === 'forward') base.push({ family: t.family, table: t.name, chain: c.name, hook: c.base.hook, policy: c.base.policy });
    }
  }
  for (const fam of ['ip', 'ip6'] as const) {
    const names = new Set(tables.find((t) => t.family === fam && t.name === 'filter')?.chains.keys() ?? []);
    if ([...names].some((n) => FIREWALLD_XT_CHAINS.has(n))) facts.firewalldSeen = true;
    const fwd = base.find((b) => b.family === fam && b.table === 'filter' && b.chain === 'FORWARD' && b.hook === 'forward');
    if (fwd?.policy === 'drop') facts.forwardDrop[fam === 'ip' ? 'ipv4' : 'ipv6'] = { dockerUser: names.has('DOCKER-USER') };
  }
  facts.hostTables = base.filter((b): boolean =>
    b.policy === 'drop' && b.table !== OUR_TABLE && !(b.family === 'inet' && b.table === 'firewalld') && !isXtablesChain(b)
    && NFT_NAME.test(b.table) && NFT_NAME.test(b.chain))
    .map((b): HostDropChain => ({ family: b.family, table: b.table, chain: b.chain, hook: b.hook }));
  return facts;
};

// `firewall-cmd --get-zones`: zone names separated by spaces (only plain names are kept).
export const parseZones = (stdout: string): string[] => stdout.split(/\s+/).filter((z) => ZONE_NAME.test(z));

// libvirt's schema for `<bridge zone='...'/>` (and firewalld's zone names): letters, digits, '_', '-'.
export const ZONE_NAME = /^[a-zA-Z0-9_-]+$/;

export const describeHostChain = (c: HostDropChain): string => `${c.family} ${c.table} ${c.chain} (hook ${c.hook}, policy drop)`;
