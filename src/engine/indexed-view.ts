import type { NetworkDef } from '../definition/types.js';
import { buildRules, indexedSetup, INDEXED_TABLE, nftListIndexedTable, type FwCommand } from '../firewall/index.js';
import { runStep, type OpScope } from './steps.js';

// What the indexed layout's table holds right now: rules per chain (as counts) and the keys of
// every map and set. Read as JSON (`nft -j`), only on verify/drift paths.
export interface IndexedView { present: boolean; rules: Map<string, number>; elements: Map<string, Set<string>> }

const keyText = (k: unknown): string | undefined => {
  if (typeof k === 'string') return k;
  if (typeof k === 'object' && k !== null && 'prefix' in k) {
    const p = (k as { prefix: { addr?: unknown; len?: unknown } }).prefix;
    return `${String(p.addr)}/${String(p.len)}`;
  }
  return undefined;
};

export const parseIndexedJson = (text: string): IndexedView => {
  const view: IndexedView = { present: false, rules: new Map(), elements: new Map() };
  let doc: unknown;
  try { doc = JSON.parse(text); } catch { return view; }
  const items = (doc as { nftables?: unknown[] }).nftables ?? [];
  for (const item of items) {
    if (typeof item !== 'object' || item === null) continue;
    const o = item as Record<string, Record<string, unknown> | undefined>;
    if (o.table !== undefined) view.present = true;
    if (o.chain !== undefined) view.rules.set(String(o.chain.name), view.rules.get(String(o.chain.name)) ?? 0);
    if (o.rule !== undefined) view.rules.set(String(o.rule.chain), (view.rules.get(String(o.rule.chain)) ?? 0) + 1);
    const set = o.map ?? o.set;
    if (set !== undefined) {
      const keys = new Set<string>();
      for (const e of (set.elem as unknown[] | undefined) ?? []) {
        const k = keyText(Array.isArray(e) ? e[0] : e);
        if (k !== undefined) keys.add(k);
      }
      view.elements.set(String(set.name), keys);
    }
  }
  return view;
};

export const readIndexedView = async (scope: OpScope): Promise<IndexedView> => {
  const res = await runStep(scope, { argv: nftListIndexedTable(), purpose: 'query' });
  return res.exitCode === 0 ? parseIndexedJson(res.stdout) : { present: false, rules: new Map(), elements: new Map() };
};

// What the view should hold for a list of commands: rules per chain (a flush starts a chain
// over) and element keys per map or set (quotes dropped, as the kernel shows names).
const expected = (cmds: readonly FwCommand[]): { rules: Map<string, number>; elements: Array<{ map: string; key: string }> } => {
  const rules = new Map<string, number>();
  const elements: Array<{ map: string; key: string }> = [];
  for (const c of cmds) {
    const [verb, object, , table, name] = c.args;
    if (table !== INDEXED_TABLE || name === undefined) continue;
    if (object === 'chain' && verb === 'add') rules.set(name, rules.get(name) ?? 0);
    if (object === 'chain' && verb === 'flush') rules.set(name, 0);
    if (object === 'rule') rules.set(name, (rules.get(name) ?? 0) + 1);
    if (object === 'element') elements.push({ map: name, key: (c.args[c.args.indexOf('{') + 1] ?? '').replace(/^"(.*)"$/, '$1') });
  }
  return { rules, elements };
};

// Differences between the kernel and one network's indexed rules (plus the shared base: a broken
// dispatch breaks every network, so it is reported for each).
export const indexedDiff = (view: IndexedView, def: NetworkDef): { missing: string[]; foreign: string[] } => {
  const want = expected([...indexedSetup(), ...buildRules(def, 'nftables-indexed').groups.flatMap((g) => g.commands)]);
  const missing: string[] = [];
  const foreign: string[] = [];
  if (!view.present) return { missing: [`nft table inet ${INDEXED_TABLE}`], foreign };
  for (const [chain, n] of want.rules) {
    const have = view.rules.get(chain);
    if (have === undefined) missing.push(`nft chain inet ${INDEXED_TABLE} ${chain}`);
    else if (have < n) missing.push(`nft chain inet ${INDEXED_TABLE} ${chain}: ${have} of its ${n} rules present`);
    else if (have > n) foreign.push(`nft chain inet ${INDEXED_TABLE} ${chain}: ${have - n} rule(s) nobody recorded`);
  }
  for (const { map, key } of want.elements) {
    const keys = view.elements.get(map);
    if (keys === undefined || !(keys.has(key) || keys.has(key.replace(/\/(32|128)$/, '')))) missing.push(`nft element inet ${INDEXED_TABLE} ${map} { ${key} }`);
  }
  return { missing, foreign };
};
