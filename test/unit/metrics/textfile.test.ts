// The textfile as node_exporter sees it: another process reading it in a tight loop while it is
// rewritten hundreds of times only ever reads one complete version or the other (a plain
// truncate-and-write is caught here within a few rewrites).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeTextfile } from '../../../src/metrics/textfile.js';

const dir = mkdtempSync(join(tmpdir(), 'vnetfw-textfile-'));
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

const READER = `
const fs = require('node:fs');
const [path, aPath, bPath, stop] = process.argv.slice(1);
const a = fs.readFileSync(aPath, 'utf8'), b = fs.readFileSync(bPath, 'utf8');
let reads = 0, bad = 0;
console.log('ready');
while (!fs.existsSync(stop)) {
  let t;
  try { t = fs.readFileSync(path, 'utf8'); } catch { continue; }
  reads++;
  if (t !== a && t !== b) bad++;
}
console.log(JSON.stringify({ reads, bad }));
`;

describe('the metrics textfile', () => {
  it('is never seen half-written by a concurrent reader', async () => {
    const series = (v: number): string => Array.from({ length: 3000 }, (_, i) => `vnetfw_test_series{n="${i}"} ${v}\n`).join('');
    const a = `# HELP vnetfw_test_series a\n# TYPE vnetfw_test_series gauge\n${series(1)}`;
    const b = `# HELP vnetfw_test_series b\n# TYPE vnetfw_test_series gauge\n${series(2)}`;
    const path = join(dir, 'vnetfw.prom');
    writeFileSync(join(dir, 'a'), a);
    writeFileSync(join(dir, 'b'), b);
    writeTextfile(path, a);
    const child = spawn(process.execPath, ['-e', READER, path, join(dir, 'a'), join(dir, 'b'), join(dir, 'stop')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    const exited = new Promise((r) => child.on('exit', r));
    const end = Date.now() + 10_000;
    while (!out.includes('ready') && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    // Yield between rewrites so the reader's loop interleaves with them.
    for (let i = 0; i < 300; i++) {
      writeTextfile(path, i % 2 === 0 ? b : a);
      if (i % 10 === 0) await new Promise((r) => setImmediate(r));
    }
    writeFileSync(join(dir, 'stop'), '');
    await exited;
    const { reads, bad } = JSON.parse(out.split('\n')[1] ?? '{}') as { reads: number; bad: number };
    expect(reads).toBeGreaterThan(50);
    expect(bad).toBe(0);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
