import { Observable } from 'rxjs';
import { defaultConfig, type NetConf } from '../config/index.js';
import { checkAndRepair, reconcile, warmUpComposition, withEngine, type Drift, type EngineEnv, type ReconcileReport } from '../engine/index.js';
import type { Runner } from '../exec/types.js';
import { createWarmHolder, logMovedSince, openStore } from '../../state/index.js';
import { createConfigKeeper, type ConfigKeeper } from './config-keeper.js';
import type { Job, TriggerKind } from './schedule.js';

// What one daemon cycle did: the unit the daemon reports (stdout, the socket, `onCycle` hooks
// such as metrics).
export interface CycleResult {
  job: Job;
  triggers: TriggerKind[];
  startedAt: string;
  durationMs: number;
  report?: ReconcileReport;     // a reconcile cycle (drift and its repair are part of it)
  drift: Drift[];               // drift found by this cycle
  repaired: string[];           // networks repaired
  failed: string[];             // networks an operation failed on
  configError?: string;         // network.conf is invalid; the cycle used the last good one
  error?: string;               // the cycle could not run (lock timeout, corrupt log, ...)
  recheck?: boolean;            // a neighbour could not be judged yet (firewalld restarting): look again soon
}

export interface CycleRunnerOptions {
  stateDir: string;
  configPath: string;
  say: (line: string) => void;
  warn: (line: string) => void;
  error?: (line: string) => void;    // default: say
  // More work inside the cycle's engine (the lock held, its records the daemon's own): the doctor.
  inCycle?: (env: EngineEnv) => Promise<void>;
  runner?: Runner;
  keeper?: ConfigKeeper;
}

export interface CycleRunner {
  // Emits the result once the cycle's records are durable, completes when the cycle is over.
  run(job: Job, triggers: readonly TriggerKind[]): Observable<CycleResult>;
  // Has a record been written since the end of our last cycle (by another vnetfw process)?
  logMoved(): Promise<boolean>;
}

const CYCLE_SNAPSHOT_AFTER = 200;

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

// The configuration recorded in the log (what the last reconcile applied), for a daemon that
// starts with an invalid network.conf and no good reading of its own yet.
const recordedConfig = async (stateDir: string, path: string): Promise<NetConf | null> => {
  const store = await openStore(stateDir, { readonly: true });
  try {
    const cfg = store.state().config;
    if (cfg === undefined) return null;
    const strategy = cfg.strategy === 'remove-first' ? 'remove-first' : 'make-before-break';
    return { ...defaultConfig(path), firewallBackend: cfg.backend, switchStrategy: strategy };
  } finally {
    await store.close();
  }
};

