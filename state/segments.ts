// Segment files: <stateDir>/log/000001.jsonl, 000002.jsonl, ... Old segments are never rewritten
// (but by `log compact`, which replaces the head); only the last one grows (or, after a crash, loses
// its torn tail).
import { closeSync, constants, existsSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';

const SEGMENT_NAME = /^(\d{6,})\.jsonl$/;

export const logDir = (stateDir: string): string => join(stateDir, 'log');
export const segmentName = (n: number): string => `${String(n).padStart(6, '0')}.jsonl`;
export const segmentPath = (stateDir: string, n: number): string => join(logDir(stateDir), segmentName(n));

// Which file a segment is now (device:inode), undefined when it is gone: a compaction replaces a
// segment with a new file, and offsets into the old one mean nothing in it.
export const segmentFileId = (stateDir: string, n: number): string | undefined => {
  try {
    const s = statSync(segmentPath(stateDir, n));
    return `${s.dev}:${s.ino}`;
  } catch {
    return undefined;
  }
};

// Segment numbers in order; [] when there is no log yet.
export const listSegments = (stateDir: string): number[] => {
  const dir = logDir(stateDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => SEGMENT_NAME.exec(f)?.[1])
    .filter((m): m is string => m !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
};

// A compacted log's first line is a log.checkpoint record; in canonical form its first members are
// `from` then `lastHash`, which no other event type has.
const CHECKPOINT_HEAD = /^\{"from":\d+,"lastHash":"[0-9a-f]{64}","prev":/;

export const startsWithCheckpoint = (stateDir: string, n: number): boolean => {
  const fd = openSync(segmentPath(stateDir, n), constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buf = Buffer.alloc(128);
    const got = readSync(fd, buf, 0, buf.length, 0);
    return CHECKPOINT_HEAD.test(buf.toString('latin1', 0, got));
  } finally {
    closeSync(fd);
  }
};

// The segments that make up the log: all of them, or, after a compaction, those from the last one
// that starts with a checkpoint. Older ones are what a compaction interrupted before it removed
// them had left; they are no longer part of the log (the next writer removes them).
export const liveSegments = (stateDir: string): number[] => {
  const all = listSegments(stateDir);
  for (let i = all.length - 1; i > 0; i--) if (startsWithCheckpoint(stateDir, all[i]!)) return all.slice(i);
  return all;
};

// The seq of a segment's first record, read from its first line only (the per-segment index that
// lets records({fromSeq}) skip whole segments). undefined for an empty or unreadable segment.
export const firstSeqOf = (stateDir: string, n: number): number | undefined => {
  const fd = openSync(segmentPath(stateDir, n), constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buf = Buffer.alloc(4096);
    let text = '';
    for (let pos = 0; ;) {
      const got = readSync(fd, buf, 0, buf.length, pos);
      if (got === 0) return undefined;
      pos += got;
      text += buf.toString('latin1', 0, got);
      // seq is near the end of a line (keys are sorted), so read the whole first line.
      const nl = text.indexOf('\n');
      if (nl >= 0) {
        const line = text.slice(0, nl);
        const m = /"seq":(\d+),"time"/.exec(line);
        if (m?.[1] !== undefined && !CHECKPOINT_HEAD.test(line)) return Number(m[1]);
        // A checkpoint's seq is followed by its state, which holds seqs of its own.
        try { const seq = (JSON.parse(line) as { seq?: unknown }).seq; return typeof seq === 'number' ? seq : undefined; } catch { return undefined; }
      }
    }
  } finally {
    closeSync(fd);
  }
};

export interface Line { segment: number; offset: number; text: string; bytes: number }

// Complete lines ('\n'-terminated) of one segment from a byte offset, plus what follows the last
// newline (`rest`, a torn tail when non-empty). Reads in large chunks: open time is I/O bound.
// The reads are synchronous: a chunk comes from the page cache in well under a millisecond, and
// going through libuv's thread pool (started for it, one round trip per open, read and close)
// cost a short command such as `vnetfw list` more wall time than the reading itself.
export async function* readLines(
  stateDir: string, segment: number, from = 0, until = Infinity,
): AsyncGenerator<Line, { restOffset: number; rest: Buffer }> {
  const fd = openSync(segmentPath(stateDir, segment), constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    // No bigger than what is left to read: a warm open reads nothing after where it stopped, and a
    // fresh 1 MiB buffer (zeroed) cost each daemon cycle a few ms.
    const left = Math.min(until, fstatSync(fd).size) - from;
    if (left <= 0) return { restOffset: from, rest: Buffer.alloc(0) };
    const chunk = Buffer.allocUnsafe(Math.min(1 << 20, left));
    let carry: Buffer = Buffer.alloc(0);
    let pos = from;
    let lineStart = from;
    while (pos < until) {
      const want = Math.min(chunk.length, until - pos);
      const bytesRead = readSync(fd, chunk, 0, want, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      const buf = carry.length === 0 ? chunk.subarray(0, bytesRead) : Buffer.concat([carry, chunk.subarray(0, bytesRead)]);
      let start = 0;
      for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
        const bytes = nl + 1 - start;
        yield { segment, offset: lineStart, text: buf.toString('utf8', start, nl), bytes };
        lineStart += bytes;
        start = nl + 1;
      }
      carry = Buffer.from(buf.subarray(start));
    }
    return { restOffset: lineStart, rest: carry };
  } finally {
    closeSync(fd);
  }
}
