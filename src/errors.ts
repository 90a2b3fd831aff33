// The root of every error vnetfw reports. Each layer subclasses it with its own name and codes,
// so the CLI can map any failure to an exit code and a one-line message without a stack trace.
export type ExitCode = 1 | 2 | 3;

export class VnetfwError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;

  constructor(code: string, message: string, options: { exitCode?: ExitCode; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.exitCode = options.exitCode ?? 1;
  }
}

// Bad usage or bad input: exit code 2.
export class UsageError extends VnetfwError {
  constructor(message: string) {
    super('EUSAGE', message, { exitCode: 2 });
    this.name = 'UsageError';
  }
}

export const isVnetfwError = (e: unknown): e is VnetfwError => e instanceof VnetfwError;

// The message of anything thrown, for one-line reports.
export const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));
