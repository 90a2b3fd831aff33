import { main } from '../../../src/cli/main.js';

// The CLI in-process, with both streams captured.
export const cli = async (args: string[]): Promise<{ code: number; out: string; err: string }> => {
  let out = '';
  let err = '';
  const w = (f: (s: string) => void): NodeJS.WritableStream => ({ write: (s: string) => { f(s); return true; } }) as unknown as NodeJS.WritableStream;
  const code = await main(args, { stdout: w((s) => { out += s; }), stderr: w((s) => { err += s; }) });
  return { code, out, err };
};
