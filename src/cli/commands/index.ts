import type { Command } from '../context.js';
import { adoptCommand } from './adopt.js';
import { daemonCommand } from './daemon.js';
import { defineCommand } from './define.js';
import { startCommand, stopCommand } from './lifecycle.js';
import { logCommand } from './log.js';
import { listCommand, statusCommand } from './status.js';
import { undefineCommand } from './undefine.js';
import { verifyCommand } from './verify.js';
import { planCommand } from './plan.js';
import { reconcileCommand } from './reconcile.js';
import { demoCommand } from './demo.js';

// Every subcommand, in the order `vnetfw --help` lists them. Each lives in its own file.
export const commands: Command[] = [
  defineCommand, undefineCommand, startCommand, stopCommand, listCommand, statusCommand, planCommand, reconcileCommand, verifyCommand, daemonCommand, adoptCommand, logCommand, demoCommand,
];
