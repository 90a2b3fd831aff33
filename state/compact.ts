// `vnetfw log compact --before SEQ|TIME`: drops old records behind a checkpoint record that keeps
// the chain verifiable. The cut is always at a `snapshot.written` record (the anchor), so that a
// record in the chain attests the state the checkpoint carries: every record before the anchor
// goes, the segment holding the anchor is rewritten as checkpoint + anchor + the rest, and older
// segments are removed. The writer calls this with its lock held (log-writer.ts).
//
// Crash safety: the snapshots (caches that point into the old files) are removed first; then the
// new head segment is written beside the old one and renamed over it (temporary file, fsync,
// rename, fsync of the directory). Before the rename the old log is intact; after it
// the log starts at the segment with the checkpoint (liveSegments), so older segments still on
// disk are ignored until a writer removes them. A kill at any moment leaves the old log or the new
// one, and both verify.
import { closeSync, constants, fstatSync, openSync, readSync, statSync, unlinkSync } from 'node:fs';
import { fsyncDir, writeFileAtomicSync } from './atomic-file.js';
import { checkpointLine } from './checkpoint.js';
import { emptyState, replay, type ProjectionState } from './projection.js';
import type { LogRecord } from './record.js';
import { type Position, scanLog } from './replay.js';
import { listSegments, liveSegments, logDir, segmentPath } from './segments.js';
import { listSnapshots, snapshotDir, snapshotFile } from './snapshot.js';

// Drop the records before seq `seq`, or those written before time `time` (ms since the epoch).
export type CompactTarget = { seq: number } | { time: number };

export interface Cut {
  anchor: LogRecord;          // the snapshot.written record the log will start after the checkpoint with
  at: Position;               // where its line starts now
  before: ProjectionState;    // the state folded up to the record before it
  time: string;               // the time of the record before it (the checkpoint's: times stay in order)
}

export interface CutSearch {
  cut: Cut | undefined;       // the last anchor the target allows (undefined: none)
  from: number;               // the first seq the log holds (or its checkpoint stands for)
  head: number;               // seq of the log's first record after its checkpoint (1 without one)
  lastSeq: number;
  coversAll: boolean;         // the target lies past the whole log
}

// Does cutting at `rec` (a snapshot.written) drop only records the target allows? `latest`: the
// newest time among the records before it.
const allows = (target: CompactTarget, rec: LogRecord, latest: number): boolean =>
  'seq' in target ? rec.seq <= target.seq : latest < target.time;

// Reads the whole log: where the target allows the cut to be, and the state just before it.
export const findCut = async (stateDir: string, target: CompactTarget): Promise<CutSearch> => {
  // One replay folds the whole log (a copy of the networks only when a cut candidate asks for it).
  let state = replay(emptyState());
  let from: number | undefined;
  let head: number | undefined;
  let latest = Number.NEGATIVE_INFINITY;
  let previous = '';
  let cut: Cut | undefined;
  const r = await scanLog(stateDir, {
    onCheckpoint: (cp, rec) => { state = replay(cp.state); from = cp.from; previous = rec.time; },
    onRecord: (rec, line) => {
      from ??= rec.seq;
      head ??= rec.seq;
      if (rec.type === 'snapshot.written' && rec.seq > head && allows(target, rec, latest)) {
        cut = { anchor: rec, at: { segment: line.segment, offset: line.offset }, before: state.result(), time: previous };
      }
      state.add(rec);
      previous = rec.time;
      latest = Math.max(latest, Date.parse(rec.time));
    },
  });
  const coversAll = 'seq' in target ? target.seq > r.seq : latest < target.time;
  return { cut, from: from ?? 1, head: head ?? r.seq + 1, lastSeq: r.seq, coversAll };
};

export const logBytes = (stateDir: string): number =>
  listSegments(stateDir).reduce((n, s) => n + statSync(segmentPath(stateDir, s)).size, 0);

// Points a test can stop at to see what a kill there would leave on disk.
export type CompactStep = 'snapshots' | 'renamed' | 'removed';

const readFrom = (path: string, offset: number): Buffer => {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(Math.max(0, size - offset));
    for (let got = 0; got < buf.length;) {
      const n = readSync(fd, buf, got, buf.length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
};

// Rewrites the log so that it starts with a checkpoint in front of `cut.anchor`. Returns how far
// the anchor's segment's lines moved (bytes; negative: towards the start).
export const rewriteHead = (stateDir: string, from: number, cut: Cut, onStep?: (s: CompactStep) => void): number => {
  const seg = cut.at.segment;
  const line = Buffer.from(checkpointLine(from, cut.before, cut.anchor, cut.time), 'utf8');
  const tail = readFrom(segmentPath(stateDir, seg), cut.at.offset);
  // Snapshots point into the segments about to be rewritten or removed: they go first (they are
  // only caches), so that none can lead an open into a segment a kill left behind.
  for (const seq of listSnapshots(stateDir)) {
    try { unlinkSync(snapshotFile(stateDir, seq)); } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; }
  }
  fsyncDir(snapshotDir(stateDir));
  onStep?.('snapshots');
  writeFileAtomicSync(segmentPath(stateDir, seg), Buffer.concat([line, tail]));
  onStep?.('renamed');
  removeStaleSegments(stateDir);
  onStep?.('removed');
  return line.length - cut.at.offset;
};

// Removes the segments before the log's checkpoint segment (what an interrupted compaction left);
// returns the segments of the log.
export const removeStaleSegments = (stateDir: string): number[] => {
  const live = liveSegments(stateDir);
  const stale = listSegments(stateDir).filter((s) => s < (live[0] ?? 0));
  for (const s of stale) unlinkSync(segmentPath(stateDir, s));
  if (stale.length > 0) fsyncDir(logDir(stateDir));
  return live;
};
