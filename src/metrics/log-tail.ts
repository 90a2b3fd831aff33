// Follows the event log for the metrics: the records appended since the last look, by anyone (the
// daemon's own cycles and every other vnetfw command), read from where the last look stopped, and
// the projection kept current by folding them. Read-only: no lock, nothing written.
import { statSync } from 'node:fs';
import {
  decodeLine, GENESIS_HASH, listSegments, openStore, readLines, replay, scanLog, segmentFileId, segmentPath,
  type LogRecord, type Position, type ProjectionState,
} from '../../state/index.js';

export interface LogTail {
  // Reads what was appended since the last call; `onRecord` sees each record once, in order.
  read(onRecord: (r: LogRecord) => void): Promise<void>;
  state(): ProjectionState;
  bytes(): number;          // size of the log's segments on disk
}

// The chain link just before the first record of a segment, from that record's own `prev`.
const linkBefore = async (stateDir: string, segment: number): Promise<{ seq: number; hash: string } | null> => {
  const lines = readLines(stateDir, segment, 0);
  try {
    const first = await lines.next();
    if (first.done === true) return null;
    const d = decodeLine(first.value.text);
    return d.ok ? { seq: d.record.seq - 1, hash: d.record.prev } : null;
  } finally {
    await lines.return({ restOffset: 0, rest: Buffer.alloc(0) });
  }
};

export const openLogTail = async (stateDir: string): Promise<LogTail> => {
  let st: ProjectionState;
  let pos: Position = { segment: 1, offset: 0 };
  let after = { seq: 0, hash: GENESIS_HASH };

  // Finds the end of the log by scanning its last segment (older ones are never written again),
  // handing on records past `seenSeq`. Used at start and whenever the log no longer continues
  // where we stopped (a torn tail quarantined, the log compacted).
  const resync = async (seenSeq: number, onRecord: (r: LogRecord) => void): Promise<void> => {
    const store = await openStore(stateDir, { readonly: true });
    try { st = store.state(); } finally { await store.close(); }
    const last = listSegments(stateDir).at(-1);
    const link = last === undefined ? null : await linkBefore(stateDir, last);
    if (last === undefined || link === null) { pos = { segment: last ?? 1, offset: 0 }; after = { seq: st.seq, hash: st.hash }; return; }
    const folding = replay(st);
    const r = await scanLog(stateDir, {
      from: { segment: last, offset: 0 }, after: link,
      onRecord: (rec) => { if (rec.seq > st.seq) folding.add(rec); if (rec.seq > seenSeq) onRecord(rec); },
    });
    st = folding.result();
    pos = r.end;
    after = { seq: r.seq, hash: r.hash };
  };

  // The file read last (segmentFileId): a compaction replaces it, and the old offsets mean nothing then.
  let readFile: { segment: number; id: string | undefined } | undefined;

  await resync(Number.POSITIVE_INFINITY, () => undefined);
  return {
    async read(onRecord) {
      const fresh: LogRecord[] = [];
      const id = segmentFileId(stateDir, pos.segment);
      if (readFile !== undefined && readFile.segment === pos.segment && readFile.id !== id) {
        readFile = undefined;
        await resync(after.seq, onRecord);
        return;
      }
      readFile = { segment: pos.segment, id };
      try {
        const r = await scanLog(stateDir, { from: pos, after, onRecord: (rec) => { fresh.push(rec); } });
        // One replay for the lot (the state is read once they are all handed on).
        const folding = replay(st);
        for (const rec of fresh) folding.add(rec);
        st = folding.result();
        for (const rec of fresh) onRecord(rec);
        pos = r.end;
        after = { seq: r.seq, hash: r.hash };
      } catch {
        await resync(after.seq, onRecord);
      }
    },
    state: () => st,
    bytes: () => listSegments(stateDir).reduce((n, s) => {
      try { return n + statSync(segmentPath(stateDir, s)).size; } catch { return n; }
    }, 0),
  };
};
