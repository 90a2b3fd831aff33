#!/usr/bin/env node
'use strict';
// Thin launcher, CommonJS (bin/package.json) so that starting needs no ES module loader. The
// compiled CLI lives in dist/ (built in a checkout by `npm ci`, through the `dependencies` script;
// before packing by `prepack`): `npm run build` writes tsc's modules, then bundles them into
// dist/src/cli/vnetfw.cjs (+ chunks), which starts several times faster. A bundle older than tsc's
// output (tsc run alone) is not used: then tsc's modules run, as they are.
const { statSync } = require('node:fs');
const { join } = require('node:path');

const cli = join(__dirname, '..', 'dist', 'src', 'cli');
const mtime = (name) => { try { return statSync(join(cli, name)).mtimeMs; } catch { return -1; } };
// V8's code cache of the bundle, left by the build (dist/src/cli/code-cache.cjs says when it is
// used); without it the bundle is compiled as usual.
const codeCache = () => { try { require(join(cli, 'code-cache.cjs')).installCodeCache(cli, 'use'); } catch { /* compiled as usual */ } };
const load = mtime('vnetfw.cjs') >= mtime('main.js')
  ? (codeCache(), Promise.resolve(require(join(cli, 'vnetfw.cjs'))))
  : import('../dist/src/cli/main.js');

// `vnetfw log | head`: a reader that goes away is not an error worth a stack trace.
process.stdout.on('error', (err) => { if (err.code === 'EPIPE') process.exit(0); throw err; });

load.then(({ main }) => main(process.argv.slice(2))).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`vnetfw: ${err instanceof Error ? err.message : String(err)}\n`); process.exitCode = 1; },
);
