
// The hash chain is defined over a canonical JSON form so that anyone can recompute it from the
// parsed record with any JSON library: object keys sorted by UTF-16 code unit order (what
// Array.prototype.sort does), no whitespace, `undefined` members dropped, strings and numbers as
// JSON.stringify writes them.
const slowCanonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== 'object') {
    const s = JSON.stringify(value);
    // undefined / functions / symbols have no JSON form; inside arrays JSON.stringify writes null.
    return s === undefined ? 'null' : s;
  }
  if (Array.isArray(value)) return `[${value.map((v) => slowCanonicalJson(v)).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(obj).sort()) {
    const v = obj[key];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    parts.push(`${JSON.stringify(key)}:${slowCanonicalJson(v)}`);
  }
  return `{${parts.join(',')}}`;
};

const INTEGER_KEY = /^(0|[1-9]\d*)$/;

// The same text, written by the engine's own JSON.stringify (records of big batches are large and
// this is on every append): objects are handed over with their keys in sorted order, which works
// unless a key looks like an array index (JavaScript always lists those first); then, and for a
// toJSON method, the plain recursive form above is used.
export const canonicalJson = (value: unknown): string => {
  let fallback = false;
  const out = JSON.stringify(value, function (this: unknown, _key: string, v: unknown): unknown {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const keys = Object.keys(v);
    let sorted = true;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as string;
      if (INTEGER_KEY.test(k)) fallback = true;
      if (i > 0 && (keys[i - 1] as string) > k) sorted = false;
    }
    if (typeof (v as { toJSON?: unknown }).toJSON === 'function') fallback = true;
    if (sorted || fallback) return v;
    const o: Record<string, unknown> = {};
    for (const k of keys.sort()) o[k] = (v as Record<string, unknown>)[k];
    return o;
  });
  if (fallback) return slowCanonicalJson(value);
  return out === undefined ? 'null' : out;
};

// node:crypto is loaded on the first hash, not with this module: the event definitions import it,
// so every command would load it (a few ms of `vnetfw --version`, which hashes nothing).
export const sha256Hex = (text: string): string =>
  process.getBuiltinModule('node:crypto').createHash('sha256').update(text, 'utf8').digest('hex');

// prev of the first record.
export const GENESIS_HASH = '0'.repeat(64);

export const isHash = (s: unknown): s is string => typeof s === 'string' && /^[0-9a-f]{64}$/.test(s);
