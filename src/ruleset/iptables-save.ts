// iptables-save / ip6tables-save output → tables of the ruleset model. Used for iptables-legacy's
// tables (nft cannot see them) and for iptables-nft tables whose xt matches (conntrack, multiport,
// addrtype ...) nft's JSON shows only by name.
import type { Cond, Field, Hook, Rule, Source, Table, Value, Verdict } from './model.js';
import { NEUTRAL_TARGETS } from './nft-json.js';
import { parseIPv4, parseIPv6 } from '../definition/index.js';

// The built-in chains on the hooks the doctor looks at, with iptables' fixed priorities.
const BUILTIN: Record<string, Partial<Record<string, { hook: Hook; priority: number }>>> = {
  filter: { INPUT: { hook: 'input', priority: 0 }, FORWARD: { hook: 'forward', priority: 0 }, OUTPUT: { hook: 'output', priority: 0 } },
  mangle: { INPUT: { hook: 'input', priority: -150 }, FORWARD: { hook: 'forward', priority: -150 }, OUTPUT: { hook: 'output', priority: -150 } },
  raw: { OUTPUT: { hook: 'output', priority: -300 } },
  security: { INPUT: { hook: 'input', priority: 50 }, FORWARD: { hook: 'forward', priority: 50 }, OUTPUT: { hook: 'output', priority: 50 } },
};

export const tokenize = (line: string): string[] => {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (line[i] === ' ') i++;
    if (i >= line.length) break;
    let tok = '';
    if (line[i] === '"') {
      i++;
      while (i < line.length && line[i] !== '"') { if (line[i] === '\\') i++; tok += line[i] ?? ''; i++; }
      i++;
    } else {
      while (i < line.length && line[i] !== ' ') tok += line[i++];
    }
    out.push(tok);
  }
  return out;
};

const prefixLen = (mask: string, v6: boolean): number | undefined => {
  if (/^\d+$/.test(mask)) return Number(mask);
  const m = v6 ? parseIPv6(mask) : parseIPv4(mask);
  if (m === undefined) return undefined;
  const bits = v6 ? 128 : 32;
  let len = 0;
  for (let b = bits - 1; b >= 0 && ((m >> BigInt(b)) & 1n) === 1n; b--) len++;
  return len;
};

const addr = (s: string, v6: boolean): Value | undefined => {
  const [a = '', m] = s.split('/');
  const v = v6 ? parseIPv6(a) : parseIPv4(a);
  const len = m === undefined ? (v6 ? 128 : 32) : prefixLen(m, v6);
  return v === undefined || len === undefined ? undefined : { kind: 'prefix', family: v6 ? 'ipv6' : 'ipv4', addr: v, len };
};

const ports = (s: string): Value[] | undefined => {
  const out: Value[] = [];
  for (const part of s.split(',')) {
    const [lo, hi] = part.split(':').map(Number);
    if (lo === undefined || !Number.isInteger(lo)) return undefined;
    out.push({ kind: 'ports', lo, hi: hi === undefined || !Number.isInteger(hi) ? lo : hi });
  }
  return out;
};

// Modules whose options below are read; any other module is a condition we cannot decide.
const KNOWN_MODULES = new Set(['tcp', 'udp', 'multiport', 'conntrack', 'state', 'comment', 'addrtype']);

