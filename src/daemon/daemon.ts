import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { findDrift, reconcile, repairDrift, runNetworkOp, withEngine, type EngineEnv } from '../engine/index.js';
import { watchLines, type LineWatch } from '../exec/index.js';
import { ensureDir, logDir, openStore } from '../../state/index.js';
import { serveSocket } from './socket.js';

export interface DaemonOptions {
  stateDir: string;
  configPath: string;
  say: (line: string) => void;
  checkEveryMs?: number;      // periodic drift check, a fallback for changes `nft monitor` misses
  debounceMs?: number;
  useMonitor?: boolean;
}

type Job = 'reconcile' | 'drift';

// The daemon: reconcile at start, then react. It holds the state lock only while it works, so
// every other vnetfw command keeps working (it waits its turn for the lock). Triggers:
// - SIGHUP, a change of network.conf, a new record written by another vnetfw process: reconcile;
// - `nft monitor` output (any change to the ruleset; iptables-nft changes included) and a periodic
//   timer: a drift check of our own objects, repaired at once when found.
export const runDaemon = async (opts: DaemonOptions, stop: AbortSignal): Promise<void> => {
  const debounceMs = opts.debounceMs ?? 300;
  let lastOwnSeq = 0;
  let quietUntil = 0;
  let queue: Job | null = 'reconcile';
  let running: Promise<void> | null = null;
  let wake: (() => void) | null = null;

  let lastReport: unknown = null;
  const cycle = async (job: Job, served: Array<(r: unknown) => void>): Promise<void> => {
    await withEngine({ stateDir: opts.stateDir, configPath: opts.configPath }, async (env: EngineEnv) => {
      if (job === 'reconcile') {
        const r = await reconcile(env);
        lastReport = r;
        // Callers waiting on the socket get their answer now; the drift check is the daemon's own.
        await env.journal.flush();
        for (const w of served.splice(0)) w(r);
        for (const n of r.recovered) opts.say(`${n}: recovered an interrupted operation`);
        for (const a of r.actions) opts.say(`${a.network}: ${a.ok ? a.action : `FAILED: ${a.error ?? ''}`}`);
      }
      const drift = await findDrift(env);
      if (drift.length > 0) {
        for (const d of drift) opts.say(`${d.network}: drift on ${d.backend}: ${d.missing.length} missing, ${d.foreign.length} foreign`);
        const repaired = await repairDrift(env, drift, (name) => runNetworkOp(env, name, { type: 'REPAIR' }));
        opts.say(`repaired: ${repaired.join(', ')}`);
      }
      // A snapshot at the end of every cycle that wrote something: the next cycle's open then
      // reads one file instead of folding (and hash-checking) this cycle's records again.
      if (env.journal.store.state().seq > lastOwnSeq) await env.journal.store.snapshot();
      lastOwnSeq = env.journal.store.state().seq;
    });
  };

  // Socket callers wait for the next reconcile cycle that starts after their request.
  let waiters: Array<(r: unknown) => void> = [];
  const request = (job: Job): void => {
    if (queue !== 'reconcile') queue = job;   // a reconcile includes a drift check
    wake?.();
  };
  let timer: NodeJS.Timeout | null = null;
  const debounced = (job: Job): void => {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => { timer = null; request(job); }, debounceMs);
  };

  const watchers: FSWatcher[] = [];
  const cfgName = basename(opts.configPath);
  try {
    watchers.push(watch(dirname(opts.configPath), (_e, f) => { if (f === cfgName) { opts.say('network.conf changed'); debounced('reconcile'); } }));
  } catch { opts.say(`not watching ${dirname(opts.configPath)} (missing): SIGHUP reconciles`); }
  const onLogChange = (): void => {
    void (async () => {
      try {
        const store = await openStore(opts.stateDir, { readonly: true });
        const seq = store.state().seq;
        await store.close();
        if (seq > lastOwnSeq && running === null) debounced('reconcile');
      } catch { /* the writer may be mid-rotation; the next event will tell */ }
    })();
  };
  try { watchers.push(watch(logDir(opts.stateDir), onLogChange)); } catch { /* created by the first cycle */ }

  let monitor: LineWatch | null = null;
  if (opts.useMonitor !== false) {
    // Our own changes echo through the monitor too: ignore what arrives while we work and just after.
    monitor = watchLines(['nft', 'monitor', 'rules'], () => { if (running === null && Date.now() > quietUntil) debounced('drift'); });
  }
  await ensureDir(opts.stateDir);
  const server = await serveSocket(opts.stateDir, (req) => {
    if (req.cmd === 'ping') return Promise.resolve({ pid: process.pid });
    return new Promise((resolve) => { waiters.push(resolve); request('reconcile'); });
  });
  const periodic = setInterval(() => request('drift'), opts.checkEveryMs ?? 30_000);
  const onHup = (): void => { opts.say('SIGHUP: reconciling'); request('reconcile'); };
  process.on('SIGHUP', onHup);
  stop.addEventListener('abort', () => wake?.());

  try {
    while (!stop.aborted) {
      if (queue === null) {
        await new Promise<void>((r) => { wake = r; });
        wake = null;
        continue;
      }
      const job = queue;
      queue = null;
      const served = job === 'reconcile' ? waiters : [];
      if (job === 'reconcile') waiters = [];
      running = cycle(job, served).catch((err: unknown) => {
        lastReport = { error: err instanceof Error ? err.message : String(err) };
        opts.say(`${job} failed: ${err instanceof Error ? err.message : String(err)}`);
      });
      await running;
      running = null;
      quietUntil = Date.now() + 250;
      for (const w of served) w(lastReport);
    }
  } finally {
    clearInterval(periodic);
    if (timer !== null) clearTimeout(timer);
    process.off('SIGHUP', onHup);
    for (const w of watchers) w.close();
    monitor?.stop();
    server.close();
    for (const w of waiters) w({ error: 'daemon stopped' });
  }
};
