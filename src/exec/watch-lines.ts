import { execa } from 'execa';
import { childEnv } from './execa-runner.js';

export interface LineWatch { stop(): void; done: Promise<number> }

// A long-running program whose output lines we react to (`nft monitor`). Like the runner: no
// shell, PATH lookup at run time; unlike it, output is streamed instead of collected.
// `onLines` gets the complete lines of each chunk read together: a burst of thousands of lines (a
// switch's `nft monitor` events) costs its reader one call per chunk, not one per line.
export const watchLines = (argv: readonly string[], onLines: (lines: readonly string[]) => void): LineWatch => {
  const [file, ...args] = argv;
  if (file === undefined) throw new TypeError('watchLines: argv must name a program');
  const controller = new AbortController();
  const child = execa(file, args, { reject: false, shell: false, stdin: 'ignore', stderr: 'ignore', cancelSignal: controller.signal, buffer: false, env: childEnv(), extendEnv: false });
  child.stdout?.setEncoding('utf8');
  let rest = '';
  child.stdout?.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    if (parts.length > 0) onLines(parts);
  });
  const done = child.then((r) => r.exitCode ?? -1, () => -1);
  return { stop: () => controller.abort(), done };
};
