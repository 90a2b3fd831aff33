import { VnetfwError } from '../errors.js';

// Bad network definition: always exit 2, one line naming the file, the field and the value.
export class DefinitionError extends VnetfwError {
  constructor(code: string, message: string) {
    super(code, message, { exitCode: 2 });
    this.name = 'DefinitionError';
  }
}
