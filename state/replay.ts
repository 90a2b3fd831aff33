// Reading the log back: checks every line's hash, seq and prev link, folds nothing itself (the
// caller's onRecord does), and tells a torn tail (what a crash mid-write leaves: malformed lines at
// the very end of the last segment) from tampering (a bad record with good records after it, or a
// well-formed record whose hash/seq/prev do not fit). A compacted log starts with a checkpoint
// (state/checkpoint.ts): the chain continues from the hash it carries.
import { statSync } from 'node:fs';
import { anchorProblem, type Checkpoint, readCheckpoint } from './checkpoint.js';
import { StateError } from './errors.js';
import { GENESIS_HASH } from './hash.js';
import { decodeLine, type LogRecord } from './record.js';
import { listSegments, liveSegments, readLines, segmentPath, type Line } from './segments.js';

export interface Position { segment: number; offset: number }

export interface TornTail { segment: number; offset: number; bytes: number; seq: number; reason: string }

export interface ScanResult {
  seq: number;                // last good record (or `after.seq` when none was read)
  hash: string;
  end: Position;              // just past the last good record
  last: Position | undefined; // where the last good record's line starts
  torn: TornTail | undefined;
  count: number;              // records read, the checkpoint not counted
  checkpoint: Checkpoint | undefined;   // the log's checkpoint, when the scan started at it
}

export class TamperError extends StateError {
  constructor(seq: number, readonly reason: string) {
    super('ETAMPER', `event log is corrupt or was tampered with at record seq ${seq}: ${reason}; nothing was changed: run 'vnetfw log verify' to see the damage, then restore the state directory from a backup`, { seq });
  }
}

export interface ScanOptions {
  from?: Position;                       // default: the first segment, offset 0
  after?: { seq: number; hash: string }; // the record just before `from` (default: genesis)
  strict?: boolean;
  onRecord?: (rec: LogRecord, line: Line) => void;
  // A compacted log's head: the state to fold the records after it onto (onRecord does not see it).
  onCheckpoint?: (cp: Checkpoint, rec: LogRecord) => void;
}

export const scanLog = async (stateDir: string, opts: ScanOptions = {}): Promise<ScanResult> => {
  // From the start: the log's segments (after a compaction, from its checkpoint's). From a
  // position: the segments from there on; a checkpoint is then only expected right at it.
  const segments = opts.from === undefined ? liveSegments(stateDir) : listSegments(stateDir);
  const from = opts.from ?? { segment: segments[0] ?? 1, offset: 0 };
  let seq = opts.after?.seq ?? 0;
  let hash = opts.after?.hash ?? GENESIS_HASH;
  let end = from;
  let last: Position | undefined;
  let count = 0;
  let bad: Omit<TornTail, 'bytes'> | undefined;
  let checkpoint: Checkpoint | undefined;
  let anchor: Checkpoint | undefined;   // a checkpoint whose attesting record comes next
  const head = opts.from === undefined ? segments[0] : from.segment;
  const todo = segments.filter((s) => s >= from.segment);
  for (const [i, segment] of todo.entries()) {
    const lines = readLines(stateDir, segment, segment === from.segment ? from.offset : 0);
    try {
      for (let it = await lines.next(); ; it = await lines.next()) {
        if (it.done === true) {
          if (it.value.rest.length > 0) bad ??= { segment, offset: it.value.restOffset, seq: seq + 1, reason: 'incomplete last line (no newline)' };
          break;
        }
        const line = it.value;
        const d = decodeLine(line.text, opts.strict);
        if (!d.ok && d.kind === 'malformed') {
          bad ??= { segment, offset: line.offset, seq: seq + 1, reason: d.reason };
          continue;
        }
        // A well-formed record after a malformed line: the damage is not a torn tail.
        if (bad !== undefined) throw new TamperError(bad.seq, bad.reason);
        if (!d.ok) throw new TamperError(seq + 1, d.reason);
        const rec = d.record;
        if (rec.type === 'log.checkpoint') {
          if (segment !== head || line.offset !== 0) throw new TamperError(rec.seq, 'a checkpoint record that is not the first line of the log');
          const cp = readCheckpoint(rec);
          if (typeof cp === 'string') throw new TamperError(rec.seq, cp);
          opts.onCheckpoint?.(cp, rec);
          checkpoint = cp;
          anchor = cp;
          seq = cp.through;
          hash = cp.lastHash;
          last = { segment, offset: line.offset };
          end = { segment, offset: line.offset + line.bytes };
          continue;
        }
        if (rec.seq !== seq + 1) {
          throw new TamperError(seq + 1, `found seq ${rec.seq} where seq ${seq + 1} was expected (a record was deleted, reordered or duplicated)`);
        }
        if (rec.prev !== hash) {
          throw new TamperError(rec.seq, `prev does not match the hash of seq ${seq} (the record before it was changed or replaced)`);
        }
        if (anchor !== undefined) {
          const problem = anchorProblem(anchor, rec);
          if (problem !== null) throw new TamperError(rec.seq, problem);
          anchor = undefined;
        }
        opts.onRecord?.(rec, line);
        seq = rec.seq;
        hash = rec.hash;
        last = { segment, offset: line.offset };
        end = { segment, offset: line.offset + line.bytes };
        count++;
      }
    } finally {
      // Closes the file when we stop early (tampering found).
      await lines.return({ restOffset: 0, rest: Buffer.alloc(0) });
    }
    // Segments are only left behind after a durable write, so only the last one can be torn.
    if (bad !== undefined && i < todo.length - 1) throw new TamperError(bad.seq, `${bad.reason} (in segment ${segment}, not the last)`);
  }
  if (anchor !== undefined) throw new TamperError(seq + 1, 'the checkpoint is not followed by the snapshot.written that attests its state');
  let torn: TornTail | undefined;
  if (bad !== undefined) {
    const size = statSync(segmentPath(stateDir, bad.segment)).size;
    torn = { ...bad, bytes: size - bad.offset };
  }
  return { seq, hash, end, last, torn, count, checkpoint };
};
