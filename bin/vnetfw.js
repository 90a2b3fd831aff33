#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built in a checkout by `npm ci`, through the
// `dependencies` script; built before packing by `prepack`).
import { main } from '../dist/src/cli/main.js';

// `vnetfw log | head`: a reader that goes away is not an error worth a stack trace.
process.stdout.on('error', (err) => { if (err.code === 'EPIPE') process.exit(0); throw err; });

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`vnetfw: ${err instanceof Error ? err.message : String(err)}\n`); process.exitCode = 1; },
);
