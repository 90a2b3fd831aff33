// The checkpoint record a compaction puts at the head of the log, and how a reader checks it. Pure:
// no files. The checkpoint stands for the dropped records `from`..`through`: its seq is `through`,
// `lastHash` is the hash of record `through` (the next record's `prev`: the chain continues from
// it), and `state` is the projection folded up to `through`. Its own `prev` is the genesis hash and
// its `hash` covers its content like any record's. What vouches for `state` is the record after it,
// which must be a `snapshot.written` whose digest is the state's: that record is in the chain.
import { RECORD_VERSION, type EventData } from './events.js';
import { GENESIS_HASH } from './hash.js';
import type { ProjectionState } from './projection.js';
import { type LogRecord, sealRecord } from './record.js';
import { stateDigest } from './snapshot.js';

export interface Checkpoint { from: number; through: number; lastHash: string; state: ProjectionState }

// The checkpoint a record holds, or why it is not a sound one.
export const readCheckpoint = (rec: LogRecord): Checkpoint | string => {
  const d = rec.data as EventData['log.checkpoint'];
  const state = d.state as unknown as ProjectionState;
  if (rec.seq !== d.through) return `checkpoint: seq ${rec.seq} is not its through ${d.through}`;
  if (d.from < 1 || d.from > d.through) return `checkpoint: from ${d.from} is not in 1..${d.through}`;
  if (rec.prev !== GENESIS_HASH) return 'checkpoint: prev is not the genesis hash';
  if (state.seq !== d.through || state.hash !== d.lastHash) return `checkpoint: its state is not the state at seq ${d.through} (seq ${String(state.seq)})`;
  if (typeof state.networks !== 'object' || state.networks === null || typeof state.sysctl !== 'object' || state.sysctl === null) {
    return 'checkpoint: state has no networks or sysctl';
  }
  return { from: d.from, through: d.through, lastHash: d.lastHash, state };
};

// Why `next`, the record after a checkpoint, does not vouch for its state; null when it does.
export const anchorProblem = (cp: Checkpoint, next: LogRecord): string | null => {
  if (next.type !== 'snapshot.written') return `the record after the checkpoint is a ${next.type}, not the snapshot.written that attests its state`;
  return (next.data as EventData['snapshot.written']).digest === stateDigest(cp.state) ? null
    : "the checkpoint's state is not the one the snapshot.written after it attests (the checkpoint was changed)";
};

// The line of a new checkpoint in front of the record `anchor` (a snapshot.written), given the
// state folded up to the record before it and the first seq that the log then no longer holds.
export const checkpointLine = (from: number, before: ProjectionState, anchor: LogRecord, time: string): string => {
  if (anchor.type !== 'snapshot.written' || anchor.seq !== before.seq + 1 || anchor.prev !== before.hash) {
    throw new Error(`checkpoint: seq ${anchor.seq} is not a snapshot.written right after the given state (seq ${before.seq})`);
  }
  return sealRecord({
    v: RECORD_VERSION, seq: before.seq, time, type: 'log.checkpoint',
    data: { from, through: before.seq, lastHash: before.hash, state: before as unknown as Record<string, unknown> },
    prev: GENESIS_HASH,
  }).line;
};
