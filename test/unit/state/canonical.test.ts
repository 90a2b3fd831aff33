import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../state/index.js';

// The documented definition, written out plainly: the fast form must equal it on every input.
const reference = (value: unknown): string => {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined || typeof v === 'function' ? 'null' : reference(v))).join(',')}]`;
  const o = value as Record<string, unknown>;
  return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined && typeof o[k] !== 'function')
    .map((k) => `${JSON.stringify(k)}:${reference(o[k])}`).join(',')}}`;
};

describe('canonical JSON', () => {
  const cases: unknown[] = [
    null, 1, 'x', true, [], {}, [1, 'a', null, undefined],
    { b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } },
    { argv: ['nft', '-f', '-'], stdin: 'add rule ip t c "x"\n', step: 3, commands: [{ program: 'nft', args: ['a'], ignoreErrors: true }] },
    { '10': 'ten', '9': 'nine', b: 2, a: 1 },                   // integer-like keys: JS lists them first
    { nested: { '2': 'x', '1': 'y', k: [{ '0': 0, z: 1 }] } },
    { s: 'é ☃ \u2028 "q" \\ \n', n: -0.5e-7, big: 12345678901234 },
  ];
  it.each(cases.map((c) => [JSON.stringify(c) ?? 'undefined', c]))('%s', (_name, c) => {
    expect(canonicalJson(c)).toBe(reference(c));
  });
});
