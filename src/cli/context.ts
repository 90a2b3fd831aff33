import type { Command } from './spec.js';

// What every command receives: resolved global options, the streams to write to, and the whole
// command tree (for commands that describe the command line itself, such as `completion`).
export interface CliContext {
  stateDir: string;
  configPath: string;
  json: boolean;
  debug: boolean;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  isTTY: boolean;
  program: Command;
}
