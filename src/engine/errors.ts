import { VnetfwError } from '../errors.js';

// The engine's one error type; `code` says what went wrong (ENONET, EACTIVE, EINFLIGHT, ...).
export class EngineError extends VnetfwError {
  constructor(code: string, message: string, exitCode: 1 | 2 | 3 = 1, cause?: unknown) {
    super(code, message, { exitCode, cause });
    this.name = 'EngineError';
  }
}
