// `nft -j list ruleset` → tables of the ruleset model. Only what can decide a packet's fate on
// the input/forward/output hooks is kept precisely; every expression this reader does not know
// becomes an `unknown` condition (may match) or verdict (may drop), never silently nothing.
import { parseIPv4, parseIPv6 } from '../definition/index.js';
import type { IpFamily } from '../definition/types.js';
import { RulesetError } from './errors.js';
import { HOOKS, type Chain, type Cond, type Field, type Hook, type Rule, type Table, type TableFamily, type Value, type Verdict } from './model.js';

type J = Record<string, unknown>;
const isObj = (x: unknown): x is J => typeof x === 'object' && x !== null && !Array.isArray(x);
const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);

// Statements that never end a packet's walk and test nothing.
const NEUTRAL = new Set(['counter', 'log', 'comment', 'mangle', 'notrack', 'ct helper', 'ct timeout', 'ct expectation', 'dup', 'flow', 'set', 'meta']);
// Statements that may end it in a way we do not model.
const ENDING = new Set(['queue', 'fwd', 'synproxy', 'tproxy']);
// iptables targets (seen as xt in nft's JSON) that do not end the walk.
export const NEUTRAL_TARGETS = new Set(['LOG', 'NFLOG', 'ULOG', 'MARK', 'CONNMARK', 'CHECKSUM', 'TCPMSS', 'CT', 'AUDIT', 'SET', 'TRACE', 'CLASSIFY', 'DSCP', 'TOS', 'TTL', 'HL', 'CONNSECMARK', 'SECMARK', 'IDLETIMER', 'LED', 'NOTRACK']);

type Sets = Map<string, unknown[]>;   // "family/table/name" → elements

const addrValue = (s: string, len?: number): Value | undefined => {
  const v4 = parseIPv4(s);
  if (v4 !== undefined) return { kind: 'prefix', family: 'ipv4', addr: v4, len: len ?? 32 };
  const v6 = parseIPv6(s);
  if (v6 !== undefined) return { kind: 'prefix', family: 'ipv6', addr: v6, len: len ?? 128 };
  return undefined;
};

// The right-hand side of a match (or a map key), as values of `field`; undefined when we cannot
// read it.
const valuesOf = (field: Field, right: unknown, sets: Sets, setKey: (n: string) => string): Value[] | undefined => {
  if (Array.isArray(right)) return flat(right.map((r) => valuesOf(field, r, sets, setKey)));
  if (typeof right === 'string' && right.startsWith('@')) {
    const elems = sets.get(setKey(right.slice(1)));
    return elems === undefined ? undefined : flat(elems.map((e) => valuesOf(field, e, sets, setKey)));
  }
  if (field === 'saddr' || field === 'daddr') {
    if (typeof right === 'string') { const v = addrValue(right); return v === undefined ? undefined : [v]; }
    if (isObj(right) && isObj(right.prefix)) {
      const a = str(right.prefix.addr); const len = right.prefix.len;
      const v = a === undefined || typeof len !== 'number' ? undefined : addrValue(a, len);
      return v === undefined ? undefined : [v];
    }
    if (isObj(right) && Array.isArray(right.set)) return valuesOf(field, right.set, sets, setKey);
    if (isObj(right) && Array.isArray(right.elem)) return valuesOf(field, right.elem, sets, setKey);
    return undefined;
  }
  if (field === 'sport' || field === 'dport') {
    if (typeof right === 'number') return [{ kind: 'ports', lo: right, hi: right }];
    if (isObj(right) && Array.isArray(right.range) && typeof right.range[0] === 'number' && typeof right.range[1] === 'number') {
      return [{ kind: 'ports', lo: right.range[0], hi: right.range[1] }];
    }
    if (isObj(right) && Array.isArray(right.set)) return valuesOf(field, right.set, sets, setKey);
    return undefined;
  }
  if (typeof right === 'string') return [{ kind: 'name', name: right }];
  if (typeof right === 'number') return [{ kind: 'name', name: String(right) }];
  if (isObj(right) && Array.isArray(right.set)) return valuesOf(field, right.set, sets, setKey);
  return undefined;
};
const flat = (parts: (Value[] | undefined)[]): Value[] | undefined =>
  (parts.some((p) => p === undefined) ? undefined : parts.flatMap((p) => p ?? []));

