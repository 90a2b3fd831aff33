import type { Command } from '../spec.js';
import { adoptCommand } from './adopt.js';
import { completionCommand } from './completion.js';
import { daemonCommand } from './daemon.js';
import { defineCommand } from './define.js';
import { demoCommand } from './demo.js';
import { doctorCommand } from './doctor.js';
import { helpCommand } from './help.js';
import { libvirtCommand } from './libvirt.js';
import { startCommand, stopCommand } from './lifecycle.js';
import { logCommand } from './log.js';
import { metricsCommand } from './metrics.js';
import { planCommand } from './plan.js';
import { reconcileCommand } from './reconcile.js';
import { listCommand, statusCommand } from './status.js';
import { undefineCommand } from './undefine.js';
import { verifyCommand } from './verify.js';

// Every subcommand, in the order `vnetfw --help` lists them. Each lives in its own file and is a
// `command({...})` (src/cli/spec.ts): parsing, --help and completion follow from it.
export const commands: Command[] = [
  defineCommand, undefineCommand, startCommand, stopCommand, listCommand, statusCommand, planCommand, reconcileCommand,
  verifyCommand, doctorCommand, daemonCommand, metricsCommand, adoptCommand, libvirtCommand, logCommand, demoCommand, completionCommand, helpCommand,
];
