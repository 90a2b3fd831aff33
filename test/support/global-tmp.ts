// Vitest global setup: every test run gets one temporary directory, made the TMPDIR of the test
// workers (and so of every vnetfw, daemon and helper process they start), and removed when the run
// ends, whatever a test left in it (state directories, sockets, shims), even after a failure.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'vnetfw-tests-'));
  const before = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  return () => {
    if (before === undefined) delete process.env.TMPDIR; else process.env.TMPDIR = before;
    rmSync(dir, { recursive: true, force: true });
  };
}
