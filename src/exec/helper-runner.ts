import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { childEnv, createExecaRunner, DEFAULT_TIMEOUT_MS } from './execa-runner.js';
import { HELPER_SCRIPT } from './helper-script.js';
import type { Runner, RunRequest, RunResult } from './types.js';

// A Runner for a long-lived process (the daemon): programs are started by a small Python helper
// with vfork() instead of by Node with fork() (helper-script.ts says why). Same contract as the
// execa runner: no shell, PATH lookup at run time, the child gets PATH and LC_ALL only, never
// rejects. When the helper cannot start (no python3) there is no helper: the caller uses the
// execa runner. When it ends while running (killed), the runs in flight are reported failed with
// an unknown outcome and every later run goes through the execa runner.
export interface ProgramHelper {
  runner: Runner;
  pid: number;
  // Ends the helper's input; resolves when the programs it runs have ended and it has exited.
  close(): Promise<void>;
}

export interface ProgramHelperOptions {
  python?: string;                 // default python3, on PATH
  env?: Record<string, string>;    // the children's whole environment (default: childEnv())
  timeoutMs?: number;              // default timeout for a run without its own
  readyTimeoutMs?: number;         // how long to wait for the helper's first answer (default 5 s)
  // The helper ended on its own, with `unsure` runs that may change something unanswered (all runs
  // in flight are then reported failed with an unknown outcome); later runs go direct.
  onLost?: (why: string, unsure: number) => void;
}

interface Answer {
  id: number; code: number; stdout: string; stderr: string;
  signal?: string; timedOut?: boolean; canceled?: boolean; failedToStart?: boolean;
}
interface Pending { req: RunRequest; started: number; resolve: (r: RunResult) => void }

const isAnswer = (x: unknown): x is Answer => typeof x === 'object' && x !== null
  && typeof (x as Answer).id === 'number' && typeof (x as Answer).code === 'number'
  && typeof (x as Answer).stdout === 'string' && typeof (x as Answer).stderr === 'string';

const resultOf = (req: RunRequest, a: Answer, durationMs: number): RunResult => {
  const r: RunResult = { argv: [...req.argv], exitCode: a.code, stdout: a.stdout, stderr: a.stderr, durationMs };
  if (req.stdin !== undefined) r.stdin = req.stdin;
  if (a.signal !== undefined) r.signal = a.signal;
  if (a.timedOut === true) r.timedOut = true;
  if (a.canceled === true) r.canceled = true;
  if (a.failedToStart === true) r.failedToStart = true;
  return r;
};

export const startProgramHelper = async (opts: ProgramHelperOptions = {}): Promise<ProgramHelper | undefined> => {
  const direct = createExecaRunner({ ...(opts.env === undefined ? {} : { env: opts.env }), ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }) });
  const defaultTimeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const child = spawn(opts.python ?? 'python3', ['-I', '-S', '-c', HELPER_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'], env: childEnv() });
  const out = child.stdout as Socket;
  const pending = new Map<number, Pending>();
  let nextId = 0;
  let lost = false;
  let closing = false;
  let said = '';
  let ready: ((ok: boolean) => void) | undefined;
  const exited = new Promise<void>((resolve) => { child.once('close', () => { resolve(); }); });
  // Only runs in flight keep the process alive, not an idle helper.
  const refWhileBusy = (): void => { if (pending.size > 0) out.ref(); else out.unref(); };

  const onAnswer = (line: string): void => {
    let x: unknown;
    try { x = JSON.parse(line); } catch { return; }
    if (ready !== undefined && typeof x === 'object' && x !== null && 'ready' in x) { ready(true); ready = undefined; return; }
    if (!isAnswer(x)) return;
    const p = pending.get(x.id);
    if (p === undefined) return;
    pending.delete(x.id);
    refWhileBusy();
    p.resolve(resultOf(p.req, x, Date.now() - p.started));
  };
  let rest = '';
  out.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) onAnswer(l);
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => { said = (said + c).slice(-2000); });
  child.stdin.on('error', () => { /* the helper went away: its 'close' reports it */ });
  child.once('error', () => { ready?.(false); });
  child.once('close', (code, signal) => {
    ready?.(false);
    lost = true;
    const why = `the program helper (python3, pid ${child.pid ?? '?'}) ended (${signal ?? `exit ${code ?? '?'}`})${said.trim() === '' ? '' : `: ${said.trim().split('\n').pop() ?? ''}`}`;
    // Told first: a caller that cannot live with an unknown outcome ends here (the daemon does).
    if (!closing) opts.onLost?.(why, [...pending.values()].filter((p) => p.req.readOnly !== true).length);
    for (const [id, p] of pending) {
      pending.delete(id);
      p.resolve({ ...resultOf(p.req, { id, code: -1, stdout: '', stderr: `vnetfw: ${why} while this program ran; its outcome is unknown\n` }, Date.now() - p.started) });
    }
  });

  const started = await new Promise<boolean>((resolve) => {
    ready = resolve;
    setTimeout(() => { resolve(false); }, opts.readyTimeoutMs ?? 5000).unref();
  });
  ready = undefined;
  if (!started) {
    closing = true;
    child.kill('SIGKILL');
    return undefined;
  }
  out.unref();
  (child.stdin as Socket).unref();
  (child.stderr as Socket).unref();
  child.unref();

  const runner: Runner = {
    run(req) {
      const [file] = req.argv;
      if (file === undefined || file === '') throw new TypeError('RunRequest.argv must name a program');
      if (lost || closing) return direct.run(req);
      const id = ++nextId;
      const env = { ...(opts.env ?? childEnv(process.env, file)), ...req.env };
      // What execa refuses too: no program can be given a NUL byte in an argument or a variable.
      const nul = [...req.argv, ...Object.values(env)].find((a) => a.includes('\0'));
      if (nul !== undefined) return Promise.reject(new TypeError(`Arguments cannot contain null bytes ("\\0"): ${nul}`));
      const msg = { id, argv: req.argv, env, timeoutMs: req.timeoutMs ?? defaultTimeout, ...(req.stdin === undefined ? {} : { stdin: req.stdin }) };
      return new Promise<RunResult>((resolve) => {
        const cancel = (): void => { if (pending.has(id)) child.stdin.write(`${JSON.stringify({ cancel: id })}\n`); };
        pending.set(id, { req, started: Date.now(), resolve: (r) => { req.signal?.removeEventListener('abort', cancel); resolve(r); } });
        refWhileBusy();
        child.stdin.write(`${JSON.stringify(msg)}\n`);
        if (req.signal?.aborted === true) cancel();
        else req.signal?.addEventListener('abort', cancel, { once: true });
      });
    },
  };
  return {
    runner,
    pid: child.pid ?? -1,
    close: async () => {
      closing = true;
      child.stdin.end();
      await exited;
    },
  };
};
