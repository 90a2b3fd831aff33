// `vnetfw define FILE...`: several files in one process, one append (one fsync), all or nothing.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createJournal, defineNetworks } from '../../../src/engine/index.js';
import { nodeIo } from '../../../state/file-io.js';
import { openStore } from '../../../state/index.js';
import { cli } from './run-cli.js';

const work = mkdtempSync(join(tmpdir(), 'vnetfw-define-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const base = readFileSync(new URL('../../fixtures/cases/nat-default.xml', import.meta.url), 'utf8');
let dirs = 0;

// Network `name` on bridge `bridge` with its own /24.
const xml = (name: string, bridge: string, i: number): string => {
  const file = join(work, `${name}-${i}.xml`);
  writeFileSync(file, base.replace('<name>default</name>', `<name>${name}</name>`).replace('virbr0', bridge).replace(/192\.168\.122\./g, `10.9.${i}.`));
  return file;
};
const stateDir = (): string => join(work, `state${dirs++}`);
const names = async (state: string): Promise<string[]> => (await cli(['--state-dir', state, '--json', 'list'])).out
  .split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { name: string }).name);

describe('vnetfw define FILE...', () => {
  it('defines every file, prints the names in order', async () => {
    const state = stateDir();
    const r = await cli(['--state-dir', state, 'define', xml('b', 'vb1', 1), xml('a', 'vb2', 2), xml('c', 'vb3', 3)]);
    expect(r).toEqual({ code: 0, out: 'b\na\nc\n', err: '' });
    expect(await names(state)).toEqual(['a', 'b', 'c']);
    const j = await cli(['--state-dir', state, '--json', 'define', xml('d', 'vb4', 4), xml('e', 'vb5', 5)]);
    expect(j.out.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([
      { name: 'd', bridge: 'vb4', forward: 'nat' }, { name: 'e', bridge: 'vb5', forward: 'nat' },
    ]);
  });

  it('records nothing when one file is bad, and names that file', async () => {
    const state = stateDir();
    const bad = join(work, 'bad.xml');
    writeFileSync(bad, base.replace('<name>default</name>', '<name>no good</name>'));
    const r = await cli(['--state-dir', state, 'define', xml('a', 'vb1', 1), bad, xml('c', 'vb3', 3)]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`^vnetfw: ${bad}: [^\\n]*name[^\\n]*\\n$`));
    expect(r.out).toBe('');
    expect(await names(state)).toEqual([]);
    const missing = await cli(['--state-dir', state, 'define', xml('a', 'vb1', 1), join(work, 'nope.xml')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('nope.xml');
    expect(await names(state)).toEqual([]);
  });

  it('refuses files that clash with each other or with what is defined, recording none', async () => {
    const state = stateDir();
    const sameName = [xml('a', 'vb1', 1), xml('a', 'vb2', 2)];
    const r1 = await cli(['--state-dir', state, 'define', ...sameName]);
    expect(r1).toMatchObject({ code: 2, err: `vnetfw: ${sameName[1]}: network name 'a' is also defined by ${sameName[0]}\n` });
    const sameBridge = [xml('a', 'vb1', 1), xml('b', 'vb1', 2)];
    const r2 = await cli(['--state-dir', state, 'define', ...sameBridge]);
    expect(r2).toMatchObject({ code: 2, err: `vnetfw: ${sameBridge[1]}: bridge name 'vb1' is also used by network 'a' in ${sameBridge[0]}\n` });
    expect(await names(state)).toEqual([]);
    expect((await cli(['--state-dir', state, 'define', xml('x', 'vb9', 9)])).code).toBe(0);
    const taken = xml('y', 'vb9', 8);
    expect(await cli(['--state-dir', state, 'define', xml('z', 'vb7', 7), taken])).toMatchObject({ code: 2, err: `vnetfw: ${taken}: bridge name 'vb9' is already used by network 'x'\n` });
    expect(await names(state)).toEqual(['x']);
    // Moving x off vb9 in the same call frees it for y.
    expect((await cli(['--state-dir', state, 'define', xml('x', 'vb6', 6), taken])).code).toBe(0);
    expect(await names(state)).toEqual(['x', 'y']);
  });

  it('one fsync of the log for all the files', async () => {
    const dir = stateDir();
    let fsyncs = 0;
    const store = await openStore(dir, { io: { ...nodeIo, fsync: (fd) => { fsyncs++; return nodeIo.fsync(fd); } } });
    try {
      const files = Array.from({ length: 20 }, (_, i) => xml(`n${i}`, `vbr${i}`, i));
      const before = fsyncs;
      const defs = await defineNetworks(createJournal(store), files);
      expect(defs.map((d) => d.name)).toEqual(files.map((_, i) => `n${i}`));
      expect(fsyncs - before).toBe(1);
      expect(Object.keys(store.state().networks)).toHaveLength(20);
    } finally {
      await store.close();
    }
  });
});
