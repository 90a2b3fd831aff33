// The canonical form of the firewall state vnetfw owns in a namespace, the same view as the
// oracle's canon.py: nftables `libvirt_network` tables (chains sorted by name, rule order kept,
// handles and counters dropped) and iptables-save/ip6tables-save per table (counters dropped).
// Two namespaces with equal dumps filter packets identically.
import { run } from './proc.js';
import { inNs } from './traffic.js';

const canonNft = (text: string): string[] => {
  const tables = new Map<string, Map<string, string[]>>();
  let table: Map<string, string[]> | undefined;
  let chain: string[] | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim().replace(/ # handle \d+/, '').replace(/counter packets \d+ bytes \d+/, 'counter');
    if (line === '') continue;
    const t = /^table (\S+ \S+) \{$/.exec(line);
    if (t !== null) { table = new Map(); tables.set(t[1] ?? '', table); chain = undefined; continue; }
    const c = /^chain (\S+) \{$/.exec(line);
    if (c !== null && table !== undefined) { chain = []; table.set(c[1] ?? '', chain); continue; }
    if (line === '}') { if (chain !== undefined) chain = undefined; else table = undefined; continue; }
    if (chain !== undefined) chain.push(line);
  }
  const out: string[] = [];
  for (const name of [...tables.keys()].sort()) {
    if (!name.endsWith(' libvirt_network')) continue;
    out.push(`table ${name}`);
    const chains = tables.get(name) ?? new Map<string, string[]>();
    for (const c of [...chains.keys()].sort()) out.push(`  chain ${c}`, ...(chains.get(c) ?? []).map((r) => `    ${r}`));
  }
  return out;
};

const canonSave = (family: string, text: string): string[] => {
  const blocks = new Map<string, string[]>();
  let cur: string[] | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    if (line.startsWith('*')) { cur = []; blocks.set(line.slice(1), cur); continue; }
    if (line === 'COMMIT') { cur = undefined; continue; }
    cur?.push(line.replace(/\[\d+:\d+\]/, '[]'));
  }
  return [...blocks.keys()].sort().flatMap((k) => [`${family} ${k}`, ...(blocks.get(k) ?? [])]);
};

// Pure, for tests: the three dumps in, the canonical text out.
export const canonicalRulesetFromText = (nft: string, v4: string, v6: string): string =>
  ['=== nftables', ...canonNft(nft), '=== iptables', ...canonSave('ip', v4), ...canonSave('ip6', v6)].join('\n');

export const canonicalRuleset = async (ns: string): Promise<string> => {
  const nft = await run(inNs(ns, ['nft', 'list', 'ruleset']));
  const v4 = await run(inNs(ns, ['iptables-save']));
  const v6 = await run(inNs(ns, ['ip6tables-save']));
  return canonicalRulesetFromText(nft.stdout, v4.stdout, v6.stdout);
};

// A readable difference: the lines only one side has (enough to see what went wrong).
export const rulesetDiff = (want: string, got: string): string[] => {
  const w = new Set(want.split('\n'));
  const g = new Set(got.split('\n'));
  return [...[...w].filter((l) => !g.has(l)).map((l) => `- ${l}`), ...[...g].filter((l) => !w.has(l)).map((l) => `+ ${l}`)];
};
