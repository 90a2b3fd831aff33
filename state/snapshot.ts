// Snapshots: the folded state as of one record, so that open reads only the log's tail.
// <stateDir>/snapshots/<seq>.json holds the state, the (seq, hash) of the record it covers, and
// where that record's line starts (segment + byte offset) — the index that lets open seek straight
// to the tail. A snapshot is only trusted if that line is still there with that seq and hash, and
// is a `snapshot.written` record whose digest the snapshot's state matches: the log, not the
// snapshot file, says what the state was. (The file's own checksum only catches a damaged file.)
import { existsSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDir, writeFileAtomicSync } from './atomic-file.js';
import { canonicalJson, isHash, sha256Hex } from './hash.js';
import type { ProjectionState } from './projection.js';
import { decodeLine } from './record.js';
import type { Position } from './replay.js';
import { readLines } from './segments.js';
import { readFileNoFollow } from './secure-dir.js';

export const SNAPSHOT_VERSION = 1;
export const KEEP_SNAPSHOTS = 2;

export interface Snapshot {
  v: number;
  seq: number;
  hash: string;
  at: Position;         // start of the line of record `seq`
  state: ProjectionState;
  check: string;        // sha256 of the canonical JSON of the other members: catches a damaged file
}

export const snapshotDir = (stateDir: string): string => join(stateDir, 'snapshots');
export const snapshotFile = (stateDir: string, seq: number): string => join(snapshotDir(stateDir), `${seq}.json`);

const checksum = (s: Omit<Snapshot, 'check'>): string => sha256Hex(canonicalJson(s));

// What a snapshot.written record attests: the state's content, seq and hash left out (the record
// carrying the digest is itself the state's seq).
export const stateDigest = (state: ProjectionState): string => sha256Hex(canonicalJson({ ...state, seq: 0, hash: '' }));

export const listSnapshots = (stateDir: string): number[] => {
  const dir = snapshotDir(stateDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => /^(\d+)\.json$/.exec(f)?.[1])
    .filter((m): m is string => m !== undefined)
    .map(Number)
    .sort((a, b) => b - a);
};

export const writeSnapshot = (stateDir: string, state: ProjectionState, at: Position): void => {
  const dir = snapshotDir(stateDir);
  ensureDir(dir);
  const body: Omit<Snapshot, 'check'> = { v: SNAPSHOT_VERSION, seq: state.seq, hash: state.hash, at, state };
  writeFileAtomicSync(join(dir, `${state.seq}.json`), JSON.stringify({ ...body, check: checksum(body) }));
  for (const old of listSnapshots(stateDir).slice(KEEP_SNAPSHOTS)) {
    try { unlinkSync(join(dir, `${old}.json`)); } catch { /* another cleanup got it */ }
  }
};

export const readSnapshot = (stateDir: string, seq: number): Snapshot | undefined => {
  try {
    const s = JSON.parse(readFileNoFollow(snapshotFile(stateDir, seq))) as Snapshot;
    const { check, ...body } = s;
    if (s.v !== SNAPSHOT_VERSION || s.seq !== seq || !isHash(s.hash) || s.state?.seq !== seq || s.state.hash !== s.hash) return undefined;
    if (!Number.isSafeInteger(s.at?.segment) || !Number.isSafeInteger(s.at?.offset)) return undefined;
    return check === checksum(body) ? s : undefined;
  } catch {
    return undefined;
  }
};

// Does the log still hold record (seq, hash) at `at`? Returns the byte length of that line.
const lineAt = async (stateDir: string, s: Snapshot): Promise<number | undefined> => {
  try {
    const lines = readLines(stateDir, s.at.segment, s.at.offset);
    const first = await lines.next();
    await lines.return({ restOffset: 0, rest: Buffer.alloc(0) });
    if (first.done === true) return undefined;
    const d = decodeLine(first.value.text);
    if (!d.ok || d.record.seq !== s.seq || d.record.hash !== s.hash || d.record.type !== 'snapshot.written') return undefined;
    return (d.record.data as { digest?: unknown }).digest === stateDigest(s.state) ? first.value.bytes : undefined;
  } catch {
    return undefined;
  }
};

// The newest snapshot that matches the log, with the position just past its record.
export const loadSnapshot = async (stateDir: string): Promise<{ snapshot: Snapshot; tail: Position } | undefined> => {
  for (const seq of listSnapshots(stateDir)) {
    const s = readSnapshot(stateDir, seq);
    if (s === undefined) continue;
    const bytes = await lineAt(stateDir, s);
    if (bytes !== undefined) return { snapshot: s, tail: { segment: s.at.segment, offset: s.at.offset + bytes } };
  }
  return undefined;
};
