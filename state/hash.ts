
// The hash chain is defined over a canonical JSON form so that anyone can recompute it from the
// parsed record with any JSON library: object keys sorted by UTF-16 code unit order (what
// Array.prototype.sort does), no whitespace, `undefined` members dropped, strings and numbers as
// JSON.stringify writes them.
//
// Written by hand rather than as JSON.stringify with a replacer that hands over key-sorted copies:
// this is on every append, records of big batches hold thousands of commands, and the replacer
// (called for every value) cost 3 ms warm and 7 ms cold for one 40-network intent, this 2 ms either
// way. An array of strings (a command's args) goes to JSON.stringify whole.
export const canonicalJson = (value: unknown): string => {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || typeof value !== 'object') {
    const s = JSON.stringify(value);
    // undefined / functions / symbols have no JSON form; inside arrays JSON.stringify writes null.
    return s === undefined ? 'null' : s;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return canonicalJson((value as { toJSON: () => unknown }).toJSON());
  if (Array.isArray(value)) {
    let strings = true;
    for (let i = 0; i < value.length; i++) if (typeof value[i] !== 'string') { strings = false; break; }
    if (strings) return JSON.stringify(value);
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  let out = '{';
  let first = true;
  for (const key of Object.keys(obj).sort()) {
    const v = obj[key];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJson(v)}`;
    first = false;
  }
  return `${out}}`;
};

// node:crypto is loaded on the first hash, not with this module: the event definitions import it,
// so every command would load it (a few ms of `vnetfw --version`, which hashes nothing).
// The one-shot hash: no Hash object per record (a few microseconds each, 250 records a switch).
export const sha256Hex = (text: string): string => process.getBuiltinModule('node:crypto').hash('sha256', text, 'hex');

// prev of the first record.
export const GENESIS_HASH = '0'.repeat(64);

export const isHash = (s: unknown): s is string => typeof s === 'string' && /^[0-9a-f]{64}$/.test(s);
