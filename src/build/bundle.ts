// Bundles the compiled CLI (dist/src/cli/main.js and everything it imports) into a few files next
// to it: dist/src/cli/vnetfw.cjs for what every command loads, and one chunk per lazily loaded
// layer (state, firewall, engine, daemon). Loading one file instead of ~60 modules of ours and ~250
// of rxjs, execa and fast-xml-parser is most of a command's start-up (docs/performance.md).
// CommonJS, because Node's ES module loader reads each module through fs/promises and costs a
// few milliseconds more per command; bin/vnetfw.js loads it with require(). Run after tsc.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

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
// Chunks are named for their first module: a layer that moved would leave its old chunk behind.
for (const f of readdirSync(`${root}dist/src/cli`)) if (/^vnetfw(-[\w-]+)?\.cjs$/.test(f)) rmSync(`${root}dist/src/cli/${f}`);
await bundle.write({ dir: `${root}dist/src/cli`, format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: 'vnetfw-[name].cjs' });
await bundle.close();
