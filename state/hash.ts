import { createHash } from 'node:crypto';

// The hash chain is defined over a canonical JSON form so that anyone can recompute it from the
// parsed record with any JSON library: object keys sorted by UTF-16 code unit order (what
// Array.prototype.sort does), no whitespace, `undefined` members dropped, strings and numbers as
// JSON.stringify writes them.
export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== 'object') {
    const s = JSON.stringify(value);
    // undefined / functions / symbols have no JSON form; inside arrays JSON.stringify writes null.
    return s === undefined ? 'null' : s;
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(obj).sort()) {
    const v = obj[key];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(v)}`);
  }
  return `{${parts.join(',')}}`;
};

export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

// prev of the first record.
export const GENESIS_HASH = '0'.repeat(64);

export const isHash = (s: unknown): s is string => typeof s === 'string' && /^[0-9a-f]{64}$/.test(s);
