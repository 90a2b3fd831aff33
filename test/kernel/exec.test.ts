import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { assertSuccess, createExecaRunner, ExecError } from '../../src/exec/index.js';

const runner = createExecaRunner({ timeoutMs: 10_000 });
const isRoot = process.getuid?.() === 0;

describe('execa runner (real processes)', () => {
  it('round-trips stdin to stdout byte-exact', async () => {
    const r = await runner.run({ argv: ['cat'], stdin: 'line one\nline two\n' });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('line one\nline two\n');
    expect(r.stdin).toBe('line one\nline two\n');
    expect(r.argv).toEqual(['cat']);
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('passes arguments without a shell', async () => {
    const r = await runner.run({ argv: ['echo', '$HOME; `id`', '*'] });
    expect(r.stdout).toBe('$HOME; `id` *\n');
  });

  it('reports a non-zero exit without throwing, and assertSuccess turns it into ExecError', async () => {
    const r = await runner.run({ argv: ['sh', '-c', 'echo out; echo "bad thing" >&2; echo more >&2; exit 3'] });
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('bad thing\nmore\n');
    expect(() => assertSuccess(r)).toThrow(ExecError);
    try {
      assertSuccess(r);
    } catch (e) {
      expect((e as ExecError).message).toBe(
        `command failed: sh -c 'echo out; echo "bad thing" >&2; echo more >&2; exit 3' (exit 3): bad thing`,
      );
      expect((e as ExecError).result).toBe(r);
      expect((e as ExecError).exitCode).toBe(1);
      expect((e as ExecError).code).toBe('EEXEC');
    }
  });

  it('reports a missing program as failedToStart with exit -1', async () => {
    const r = await runner.run({ argv: ['vnetfw-no-such-program', '-x'] });
    expect(r.failedToStart).toBe(true);
    expect(r.exitCode).toBe(-1);
    expect(r.stderr).toMatch(/ENOENT/);
    expect(() => assertSuccess(r)).toThrow(/could not start/);
  });

  it('looks the program up on the PATH given at run time', async () => {
    const r = await createExecaRunner({ env: { PATH: '/nonexistent' } }).run({ argv: ['cat'] });
    expect(r.failedToStart).toBe(true);
  });

  it('kills a program that exceeds its timeout', async () => {
    const started = Date.now();
    const r = await runner.run({ argv: ['sleep', '10'], timeoutMs: 200 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(r.timedOut).toBe(true);
    expect(r.signal).toBe('SIGTERM');
    expect(r.exitCode).toBe(-1);
    expect(() => assertSuccess(r)).toThrow(/timed out/);
  });

  it('kills a program when its signal is aborted', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const started = Date.now();
    const r = await runner.run({ argv: ['sleep', '10'], signal: ac.signal });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(r.canceled).toBe(true);
    expect(r.exitCode).toBe(-1);
    expect(() => assertSuccess(r)).toThrow(/canceled/);
  });
});

describe.skipIf(!isRoot)('execa runner in a network namespace', () => {
  const ns = `vnetfw-exec-${process.pid}`;
  afterAll(() => {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  });

  it('runs nft with a script on stdin and echoes handles', async () => {
    assertSuccess(await runner.run({ argv: ['ip', 'netns', 'add', ns] }));
    const r = await runner.run({
      argv: ['ip', 'netns', 'exec', ns, 'nft', '--echo', '--handle', '-f', '-'],
      stdin: 'add table ip vnetfw_t\nadd chain ip vnetfw_t c\ninsert rule ip vnetfw_t c counter accept\n',
    });
    assertSuccess(r);
    expect(r.stdout).toMatch(/insert rule ip vnetfw_t c counter packets 0 bytes 0 accept # handle \d+/);
    const bad = await runner.run({ argv: ['ip', 'netns', 'exec', ns, 'nft', 'list', 'table', 'ip', 'nope'] });
    expect(bad.exitCode).toBe(1);
    expect(() => assertSuccess(bad)).toThrow(/^command failed: ip netns exec .* \(exit 1\): Error: /);
  });
});
