export type { Runner, RunRequest, RunResult } from './types.js';
export { childEnv, createExecaRunner, DEFAULT_TIMEOUT_MS } from './execa-runner.js';
export type { ExecaRunnerOptions } from './execa-runner.js';
export { ExecError, isExecError, isSuccess, assertSuccess, describeFailure } from './errors.js';
export { shellQuote, shellQuoteWord } from './quote.js';
export { watchLines, type LineWatch } from './watch-lines.js';
export { PROGRAMS_RUN } from './programs.js';
export { startProgramHelper, type ProgramHelper, type ProgramHelperOptions } from './helper-runner.js';
