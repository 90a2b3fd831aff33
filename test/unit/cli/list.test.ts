// `vnetfw list`: every defined network, ordered by name in code-point order (the same on every
// host, whatever its locale and ICU data).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './run-cli.js';

const work = mkdtempSync(join(tmpdir(), 'vnetfw-list-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const base = readFileSync(new URL('../../fixtures/cases/nat-default.xml', import.meta.url), 'utf8');

const xml = (name: string, i: number): string => {
  const file = join(work, `${i}.xml`);
  writeFileSync(file, base.replace('<name>default</name>', `<name>${name}</name>`).replace('virbr0', `vb${i}`).replace(/192\.168\.122\./g, `10.9.${i}.`));
  return file;
};

describe('vnetfw list', () => {
  it('orders networks by the code points of their names', async () => {
    const state = join(work, 'state');
    const d = await cli(['--state-dir', state, 'define', xml('b', 1), xml('a_1', 2), xml('B', 3), xml('a-2', 4)]);
    expect(d.code).toBe(0);
    // '-' (U+002D) < 'B' (U+0042) < '_' (U+005F) < 'a'/'b': a locale's collation would say a_1, a-2, b, B.
    const expected = ['B', 'a-2', 'a_1', 'b'];
    const json = await cli(['--state-dir', state, '--json', 'list']);
    expect(json.out.trimEnd().split('\n').map((l) => (JSON.parse(l) as { name: string }).name)).toEqual(expected);
    const text = await cli(['--state-dir', state, 'list']);
    expect(text.out.trimEnd().split('\n').slice(1).map((l) => l.split(/\s+/)[0])).toEqual(expected);
  });
});
