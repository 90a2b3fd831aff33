import { VnetfwError } from '../errors.js';

// The host layer's errors (bridges, sysctls): a code and a one-line message.
export class HostError extends VnetfwError {
  constructor(code: string, message: string, cause?: unknown) {
    super(code, message, { exitCode: 1, cause });
    this.name = 'HostError';
  }
}
