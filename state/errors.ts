import { VnetfwError } from '../src/errors.js';

// Everything the state layer can refuse. Exit code 1 (the operation failed): a tampered log or a
// busy state directory is not the user's typo; exit 2 for a state directory that is not safe to
// use (the user's set-up must change).
export type StateErrorCode =
  | 'ETAMPER'   // a record in the middle of the log fails its hash chain
  | 'ELOCKED'   // another process holds the writer lock
  | 'EEVENT'    // an event handed to append() does not match its schema (a programming error)
  | 'EREADONLY' // append() on a store opened read-only
  | 'ECLOSED'   // the store was closed
  | 'EBROKEN'   // a write failed half-way and could not be undone; reopen to repair
  | 'EUNSAFE'   // the state directory (or something in it) is a symlink, not root's, or writable by others
  | 'EIO';

export class StateError extends VnetfwError {
  declare readonly code: StateErrorCode;
  readonly seq: number | undefined;

  constructor(code: StateErrorCode, message: string, options: { seq?: number; cause?: unknown; exitCode?: 1 | 2 } = {}) {
    super(code, message, { exitCode: options.exitCode ?? 1, cause: options.cause });
    this.name = 'StateError';
    this.seq = options.seq;
  }
}

export const isStateError = (e: unknown, code?: StateErrorCode): e is StateError =>
  e instanceof StateError && (code === undefined || e.code === code);
