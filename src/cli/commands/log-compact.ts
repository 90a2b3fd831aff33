// `vnetfw log compact --before SEQ|TIME`: drops old records behind a checkpoint record that keeps
// the chain verifiable (state/compact.ts). A writer: takes the store's lock, waiting for the daemon
// or another command like every writing command does.
import { UsageError } from '../../errors.js';
import type { CompactResult, CompactTarget } from '../../../state/index.js';
import type { CliContext } from '../context.js';
import { loadEngine, loadState } from '../lazy.js';
import { command } from '../spec.js';

const UNITS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 };

// A seq (a positive integer: records before it go) or a time (ISO 8601, or an age like 7d: records
// written before it go).
export const parseBefore = (text: string, now = Date.now()): CompactTarget => {
  if (/^[1-9]\d{0,15}$/.test(text)) return { seq: Number(text) };
  const age = /^(\d{1,9})([smhd])$/.exec(text);
  if (age !== null) return { time: now - Number(age[1]) * UNITS[age[2]!]! };
  const t = /^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?)?$/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(t)) {
    throw new UsageError(`log compact: --before '${text}' is not a seq (a positive integer) or a time (ISO 8601 like 2025-01-31T10:00:00Z, or an age like 30d)`);
  }
  return { time: t };
};

const describe = (r: CompactResult): string => (!r.compacted
  ? `log compact: nothing dropped: ${r.reason ?? 'nothing before the target'}`
  : `log compact: dropped ${r.dropped} record${r.dropped === 1 ? '' : 's'} (up to seq ${r.through}), ${r.bytesBefore} -> ${r.bytesAfter} bytes; `
    + `the log starts with a checkpoint for seq ${r.from}..${r.through} and goes on at seq ${r.through + 1}..${r.seq}`);

export const logCompactCommand = command({
  name: 'compact',
  summary: 'drop old records behind a checkpoint record that keeps the chain verifiable',
  options: {
    before: {
      type: 'string', value: 'SEQ|TIME', required: true,
      description: 'drop the records before seq SEQ, or written before TIME (ISO 8601, or an age: 90m, 12h, 30d)',
    },
  },
  description: [
    'Drops old records: the log then starts with a checkpoint record that stands for them. It carries',
    'the seq range dropped, the hash of the last dropped record (the next record\'s prev: the chain',
    'goes on from it) and the state folded up to it, attested by the snapshot.written record after it.',
    'The cut is at the last snapshot.written record the target allows (the daemon writes one every',
    'cycle); when the target lies past the end of the log, one is written and everything before it goes.',
    'Refuses a log that does not verify. Crash-safe: a kill at any moment leaves the old log or the',
    'new one. Waits for the writer lock like other writing commands. `log verify` checks a compacted',
    'log from its checkpoint.',
  ].join('\n'),
  run: async ({ options }, ctx: CliContext) => {
    const target = parseBefore(options.before ?? '');
    const [{ withStore }, { lockTimeoutMs }] = await Promise.all([loadState(), loadEngine()]);
    const r = await withStore(ctx.stateDir, (store) => store.compact(target), { wait: true, timeoutMs: lockTimeoutMs() });
    ctx.stdout.write(`${ctx.json ? JSON.stringify(r) : describe(r)}\n`);
    return 0;
  },
});
