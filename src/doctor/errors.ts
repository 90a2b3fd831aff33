import { VnetfwError } from '../errors.js';

// The doctor's own failures: what the kernel answered could not be read (exit 1, the command
// failed; bad user input is reported by the CLI and the config layer with exit 2).
export class DoctorError extends VnetfwError {
  constructor(code: string, message: string) {
    super(code, message, { exitCode: 1 });
    this.name = 'DoctorError';
  }
}
