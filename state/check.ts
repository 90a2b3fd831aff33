// Tiny hand-written schema checks (the project has no validation library). A check returns the value
// typed, or throws SchemaError naming the path and the value at fault. Extra object members are
// allowed everywhere: newer writers may add fields, and old readers must still accept them.
// Paths are only built when a check fails (each level prefixes its part while the error passes
// through): checks run on every record read at open, so the success path must not allocate.
export class SchemaError extends Error {
  constructor(readonly path: string, readonly problem: string) {
    super(`${path}: ${problem}`);
    this.name = 'SchemaError';
  }

  under(prefix: string): SchemaError {
    return new SchemaError(`${prefix}${this.path}`, this.problem);
  }
}

export type Check<T> = (v: unknown) => T;

const show = (v: unknown): string => {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

const fail = (want: string, v: unknown): never => {
  throw new SchemaError('', `expected ${want}, got ${show(v)}`);
};

// Runs a check on a named value; the error's path starts with `path`.
export const checkAt = <T>(c: Check<T>, v: unknown, path: string): T => {
  try {
    return c(v);
  } catch (err) {
    throw err instanceof SchemaError ? err.under(path) : err;
  }
};

export const str: Check<string> = (v) => (typeof v === 'string' ? v : fail('a string', v));
export const nonEmpty: Check<string> = (v) => (typeof v === 'string' && v !== '' ? v : fail('a non-empty string', v));
export const bool: Check<boolean> = (v) => (typeof v === 'boolean' ? v : fail('true or false', v));
export const num: Check<number> = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : fail('a number', v));
export const int: Check<number> = (v) => (Number.isSafeInteger(v) ? (v as number) : fail('an integer', v));
export const nat: Check<number> = (v) => (Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : fail('an integer >= 0', v));

export const obj: Check<Record<string, unknown>> = (v) =>
  (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : fail('an object', v));

export const oneOf = <T extends string>(values: readonly T[]): Check<T> => (v) =>
  (typeof v === 'string' && (values as readonly string[]).includes(v) ? (v as T) : fail(`one of ${values.join('|')}`, v));

export const opt = <T>(c: Check<T>): Check<T | undefined> => (v) => (v === undefined ? undefined : c(v));

export const arrOf = <T>(c: Check<T>): Check<T[]> => (v) => {
  if (!Array.isArray(v)) return fail('an array', v);
  for (let i = 0; i < v.length; i++) {
    try {
      c(v[i]);
    } catch (err) {
      throw err instanceof SchemaError ? err.under(`[${i}]`) : err;
    }
  }
  return v as T[];
};

// The type a check returns.
export type Checked<C> = C extends Check<infer T> ? T : never;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
// A shape spec's type: members whose key ends in '?' are optional (without the '?').
export type ShapeOf<S extends Record<string, Check<unknown>>> = Simplify<
  { [K in keyof S as K extends `${string}?` ? never : K]: Checked<S[K]> } &
  { [K in keyof S as K extends `${infer B}?` ? B : never]?: Checked<S[K]> }
>;

// Checks the listed members of an object; the spec's keys ending in '?' are optional. The checked
// type is inferred from the spec, so a record's TypeScript type and its schema are declared once.
export const shape = <S extends Record<string, Check<unknown>>>(spec: S): Check<ShapeOf<S>> => {
  const members = Object.entries(spec).map(([k, c]) => ({ key: k.replace(/\?$/, ''), optional: k.endsWith('?'), c }));
  return (v) => {
    const o = obj(v);
    for (const m of members) {
      const x = o[m.key];
      if (m.optional && x === undefined) continue;
      try {
        m.c(x);
      } catch (err) {
        throw err instanceof SchemaError ? err.under(`.${m.key}`) : err;
      }
    }
    return o as ShapeOf<S>;
  };
};

// A check of a type declared elsewhere (the definition model, firewall commands) whose members are
// checked only as far as `spec` goes: the value is then trusted to be a T.
export const shapeAs = <T>(spec: Record<string, Check<unknown>>): Check<T> => shape(spec) as Check<unknown> as Check<T>;