export const createCycleRunner = (opts: CycleRunnerOptions): CycleRunner => {
  const keeper = opts.keeper ?? createConfigKeeper(opts.configPath, opts.warn);
  let lastOwnSeq = 0;
  // Each cycle's store starts from the state the last one closed with: it folds only what other
  // processes wrote in between, instead of reading a snapshot file and the tail after it.
  const warm = createWarmHolder();
  const fail = opts.error ?? opts.say;
  let warmedUp = false;

  const work = async (env: EngineEnv, job: Job, out: CycleResult): Promise<void> => {
    if (job === 'reconcile') {
      const r = await reconcile(env);
      out.report = r;
      out.drift = r.drift;
      for (const n of r.recovered) opts.say(`${n}: recovered an interrupted operation`);
      for (const d of r.drift) opts.warn(`${d.network}: drift on ${d.backend}: ${d.missing.length} missing, ${d.foreign.length} foreign`);
      for (const a of r.actions) {
        (a.ok ? opts.say : fail)(`${a.network}: ${a.ok ? a.action : `FAILED: ${a.error ?? ''}`}`);
        if (!a.ok) out.failed.push(a.network);
        else if (a.action.startsWith('repaired')) out.repaired.push(a.network);
      }
      return;
    }
    const { drift, actions } = await checkAndRepair(env);
    out.drift = drift;
    for (const d of drift) opts.warn(`${d.network}: drift on ${d.backend}: ${d.missing.length} missing, ${d.foreign.length} foreign`);
    for (const a of actions) {
      (a.ok ? opts.say : fail)(`${a.network}: ${a.ok ? a.action : `FAILED: ${a.error ?? ''}`}`);
      (a.ok ? out.repaired : out.failed).push(a.network);
    }
  };

  const cycle = async (job: Job, triggers: readonly TriggerKind[], emit: (r: CycleResult) => void): Promise<void> => {
    const t0 = Date.now();
    const out: CycleResult = { job, triggers: [...triggers], startedAt: new Date(t0).toISOString(), durationMs: 0, drift: [], repaired: [], failed: [] };
    let answered = false;
    const done = (): void => { out.durationMs = Date.now() - t0; answered = true; emit(out); };
    try {
      const reading = await keeper.read();
      let config = reading.config;
      let using = 'its last good configuration';
      if (reading.error !== null && config === null) {
        config = await recordedConfig(opts.stateDir, opts.configPath);
        using = config === null ? 'no configuration: drift repair only' : 'the configuration recorded in the log';
      }
      if (reading.error !== null) {
        out.configError = reading.error;
        opts.warn(`${reading.error} (the daemon goes on with ${using})`);
      }
      if (reading.restored) opts.warn(`${opts.configPath} is valid again`);
      // With no configuration at all, only what needs none: drift repair of what is recorded.
      const effectiveJob: Job = config === null ? 'drift' : job;
      await withEngine({
        stateDir: opts.stateDir, configPath: opts.configPath, config: config ?? defaultConfig(opts.configPath),
        onUnsettled: () => { out.recheck = true; },
        // A snapshot at the end of a cycle (the store's close) once that many records are not
        // covered: a command run next (`status`, `list`) then folds at most that many. Not after
        // every cycle: the daemon itself starts from memory, and an idle drift check's few records
        // are not worth writing (and digesting) the whole state.
        store: { warm, closeSnapshotAfter: CYCLE_SNAPSHOT_AFTER },
        ...(opts.runner === undefined ? {} : { runner: opts.runner }),
      }, async (env) => {
        if (reading.error !== null && reading.firstSeen) {
          env.journal.note({ type: 'config.invalid', data: { path: opts.configPath, error: reading.error, using } });
        }
        if (reading.restored) env.journal.note({ type: 'config.restored', data: { path: opts.configPath } });
        await work(env, effectiveJob, out);
        if (effectiveJob !== job) out.error = `not reconciled: ${reading.error ?? ''}`;
        await env.journal.flush();
        // Everything is on disk: whoever waits for this cycle gets its answer now.
        done();
        // After the answer, nobody waits for it: the doctor for the metrics; once, the composition
        // of every backend (so that a first switch does not run that code cold).
        if (opts.inCycle !== undefined) { await opts.inCycle(env); await env.journal.flush(); }
        if (!warmedUp && job === 'reconcile') { warmedUp = true; warmUpComposition(env); }
        lastOwnSeq = env.journal.store.state().seq;
      });
    } catch (err) {
      // Before the answer: the cycle failed. After it: only its housekeeping did (the doctor).
      if (!answered) {
        out.error = message(err);
        fail(`${job} failed: ${out.error}`);
        done();
      } else {
        opts.warn(`${job}: after the cycle: ${message(err)}`);
      }
    }
  };

  return {
    run: (job, triggers) => new Observable<CycleResult>((sub) => {
      void cycle(job, triggers, (r) => sub.next(r)).then(() => sub.complete());
    }),
    async logMoved() {
      if (warm.current !== undefined) return logMovedSince(opts.stateDir, warm.current);
      const store = await openStore(opts.stateDir, { readonly: true });
      try {
        return store.state().seq > lastOwnSeq;
      } finally {
        await store.close();
      }
    },
  };
};
