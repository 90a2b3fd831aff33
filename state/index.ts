// The state layer's public surface: everything outside state/ imports from here.
export { StateError, isStateError, type StateErrorCode } from './errors.js';
export {
  EVENT_TYPES, OPERATION_KINDS, COMMAND_PURPOSES, OUTPUT_LIMIT_BYTES, RECORD_VERSION,
  checkEvent, digestOutput, event, isEventType, normalizeEvent,
  type EventType, type EventData, type NewEvent, type OperationKind, type CommandPurpose,
} from './events.js';
export { canonicalJson, sha256Hex, GENESIS_HASH } from './hash.js';
export { sealRecord, decodeLine, flatRecord, type LogRecord } from './record.js';
export {
  emptyState, fold, foldAll, replay,
  type ProjectionState, type Replay, type NetworkStatus, type InFlight, type StepStatus,
} from './projection.js';
export {
  openStore, DEFAULT_SEGMENT_BYTES, DEFAULT_SNAPSHOT_EVERY,
  type Store, type OpenOptions, type CompactResult,
} from './log-store.js';
export { type CompactTarget, type CompactStep } from './compact.js';
export { type Checkpoint } from './checkpoint.js';
export { quarantineDir } from './layout.js';
export { checkStateDir } from './secure-dir.js';
export { withStore, type WithStoreOptions } from './with-store.js';
export { scanLog, TamperError, type TornTail, type Position } from './replay.js';
export { verifyLog, type VerifyResult } from './verify.js';
export { listSegments, liveSegments, segmentFileId, segmentPath, logDir, readLines, type Line } from './segments.js';
export { listSnapshots, snapshotDir } from './snapshot.js';
export { lockPath } from './lock.js';
export { writeFileAtomic, writeFileAtomicSync, fsyncDir, ensureDir, FILE_MODE, DIR_MODE } from './atomic-file.js';
export type { FileIo } from './file-io.js';
export { createWarmHolder, logMovedSince, type WarmHolder, type WarmStart } from './warm.js';
