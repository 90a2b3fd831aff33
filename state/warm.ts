// A writer's memory of the log, kept by a long-lived process (the daemon) between the times it
// holds the store: the state its last writer had folded and where the log ended then. The next open
// starts from it instead of from a snapshot file, and folds (and hash-checks) only what another
// process appended in between. It is only used while the segment we stopped in is still the same
// file, at least as long: a compaction replaces that file, a truncation shortens it, and either
// sends the open back to the snapshot file and the log, which judge them.
import { existsSync, statSync } from 'node:fs';
import type { ProjectionState } from './projection.js';
import type { Position } from './replay.js';
import { segmentFileId, segmentPath } from './segments.js';

export interface WarmStart {
  state: ProjectionState;        // folded up to the record just before `end`
  end: Position;                 // just past the last record
  last: Position | undefined;    // the last record's line
  snapSeq: number;               // the newest snapshot the writer knew of
  file: string;                  // which file `end.segment` was (device:inode)
}

// Owned by the process; openStore takes what is in it (leaving it empty while the store is open,
// so a store that fails leaves nothing stale behind) and the writer's close puts its state back.
export interface WarmHolder { current: WarmStart | undefined }

export const createWarmHolder = (): WarmHolder => ({ current: undefined });

const endSize = (stateDir: string, w: WarmStart): number | undefined => {
  try { return statSync(segmentPath(stateDir, w.end.segment)).size; } catch { return undefined; }
};

// Can an open start from `w`? The file is the one we wrote and still holds all we wrote.
export const warmUsable = (stateDir: string, w: WarmStart): boolean =>
  segmentFileId(stateDir, w.end.segment) === w.file && (endSize(stateDir, w) ?? -1) >= w.end.offset;

// Has anyone written to the log since `w` (appended, rotated, compacted, truncated)?
export const logMovedSince = (stateDir: string, w: WarmStart): boolean =>
  segmentFileId(stateDir, w.end.segment) !== w.file || endSize(stateDir, w) !== w.end.offset
  || existsSync(segmentPath(stateDir, w.end.segment + 1));
