// Child processes of the demo. Everything is asynchronous and tracked, so a Ctrl-C handler can
// kill what still runs before the namespaces go: a netns outlives `ip netns del` while any
// process is still inside it, which would leave the host changed.
import { spawn, type ChildProcess } from 'node:child_process';

export interface ProcResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }

const live = new Set<ChildProcess>();

export const track = (child: ChildProcess): ChildProcess => {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
};

// Runs argv to completion (no shell); never rejects, a spawn failure is exit code 127.
export const run = (argv: readonly string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ProcResult> =>
  new Promise((resolve) => {
    const t0 = performance.now();
    const child = track(spawn(argv[0] ?? '', argv.slice(1), { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (e) => { stderr += e.message; });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal === null ? 127 : null), signal, stdout, stderr, ms: Math.round(performance.now() - t0) });
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(opts.input ?? '');
  });

// Starts a long-running child; the caller reads its streams and stops it.
export const start = (argv: readonly string[]): ChildProcess =>
  track(spawn(argv[0] ?? '', argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] }));

// Resolves once the child has exited (immediately if it already has).
export const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));

export const killAll = async (): Promise<void> => {
  const all = [...live];
  for (const c of all) c.kill('SIGKILL');
  await Promise.all(all.map(exited));
};

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
