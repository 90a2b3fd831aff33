import { describe, expect, it } from 'vitest';
import { assertSuccess, describeFailure, ExecError, isExecError, shellQuote, type RunResult } from '../../../src/exec/index.js';
import { VnetfwError } from '../../../src/errors.js';

const result = (over: Partial<RunResult>): RunResult =>
  ({ argv: ['nft', '-f', '-'], exitCode: 0, stdout: '', stderr: '', durationMs: 1, ...over });

describe('shellQuote', () => {
  it.each([
    [['iptables', '-w', '--table', 'filter'], 'iptables -w --table filter'],
    [['nft', 'add', 'chain', 'ip', 't', '{ type filter hook forward priority 0; }'], `nft add chain ip t '{ type filter hook forward priority 0; }'`],
    [['echo', "it's", ''], `echo 'it'\\''s' ''`],
    [['nft', 'iif', '"virbr0"'], `nft iif '"virbr0"'`],
  ])('%j', (argv, text) => expect(shellQuote(argv)).toBe(text));
});

describe('ExecError', () => {
  it('is a one-line VnetfwError with exit code 1 carrying the result', () => {
    const r = result({ exitCode: 1, stderr: '\nError: Could not process rule: No such file or directory\nline\n' });
    const e = new ExecError(r);
    expect(e).toBeInstanceOf(VnetfwError);
    expect(isExecError(e)).toBe(true);
    expect(e.code).toBe('EEXEC');
    expect(e.exitCode).toBe(1);
    expect(e.result).toBe(r);
    expect(e.message).toBe('command failed: nft -f - (exit 1): Error: Could not process rule: No such file or directory');
  });

  it.each([
    [{ exitCode: -1, failedToStart: true, stderr: 'spawn nft ENOENT' }, 'command failed: nft -f - (could not start): spawn nft ENOENT'],
    [{ exitCode: -1, timedOut: true, signal: 'SIGTERM' }, 'command failed: nft -f - (timed out, killed by SIGTERM)'],
    [{ exitCode: -1, canceled: true }, 'command failed: nft -f - (canceled)'],
    [{ exitCode: -1, signal: 'SIGKILL' }, 'command failed: nft -f - (killed by SIGKILL)'],
    [{ exitCode: 2 }, 'command failed: nft -f - (exit 2)'],
  ])('describes %j', (over, msg) => expect(describeFailure(result(over))).toBe(msg));

  it('assertSuccess passes a success through', () => {
    const r = result({});
    expect(assertSuccess(r)).toBe(r);
    expect(() => assertSuccess(result({ exitCode: 0, timedOut: true }))).toThrow(ExecError);
  });
});
