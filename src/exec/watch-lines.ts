import { execa } from 'execa';
import { childEnv } from './execa-runner.js';

export interface LineWatch { stop(): void; done: Promise<number> }

// A long-running program whose output lines we react to (`nft monitor`). Like the runner: no
// shell, PATH lookup at run time; unlike it, output is streamed instead of collected.
export const watchLines = (argv: readonly string[], onLine: (line: string) => void): LineWatch => {
  const [file, ...args] = argv;
  if (file === undefined) throw new TypeError('watchLines: argv must name a program');
  const controller = new AbortController();
  const child = execa(file, args, { reject: false, shell: false, stdin: 'ignore', stderr: 'ignore', cancelSignal: controller.signal, buffer: false, env: childEnv(), extendEnv: false });
  child.stdout?.setEncoding('utf8');
  let rest = '';
  child.stdout?.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const p of parts) onLine(p);
  });
  const done = child.then((r) => r.exitCode ?? -1, () => -1);
  return { stop: () => controller.abort(), done };
};
