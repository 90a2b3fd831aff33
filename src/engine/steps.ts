import { randomUUID } from 'node:crypto';
import type { RunResult, Runner } from '../exec/types.js';
import type { FwCommand } from '../firewall/model.js';
import type { IntegrationStep } from '../firewall/neighbours/model.js';
import type { Journal } from './journal.js';

export type StepPurpose = 'apply' | 'remove' | 'query' | 'host' | 'rollback';

// One operation in flight: the id that ties its log records together, the network(s) it
// belongs to, and the counter that numbers its program runs.
export interface OpScope {
  readonly op: string;
  readonly network: string | undefined;   // undefined when one batch serves several networks
  readonly networks?: readonly string[];  // every network of the operation
  readonly journal: Journal;
  readonly runner: Runner;
  readonly signal?: AbortSignal;
  // Shared by every scope of one operation: step numbers are unique per op id.
  readonly counter: { next: number };
}

export const newOpId = (): string => randomUUID();

// The same operation, narrowed to one network (its own program runs name it in the log).
export const forNetwork = (scope: OpScope, network: string | undefined): OpScope => ({ ...scope, network });

export interface StepRequest {
  argv: string[];
  stdin?: string;
  commands?: FwCommand[];
  purpose: StepPurpose;
  undo?: FwCommand[];
  integration?: IntegrationStep;   // a neighbour integration step: its removal is in the intent
  timeoutMs?: number;
}


// Runs one program the write-ahead way: its intent is on disk before it starts, its result is
// journalled after. Queries are journalled too (CONTRACT: every run is recorded), but their
// intent need not be durable first because they change nothing.
// The network(s) a program run belongs to: its own, the operation's only one, or (a batch shared
// by several) all of them by name.
const owners = (scope: OpScope): { network?: string; networks?: string[] } => {
  if (scope.network !== undefined) return { network: scope.network };
  const all = scope.networks ?? [];
  if (all.length === 1 && all[0] !== undefined) return { network: all[0] };
  return all.length > 1 ? { networks: [...all] } : {};
};

export const runStep = async (scope: OpScope, req: StepRequest): Promise<RunResult> => {
  const step = scope.counter.next++;
  const who = owners(scope);
  const intended = {
    type: 'command.intended' as const,
    ...(who.network === undefined ? {} : { network: who.network }),
    op: scope.op,
    data: {
      step,
      ...(who.networks === undefined ? {} : { networks: who.networks }),
      argv: req.argv,
      ...(req.stdin === undefined ? {} : { stdin: req.stdin }),
      // A batch's model commands are its stdin line by line: recorded once, as the input sent.
      ...(req.stdin === undefined ? { commands: req.commands ?? [] } : {}),
      purpose: req.purpose,
      ...(req.undo === undefined ? {} : { undo: req.undo }),
      ...(req.integration === undefined ? {} : { integration: req.integration }),
    },
  };
  if (req.purpose === 'query') scope.journal.note(intended);
  else await scope.journal.write(intended);
  const result = await scope.runner.run({
    argv: req.argv,
    ...(req.stdin === undefined ? {} : { stdin: req.stdin }),
    ...(req.timeoutMs === undefined ? {} : { timeoutMs: req.timeoutMs }),
    ...(scope.signal === undefined ? {} : { signal: scope.signal }),
    ...(req.purpose === 'query' ? { readOnly: true } : {}),
  });
  const where = { ...(who.network === undefined ? {} : { network: who.network }), op: scope.op };
  // The finished record repeats the command it ran, so each program run reads whole on its own.
  const base = {
    step,
    ...(who.networks === undefined ? {} : { networks: who.networks }),
    argv: req.argv,
    ...(req.stdin === undefined ? {} : { stdin: req.stdin }),
    exitCode: result.exitCode,
    durationMs: result.durationMs,
    ...(result.signal === undefined ? {} : { signal: result.signal }),
    ...(result.timedOut === true ? { timedOut: true } : {}),
  };
  if (req.purpose === 'query') {
    // The whole output: the journal keeps it or a digest of it (the store cuts what it keeps).
    scope.journal.noteQuery({ type: 'command.finished', ...where, data: { ...base, stdout: result.stdout, stderr: result.stderr } });
    return result;
  }
  // The whole output: the store cuts what it keeps (one limit, in bytes, with the size kept).
  scope.journal.note({ type: 'command.finished', ...where, data: { ...base, stdout: result.stdout, stderr: result.stderr } });
  return result;
};
