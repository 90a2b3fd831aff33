import { VnetfwError } from '../errors.js';
import { shellQuote } from './quote.js';
import type { RunResult } from './types.js';

// A program run that did not succeed. Carries the whole RunResult (as execa's errors do) so the
// caller can log it or inspect stderr, while the message stays one line for the CLI.
export class ExecError extends VnetfwError {
  readonly result: RunResult;

  constructor(result: RunResult) {
    super('EEXEC', describeFailure(result), { exitCode: 1 });
    this.name = 'ExecError';
    this.result = result;
  }
}

export const isExecError = (e: unknown): e is ExecError => e instanceof ExecError;

export function isSuccess(result: RunResult): boolean {
  return result.exitCode === 0 && !result.timedOut && !result.canceled && !result.failedToStart;
}

// Throws ExecError unless the run exited 0; returns the result for chaining.
export function assertSuccess(result: RunResult): RunResult {
  if (!isSuccess(result)) throw new ExecError(result);
  return result;
}

function firstLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
}

function describeStatus(r: RunResult): string {
  if (r.failedToStart) return 'could not start';
  if (r.timedOut) return `timed out${r.signal ? `, killed by ${r.signal}` : ''}`;
  if (r.canceled) return `canceled${r.signal ? `, killed by ${r.signal}` : ''}`;
  if (r.signal) return `killed by ${r.signal}`;
  return `exit ${r.exitCode}`;
}

export function describeFailure(r: RunResult): string {
  const detail = firstLine(r.stderr);
  return `command failed: ${shellQuote(r.argv)} (${describeStatus(r)})${detail ? `: ${detail}` : ''}`;
}
