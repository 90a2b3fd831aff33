// File-level chores of the writer: the directory layout and its modes, new segments, and moving a
// torn tail aside.
import { closeSync, constants, ftruncateSync, fsyncSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { DIR_MODE, ensureDir, FILE_MODE, fsyncDir, writeFileAtomicSync } from './atomic-file.js';
import { event, type NewEvent } from './events.js';
import type { TornTail } from './replay.js';
import { logDir, segmentPath } from './segments.js';
import { snapshotDir } from './snapshot.js';
import { checkEntry, checkStateDir, NOFOLLOW, tightenDir } from './secure-dir.js';

// Beside log/, not in it: log/*.jsonl must hold nothing but records.
export const quarantineDir = (stateDir: string): string => join(stateDir, 'quarantine');

// Checks the directory and all it holds before touching anything (a symlink, another owner or
// others' write access is refused), creates the layout 0700, and takes read bits off a state
// directory someone created by hand with 0755.
export const prepareDirs = (stateDir: string): void => {
  checkStateDir(stateDir);
  for (const d of [stateDir, logDir(stateDir), snapshotDir(stateDir)]) {
    ensureDir(d);
    const st = checkEntry(stateDir, d);
    if (st !== undefined && (st.mode & 0o077) !== 0) tightenDir(d, DIR_MODE);
  }
};

// An empty segment, durable in its directory before anything is written to it.
export const createSegment = (stateDir: string, n: number): void => {
  closeSync(openSync(segmentPath(stateDir, n), constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | NOFOLLOW, FILE_MODE));
  fsyncDir(logDir(stateDir));
};

// Moves a torn tail aside: the quarantine copy is made durable first, then the bytes are cut off the
// segment, so no byte is lost and the log ends on a whole record again. Returns the event to log.
export const quarantineTornTail = (stateDir: string, t: TornTail, now: Date): NewEvent => {
  const dir = quarantineDir(stateDir);
  const file = join(dir, `quarantine-${t.seq}-${now.toISOString().replace(/:/g, '-')}.jsonl`);
  const fd = openSync(segmentPath(stateDir, t.segment), constants.O_RDWR | NOFOLLOW);
  try {
    const buf = Buffer.alloc(t.bytes);
    readSync(fd, buf, 0, t.bytes, t.offset);
    ensureDir(dir);
    writeFileAtomicSync(file, buf);
    ftruncateSync(fd, t.offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return event('log.repaired', { quarantine: file, bytes: t.bytes, reason: t.reason });
};
