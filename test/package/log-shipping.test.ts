// Shipping the audit trail (docs/operations.md, "Shipping the audit trail"): a collector runs
// `vnetfw --json log --follow --since 10m` and reads its stdout, one JSON object per line. This
// runs that command as the collectors do, parses every line as they would, and checks what they
// rely on: whole records (also those longer than journald's default LineMax of 48K), contiguous
// seq, the hash chain, new records arriving while it runs, a stable dedupe key across restarts,
// and a clean exit on SIGTERM.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { event, openStore, type NewEvent } from '../../state/index.js';
import { cliBuilt, cliPath } from '../support/paths.js';
import { defined, startOp } from '../unit/state/helpers.js';

const work = mkdtempSync(join(tmpdir(), 'vnetfw-ship-'));
afterAll(() => { rmSync(work, { recursive: true, force: true }); });

interface Shipped { seq: number; time: string; type: string; prev: string; hash: string; [k: string]: unknown }

const append = async (dir: string, events: NewEvent[]): Promise<void> => {
  const s = await openStore(dir);
  try { await s.append(events); } finally { await s.close(); }
};

// The documented command, its stdout read line by line as a collector reads it.
const follow = (dir: string): { lines: Shipped[]; raw: string[]; stop: () => Promise<number | null> } => {
  const child = spawn(process.execPath, [cliPath, '--state-dir', dir, '--json', 'log', '--follow', '--since', '10m'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Shipped[] = [];
  const raw: string[] = [];
  let buf = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (c: string) => {
    buf += c;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      raw.push(buf.slice(0, nl));
      lines.push(JSON.parse(buf.slice(0, nl)) as Shipped);
      buf = buf.slice(nl + 1);
    }
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { lines, raw, stop: async () => { child.kill('SIGTERM'); return exited; } };
};

const until = async (what: string, ms: number, ok: () => boolean): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe.skipIf(!cliBuilt)(`vnetfw --json log --follow, as a log collector runs it${cliBuilt ? '' : ' (skipped: dist/ is not built)'}`, () => {
  it('prints every record whole, in order, chained, then the new ones, and exits 0 on SIGTERM', async () => {
    const dir = join(work, 'state');
    const big = 'x'.repeat(60_000);   // a program's output near the 64 KiB that is kept
    await append(dir, [defined('default'), ...startOp('default', 'op-1'),
      event('command.finished', { step: 9, exitCode: 0, stdout: big, stderr: '', durationMs: 1 }, { network: 'default', op: 'op-1' })]);
    const first = follow(dir);
    await until('the existing records', 20_000, () => first.lines.length >= 9);
    await append(dir, [event('drift.found', { missing: ['m'], foreign: [] }, { network: 'default' }), event('drift.repaired', {}, { network: 'default' })]);
    await until('the new records', 20_000, () => first.lines.length >= 11);
    expect(await first.stop()).toBe(0);

    const got = first.lines;
    expect(got.map((r) => r.seq)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    for (const [i, r] of got.entries()) {
      expect(typeof r.time === 'string' && !Number.isNaN(Date.parse(r.time))).toBe(true);
      expect(r.hash).toMatch(/^[0-9a-f]{64}$/);
      if (i > 0) expect(r.prev).toBe(got[i - 1]?.hash);
    }
    expect(got.map((r) => r.type).slice(-2)).toEqual(['drift.found', 'drift.repaired']);
    const long = got.find((r) => r.type === 'command.finished' && r.stdout === big);
    expect(long).toBeDefined();
    expect(first.raw.some((l) => Buffer.byteLength(l) > 48 * 1024)).toBe(true);

    // A collector restarted reads the log again from the start: the same seq carries the same
    // hash, so `hash` (or seq) drops what it already shipped.
    const again = follow(dir);
    await until('the records again', 20_000, () => again.lines.length >= 11);
    expect(await again.stop()).toBe(0);
    expect(again.lines.map((r) => `${r.seq}:${r.hash}`)).toEqual(got.map((r) => `${r.seq}:${r.hash}`));
  }, 60_000);
});
