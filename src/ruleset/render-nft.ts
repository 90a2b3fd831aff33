// nft's JSON rule expressions back to (close to) nft's own syntax, for the user to recognise the
// rule a finding names. Display only: nothing is decided from this text.
type J = Record<string, unknown>;
const isObj = (x: unknown): x is J => typeof x === 'object' && x !== null && !Array.isArray(x);

// meta keys nft prints without the `meta` keyword
const BARE_META = new Set(['iif', 'oif', 'iifname', 'oifname', 'iiftype', 'oiftype', 'iifgroup', 'oifgroup', 'skuid', 'skgid', 'pkttype', 'cgroup']);

const term = (x: unknown, quote: boolean): string => {
  if (typeof x === 'string') return quote && !x.startsWith('@') ? `"${x}"` : x;
  if (typeof x === 'number' || typeof x === 'boolean') return String(x);
  if (Array.isArray(x)) return x.map((e) => term(e, quote)).join(',');
  if (!isObj(x)) return JSON.stringify(x);
  if (isObj(x.meta)) return BARE_META.has(String(x.meta.key)) ? String(x.meta.key) : `meta ${String(x.meta.key)}`;
  if (isObj(x.payload)) return `${String(x.payload.protocol)} ${String(x.payload.field)}`;
  if (isObj(x.ct)) return `ct ${String(x.ct.key)}`;
  if (isObj(x.fib)) return `fib ${Array.isArray(x.fib.flags) ? x.fib.flags.join(' . ') : ''} ${String(x.fib.result)}`;
  if (isObj(x.prefix)) return `${String(x.prefix.addr)}/${String(x.prefix.len)}`;
  if (Array.isArray(x.range)) return x.range.map((e) => term(e, quote)).join('-');
  if (Array.isArray(x.set)) return `{ ${x.set.map((e) => (Array.isArray(e) ? `${term(e[0], quote)} : ${verdict(e[1])}` : term(e, quote))).join(', ')} }`;
  if (Array.isArray(x.concat)) return x.concat.map((e) => term(e, quote)).join(' . ');
  if (Array.isArray(x['&'])) return x['&'].map((e) => term(e, false)).join(' & ');
  return JSON.stringify(x);
};

const verdict = (x: unknown): string => {
  if (!isObj(x)) return String(x);
  const [k, v] = Object.entries(x)[0] ?? ['?', null];
  return isObj(v) && typeof v.target === 'string' ? `${k} ${v.target}` : k;
};

const quoted = (left: unknown): boolean => isObj(left) && isObj(left.meta) && /^(iif|oif)(name)?$/.test(String(left.meta.key));

const statement = (e: unknown): string => {
  if (!isObj(e)) return JSON.stringify(e);
  const [k, v] = Object.entries(e)[0] ?? ['?', null];
  if (k === 'match' && isObj(v)) {
    const op = v.op === '==' || v.op === 'in' ? '' : `${String(v.op)} `;
    return `${term(v.left, false)} ${op}${term(v.right, quoted(v.left))}`;
  }
  if (k === 'counter') return 'counter';
  if (k === 'vmap' && isObj(v)) return `${term(v.key, false)} vmap ${term(v.data, quoted(v.key))}`;
  if ((k === 'jump' || k === 'goto') && isObj(v)) return `${k} ${String(v.target)}`;
  if (k === 'reject' && isObj(v)) return `reject${v.type === undefined ? '' : ` with ${String(v.type)}`}${v.expr === undefined ? '' : ` ${String(v.expr)}`}`;
  if (k === 'xt' && isObj(v)) return `xt ${String(v.type)} "${String(v.name)}"`;
  if (k === 'limit' && isObj(v)) return `limit rate ${String(v.rate)}/${String(v.per)}`;
  if (k === 'log' && isObj(v) && typeof v.prefix === 'string') return `log prefix "${v.prefix}"`;
  return k;
};

export const renderNftRule = (expr: unknown[], comment?: string): string =>
  [...expr.map(statement), ...(comment === undefined ? [] : [`comment "${comment}"`])].join(' ');
