// Running programs from tests without blocking the event loop (independent cases run side by side
// with it.concurrent): to completion (run), or in the background (bg). No shell; a spawn failure
// is reported in stderr, never thrown.
import { spawn, spawnSync } from 'node:child_process';

export interface Res { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }
export interface RunOptions { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }

// Absolute path of a program on this process's PATH, or undefined.
export const which = (p: string): string | undefined => {
  const r = spawnSync('sh', ['-c', `command -v ${p}`], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : undefined;
};

// Absolute path of `ip`: a child's PATH may put wrappers first, and node looks the program up on
// the child's PATH.
export const IP = which('ip') ?? '/sbin/ip';

export const run = async (argv: readonly string[], o: RunOptions = {}): Promise<Res> => {
  const p = bg(argv, { input: o.input ?? '', ...(o.env === undefined ? {} : { env: o.env }) });
  const timer = setTimeout(() => p.kill('SIGKILL'), o.timeoutMs ?? 60_000);
  try { return await p.done; } finally { clearTimeout(timer); }
};

// The result of a command that must succeed; otherwise an error naming `what`.
export const must = async (p: Promise<Res>, what: string): Promise<Res> => {
  const r = await p;
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code ?? r.signal}: ${r.stderr.trim()}`);
  return r;
};

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// --- a process left running in the background (servers, pingers, senders, daemons) ---
// out() and err(): what it printed so far (for a test that waits on a line of a running daemon).
export interface Bg { pid: number | undefined; running: () => boolean; done: Promise<Res>; kill: (sig?: NodeJS.Signals) => void; out: () => string; err: () => string }
// `input`: written to its stdin, then closed (stdin is /dev/null without it).
export const bg = (argv: readonly string[], o: { env?: NodeJS.ProcessEnv; input?: string } = {}): Bg => {
  const t0 = performance.now();
  const child = spawn(argv[0] ?? '', argv.slice(1), { env: o.env ?? process.env, stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let exited = false;
  child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  child.on('error', (e) => { stderr += e.message; });
  const done = new Promise<Res>((resolve) => {
    child.on('close', (code, signal) => { exited = true; resolve({ code, signal, stdout, stderr, ms: performance.now() - t0 }); });
  });
  if (o.input !== undefined && child.stdin !== null) {
    child.stdin.on('error', () => undefined);
    child.stdin.end(o.input);
  }
  return { pid: child.pid, running: () => !exited, done, kill: (sig = 'SIGTERM') => { if (!exited) child.kill(sig); }, out: () => stdout, err: () => stderr };
};

// --- a small limiter for running independent cases side by side ---
export const limiter = (n: number): (<T>(f: () => Promise<T>) => Promise<T>) => {
  let active = 0;
  const queue: Array<() => void> = [];
  return async <T>(f: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((r) => queue.push(r));
    active++;
    try {
      return await f();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
};