const ruleOf = (tokens: string[], v6: boolean, chains: Set<string>, text: string): Rule => {
  const conds: Cond[] = [];
  let verdict: Verdict | null = null;
  let negate = false;
  let proto: 'tcp' | 'udp' | undefined;
  const test = (field: Field, values: Value[] | undefined, what: string): void => {
    conds.push(values === undefined ? { kind: 'unknown', what } : { kind: 'test', field, negate, values, ...((field === 'dport' || field === 'sport') && proto !== undefined ? { proto } : {}) });
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] ?? '';
    const arg = tokens[i + 1] ?? '';
    if (t === '!') { negate = true; continue; }
    switch (t) {
      case '-i': case '--in-interface': test('iifname', [{ kind: 'name', name: arg.replace(/\+$/, '*') }], t); i++; break;
      case '-o': case '--out-interface': test('oifname', [{ kind: 'name', name: arg.replace(/\+$/, '*') }], t); i++; break;
      case '-s': case '--source': { const v = addr(arg, v6); test('saddr', v === undefined ? undefined : [v], `-s ${arg}`); i++; break; }
      case '-d': case '--destination': { const v = addr(arg, v6); test('daddr', v === undefined ? undefined : [v], `-d ${arg}`); i++; break; }
      case '-p': case '--protocol':
        proto = arg === 'tcp' || arg === 'udp' ? arg : undefined;
        test('l4proto', [{ kind: 'name', name: arg }], t); i++; break;
      case '-m': case '--match':
        if (!KNOWN_MODULES.has(arg)) conds.push({ kind: 'unknown', what: `-m ${arg}` });
        i++; break;
      case '--dport': case '--destination-port': case '--dports': case '--destination-ports': test('dport', ports(arg), `${t} ${arg}`); i++; break;
      case '--sport': case '--source-port': case '--sports': case '--source-ports': test('sport', ports(arg), `${t} ${arg}`); i++; break;
      case '--ctstate': case '--state': test('ctstate', arg.split(',').map((name) => ({ kind: 'name', name: name.toLowerCase() })), t); i++; break;
      case '--dst-type': test('daddrtype', arg.split(',').map((name) => ({ kind: 'name', name: name.toLowerCase() })), t); i++; break;
      case '--comment': i++; break;
      case '-j': case '--jump': {
        if (arg === 'ACCEPT') verdict = { kind: 'accept' };
        else if (arg === 'DROP') verdict = { kind: 'drop' };
        else if (arg === 'REJECT') verdict = { kind: 'reject' };
        else if (arg === 'RETURN') verdict = { kind: 'return' };
        else if (chains.has(arg)) verdict = { kind: 'jump', target: arg };
        else if (!NEUTRAL_TARGETS.has(arg)) verdict = { kind: 'unknown', what: `-j ${arg}` };
        return { conds, verdict, text };   // the target's own options follow; nothing else does
      }
      case '-g': case '--goto':
        return { conds, verdict: { kind: 'goto', target: arg }, text };
      default:
        // an option of a module we do not read (--icmp-type, --limit, --physdev-in ...)
        conds.push({ kind: 'unknown', what: t });
        if (arg !== '' && !arg.startsWith('-') && arg !== '!') i++;
    }
    negate = false;
  }
  return { conds, verdict, text };
};

export const tablesFromIptablesSave = (text: string, family: 'ip' | 'ip6', source: Source): Table[] => {
  const tables: Table[] = [];
  let current: Table | undefined;
  let lines: string[] = [];
  const finish = (): void => {
    if (current === undefined) return;
    const names = new Set(current.chains.keys());
    for (const line of lines) {
      const tokens = tokenize(line);
      const chain = current.chains.get(tokens[1] ?? '');
      if (chain !== undefined) chain.rules.push(ruleOf(tokens.slice(2), family === 'ip6', names, line));
    }
    tables.push(current);
    current = undefined; lines = [];
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) { finish(); current = { family, name: line.slice(1), source, chains: new Map() }; continue; }
    if (current === undefined) continue;
    if (line === 'COMMIT') { finish(); continue; }
    const decl = /^:(\S+) (\S+)/.exec(line);
    if (decl !== null) {
      const name = decl[1] ?? '';
      const b = BUILTIN[current.name]?.[name];
      current.chains.set(name, { name, rules: [], ...(b === undefined ? {} : { base: { ...b, policy: decl[2] === 'DROP' ? 'drop' : 'accept' } }) });
      continue;
    }
    if (line.startsWith('-A ')) lines.push(line);
  }
  finish();
  return tables.filter((t) => t.name !== 'nat');
};
