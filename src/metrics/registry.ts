// The metric families the daemon exports, in Prometheus' text format (prom-client). One registry
// per daemon, never prom-client's global one: tests and the daemon each get their own.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface MetricFamilies {
  registry: Registry;
  networks: Gauge<'state' | 'backend'>;
  operations: Counter<'kind' | 'outcome'>;
  operationSeconds: Histogram<'kind' | 'outcome'>;
  programRuns: Counter<'program' | 'purpose'>;
  programFailures: Counter<'program' | 'purpose'>;
  driftFound: Counter<'network'>;
  driftRepaired: Counter<'network'>;
  logRecords: Counter<'type'>;
  logLastSeq: Gauge;
  logBytes: Gauge;
  cycles: Counter<'job' | 'result'>;
  lastCheckSuccess: Gauge;
  secondsSinceCheck: Gauge;
  startTime: Gauge;
  buildInfo: Gauge<'version'>;
  doctorFindings: Gauge<'network' | 'owner' | 'verdict'>;
  doctorLastRun: Gauge;
}

// Operations take from milliseconds (one network, nftables) to a minute (a hundred networks
// switched, or a lock wait).
const OPERATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export const createFamilies = (secondsSinceCheck: () => number | null): MetricFamilies => {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    networks: new Gauge({ name: 'vnetfw_networks', help: 'Defined networks by state and by the backend their rules are on (none: no rules).', labelNames: ['state', 'backend'], registers }),
    operations: new Counter({ name: 'vnetfw_operations_total', help: 'Operations on a network that ended, by kind and outcome, since the daemon started.', labelNames: ['kind', 'outcome'], registers }),
    operationSeconds: new Histogram({
      name: 'vnetfw_operation_duration_seconds', help: 'Duration of operations that ended, from operation.started to their outcome record.',
      labelNames: ['kind', 'outcome'], buckets: OPERATION_BUCKETS, registers,
    }),
    programRuns: new Counter({ name: 'vnetfw_program_runs_total', help: 'Programs run (command.finished records), by program and purpose, since the daemon started.', labelNames: ['program', 'purpose'], registers }),
    programFailures: new Counter({
      name: 'vnetfw_program_failures_total', help: 'Program runs that exited non-zero, were killed or timed out (queries may fail by design).',
      labelNames: ['program', 'purpose'], registers,
    }),
    driftFound: new Counter({ name: 'vnetfw_drift_found_total', help: 'Drift found (drift.found records) per network, since the daemon started.', labelNames: ['network'], registers }),
    driftRepaired: new Counter({ name: 'vnetfw_drift_repaired_total', help: 'Drift repaired (drift.repaired records) per network, since the daemon started.', labelNames: ['network'], registers }),
    logRecords: new Counter({ name: 'vnetfw_log_records_total', help: 'Records appended to the event log since the daemon started, by type.', labelNames: ['type'], registers }),
    logLastSeq: new Gauge({ name: 'vnetfw_log_last_seq', help: 'seq of the newest record of the event log.', registers }),
    logBytes: new Gauge({ name: 'vnetfw_log_bytes', help: 'Size of the event log segments on disk, in bytes.', registers }),
    cycles: new Counter({ name: 'vnetfw_daemon_cycles_total', help: 'Daemon cycles (reconcile or drift check) by job and result (ok, error).', labelNames: ['job', 'result'], registers }),
    lastCheckSuccess: new Gauge({ name: 'vnetfw_last_successful_check_timestamp_seconds', help: 'Unix time at which the last successful cycle (reconcile or drift check) ended.', registers }),
    secondsSinceCheck: new Gauge({
      name: 'vnetfw_seconds_since_last_successful_check', help: 'Seconds since the last successful cycle ended, as of this rendering (-1: none yet).', registers,
      collect() { this.set(secondsSinceCheck() ?? -1); },
    }),
    startTime: new Gauge({ name: 'vnetfw_daemon_start_time_seconds', help: 'Unix time at which the daemon started.', registers }),
    buildInfo: new Gauge({ name: 'vnetfw_build_info', help: 'Always 1; the version of vnetfw running as the daemon.', labelNames: ['version'], registers }),
    doctorFindings: new Gauge({
      name: 'vnetfw_doctor_findings', help: "Traffic of active networks that another firewall drops, rejects or may drop, by owner (vnetfw doctor's findings at its last run).",
      labelNames: ['network', 'owner', 'verdict'], registers,
    }),
    doctorLastRun: new Gauge({ name: 'vnetfw_doctor_last_run_timestamp_seconds', help: 'Unix time of the daemon\'s last doctor run (0: none yet).', registers }),
  };
};
