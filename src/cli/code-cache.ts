// V8's code cache for the bundled CLI. Node 22 caches compiled code itself
// (module.enableCompileCache); Node 20 does not, and compiling the bundle's files is a good part of
// a command's start-up (most of it for the engine's chunk). So the build runs a few commands that
// change nothing, with `record`, and leaves V8's cached data of every bundle file in
// dist/src/cli/code-cache/; the launcher (bin/vnetfw.js) loads it with `use` before the bundle.
//
// The cache is compiled code, as trusted as the bundle it belongs to: it is written only by the
// build, beside the bundle (same owner, same permissions), never at run time. A cached file is used
// only for a source that carries the build's stamp (first line `// vnetfw build ID`, written by the
// bundler; a new build writes a new ID and a new cache), by the same Node version, V8 and
// architecture; V8 itself refuses data made with other flags or for a source of another length.
// Anything unexpected (no cache, a refused one, a read error): the file is compiled as usual.
// This file is bundled on its own (dist/src/cli/code-cache.cjs) and loaded with require().
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';

export const CODE_CACHE_DIR = 'code-cache';
const MANIFEST = 'manifest.json';
const stamp = (build: string): string => `// vnetfw build ${build}\n`;

interface Manifest { build: string; node: string; v8: string; arch: string; files: string[] }

export interface CodeCache {
  readonly used: string[];       // files compiled from the cache
  readonly refused: string[];    // files whose cache V8 refused (compiled as usual)
  save(): void;                  // record mode: write the cache of every file compiled so far
}

type Compile = (this: Module, content: string, filename: string) => unknown;
const proto = Module.prototype as unknown as { _compile: Compile };

const readManifest = (dir: string): Manifest | undefined => {
  try {
    const m = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as Partial<Manifest>;
    if (typeof m.build !== 'string' || !Array.isArray(m.files)) return undefined;
    if (m.node !== process.version || m.v8 !== process.versions.v8 || m.arch !== process.arch) return undefined;
    return m as Manifest;
  } catch {
    return undefined;
  }
};

// Runs a file's source as Node's CommonJS loader does (the same wrapper and arguments).
const run = (mod: Module, script: Script, filename: string): unknown => {
  const fn = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
  return fn.call(mod.exports, mod.exports, createRequire(filename), mod, filename, dirname(filename));
};

// `bundleDir`: the directory of vnetfw.cjs and its chunks. `use`: compile them from the cache the
// build left; `record`: compile them as usual and keep what save() writes (the build only).
// `build`: the stamp the bundler put on the files (record mode).
export const installCodeCache = (bundleDir: string, mode: 'use' | 'record', build = ''): CodeCache => {
  const dir = join(bundleDir, CODE_CACHE_DIR);
  const used: string[] = [];
  const refused: string[] = [];
  const scripts = new Map<string, Script>();
  const manifest = mode === 'use' ? readManifest(dir) : undefined;
  const original = proto._compile;
  const ours = (filename: string): boolean => dirname(filename) === bundleDir && filename.endsWith('.cjs');
  if (mode === 'record' || manifest !== undefined) {
    proto._compile = function (this: Module, content: string, filename: string): unknown {
      if (!ours(filename)) return original.call(this, content, filename);
      const name = basename(filename);
      if (mode === 'record') {
        // Code read from a cache loses import()'s callback on Node 20 ("A dynamic import callback
        // was not specified"): a file with an import() (the bundle's entry, for the demo's ES
        // module) is left to the usual compile, and gets no cache.
        if (!content.startsWith(stamp(build)) || content.includes('import(')) return original.call(this, content, filename);
        const script = new Script(Module.wrap(content), { filename });
        scripts.set(name, script);
        return run(this, script, filename);
      }
      let cachedData: Buffer | undefined;
      try {
        if (manifest?.files.includes(name) === true && content.startsWith(stamp(manifest.build))) cachedData = readFileSync(join(dir, `${name}.bin`));
      } catch { /* no cache for it: compiled as usual */ }
      if (cachedData === undefined) return original.call(this, content, filename);
      const script = new Script(Module.wrap(content), { filename, cachedData });
      (script.cachedDataRejected === true ? refused : used).push(name);
      return run(this, script, filename);
    };
  }
  return {
    used,
    refused,
    save() {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      for (const [name, script] of scripts) writeFileSync(join(dir, `${name}.bin`), script.createCachedData());
      const m: Manifest = { build, node: process.version, v8: process.versions.v8, arch: process.arch, files: [...scripts.keys()].sort() };
      writeFileSync(join(dir, MANIFEST), `${JSON.stringify(m)}\n`);
    },
  };
};

export const codeCacheStamp = stamp;
