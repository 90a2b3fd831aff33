import { BehaviorSubject, delay, finalize, interval, lastValueFrom, merge, NEVER, Subject, tap } from 'rxjs';
import { ensureDir, logDir } from '../../state/index.js';
import type { EngineEnv } from '../engine/index.js';
import { startProgramHelper, type ProgramHelper, type Runner } from '../exec/index.js';
import { createCycleRunner, type CycleResult } from './cycle.js';
import { scheduleCycles, type CycleOutcome } from './schedule.js';
import { serveSocket, socketPath } from './socket.js';
import { aborted, fileChanges, dirChanges, ownRulesetEvents, signals } from './sources.js';

// The daemon's exit status when its program helper died under a running program: the operation
// failed (1, not 0, so systemd restarts it).
const HELPER_LOST_EXIT = 1;

export interface DaemonOptions {
  stateDir: string;
  configPath: string;
  say: (line: string) => void;       // what the daemon does (stdout)
  warn?: (line: string) => void;     // problems it goes on despite (stderr); default: say
  error?: (line: string) => void;    // what failed: an operation, a cycle (stderr); default: say
  metrics?: () => Promise<string>;   // answers the socket's `metrics` request
  inCycle?: (env: EngineEnv) => Promise<void>;   // more work inside each cycle's engine (the doctor)
  checkEveryMs?: number;             // periodic drift check, a fallback for changes `nft monitor` misses
  debounceMs?: number;
  useMonitor?: boolean;
  runner?: Runner;
  // Without a runner: programs are started by the program helper (exec/helper-runner.ts), or
  // directly with 'direct' or when it cannot start (no python3).
  programs?: 'helper' | 'direct';
  // Called with every cycle's outcome (metrics, readiness notifications hook in here).
  onCycle?: (outcome: CycleOutcome<CycleResult>) => void;
}

// What a socket `reconcile` gets back: the report of the cycle that served it, or why there is none.
export type ReconcileAnswer = (NonNullable<CycleResult['report']> & { configError?: string }) | { error: string };

const answerOf = (r: CycleResult): ReconcileAnswer => {
  if (r.report === undefined) return { error: r.error ?? 'the daemon could not reconcile' };
  return { ...r.report, ...(r.configError === undefined ? {} : { configError: r.configError }) };
};

// The daemon: reconcile at start, then react. It holds the state lock only while a cycle runs, so
// every other vnetfw command keeps working (it waits its turn for the lock). Triggers (schedule.ts
// decides what they cause): network.conf written, SIGHUP, a socket request, a record written by
// another vnetfw process -> reconcile (which includes the drift check); `nft monitor` events about
// our objects and the periodic timer -> drift check, repaired at once when found.
export const runDaemon = async (opts: DaemonOptions, stop: AbortSignal): Promise<void> => {
  const warn = opts.warn ?? opts.say;
  // The program helper gone: with nothing running but queries (which fail, and are asked again),
  // programs are started directly from then on. With a program running that changes the kernel,
  // its outcome is unknown (its intent is in the log, its end is not), which only recovery
  // settles: the daemon ends as a crash at that point would end it, and the reconcile of its
  // restart (systemd: Restart=on-failure) finishes or undoes the operation.
  const helperLost = (why: string, unsure: number): void => {
    if (unsure === 0) { warn(`${why}; programs are started directly from now on`); return; }
    (opts.error ?? opts.say)(`${why} while ${unsure} program(s) changing the kernel ran, whose outcome is unknown: exiting; the next start recovers the operation, as after a crash`);
    process.exit(HELPER_LOST_EXIT);
  };
  ensureDir(opts.stateDir);
  ensureDir(logDir(opts.stateDir));
  let helper: ProgramHelper | undefined;
  if (opts.runner === undefined) {
    helper = opts.programs === 'direct' ? undefined : await startProgramHelper({ onLost: helperLost });
    opts.say(helper === undefined ? 'programs are started directly' : `programs are started by a helper (python3, pid ${helper.pid})`);
  }
  const runner = opts.runner ?? helper?.runner;
  const requests = new Subject<(r: CycleResult) => void>();
  const recheck = new Subject<unknown>();
  let stopped = false;
  const server = await serveSocket(opts.stateDir, (req) => {
    if (req.cmd === 'ping') return Promise.resolve({ pid: process.pid });
    if (req.cmd === 'metrics') return opts.metrics?.() ?? Promise.reject(new Error('this daemon keeps no metrics'));
    if (stopped) return Promise.resolve({ error: 'daemon stopped' });
    return new Promise((resolve) => { requests.next((r) => resolve(answerOf(r))); });
  });
  const cycles = createCycleRunner({
    stateDir: opts.stateDir, configPath: opts.configPath, say: opts.say, warn, error: opts.error ?? opts.say,
    ...(runner === undefined ? {} : { runner }),
    ...(opts.inCycle === undefined ? {} : { inCycle: opts.inCycle }),
  });
  // True while a reconcile cycle runs: the monitor pauses (sources.ts says why).
  const reconciling = new BehaviorSubject<boolean>(false);
  const stop$ = aborted(stop).pipe(tap(() => { stopped = true; }));
  try {
    await lastValueFrom(scheduleCycles<CycleResult>({
      config$: fileChanges(opts.configPath, () => { warn(`not watching ${opts.configPath} (its directory is missing): SIGHUP reconciles`); })
        .pipe(tap(() => { opts.say('network.conf changed'); })),
      log$: dirChanges(logDir(opts.stateDir), () => { warn('not watching the log directory: SIGHUP reconciles'); }),
      // A neighbour not answering yet (firewalld restarting) is looked at again shortly.
      kernel$: merge(opts.useMonitor === false ? NEVER : ownRulesetEvents(reconciling), recheck.pipe(delay(700))),
      periodic$: interval(opts.checkEveryMs ?? 30_000),
      hup$: signals('SIGHUP').pipe(tap(() => { opts.say('SIGHUP: reconciling'); })),
      requests$: requests,
      stop$,
    }, {
      run: (job, triggers) => {
        if (job !== 'reconcile') return cycles.run(job, triggers);
        reconciling.next(true);
        return cycles.run(job, triggers).pipe(finalize(() => { reconciling.next(false); }));
      },
      logMoved: () => cycles.logMoved(),
      stopped: () => ({ job: 'reconcile', triggers: [], startedAt: new Date().toISOString(), durationMs: 0, drift: [], repaired: [], failed: [], error: 'daemon stopped' }),
    }, { debounceMs: opts.debounceMs ?? 300, kernelDebounceMs: 100 }).pipe(tap((o) => {
      // After the start-up reconcile: from now on the daemon reacts to triggers.
      if (o.triggers.includes('start')) opts.say(`ready: watching, serving ${socketPath(opts.stateDir)}`);
      if (o.result.recheck === true) recheck.next(true);
      opts.onCycle?.(o);
    })), { defaultValue: undefined });
  } finally {
    server.close();
    await helper?.close();
  }
};