interface Left { field: Field; proto?: 'tcp' | 'udp'; family?: IpFamily }
const leftOf = (left: unknown): Left | undefined => {
  if (!isObj(left)) return undefined;
  if (isObj(left.meta)) {
    const key = str(left.meta.key);
    if (key === 'iifname' || key === 'iif') return { field: 'iifname' };
    if (key === 'oifname' || key === 'oif') return { field: 'oifname' };
    if (key === 'l4proto') return { field: 'l4proto' };
    if (key === 'nfproto') return { field: 'nfproto' };
    return undefined;
  }
  if (isObj(left.payload)) {
    const proto = str(left.payload.protocol); const f = str(left.payload.field);
    if ((proto === 'ip' || proto === 'ip6') && (f === 'saddr' || f === 'daddr')) return { field: f, family: proto === 'ip' ? 'ipv4' : 'ipv6' };
    if ((proto === 'tcp' || proto === 'udp') && (f === 'sport' || f === 'dport')) return { field: f, proto };
    if (proto === 'th' && (f === 'sport' || f === 'dport')) return { field: f };
    if ((proto === 'ip' || proto === 'ip6') && (f === 'protocol' || f === 'nexthdr')) return { field: 'l4proto' };
    return undefined;
  }
  if (isObj(left.ct) && str(left.ct.key) === 'state' && left.ct.dir === undefined) return { field: 'ctstate' };
  if (isObj(left.ct) && str(left.ct.key) === 'status' && left.ct.dir === undefined) return { field: 'ctstatus' };
  if (isObj(left.fib) && str(left.fib.result) === 'type') {
    const flags = left.fib.flags;
    if (Array.isArray(flags) && flags.length === 1 && flags[0] === 'daddr') return { field: 'daddrtype' };
  }
  return undefined;
};

const short = (x: unknown): string => JSON.stringify(x).slice(0, 80);

// `icmp type ...` / `icmpv6 type ...`: only packets of that protocol (and IP version) can match;
// what the type test itself says is left undecided.
const ICMP: Record<string, [string, string]> = { icmp: ['ipv4', 'icmp'], icmpv6: ['ipv6', 'ipv6-icmp'] };
const icmpConds = (left: unknown): Cond[] | undefined => {
  if (!isObj(left) || !isObj(left.payload)) return undefined;
  const p = ICMP[str(left.payload.protocol) ?? ''];
  if (p === undefined) return undefined;
  return [
    { kind: 'test', field: 'nfproto', negate: false, values: [{ kind: 'name', name: p[0] }] },
    { kind: 'test', field: 'l4proto', negate: false, values: [{ kind: 'name', name: p[1] }] },
    { kind: 'unknown', what: `${p[1]} ${String(left.payload.field)}` },
  ];
};

const condsOf = (m: J, sets: Sets, setKey: (n: string) => string): Cond[] => icmpConds(m.left) ?? [condOf(m, sets, setKey)];

const condOf = (m: J, sets: Sets, setKey: (n: string) => string): Cond => {
  const op = str(m.op) ?? '==';
  // a lookup in an empty named set matches nothing, whatever the key (NixOS's temp-ports)
  if (typeof m.right === 'string' && m.right.startsWith('@') && (op === '==' || op === 'in') && sets.get(setKey(m.right.slice(1)))?.length === 0) {
    return { kind: 'test', field: 'nfproto', negate: false, values: [] };
  }
  const l = leftOf(m.left);
  if (l === undefined || !['==', '!=', 'in'].includes(op)) return { kind: 'unknown', what: `match ${short(m.left)}` };
  const values = valuesOf(l.field, m.right, sets, setKey);
  if (values === undefined) return { kind: 'unknown', what: `match ${short(m.left)} ${short(m.right)}` };
  // `ip saddr` in an inet table also says "IPv4 only": values carry their family
  if (l.family !== undefined && values.some((v) => v.kind === 'prefix' && v.family !== l.family)) return { kind: 'unknown', what: short(m) };
  return { kind: 'test', field: l.field, negate: op === '!=', values, ...(l.proto === undefined ? {} : { proto: l.proto }) };
};

const verdictOf = (key: string, val: unknown, sets: Sets, setKey: (n: string) => string): Verdict | undefined => {
  switch (key) {
    case 'accept': case 'drop': case 'reject': case 'return': case 'continue':
      return { kind: key };
    case 'jump': case 'goto': {
      const target = isObj(val) ? str(val.target) : undefined;
      return target === undefined ? { kind: 'unknown', what: key } : { kind: key, target };
    }
    case 'vmap': {
      if (!isObj(val)) return { kind: 'unknown', what: 'vmap' };
      const l = leftOf(val.key);
      const data = val.data;
      const raw = typeof data === 'string' && data.startsWith('@') ? sets.get(setKey(data.slice(1))) : isObj(data) && Array.isArray(data.set) ? data.set : undefined;
      if (l === undefined || raw === undefined) return { kind: 'unknown', what: `vmap ${short(val.key)}` };
      const entries: { values: Value[]; verdict: Verdict }[] = [];
      for (const e of raw) {
        if (!Array.isArray(e) || e.length !== 2 || !isObj(e[1])) return { kind: 'unknown', what: 'vmap element' };
        const values = valuesOf(l.field, e[0], sets, setKey);
        const [vk, vv] = Object.entries(e[1])[0] ?? [];
        const verdict = vk === undefined ? undefined : verdictOf(vk, vv, sets, setKey);
        if (values === undefined || verdict === undefined) return { kind: 'unknown', what: `vmap ${short(e)}` };
        entries.push({ values, verdict });
      }
      return { kind: 'vmap', field: l.field, entries, ...(l.proto === undefined ? {} : { proto: l.proto }) };
    }
    default:
      return undefined;
  }
};

