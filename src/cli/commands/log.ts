// `vnetfw log [--network N] [--type T] [--since TIME] [--follow]` and `vnetfw log verify`: the
// audit trail. Read-only: never takes the writer lock, so it works while the daemon runs.
import { UsageError } from '../../errors.js';
import type { EventData, LogRecord, Store } from '../../../state/index.js';
// The names alone (for --type and its completion); the store is loaded when the command runs.
import { EVENT_TYPES } from '../../../state/events.js';
import type { CliContext } from '../context.js';
import { loadState } from '../lazy.js';
import { command, type OptionValues } from '../spec.js';
import { logCompactCommand } from './log-compact.js';
import { HEADER, row } from './log-format.js';

export interface LogFilter { network?: string; types?: string[]; since?: number }

const UNITS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 };

// An ISO 8601 time (`2025-01-31`, `2025-01-31T10:00:00Z`) or an age (`90s`, `15m`, `2h`, `7d`).
export const parseSince = (text: string, now = Date.now()): number => {
  const rel = /^(\d+)([smhd])$/.exec(text);
  if (rel !== null) return now - Number(rel[1]) * UNITS[rel[2]!]!;
  const t = /^\d{4}-\d\d-\d\d/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(t)) throw new UsageError(`log: --since '${text}' is not an ISO 8601 time or an age like 15m, 2h, 7d`);
  return t;
};

// `--type` takes event types or families, comma-separated: `command.finished`, `command`, `operation.*`.
export const parseTypes = (text: string): string[] => text.split(',').map((t) => {
  const name = t.trim().replace(/\.\*$/, '');
  if (!EVENT_TYPES.some((e) => e === name || e.startsWith(`${name}.`))) {
    throw new UsageError(`log: --type '${t}' is not an event type (known: ${EVENT_TYPES.join(', ')})`);
  }
  return name;
});

// A program run shared by several networks names them in `networks`: it belongs to each.
const belongsTo = (r: LogRecord, network: string): boolean =>
  r.network === network
  || ((r.type === 'command.intended' || r.type === 'command.finished') && (r.data as EventData['command.finished']).networks?.includes(network) === true);

export const matches = (r: LogRecord, f: LogFilter): boolean =>
  (f.network === undefined || belongsTo(r, f.network))
  && (f.types === undefined || f.types.some((t) => r.type === t || r.type.startsWith(`${t}.`)))
  && (f.since === undefined || Date.parse(r.time) >= f.since);

const verify = async (ctx: CliContext): Promise<number> => {
  const v = await (await loadState()).verifyLog(ctx.stateDir);
  if (ctx.json) ctx.stdout.write(`${JSON.stringify(v)}\n`);
  if (!v.ok) {
    ctx.stderr.write(v.snapshot === undefined ? `log verify: record seq ${v.seq}: ${v.reason}\n` : `log verify: ${v.reason}\n`);
    return 1;
  }
  if (!ctx.json) {
    const torn = v.torn === undefined ? '' : `; a torn tail of ${v.torn.bytes} bytes after seq ${v.seq} (a crash mid-write) will be quarantined at the next open`;
    const cp = v.checkpoint;
    const range = cp === undefined ? `seq 1..${v.seq}` : `seq ${cp.through + 1}..${v.seq} after a checkpoint for the dropped seq ${cp.from}..${cp.through} (hash of seq ${cp.through}: ${cp.lastHash})`;
    ctx.stdout.write(v.records === 0 ? `log verify: no records in ${ctx.stateDir}\n`
      : `log verify: ${v.records} records intact, ${range}, last hash ${v.hash}${v.snapshots > 0 ? `; ${v.snapshots} snapshot${v.snapshots === 1 ? '' : 's'} match the log` : ''}${torn}\n`);
  }
  return 0;
};

const OPTIONS = {
  network: { type: 'string', value: 'N', complete: 'network', description: 'only records of network N' },
  type: {
    type: 'string', value: 'T', complete: EVENT_TYPES,
    description: 'only these event types; comma-separated, a family matches all its types\n(e.g. command, operation.failed, command.intended,command.finished)',
  },
  since: { type: 'string', value: 'TIME', description: 'only records at or after TIME: ISO 8601 (2025-01-31T10:00:00Z) or an age (15m, 2h, 7d)' },
  follow: { type: 'boolean', description: 'keep running and show new records as they are written (Ctrl-C to stop)' },
} as const;

// Runs until `stop` aborts when following; the command wires it to SIGINT/SIGTERM.
export const runLog = async (flags: OptionValues<typeof OPTIONS>, ctx: CliContext, stop?: AbortSignal): Promise<number> => {
  const { decodeLine, flatRecord, isStateError, listSegments, openStore, readLines } = await loadState();
  const filter: LogFilter = {};
  if (typeof flags.network === 'string') filter.network = flags.network;
  if (typeof flags.type === 'string') filter.types = parseTypes(flags.type);
  if (typeof flags.since === 'string') filter.since = parseSince(flags.since);
  const print = (r: LogRecord): void => {
    if (matches(r, filter)) ctx.stdout.write(`${ctx.json ? JSON.stringify(flatRecord(r)) : row(r)}\n`);
  };

  let store: Store;
  try {
    store = await openStore(ctx.stateDir, { readonly: true });
  } catch (err) {
    if (!isStateError(err, 'ETAMPER')) throw err;
    // An auditor still wants to read a damaged log: show what parses, then fail.
    ctx.stderr.write(`vnetfw: ${err.message}; showing the records as they are\n`);
    if (!ctx.json) ctx.stdout.write(`${HEADER}\n`);
    for (const seg of listSegments(ctx.stateDir)) {
      for await (const line of readLines(ctx.stateDir, seg)) {
        const d = decodeLine(line.text);
        if (d.ok) print(d.record);
        else ctx.stdout.write(ctx.json ? '' : `${'?'.padStart(7)}  (segment ${seg}, byte ${line.offset}: ${d.reason})\n`);
      }
    }
    return 1;
  }
  try {
    if (!ctx.json && (listSegments(ctx.stateDir).length > 0 || flags.follow === true)) ctx.stdout.write(`${HEADER}\n`);
    for await (const r of store.records()) print(r);
    if (flags.follow !== true) return 0;
    await new Promise<void>((resolve, reject) => {
      const sub = store.follow().subscribe({ next: print, error: reject, complete: resolve });
      const done = (): void => { sub.unsubscribe(); resolve(); };
      if (stop?.aborted === true) done();
      stop?.addEventListener('abort', done, { once: true });
    });
    return 0;
  } finally {
    await store.close();
  }
};

export const logVerifyCommand = command({
  name: 'verify',
  summary: 'check the log\'s hash chain',
  description: [
    'Checks every record\'s hash and its link to the one before; exit 0 when intact, exit 1 with',
    "'log verify: record seq N: <reason>' naming the first bad record.",
    'Takes no writer lock: works while the daemon runs.',
  ].join('\n'),
  run: (_inv, ctx) => verify(ctx),
});

export const logCommand = command({
  name: 'log',
  summary: 'show the audit trail (every event, every program run); verify its hash chain; compact it',
  options: OPTIONS,
  subcommands: [logVerifyCommand, logCompactCommand],
  description: [
    'Shows the event log of the state directory, oldest first, as a table (seq, time, network, type,',
    'summary) or, with --json, as one JSON object per line (the records as stored).',
    'Takes no writer lock: works while the daemon runs.',
  ].join('\n'),
  run: async ({ options }, ctx) => {
    const ac = new AbortController();
    const stop = (): void => ac.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      return await runLog(options, ctx, ac.signal);
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
});
