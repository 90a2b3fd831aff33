// Tiny hand-written schema checks (the project has no validation library). A check returns the value
// typed, or throws SchemaError naming the path and the value at fault. Extra object members are
// allowed everywhere: newer writers may add fields, and old readers must still accept them.
export class SchemaError extends Error {
  constructor(readonly path: string, readonly problem: string) {
    super(`${path}: ${problem}`);
    this.name = 'SchemaError';
  }
}

export type Check<T> = (v: unknown, path: string) => T;

const show = (v: unknown): string => {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

const fail = (path: string, want: string, v: unknown): never => {
  throw new SchemaError(path, `expected ${want}, got ${show(v)}`);
};

export const str: Check<string> = (v, p) => (typeof v === 'string' ? v : fail(p, 'a string', v));
export const nonEmpty: Check<string> = (v, p) => (typeof v === 'string' && v !== '' ? v : fail(p, 'a non-empty string', v));
export const bool: Check<boolean> = (v, p) => (typeof v === 'boolean' ? v : fail(p, 'true or false', v));
export const num: Check<number> = (v, p) => (typeof v === 'number' && Number.isFinite(v) ? v : fail(p, 'a number', v));
export const int: Check<number> = (v, p) => (Number.isSafeInteger(v) ? (v as number) : fail(p, 'an integer', v));
export const nat: Check<number> = (v, p) => (Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : fail(p, 'an integer >= 0', v));

export const obj: Check<Record<string, unknown>> = (v, p) =>
  (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : fail(p, 'an object', v));

export const oneOf = <T extends string>(values: readonly T[]): Check<T> => (v, p) =>
  (typeof v === 'string' && (values as readonly string[]).includes(v) ? (v as T) : fail(p, `one of ${values.join('|')}`, v));

export const opt = <T>(c: Check<T>): Check<T | undefined> => (v, p) => (v === undefined ? undefined : c(v, p));

export const arrOf = <T>(c: Check<T>): Check<T[]> => (v, p) => {
  if (!Array.isArray(v)) return fail(p, 'an array', v);
  v.forEach((x, i) => c(x, `${p}[${i}]`));
  return v as T[];
};

// Checks the listed members of an object; the spec's keys ending in '?' are optional.
export const shape = <T>(spec: Record<string, Check<unknown>>): Check<T> => (v, p) => {
  const o = obj(v, p);
  for (const [k, c] of Object.entries(spec)) {
    const optional = k.endsWith('?');
    const key = optional ? k.slice(0, -1) : k;
    const x = o[key];
    if (optional && x === undefined) continue;
    c(x, `${p}.${key}`);
  }
  return o as T;
};
