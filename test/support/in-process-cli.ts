// The CLI's `main` run in the test's own process (no build, no root): its exit code and what it
// printed on stdout and stderr.
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.js';

export const runMain = async (argv: string[]): Promise<{ code: number; out: string; err: string }> => {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => { out += c.toString(); });
  stderr.on('data', (c: Buffer) => { err += c.toString(); });
  const code = await main(argv, { stdout, stderr });
  return { code, out, err };
};
