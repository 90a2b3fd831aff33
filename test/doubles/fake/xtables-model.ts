// The iptables/ip6tables part of the fake kernel (one per family), printed as iptables prints it.
// A rule is identified by its argument text after the chain, with long options shortened the way
// iptables itself prints them, so `--insert C --in-interface x` and `-D C -i x` name one rule.
import { quoteIfNeeded } from './tokenize.js';

export interface XtChain { name: string; policy: string | null; rules: string[] }
export type XtTables = Record<string, XtChain[]>;
export interface XtState { ipv4: XtTables; ipv6: XtTables }

export const emptyXtState = (): XtState => ({ ipv4: {}, ipv6: {} });

export const BUILTIN_CHAINS: Record<string, string[]> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};

const SHORT: Record<string, string> = {
  '--in-interface': '-i', '--out-interface': '-o', '--protocol': '-p', '--source': '-s',
  '--destination': '-d', '--jump': '-j', '--match': '-m', '--goto': '-g',
};

// Targets that are extensions rather than chains; any other -j target must be a chain.
const TARGETS = new Set(['ACCEPT', 'DROP', 'REJECT', 'RETURN', 'MASQUERADE', 'SNAT', 'DNAT',
  'CHECKSUM', 'LOG', 'MARK', 'CONNMARK', 'QUEUE', 'NFQUEUE', 'TCPMSS', 'REDIRECT', 'NOTRACK', 'CT']);

export function canonicalRule(spec: string[]): string {
  return spec.map((w) => quoteIfNeeded(SHORT[w] ?? w)).join(' ');
}

// The chain a rule jumps to, when it is a user chain that must exist.
export function jumpTarget(spec: string[]): string | null {
  const i = spec.findIndex((w) => w === '-j' || w === '--jump' || w === '-g' || w === '--goto');
  const t = i >= 0 ? spec[i + 1] : undefined;
  return t !== undefined && !TARGETS.has(t) ? t : null;
}

// A table's chains; builtin chains exist implicitly (iptables-nft creates them on first use).
export function tableChains(tables: XtTables, table: string, create: boolean): XtChain[] | null {
  const existing = tables[table];
  if (existing) return existing;
  const builtin = BUILTIN_CHAINS[table];
  if (!builtin) return null;
  const chains = builtin.map((name) => ({ name, policy: 'ACCEPT', rules: [] }));
  if (create) tables[table] = chains;
  return chains;
}

function ordered(chains: XtChain[]): XtChain[] {
  const builtin = chains.filter((c) => c.policy !== null);
  const user = chains.filter((c) => c.policy === null).sort((a, b) => a.name.localeCompare(b.name));
  return [...builtin, ...user];
}

export function listRules(chains: XtChain[], only: XtChain | null): string {
  const shown = only ? [only] : ordered(chains);
  const lines = shown.map((c) => (c.policy !== null ? `-P ${c.name} ${c.policy}` : `-N ${c.name}`));
  for (const c of shown) for (const r of c.rules) lines.push(`-A ${c.name} ${r}`);
  return lines.map((l) => `${l}\n`).join('');
}

export function saveTable(name: string, chains: XtChain[]): string {
  const shown = ordered(chains);
  const lines = [`*${name}`, ...shown.map((c) => `:${c.name} ${c.policy ?? '-'} [0:0]`)];
  for (const c of shown) for (const r of c.rules) lines.push(`-A ${c.name} ${r}`);
  lines.push('COMMIT');
  return lines.map((l) => `${l}\n`).join('');
}

export function dumpXt(tables: XtTables): string {
  return Object.keys(tables).sort().map((t) => saveTable(t, tables[t] as XtChain[])).join('');
}
