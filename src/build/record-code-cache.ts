// Run by bundle.ts in a process of its own, after the bundle is written: loads the bundle through
// the code-cache hook in record mode, runs commands that change nothing (on an empty temporary
// state directory) so that the functions every command needs are compiled, loads every chunk, and
// saves V8's cached data beside the bundle (src/cli/code-cache.ts).
//   node dist/src/build/record-code-cache.js BUILD_ID
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../cli/', import.meta.url)).replace(/\/$/, '');
const require = createRequire(import.meta.url);
const build = process.argv[2] ?? '';
const { installCodeCache } = require(join(cli, 'code-cache.cjs')) as typeof import('../cli/code-cache.js');
const cache = installCodeCache(cli, 'record', build);
const { main } = require(join(cli, 'vnetfw.cjs')) as typeof import('../cli/main.js');

const sink = { write: () => true } as unknown as NodeJS.WritableStream;
const tmp = mkdtempSync(join(tmpdir(), 'vnetfw-code-cache-'));
try {
  const state = join(tmp, 'state');
  for (const argv of [['--version'], ['--help'], ['list'], ['status', 'x'], ['log']]) {
    await main(['--state-dir', state, '--config', join(tmp, 'network.conf'), ...argv], { stdout: sink, stderr: sink });
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
for (const f of readdirSync(cli).sort()) if (/^vnetfw-[\w-]+\.cjs$/.test(f)) require(join(cli, f));
cache.save();
