// `log verify`: the full audit. Every record from seq 1 (hash chain, strict canonical form), and
// every snapshot against the log: a snapshot whose state is not what folding the log up to its seq
// gives is reported (a snapshot is a cache of the log, never a source of truth), as is a
// snapshot.written record whose digest is not the folded state's. A compacted log is checked from
// its checkpoint (its state attested by the snapshot.written after it); snapshots of seqs the
// compaction dropped are not part of the log any more and are left out. Never repairs anything.
import { canonicalJson } from './hash.js';
import { emptyState, replay, type ProjectionState } from './projection.js';
import { scanLog, TamperError, type TornTail } from './replay.js';
import { listSnapshots, readSnapshot, snapshotFile, stateDigest } from './snapshot.js';

export type VerifyResult =
  | { ok: true; records: number; seq: number; hash: string; snapshots: number; torn?: TornTail; checkpoint?: { from: number; through: number; lastHash: string } }
  | { ok: false; seq: number; reason: string; snapshot?: string };

// The first path at which two JSON values differ, e.g. "networks.default.removal".
const firstDifference = (a: unknown, b: unknown, path: string): string | undefined => {
  if (canonicalJson(a) === canonicalJson(b)) return undefined;
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    for (const k of [...new Set([...Object.keys(ra), ...Object.keys(rb)])].sort()) {
      const d = firstDifference(ra[k], rb[k], path === '' ? k : `${path}.${k}`);
      if (d !== undefined) return d;
    }
  }
  return path === '' ? '(the whole state)' : path;
};

export const verifyLog = async (stateDir: string): Promise<VerifyResult> => {
  const pending = new Set(listSnapshots(stateDir));
  let folding = replay(emptyState());
  let bad: { seq: number; reason: string; snapshot?: string } | undefined;
  const checkSnapshot = (seq: number, folded: ProjectionState): void => {
    const file = snapshotFile(stateDir, seq);
    const snap = readSnapshot(stateDir, seq);
    if (snap === undefined) {
      bad ??= { seq, snapshot: file, reason: `snapshot ${file} is damaged (unreadable, or its checksum does not match its content)` };
      return;
    }
    const diff = firstDifference(snap.state, folded, '');
    if (diff !== undefined || snap.hash !== folded.hash) {
      bad ??= { seq, snapshot: file, reason: `snapshot ${file} does not match the log at seq ${seq} (${diff ?? 'hash'} differs): the log is what counts; remove the file` };
    }
  };
  try {
    const r = await scanLog(stateDir, {
      strict: true,
      onCheckpoint: (cp) => {
        folding = replay(cp.state);
        for (const seq of pending) if (seq <= cp.through) pending.delete(seq);
      },
      onRecord: (rec) => {
        folding.add(rec);
        if (rec.type === 'snapshot.written' && (rec.data as { digest: string }).digest !== stateDigest(folding.result())) {
          bad ??= { seq: rec.seq, reason: 'snapshot.written digest is not the digest of the state the log folds to at this record' };
        }
        if (pending.delete(rec.seq)) checkSnapshot(rec.seq, folding.result());
      },
    });
    for (const seq of pending) {
      bad ??= { seq, snapshot: snapshotFile(stateDir, seq), reason: `snapshot ${snapshotFile(stateDir, seq)} is for seq ${seq}, past the end of the log (seq ${r.seq})` };
    }
    if (bad !== undefined) return { ok: false, ...bad };
    const cp = r.checkpoint;
    const snapshots = listSnapshots(stateDir).filter((seq) => cp === undefined || seq > cp.through).length;
    return {
      ok: true, records: r.count, seq: r.seq, hash: r.hash, snapshots,
      ...(r.torn === undefined ? {} : { torn: r.torn }),
      ...(cp === undefined ? {} : { checkpoint: { from: cp.from, through: cp.through, lastHash: cp.lastHash } }),
    };
  } catch (err) {
    if (err instanceof TamperError) return { ok: false, seq: err.seq ?? 0, reason: err.reason };
    throw err;
  }
};
