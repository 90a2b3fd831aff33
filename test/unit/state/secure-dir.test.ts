// A state directory someone else could have written is refused before anything is touched: a
// symlink (the directory itself or anything in it), an owner other than root (or the caller), write
// access for others. The place a symlink points to is left exactly as it was.
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { openStore, StateError } from '../../../state/index.js';
import { defined, tmpStateDir } from './helpers.js';

const isRoot = process.geteuid?.() === 0;
const scratch = mkdtempSync(join(tmpdir(), 'vnetfw-secure-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// A directory elsewhere that a symlink may point to, with a file of its own.
const victim = (): { dir: string; view: () => string } => {
  const dir = mkdtempSync(join(scratch, 'victim-'));
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'keep'), 'x');
  return { dir, view: () => `${(statSync(dir).mode & 0o7777).toString(8)} ${readdirSync(dir).sort().join(',')}` };
};

const refusal = async (dir: string, readonly = false): Promise<StateError> => {
  const e = await openStore(dir, { readonly }).then(async (s) => { await s.close(); return undefined; }, (x: unknown) => x);
  expect(e).toBeInstanceOf(StateError);
  expect((e as StateError).code).toBe('EUNSAFE');
  expect((e as StateError).exitCode).toBe(2);
  expect((e as StateError).message).not.toContain('\n');
  return e as StateError;
};

const populated = async (): Promise<string> => {
  const dir = tmpStateDir();
  const s = await openStore(dir);
  await s.append([defined()]);
  await s.snapshot();
  await s.close();
  return dir;
};

describe('state directory checks', () => {
  it('the state directory itself a symlink: refused, its target untouched', async () => {
    const v = victim();
    const before = v.view();
    const link = join(scratch, 'state-link');
    symlinkSync(v.dir, link);
    expect((await refusal(link)).message).toBe(`state directory ${link}: it is a symlink: refused (it must be a real directory owned by root and writable only by root)`);
    await refusal(link, true);
    expect(v.view()).toBe(before);
  });
  it('log -> another directory: refused, nothing chmod-ed or written there (was: 0700 and a segment)', async () => {
    const v = victim();
    const before = v.view();
    const dir = tmpStateDir();
    mkdirSync(dir, { mode: 0o700 });
    symlinkSync(v.dir, join(dir, 'log'));
    expect((await refusal(dir)).message).toBe(`state directory ${dir}: ${join(dir, 'log')} is a symlink: refused (it must be a real directory owned by root and writable only by root)`);
    expect(v.view()).toBe(before);
  });
  it('a segment or snapshot that is a symlink: refused', async () => {
    const dir = await populated();
    const seg = join(dir, 'log', '000001.jsonl');
    rmSync(seg);
    symlinkSync(join(scratch, 'elsewhere.jsonl'), seg);
    expect((await refusal(dir)).message).toContain(`${seg} is a symlink`);
    await refusal(dir, true);
    const dir2 = await populated();
    const snap = join(dir2, 'snapshots', readdirSync(join(dir2, 'snapshots'))[0] ?? '');
    rmSync(snap);
    symlinkSync('/etc/hostname', snap);
    expect((await refusal(dir2)).message).toContain(`${snap} is a symlink`);
  });
  it('writable by others (the directory, a segment): refused', async () => {
    const dir = await populated();
    chmodSync(dir, 0o777);
    expect((await refusal(dir)).message).toBe(`state directory ${dir}: it is writable by others (mode 0777): refused (it must be a real directory owned by root and writable only by root)`);
    chmodSync(dir, 0o700);
    chmodSync(join(dir, 'log', '000001.jsonl'), 0o666);
    expect((await refusal(dir)).message).toContain('000001.jsonl is writable by others (mode 0666)');
  });
  it.skipIf(!isRoot)('owned by another user (the directory, a file in it): refused', async () => {
    const dir = await populated();
    chownSync(dir, 1234, 1234);
    expect((await refusal(dir)).message).toBe(`state directory ${dir}: it is owned by uid 1234, not root: refused (it must be a real directory owned by root and writable only by root)`);
    await refusal(dir, true);
    chownSync(dir, 0, 0);
    chownSync(join(dir, 'snapshots'), 1234, 0);
    expect((await refusal(dir)).message).toContain(`${join(dir, 'snapshots')} is owned by uid 1234, not root`);
  });
  it('a directory made by hand 0755 is accepted and tightened to 0700; a missing one is created', async () => {
    const dir = tmpStateDir();
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    const s = await openStore(dir);
    await s.close();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const fresh = join(tmpStateDir(), 'deeper');
    await (await openStore(fresh)).close();
    expect(existsSync(join(fresh, 'log'))).toBe(true);
  });
  it('the CLI: one line, exit 2, for a writer and for a reader', async () => {
    const v = victim();
    const dir = tmpStateDir();
    mkdirSync(dir, { mode: 0o700 });
    symlinkSync(v.dir, join(dir, 'log'));
    const sink = { write: () => true } as unknown as NodeJS.WritableStream;
    let err = '';
    const cap = { write: (x: string) => { err += x; return true; } } as unknown as NodeJS.WritableStream;
    expect(await main(['--state-dir', dir, 'log'], { stdout: sink, stderr: cap })).toBe(2);
    expect(err).toBe(`vnetfw: state directory ${dir}: ${join(dir, 'log')} is a symlink: refused (it must be a real directory owned by root and writable only by root)\n`);
  });
});
