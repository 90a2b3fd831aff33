// The store: the one way to append to and read the log. `openStore` gives the writer
// (log-writer.ts: the lock, appends, snapshots, compaction) or, with `readonly`, a reader
// (log-reader.ts: the folded state, the records, following another process's appends).
import type { Observable } from 'rxjs';
import type { CompactStep, CompactTarget } from './compact.js';
import type { NewEvent } from './events.js';
import type { FileIo } from './file-io.js';
import { prepareDirs } from './layout.js';
import { acquireLock } from './lock.js';
import { LogReader } from './log-reader.js';
import { LogWriter } from './log-writer.js';
import type { ProjectionState } from './projection.js';
import type { LogRecord } from './record.js';
import { checkStateDir } from './secure-dir.js';
import type { WarmHolder } from './warm.js';

export { DEFAULT_SEGMENT_BYTES, DEFAULT_SNAPSHOT_EVERY } from './log-writer.js';

export interface Store {
  readonly stateDir: string;
  readonly readonly: boolean;
  append(events: NewEvent[]): Promise<LogRecord[]>;
  records(opts?: { fromSeq?: number }): AsyncIterable<LogRecord>;
  state(): ProjectionState;
  follow(): Observable<LogRecord>;
  snapshot(): Promise<void>;   // write a snapshot now (normally every snapshotEvery records)
  compact(target: CompactTarget, opts?: { onStep?: (s: CompactStep) => void }): Promise<CompactResult>;
  close(): Promise<void>;
}

export interface OpenOptions {
  readonly?: boolean;          // no lock, no repair, no writes: for `log`, `status`, `list`
  segmentBytes?: number;       // rotate segments above this size (default 64 MiB)
  snapshotEvery?: number;      // default 2,000 records (bounds the tail an open must fold)
  closeSnapshotAfter?: number; // a writer's close snapshots when this many are uncovered (default 1,000)
  now?: () => Date;
  rebuild?: boolean;           // ignore snapshots: fold the whole log
  io?: FileIo;
  pollMs?: number;             // how often a read-only follow() looks for new records (default 250)
  // A writer starts from what the last writer of this process left here, and leaves its own state
  // here when it closes (the daemon, between cycles). Read-only stores ignore it.
  warm?: WarmHolder;
}

export interface CompactResult {
  compacted: boolean;
  reason?: string;        // why nothing was dropped
  dropped: number;        // records this compaction dropped
  from: number;           // the checkpoint stands for seq from..through (every record dropped so far)
  through: number;
  seq: number;            // the last record now
  bytesBefore: number;
  bytesAfter: number;
}

export const openStore = async (stateDir: string, opts: OpenOptions = {}): Promise<Store> => {
  if (opts.readonly === true) {
    checkStateDir(stateDir);
    const reader = new LogReader(stateDir, opts);
    await reader.load();
    return reader;
  }
  prepareDirs(stateDir);
  const lock = acquireLock(stateDir);
  const store = new LogWriter(stateDir, opts, lock);
  try {
    await store.load();
  } catch (err) {
    lock.release();
    throw err;
  }
  return store;
};
