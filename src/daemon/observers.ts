// What watches the daemon from outside: its log lines (with syslog priorities when they go to the
// journal), its metrics (log-fed, rendered for the socket and the node_exporter textfile) and
// systemd's readiness protocol. The daemon only calls these; it knows nothing of Prometheus or
// systemd.
import { NAMED_OWNERS } from '../doctor/index.js';
import { doctorNetworks, type EngineEnv } from '../engine/index.js';
import { errorMessage } from '../errors.js';
import { createExecaRunner, type Runner } from '../exec/index.js';
import { createDaemonMetrics } from '../metrics/index.js';
import { createNotifier, createReadiness, formatLine, toJournal, type Level } from '../systemd/index.js';

export interface ObserverOptions {
  stateDir: string;
  version: string;
  textfileDir?: string;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env?: NodeJS.ProcessEnv;
  runner?: Runner;            // runs systemd-notify
}

export interface DaemonObservers {
  say(line: string): void;
  note(line: string): void;   // about the daemon itself (start, exit): stderr, info
  warn(line: string): void;
  error(line: string): void;
  // After each cycle: metrics (and the textfile), then READY=1 / WATCHDOG=1 / STATUS=.
  onCycle(outcome: { job: string; error?: string | undefined }): void;
  metrics(): Promise<string>;
  // Inside a cycle's engine: the doctor, at the first cycle and then every DOCTOR_EVERY_MS, for
  // the findings metric.
  inCycle(env: EngineEnv): Promise<void>;
  // The periodic check's interval: at most half of systemd's WatchdogSec=, so that a healthy
  // loop always pings in time.
  checkEveryMs(requested: number): number;
  journal: boolean;
}

// The doctor reads the whole host firewall: not at every drift check.
export const DOCTOR_EVERY_MS = 5 * 60_000;

export const createObservers = async (o: ObserverOptions): Promise<DaemonObservers> => {
  const env = o.env ?? process.env;
  const journal = toJournal(env);
  const write = (stream: NodeJS.WritableStream, level: Level) => (line: string): void => {
    stream.write(`${formatLine(level, line, journal)}\n`);
  };
  const say = write(o.stdout, 'info');
  const note = write(o.stderr, 'info');
  const warn = write(o.stderr, 'warning');
  const error = write(o.stderr, 'error');
  const metrics = await createDaemonMetrics({
    stateDir: o.stateDir, version: o.version, owners: NAMED_OWNERS, ...(o.textfileDir === undefined ? {} : { textfileDir: o.textfileDir }),
  });
  const notifier = createNotifier(env, o.runner ?? createExecaRunner(), warn);
  const readiness = createReadiness(notifier);
  let lastProblem = '';
  let doctorAt = Number.NEGATIVE_INFINITY;
  let doctorProblem = '';
  let chain: Promise<void> = Promise.resolve();
  return {
    say, note, warn, error, journal,
    onCycle(outcome) {
      chain = chain.then(async () => {
        try {
          await metrics.cycle(outcome);
          lastProblem = '';
        } catch (err) {
          // Said once per distinct problem (a textfile directory removed, a full disk).
          if (errorMessage(err) !== lastProblem) warn(`metrics: ${errorMessage(err)}`);
          lastProblem = errorMessage(err);
        }
        await readiness.cycle(outcome, metrics.networks());
      }).catch((err: unknown) => { warn(`after the cycle: ${errorMessage(err)}`); });   // never an unhandled rejection
    },
    metrics: () => metrics.render(),
    async inCycle(env) {
      if (Date.now() - doctorAt < DOCTOR_EVERY_MS) return;
      doctorAt = Date.now();
      try {
        const reports = await doctorNetworks(env, []);
        metrics.doctor(reports.flatMap((r) => r.findings));
        doctorProblem = '';
      } catch (err) {
        if (errorMessage(err) !== doctorProblem) warn(`doctor: ${errorMessage(err)}`);
        doctorProblem = errorMessage(err);
      }
    },
    checkEveryMs: (requested) => (notifier.watchdogMs === null ? requested : Math.min(requested, notifier.watchdogMs / 2)),
  };
};
