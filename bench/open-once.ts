// Child process of the log-open benchmark: one open in a fresh process (cold JIT, as `vnetfw
// status` has it). Prints the milliseconds the open took, excluding Node's own start-up.
import { performance } from 'node:perf_hooks';
import { openStore } from '../state/index.js';

const [dir = '', mode = 'snapshot'] = process.argv.slice(2);
const t = performance.now();
// 'readonly' opens leave no snapshot behind, so every run pays for the same tail.
const s = await openStore(dir, mode === 'rebuild' ? { readonly: true, rebuild: true } : mode === 'readonly' ? { readonly: true } : {});
const ms = performance.now() - t;
await s.close();
process.stdout.write(`${JSON.stringify({ ms, seq: s.state().seq })}\n`);
