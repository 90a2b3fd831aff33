// Log records -> metric updates. Everything the counters say is read from the event log, so a
// number on a dashboard can always be traced to records (`vnetfw log --json --type ...`).
import { basename } from 'node:path';
import type { EventData, LogRecord } from '../../state/index.js';
import type { MetricFamilies } from './registry.js';

interface Intent { program: string; purpose: string }

// What the fold remembers between records: operations not yet ended, and commands intended but
// not yet finished (the finished record does not repeat the purpose).
export interface FoldMemory {
  open: Map<string, { kind: string; startedMs: number }>;
  intents: Map<string, Intent>;
}

export const emptyMemory = (): FoldMemory => ({ open: new Map(), intents: new Map() });

// A crash leaves intents that never finish; past this many, the oldest are forgotten.
const MAX_INTENTS = 10_000;

const OUTCOMES: Record<string, string> = {
  'operation.committed': 'committed', 'operation.rolled-back': 'rolled-back', 'operation.failed': 'failed',
};

const opKey = (r: LogRecord): string => `${r.network ?? ''}\u0000${r.op ?? ''}`;
const stepKey = (r: LogRecord, step: number): string => `${r.op ?? ''}\u0000${r.network ?? ''}\u0000${step}`;
const programOf = (argv: readonly string[] | undefined): string => basename(argv?.[0] ?? 'unknown');

export const applyRecord = (m: MetricFamilies, mem: FoldMemory, r: LogRecord): void => {
  m.logRecords.inc({ type: r.type });
  switch (r.type) {
    case 'operation.started': {
      const d = r.data as EventData['operation.started'];
      mem.open.set(opKey(r), { kind: d.kind, startedMs: Date.parse(r.time) });
      return;
    }
    case 'operation.committed':
    case 'operation.rolled-back':
    case 'operation.failed': {
      const started = mem.open.get(opKey(r));
      // An operation that started before the daemon did is not counted: its kind and start are
      // in records this daemon has not read.
      if (started === undefined) return;
      mem.open.delete(opKey(r));
      const labels = { kind: started.kind, outcome: OUTCOMES[r.type] ?? r.type };
      m.operations.inc(labels);
      m.operationSeconds.observe(labels, Math.max(0, Date.parse(r.time) - started.startedMs) / 1000);
      return;
    }
    case 'command.intended': {
      const d = r.data as EventData['command.intended'];
      if (mem.intents.size >= MAX_INTENTS) mem.intents.delete(mem.intents.keys().next().value ?? '');
      mem.intents.set(stepKey(r, d.step), { program: programOf(d.argv), purpose: d.purpose });
      return;
    }
    case 'command.finished': {
      const d = r.data as EventData['command.finished'];
      const intent = mem.intents.get(stepKey(r, d.step));
      mem.intents.delete(stepKey(r, d.step));
      const labels = { program: d.argv === undefined ? (intent?.program ?? 'unknown') : programOf(d.argv), purpose: intent?.purpose ?? 'unknown' };
      m.programRuns.inc(labels);
      if (d.exitCode !== 0 || d.signal !== undefined || d.timedOut === true) m.programFailures.inc(labels);
      return;
    }
    case 'drift.found':
      m.driftFound.inc({ network: r.network ?? '' });
      return;
    case 'drift.repaired':
      m.driftRepaired.inc({ network: r.network ?? '' });
      return;
    default:
  }
};