const ruleOf = (expr: unknown[], sets: Sets, setKey: (n: string) => string, handle: number | undefined, text: string): Rule => {
  const conds: Cond[] = [];
  let verdict: Verdict | null = null;
  for (const e of expr) {
    if (!isObj(e)) { conds.push({ kind: 'unknown', what: short(e) }); continue; }
    const [key, val] = Object.entries(e)[0] ?? ['?', null];
    if (key === 'match' && isObj(val)) { conds.push(...condsOf(val, sets, setKey)); continue; }
    if (key === 'xt' && isObj(val)) {
      const name = str(val.name) ?? '?';
      if (val.type === 'target') verdict = NEUTRAL_TARGETS.has(name) ? verdict : name === 'REJECT' ? { kind: 'reject' } : { kind: 'unknown', what: `xt target ${name}` };
      else if (name !== 'comment') conds.push({ kind: 'unknown', what: `xt match ${name}` });
      continue;
    }
    const v = verdictOf(key, val, sets, setKey);
    if (v !== undefined) { verdict = v; continue; }
    if (ENDING.has(key)) { verdict = { kind: 'unknown', what: key }; continue; }
    if (NEUTRAL.has(key)) continue;
    // limit, quota, anything new: a condition we cannot decide
    conds.push({ kind: 'unknown', what: key });
  }
  return { conds, verdict, text, ...(handle === undefined ? {} : { handle }) };
};

const FAMILIES: readonly TableFamily[] = ['ip', 'ip6', 'inet'];

// Tables of the families IP packets traverse (ip, ip6, inet); bridge, arp and netdev tables act
// on other hooks and are left out.
export const tablesFromNftJson = (doc: unknown, describe: (expr: unknown[], comment?: string) => string): Table[] => {
  if (!isObj(doc) || !Array.isArray(doc.nftables)) throw new RulesetError('ERULESET_NFT_JSON', 'nft -j list ruleset: output is not nft JSON (no "nftables" array)');
  const items = doc.nftables.filter(isObj);
  const tables = new Map<string, Table>();
  const key = (fam: string, table: string): string => `${fam}/${table}`;
  const sets: Sets = new Map();
  for (const it of items) {
    const t = it.table;
    if (isObj(t) && FAMILIES.includes(t.family as TableFamily) && typeof t.name === 'string') {
      tables.set(key(String(t.family), t.name), { family: t.family as TableFamily, name: t.name, source: 'nft', chains: new Map() });
    }
    const s = isObj(it.set) ? it.set : isObj(it.map) ? it.map : undefined;
    if (s !== undefined && typeof s.name === 'string') sets.set(`${String(s.family)}/${String(s.table)}/${s.name}`, Array.isArray(s.elem) ? s.elem : []);
  }
  for (const it of items) {
    const c = it.chain;
    if (!isObj(c)) continue;
    const table = tables.get(key(String(c.family), String(c.table)));
    if (table === undefined || typeof c.name !== 'string') continue;
    const chain: Chain = { name: c.name, rules: [] };
    const hook = c.hook as Hook;
    // nat chains rewrite addresses, they do not filter: not on the doctor's path
    if (HOOKS.includes(hook) && c.type !== 'nat') {
      chain.base = { hook, priority: typeof c.prio === 'number' ? c.prio : 0, policy: c.policy === 'drop' ? 'drop' : 'accept' };
    }
    table.chains.set(c.name, chain);
  }
  for (const it of items) {
    const r = it.rule;
    if (!isObj(r) || !Array.isArray(r.expr)) continue;
    const table = tables.get(key(String(r.family), String(r.table)));
    const chain = table?.chains.get(String(r.chain));
    if (table === undefined || chain === undefined) continue;
    const setKey = (n: string): string => `${table.family}/${table.name}/${n}`;
    const handle = typeof r.handle === 'number' ? r.handle : undefined;
    chain.rules.push(ruleOf(r.expr, sets, setKey, handle, describe(r.expr, str(r.comment))));
  }
  return [...tables.values()];
};

// True when a table holds iptables-nft's xt expressions (matches nft cannot show as nft syntax).
export const hasXtExpressions = (doc: unknown, family: TableFamily, table: string): boolean => {
  if (!isObj(doc) || !Array.isArray(doc.nftables)) return false;
  return doc.nftables.some((it) => isObj(it) && isObj(it.rule) && it.rule.family === family && it.rule.table === table
    && Array.isArray(it.rule.expr) && it.rule.expr.some((e) => isObj(e) && isObj(e.xt) && e.xt.type === 'match' && e.xt.name !== 'comment'));
};

// `nft -j list ruleset` as printed: its document and its tables. Not JSON, or JSON without the
// "nftables" array: RulesetError.
export const parseNftRuleset = (text: string, describe: (expr: unknown[], comment?: string) => string): { doc: unknown; tables: Table[] } => {
  let doc: unknown;
  try { doc = JSON.parse(text); } catch { throw new RulesetError('ERULESET_NFT_JSON', 'nft -j list ruleset: output is not JSON'); }
  return { doc, tables: tablesFromNftJson(doc, describe) };
};
