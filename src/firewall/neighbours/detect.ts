// What the kernel's ruleset says about other firewall managers, decided from one
// `nft -j list ruleset` (iptables-nft tables included) and firewalld's own answers. Pure.
import type { HostDropChain, NeighbourFacts } from './model.js';
import { noNeighbours } from './model.js';

interface NftChainJson { family?: unknown; table?: unknown; name?: unknown; hook?: unknown; type?: unknown; policy?: unknown }
interface NftTableJson { family?: unknown; name?: unknown }

// Names read from the kernel go into argv later: only plain nft identifiers are taken.
export const NFT_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
const FAMILIES = new Set(['ip', 'ip6', 'inet']);
const OUR_TABLE = 'libvirt_network';
// iptables-nft keeps iptables' tables and chain names; Docker's are judged as iptables rules.
const XTABLES = new Set(['filter', 'nat', 'mangle', 'raw', 'security']);
const isXtablesChain = (c: { family: string; table: string; chain: string }): boolean =>
  (c.family === 'ip' || c.family === 'ip6') && XTABLES.has(c.table) && c.chain === c.chain.toUpperCase();
// firewalld's iptables backend: its zone dispatch chains in iptables' filter table.
const FIREWALLD_XT_CHAINS = new Set(['FORWARD_IN_ZONES', 'INPUT_ZONES', 'FWD_public', 'IN_public']);

export class RulesetParseError extends Error {}

const itemsOf = (json: string): unknown[] => {
  let doc: unknown;
  try { doc = JSON.parse(json); } catch { throw new RulesetParseError('nft -j list ruleset: output is not JSON'); }
  const list = (doc as { nftables?: unknown }).nftables;
  if (!Array.isArray(list)) throw new RulesetParseError('nft -j list ruleset: no "nftables" array');
  return list;
};

// firewalldSeen, iptables FORWARD drop (Docker), host tables dropping input or forward.
export const factsFromRuleset = (json: string): NeighbourFacts => {
  const facts = noNeighbours();
  const chainsByTable = new Map<string, Set<string>>();
  const base: Array<{ family: string; table: string; chain: string; hook: string; policy: string }> = [];
  for (const item of itemsOf(json)) {
    if (typeof item !== 'object' || item === null) continue;
    const t = (item as { table?: NftTableJson }).table;
    if (t !== undefined && t.family === 'inet' && t.name === 'firewalld') facts.firewalldSeen = true;
    const c = (item as { chain?: NftChainJson }).chain;
    if (c === undefined) continue;
    if (typeof c.family !== 'string' || typeof c.table !== 'string' || typeof c.name !== 'string') continue;
    const key = `${c.family} ${c.table}`;
    chainsByTable.set(key, (chainsByTable.get(key) ?? new Set()).add(c.name));
    if (typeof c.hook === 'string' && c.type === 'filter') {
      base.push({ family: c.family, table: c.table, chain: c.name, hook: c.hook, policy: typeof c.policy === 'string' ? c.policy : 'accept' });
    }
  }
  for (const fam of ['ip', 'ip6'] as const) {
    const names = chainsByTable.get(`${fam} filter`) ?? new Set<string>();
    if ([...names].some((n) => FIREWALLD_XT_CHAINS.has(n))) facts.firewalldSeen = true;
    const fwd = base.find((b) => b.family === fam && b.table === 'filter' && b.chain === 'FORWARD' && b.hook === 'forward');
    if (fwd?.policy === 'drop') facts.forwardDrop[fam === 'ip' ? 'ipv4' : 'ipv6'] = { dockerUser: names.has('DOCKER-USER') };
  }
  facts.hostTables = base.filter((b): boolean =>
    (b.hook === 'input' || b.hook === 'forward') && b.policy === 'drop' && FAMILIES.has(b.family)
    && b.table !== OUR_TABLE && !(b.family === 'inet' && b.table === 'firewalld') && !isXtablesChain(b)
    && NFT_NAME.test(b.table) && NFT_NAME.test(b.chain))
    .map((b): HostDropChain => ({ family: b.family, table: b.table, chain: b.chain, hook: b.hook as 'input' | 'forward' }));
  return facts;
};

// `firewall-cmd --get-zones`: zone names separated by spaces (only plain names are kept).
export const parseZones = (stdout: string): string[] => stdout.split(/\s+/).filter((z) => ZONE_NAME.test(z));

// libvirt's schema for `<bridge zone='...'/>` (and firewalld's zone names): letters, digits, '_', '-'.
export const ZONE_NAME = /^[a-zA-Z0-9_-]+$/;

export const describeHostChain = (c: HostDropChain): string => `${c.family} ${c.table} ${c.chain} (hook ${c.hook}, policy drop)`;
