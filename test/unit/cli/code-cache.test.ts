// The bundle's V8 code cache (src/cli/code-cache.ts): used only for files of the build that
// recorded it, by the Node that recorded it; anything else is compiled as usual. Each case runs in
// a process of its own (the hook replaces the CommonJS loader's compile step).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../../../dist/src/cli/', import.meta.url)).replace(/\/$/, '');
const hook = join(cli, 'code-cache.cjs');
const work = mkdtempSync(join(tmpdir(), 'vnetfw-code-cache-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Outcome { used: string[]; refused: string[]; value?: unknown }

// In a fresh node: the hook on `dir` in `mode`, then `files` required; what the hook did, and what
// the first file's x() returns.
const inChild = (dir: string, mode: 'use' | 'record', build: string, files: string[]): Outcome => {
  const script = `
    const { join } = require('node:path');
    const cc = require(${JSON.stringify(hook)}).installCodeCache(${JSON.stringify(dir)}, ${JSON.stringify(mode)}, ${JSON.stringify(build)});
    const mods = ${JSON.stringify(files)}.map((f) => require(join(${JSON.stringify(dir)}, f)));
    // Called before save(): the cache then holds x's compiled code too, not just the file's top level.
    const value = typeof mods[0]?.x === 'function' ? mods[0].x() : null;
    if (${JSON.stringify(mode)} === 'record') cc.save();
    process.stdout.write(JSON.stringify({ used: cc.used, refused: cc.refused, value }));`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as Outcome;
};

describe.skipIf(!existsSync(hook))('code cache of the bundle', () => {
  it('the bundle the build wrote is compiled from its cache', () => {
    const r = inChild(cli, 'use', '', ['vnetfw.cjs', 'vnetfw-state.cjs']);
    expect(r.used).not.toContain('vnetfw.cjs');   // it holds the demo's import()
    expect(r.refused).toEqual([]);
    expect(r.used).toEqual(expect.arrayContaining(['vnetfw-state.cjs', 'vnetfw-events.cjs']));
  });

  it('a file of another build is compiled as usual, even when its length is the same', () => {
    const dir = join(work, 'stamp');
    mkdirSync(dir);
    const file = join(dir, 'a.cjs');
    writeFileSync(file, '// vnetfw build one\nexports.x = () => 41 + 1;\n');
    expect(inChild(dir, 'record', 'one', ['a.cjs'])).toMatchObject({ value: 42 });
    expect(inChild(dir, 'use', '', ['a.cjs'])).toEqual({ used: ['a.cjs'], refused: [], value: 42 });
    // Another build of the same length: V8 alone would take the old code (it checks the length).
    writeFileSync(file, '// vnetfw build two\nexports.x = () => 41 + 2;\n');
    expect(inChild(dir, 'use', '', ['a.cjs'])).toEqual({ used: [], refused: [], value: 43 });
  });

  it('a cache recorded by another Node is not used', () => {
    const dir = join(work, 'node');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.cjs'), '// vnetfw build one\nexports.x = () => 7;\n');
    inChild(dir, 'record', 'one', ['a.cjs']);
    const manifest = join(dir, 'code-cache', 'manifest.json');
    const m = JSON.parse(readFileSync(manifest, 'utf8')) as Record<string, unknown>;
    writeFileSync(manifest, JSON.stringify({ ...m, v8: '0.0.0' }));
    expect(inChild(dir, 'use', '', ['a.cjs'])).toEqual({ used: [], refused: [], value: 7 });
  });

  // The bundle loads the demo, an ES module, with import(); code read from a cache loses import()'s
  // callback on Node 20, so such a file gets no cache and is compiled as usual.
  it('a file with an import() is compiled as usual, and its import() works', () => {
    const dir = join(work, 'import');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.cjs'), "// vnetfw build one\nexports.load = () => import('./b.mjs').then((m) => m.v);\n");
    writeFileSync(join(dir, 'b.mjs'), 'export const v = 5;\n');
    const script = (mode: string): string => `
      const cc = require(${JSON.stringify(hook)}).installCodeCache(${JSON.stringify(dir)}, '${mode}', 'one');
      const a = require(${JSON.stringify(join(dir, 'a.cjs'))});
      a.load().then((v) => { if ('${mode}' === 'record') cc.save(); process.stdout.write(JSON.stringify({ used: cc.used, v })); },
        (e) => { process.stdout.write(JSON.stringify({ error: String(e) })); });`;
    const go = (mode: string): unknown => JSON.parse(spawnSync(process.execPath, ['-e', script(mode)], { encoding: 'utf8' }).stdout) as unknown;
    expect(go('record')).toEqual({ used: [], v: 5 });
    expect(go('use')).toEqual({ used: [], v: 5 });
  });
});
