// Bundles the compiled CLI (dist/src/cli/main.js and everything it imports) into a few files next
// to it: dist/src/cli/vnetfw.cjs for what every command loads, and one chunk per lazily loaded
// layer (state, firewall, engine, daemon). Loading one file instead of ~60 modules of ours and ~250
// of rxjs, execa and fast-xml-parser is most of a command's start-up (docs/performance.md).
// CommonJS, because Node's ES module loader reads each module through fs/promises and costs a
// few milliseconds more per command; bin/vnetfw.js loads it with require(). Run after tsc.
// Then V8's code cache of the bundle (src/cli/code-cache.ts): every file carries this build's
// stamp on its first line, and a process of its own records the cache for that stamp.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';
import { CODE_CACHE_DIR, codeCacheStamp } from '../cli/code-cache.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const input = `${root}dist/src/cli/main.js`;
if (!existsSync(input)) throw new Error(`bundle: ${input} is missing: run tsc -p tsconfig.build.json first`);

const bundle = await rolldown({
  input: { vnetfw: input },
  platform: 'node',
  // rxjs's "node" export is its CommonJS build (one module per operator, none shakeable); its ES
  // build gives the bundle only the few classes the store and the reconciler use.
  resolve: { alias: { rxjs: `${root}node_modules/rxjs/dist/esm/index.js` } },
  // The demo runs its agent script from beside its own module: it stays as tsc wrote it.
  external: [/\/demo\/index\.js$/],
});
const out = `${root}dist/src/cli`;
const build = randomUUID();
// Chunks are named for their first module: a layer that moved would leave its old chunk behind.
// The old cache goes first: it belongs to the files being replaced.
rmSync(`${out}/${CODE_CACHE_DIR}`, { recursive: true, force: true });
for (const f of readdirSync(out)) if (/^vnetfw(-[\w-]+)?\.cjs$/.test(f)) rmSync(`${out}/${f}`);
await bundle.write({ dir: out, format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: 'vnetfw-[name].cjs', banner: codeCacheStamp(build).trimEnd() });
await bundle.close();

// The launcher's hook, a file of its own (only node built-ins).
const hook = await rolldown({ input: { 'code-cache': `${root}dist/src/cli/code-cache.js` }, platform: 'node' });
await hook.write({ dir: out, format: 'cjs', entryFileNames: '[name].cjs' });
await hook.close();

const rec = spawnSync(process.execPath, [`${root}dist/src/build/record-code-cache.js`, build], { encoding: 'utf8' });
if (rec.status !== 0) throw new Error(`bundle: recording the code cache failed: ${rec.stderr.trim()}`);
