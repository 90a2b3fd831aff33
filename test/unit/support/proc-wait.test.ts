// The kernel tests' own plumbing, without root: running programs (input, exit codes, the timeout
// that kills), background processes, and waiting on conditions with deadlines.
import { describe, expect, it } from 'vitest';
import { bg, must, run } from '../../support/proc.js';
import { pollUntil, waitFor, waitForValue } from '../../support/wait.js';

describe('run', () => {
  it('feeds its input and collects both streams and the exit code', async () => {
    const r = await run(['sh', '-c', 'cat; echo err >&2; exit 3'], { input: 'in\n' });
    expect([r.code, r.stdout, r.stderr]).toEqual([3, 'in\n', 'err\n']);
  });
  it('kills a program that outlives its timeout', async () => {
    const r = await run(['sleep', '30'], { timeoutMs: 200 });
    expect([r.code, r.signal]).toEqual([null, 'SIGKILL']);
    expect(r.ms).toBeLessThan(20_000);
  });
  it('a program that cannot start is a result, not an exception; must names what failed', async () => {
    const r = await run(['/nonexistent/program']);
    expect(r.code).not.toBe(0);
    await expect(must(run(['sh', '-c', 'echo no >&2; exit 1']), 'the step')).rejects.toThrow('the step: exit 1: no');
  });
});

describe('bg', () => {
  it('shows what a running program printed so far, and stops it', async () => {
    const p = bg(['sh', '-c', 'echo ready; exec sleep 30']);
    await waitFor(() => p.out() === 'ready\n', 20_000, 'the first line');
    expect(p.running()).toBe(true);
    p.kill();
    expect((await p.done).signal).toBe('SIGTERM');
    expect(p.running()).toBe(false);
  });
});

describe('waiting', () => {
  it('waitFor returns once the condition holds (a boolean, or a command exiting 0)', async () => {
    let n = 0;
    await waitFor(() => ++n >= 3, 20_000, 'three polls', 1);
    expect(n).toBe(3);
    await waitFor(() => run(['true']), 20_000, 'true');
  });
  it('waitFor throws naming what it waited for once the deadline passed', async () => {
    await expect(waitFor(() => false, 50, 'the impossible', 5)).rejects.toThrow('timed out waiting for the impossible');
  });
  it('waitForValue gives the first value; pollUntil the last one, even at the deadline', async () => {
    let n = 0;
    expect(await waitForValue(() => (++n === 2 ? 'two' : undefined), 20_000, 'a value', 1)).toBe('two');
    expect(await pollUntil(() => 7, (v) => v > 10, 30, 5)).toBe(7);
  });
});
