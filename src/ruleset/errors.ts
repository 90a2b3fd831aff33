import { VnetfwError } from '../errors.js';

// A ruleset that cannot be read: what the kernel's tools printed is not what they print (exit 1:
// not bad user input).
export class RulesetError extends VnetfwError {
  constructor(code: string, message: string) {
    super(code, message, { exitCode: 1 });
    this.name = 'RulesetError';
  }
}
