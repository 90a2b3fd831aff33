// The nftables part of the fake kernel: tables, chains and rules with nft's handle numbering,
// printed the way `nft list` prints them. Rules are kept as normalised expression text.
export interface NftRule { handle: number; expr: string }
export interface NftChain { name: string; handle: number; spec: string | null; rules: NftRule[] }
export interface NftTable {
  family: string;
  name: string;
  handle: number;
  comment: string | null;
  nextHandle: number;       // shared by the table's chains and rules, like the kernel's
  chains: NftChain[];
}
export interface NftState {
  tables: NftTable[];
  nextTableHandle: Record<string, number>;   // per family
  generation: number;
}

export const emptyNftState = (): NftState => ({ tables: [], nextTableHandle: {}, generation: 1 });

export const FAMILIES = new Set(['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev']);
const IFACE_KEYS = new Set(['iif', 'oif', 'iifname', 'oifname']);

// nft prints interface names quoted and counters with their values; mimic that so echoed and
// listed text looks like the real thing (and callers that parse it are tested against it).
export function normaliseExpr(tokens: string[]): string {
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    out.push(t);
    if (IFACE_KEYS.has(t)) {
      if (tokens[i + 1] === '!=') out.push(tokens[++i] as string);
      const v = tokens[i + 1];
      if (v !== undefined) {
        out.push(v.startsWith('"') ? v : `"${v}"`);
        i++;
      }
    } else if (t === 'state' && tokens[i - 1] === 'ct' && tokens[i + 1] !== undefined) {
      out.push(sortCtStates(tokens[++i] as string));
    } else if (t === 'counter' && tokens[i + 1] !== 'packets') {
      out.push('packets', '0', 'bytes', '0');
    }
  }
  return out.join(' ');
}

// nft prints a ct state set in the order of the state bits.
const CT_STATE_BITS: Record<string, number> = { invalid: 1, established: 2, related: 4, new: 8, untracked: 64 };
const sortCtStates = (list: string): string =>
  list.split(',').sort((a, b) => (CT_STATE_BITS[a] ?? 99) - (CT_STATE_BITS[b] ?? 99)).join(',');

const PRIORITY_NAMES: Record<string, string> = {
  'filter:0': 'filter', 'nat:100': 'srcnat', 'nat:-100': 'dstnat', 'filter:-300': 'raw',
  'filter:-150': 'mangle', 'filter:50': 'security',
};

// `{ type filter hook forward priority 0; policy accept; }` -> the statement nft lists.
export function normaliseChainSpec(body: string): string | null {
  const stmts = body.split(';').map((s) => s.trim()).filter((s) => s !== '');
  let type: string | null = null;
  let policy = 'accept';
  for (const s of stmts) {
    const w = s.split(/\s+/);
    if (w[0] === 'type' && w[2] === 'hook' && w[4] === 'priority' && w.length === 6) {
      const prio = PRIORITY_NAMES[`${w[1]}:${w[5]}`] ?? w[5];
      type = `type ${w[1]} hook ${w[3]} priority ${prio};`;
    } else if (w[0] === 'policy' && (w[1] === 'accept' || w[1] === 'drop') && w.length === 2) {
      policy = w[1];
    } else if (w[0] !== 'comment') {
      throw new Error(`syntax error, unexpected ${w[0] ?? 'end of input'}`);
    }
  }
  return type === null ? null : `${type} policy ${policy};`;
}

export function findTable(s: NftState, family: string, name: string): NftTable | undefined {
  return s.tables.find((t) => t.family === family && t.name === name);
}

export function printTable(t: NftTable, withHandles: boolean): string {
  const h = (n: number) => (withHandles ? ` # handle ${n}` : '');
  const lines = [`table ${t.family} ${t.name} {${h(t.handle)}`];
  if (t.comment !== null) lines.push(`\tcomment ${t.comment}`);
  t.chains.forEach((c, i) => {
    if (i > 0) lines.push('');
    lines.push(`\tchain ${c.name} {${h(c.handle)}`);
    if (c.spec) lines.push(`\t\t${c.spec}`);
    for (const r of c.rules) lines.push(`\t\t${r.expr}${h(r.handle)}`);
    lines.push('\t}');
  });
  lines.push('}');
  return lines.join('\n') + '\n';
}

export function printRuleset(s: NftState, withHandles: boolean): string {
  return s.tables.map((t) => printTable(t, withHandles)).join('');
}

// Stable text for before/after comparisons: no handles (they only grow), tables sorted.
export function dumpNft(s: NftState): string {
  const sorted = [...s.tables].sort((a, b) =>
    a.family === b.family ? a.name.localeCompare(b.name) : a.family.localeCompare(b.family));
  return sorted.map((t) => printTable(t, false)).join('');
}
