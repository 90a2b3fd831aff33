// The daemon's metrics: fed by the event log (everything any vnetfw process recorded since the
// daemon started) and by the daemon's cycle outcomes (when it last checked successfully).
// Rendered for the socket (`vnetfw metrics`) and, after every cycle, into node_exporter's textfile
// directory when one is given.
import { applyRecord, emptyMemory } from './fold.js';
import { openLogTail } from './log-tail.js';
import { createFamilies, type MetricFamilies } from './registry.js';
import { findingKeys, preCreate, UNKNOWN_OWNER } from './series.js';
import { checkTextfileDir, writeTextfile } from './textfile.js';

// What the metrics need of a daemon cycle.
export interface CycleSummary { job: string; error?: string | undefined }
// What they need of a doctor finding.
export interface FindingSummary { network: string; owner: string | null; verdict: string }

export interface DaemonMetricsOptions {
  stateDir: string;
  version: string;
  textfileDir?: string;       // node_exporter's textfile directory: rewritten after every cycle
  owners?: readonly string[]; // the owners the doctor names: each active network has their finding series
  now?: () => number;         // ms
}

export interface DaemonMetrics {
  cycle(c: CycleSummary): Promise<void>;
  render(): Promise<string>;
  // The networks as of the last look at the log (for systemd's STATUS=).
  networks(): { total: number; byState: Record<string, number> };
  doctor(findings: readonly FindingSummary[]): void;
}

// The doctor's series of an active network, at 0 until a run finds something (its last run's time
// says whether it has run); series already shown keep their value.
const zeroFindings = (m: MetricFamilies, seen: Set<string>, keys: readonly string[]): void => {
  for (const k of keys) {
    if (seen.has(k)) continue;
    seen.add(k);
    const [network = '', owner = '', verdict = ''] = JSON.parse(k) as string[];
    m.doctorFindings.set({ network, owner, verdict }, 0);
  }
};

export const createDaemonMetrics = async (opts: DaemonMetricsOptions): Promise<DaemonMetrics> => {
  const textfile = opts.textfileDir === undefined ? undefined : checkTextfileDir(opts.textfileDir);
  const now = opts.now ?? Date.now;
  let lastOk: number | null = null;
  const m = createFamilies(() => (lastOk === null ? null : (now() - lastOk) / 1000));
  m.startTime.set(Math.floor(now() / 1000));
  m.buildInfo.set({ version: opts.version }, 1);
  preCreate(m);
  const mem = emptyMemory();
  const tail = await openLogTail(opts.stateDir);
  const seen = new Set<string>();   // state|backend pairs once shown: they go to 0, not away
  const seenFindings = new Set<string>();
  m.doctorLastRun.set(0);

  const refresh = async (): Promise<void> => {
    await tail.read((r) => { applyRecord(m, mem, r); });
    const st = tail.state();
    const counts = new Map<string, number>([...seen].map((k) => [k, 0]));
    for (const n of Object.values(st.networks)) {
      // Every network has its drift series from the start: increase() needs a first sample.
      m.driftFound.inc({ network: n.name }, 0);
      m.driftRepaired.inc({ network: n.name }, 0);
      if (n.state === 'active') zeroFindings(m, seenFindings, findingKeys(n.name, opts.owners ?? []));
      const k = `${n.state}\u0000${n.backend ?? 'none'}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    for (const [k, v] of counts) {
      seen.add(k);
      const [state = '', backend = ''] = k.split('\u0000');
      m.networks.set({ state, backend }, v);
    }
    m.logLastSeq.set(st.seq);
    m.logBytes.set(tail.bytes());
  };

  // One look at the log at a time: a socket request may arrive while a cycle's update runs.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(f: () => Promise<T>): Promise<T> => {
    const p = chain.then(f, f);
    chain = p.catch(() => undefined);
    return p;
  };

  await refresh();
  return {
    cycle: (c) => serial(async () => {
      const ok = c.error === undefined;
      m.cycles.inc({ job: c.job, result: ok ? 'ok' : 'error' });
      if (ok) {
        lastOk = now();
        m.lastCheckSuccess.set(lastOk / 1000);
      }
      await refresh();
      if (textfile !== undefined) writeTextfile(textfile, await m.registry.metrics());
    }),
    render: () => serial(async () => {
      await refresh();
      return m.registry.metrics();
    }),
    doctor: (findings) => {
      const counts = new Map<string, number>([...seenFindings].map((k) => [k, 0]));
      for (const f of findings) {
        const k = JSON.stringify([f.network, f.owner ?? UNKNOWN_OWNER, f.verdict]);
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      for (const [k, v] of counts) {
        seenFindings.add(k);
        const [network = '', owner = '', verdict = ''] = JSON.parse(k) as string[];
        m.doctorFindings.set({ network, owner, verdict }, v);
      }
      m.doctorLastRun.set(now() / 1000);
    },
    networks: () => {
      const all = Object.values(tail.state().networks);
      const byState: Record<string, number> = {};
      for (const n of all) byState[n.state] = (byState[n.state] ?? 0) + 1;
      return { total: all.length, byState };
    },
  };
};
