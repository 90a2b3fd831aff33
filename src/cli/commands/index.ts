import type { Command } from '../context.js';

// Every subcommand, in the order `vnetfw --help` lists them. Each lives in its own file.
export const commands: Command[] = [];
