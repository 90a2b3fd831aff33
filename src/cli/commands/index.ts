import type { Command } from '../context.js';
import { planCommand } from './plan.js';

// Every subcommand, in the order `vnetfw --help` lists them. Each lives in its own file.
export const commands: Command[] = [planCommand];
