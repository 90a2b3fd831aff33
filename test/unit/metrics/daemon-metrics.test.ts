import { readdirSync, statSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDaemonMetrics, MetricsError } from '../../../src/metrics/index.js';
import { event, openStore, type NewEvent, type OpenOptions } from '../../../state/index.js';
import { parseExposition, seriesSum, seriesValue, type Exposition } from '../../support/prom-text.js';
import { defined, startOp, tmpStateDir } from '../state/helpers.js';

const familySize = (e: Exposition, name: string): number => e.get(name)?.samples.length ?? 0;

const append = async (dir: string, events: NewEvent[], opts: OpenOptions = {}): Promise<void> => {
  const s = await openStore(dir, opts);
  try { await s.append(events); } finally { await s.close(); }
};

const failedStop = (network: string, op: string): NewEvent[] => [
  event('operation.started', { kind: 'stop' }, { network, op }),
  event('command.intended', { step: 1, argv: ['nft', '-f', '-'], stdin: 'x', commands: [], purpose: 'remove' }, { network, op }),
  event('command.finished', { step: 1, exitCode: 1, stdout: '', stderr: 'Error', durationMs: 2 }, { network, op }),
  event('command.intended', { step: 2, argv: ['ip', 'link', 'show', 'virbr1'], commands: [], purpose: 'query' }, { network, op }),
  event('command.finished', { step: 2, exitCode: 0, stdout: '', stderr: '', durationMs: 1, signal: 'SIGKILL' }, { network, op }),
  event('operation.rolled-back', { reason: 'nft failed' }, { network, op }),
];

describe('daemon metrics', () => {
  it('count what the log records after the daemon started, by kind, outcome, program and network', async () => {
    const dir = tmpStateDir();
    // Before the daemon: a definition and an operation that is still open.
    await append(dir, [defined('default'), defined('other'), event('operation.started', { kind: 'start' }, { network: 'other', op: 'old' })]);
    const metrics = await createDaemonMetrics({ stateDir: dir, version: '9.9.9' });
    await append(dir, [
      ...startOp('default', 'op-1'),
      ...failedStop('default', 'op-2'),
      event('operation.committed', {}, { network: 'other', op: 'old' }),   // its start came before
      event('drift.found', { missing: ['a'], foreign: [] }, { network: 'default' }),
      event('drift.repaired', {}, { network: 'default' }),
      event('drift.found', { missing: [], foreign: ['b'] }, { network: 'default' }),
    ]);
    const e = parseExposition(await metrics.render());
    expect(seriesValue(e, 'vnetfw_operations_total', { kind: 'start', outcome: 'committed' })).toBe(1);
    expect(seriesValue(e, 'vnetfw_operations_total', { kind: 'stop', outcome: 'rolled-back' })).toBe(1);
    expect(seriesSum(e, 'vnetfw_operations_total')).toBe(2);
    expect(seriesValue(e, 'vnetfw_operation_duration_seconds_count', { kind: 'start', outcome: 'committed' })).toBe(1);
    expect(seriesValue(e, 'vnetfw_program_runs_total', { program: 'iptables', purpose: 'apply' })).toBe(1);
    expect(seriesValue(e, 'vnetfw_program_runs_total', { program: 'nft', purpose: 'remove' })).toBe(1);
    expect(seriesValue(e, 'vnetfw_program_failures_total', { program: 'nft', purpose: 'remove' })).toBe(1);
    expect(seriesValue(e, 'vnetfw_program_failures_total', { program: 'ip', purpose: 'query' })).toBe(1);   // killed
    expect(seriesValue(e, 'vnetfw_program_failures_total', { program: 'iptables', purpose: 'apply' })).toBe(0);
    expect(seriesValue(e, 'vnetfw_drift_found_total', { network: 'default' })).toBe(2);
    expect(seriesValue(e, 'vnetfw_drift_repaired_total', { network: 'default' })).toBe(1);
    expect(seriesValue(e, 'vnetfw_drift_found_total', { network: 'other' })).toBe(0);   // there, at 0
    expect(seriesSum(e, 'vnetfw_log_records_total')).toBe(startOp().length + failedStop('d', 'o').length + 4);
    expect(seriesValue(e, 'vnetfw_log_records_total', { type: 'drift.found' })).toBe(2);
    expect(seriesValue(e, 'vnetfw_log_last_seq')).toBe(3 + startOp().length + failedStop('d', 'o').length + 4);
    expect(seriesValue(e, 'vnetfw_log_bytes')).toBe(statSync(join(dir, 'log', '000001.jsonl')).size);
    expect(seriesValue(e, 'vnetfw_networks', { state: 'active', backend: 'iptables' })).toBe(1);
    expect(seriesValue(e, 'vnetfw_networks', { state: 'stopped', backend: 'none' })).toBe(1);
    expect(seriesValue(e, 'vnetfw_build_info', { version: '9.9.9' })).toBe(1);
  });

  it('a fresh daemon, before any operation: every operation, program, drift and doctor series there at 0 (rate() and absent() need them)', async () => {
    const dir = tmpStateDir();
    // Before the daemon: `active` was started, `idle` only defined.
    await append(dir, [defined('active'), ...startOp('active', 'before'), defined('idle')]);
    const metrics = await createDaemonMetrics({ stateDir: dir, version: '0', owners: ['firewalld', 'Docker'] });
    const text = await metrics.render();
    const e = parseExposition(text);
    const kinds = ['start', 'stop', 'switch', 'repair', 'recover', 'undefine', 'adopt'];
    const outcomes = ['committed', 'rolled-back', 'failed'];
    for (const kind of kinds) {
      for (const outcome of outcomes) {
        expect(seriesValue(e, 'vnetfw_operations_total', { kind, outcome }), `${kind} ${outcome}`).toBe(0);
        expect(seriesValue(e, 'vnetfw_operation_duration_seconds_count', { kind, outcome }), `${kind} ${outcome}`).toBe(0);
        expect(seriesValue(e, 'vnetfw_operation_duration_seconds_sum', { kind, outcome }), `${kind} ${outcome}`).toBe(0);
        expect(seriesValue(e, 'vnetfw_operation_duration_seconds_bucket', { kind, outcome, le: '+Inf' }), `${kind} ${outcome}`).toBe(0);
      }
    }
    expect(familySize(e, 'vnetfw_operations_total')).toBe(kinds.length * outcomes.length);
    const programs = ['nft', 'iptables', 'ip6tables', 'iptables-restore', 'ip6tables-restore', 'iptables-save', 'ip6tables-save', 'ip', 'tc', 'firewall-cmd'];
    for (const program of programs) {
      for (const purpose of ['apply', 'remove', 'query', 'host', 'rollback']) {
        expect(seriesValue(e, 'vnetfw_program_runs_total', { program, purpose }), `${program} ${purpose}`).toBe(0);
        expect(seriesValue(e, 'vnetfw_program_failures_total', { program, purpose }), `${program} ${purpose}`).toBe(0);
      }
    }
    for (const network of ['active', 'idle']) {
      expect(seriesValue(e, 'vnetfw_drift_found_total', { network })).toBe(0);
      expect(seriesValue(e, 'vnetfw_drift_repaired_total', { network })).toBe(0);
    }
    // The doctor looks at active networks: each owner it names (and unknown) by each verdict.
    for (const owner of ['firewalld', 'Docker', 'unknown']) {
      for (const verdict of ['drop', 'reject', 'may-drop']) {
        expect(seriesValue(e, 'vnetfw_doctor_findings', { network: 'active', owner, verdict }), `${owner} ${verdict}`).toBe(0);
      }
    }
    expect(familySize(e, 'vnetfw_doctor_findings')).toBe(9);
    expect(seriesValue(e, 'vnetfw_doctor_last_run_timestamp_seconds')).toBe(0);
    // A finding then counts on the series that was there, and the others stay.
    metrics.doctor([{ network: 'active', owner: 'Docker', verdict: 'reject' }]);
    const after = parseExposition(await metrics.render());
    expect(seriesValue(after, 'vnetfw_doctor_findings', { network: 'active', owner: 'Docker', verdict: 'reject' })).toBe(1);
    expect(familySize(after, 'vnetfw_doctor_findings')).toBe(9);
  });

  it('follow the log across segment rotation, and keep a state once shown at 0 when it empties', async () => {
    const dir = tmpStateDir();
    await append(dir, [defined('default')]);
    const metrics = await createDaemonMetrics({ stateDir: dir, version: '0' });
    let e = parseExposition(await metrics.render());
    expect(seriesValue(e, 'vnetfw_networks', { state: 'stopped', backend: 'none' })).toBe(1);
    for (let i = 0; i < 5; i++) await append(dir, startOp('default', `op-${i}`), { segmentBytes: 1500 });
    expect(readdirSync(join(dir, 'log')).length).toBeGreaterThan(2);
    e = parseExposition(await metrics.render());
    expect(seriesValue(e, 'vnetfw_operations_total', { kind: 'start', outcome: 'committed' })).toBe(5);
    expect(seriesValue(e, 'vnetfw_networks', { state: 'stopped', backend: 'none' })).toBe(0);
    expect(seriesValue(e, 'vnetfw_networks', { state: 'active', backend: 'iptables' })).toBe(1);
  });

  it('time the last successful cycle; a failed cycle does not move it', async () => {
    const dir = tmpStateDir();
    let now = 1_000_000;
    const metrics = await createDaemonMetrics({ stateDir: dir, version: '0', now: () => now });
    let e = parseExposition(await metrics.render());
    expect(seriesValue(e, 'vnetfw_seconds_since_last_successful_check')).toBe(-1);
    await metrics.cycle({ job: 'reconcile' });
    now += 7_500;
    await metrics.cycle({ job: 'drift', error: 'lock timeout' });
    e = parseExposition(await metrics.render());
    expect(seriesValue(e, 'vnetfw_last_successful_check_timestamp_seconds')).toBe(1000);
    expect(seriesValue(e, 'vnetfw_seconds_since_last_successful_check')).toBe(7.5);
    expect(seriesValue(e, 'vnetfw_daemon_cycles_total', { job: 'reconcile', result: 'ok' })).toBe(1);
    expect(seriesValue(e, 'vnetfw_daemon_cycles_total', { job: 'drift', result: 'error' })).toBe(1);
  });

  it('show the doctor findings of its last run by network, owner and verdict; a pair once shown goes to 0', async () => {
    const dir = tmpStateDir();
    let now = 5_000;
    const metrics = await createDaemonMetrics({ stateDir: dir, version: '0', now: () => now });
    let e = parseExposition(await metrics.render());
    expect(seriesValue(e, 'vnetfw_doctor_last_run_timestamp_seconds')).toBe(0);
    metrics.doctor([
      { network: 'default', owner: 'firewalld', verdict: 'drop' }, { network: 'default', owner: 'firewalld', verdict: 'drop' },
      { network: 'default', owner: null, verdict: 'may-drop' },
    ]);
    e = parseExposition(await metrics.render());
    expect(seriesValue(e, 'vnetfw_doctor_findings', { network: 'default', owner: 'firewalld', verdict: 'drop' })).toBe(2);
    expect(seriesValue(e, 'vnetfw_doctor_findings', { network: 'default', owner: 'unknown', verdict: 'may-drop' })).toBe(1);
    expect(seriesValue(e, 'vnetfw_doctor_last_run_timestamp_seconds')).toBe(5);
    now = 9_000;
    metrics.doctor([]);
    e = parseExposition(await metrics.render());
    expect(seriesSum(e, 'vnetfw_doctor_findings')).toBe(0);
    expect(seriesValue(e, 'vnetfw_doctor_findings', { network: 'default', owner: 'firewalld', verdict: 'drop' })).toBe(0);
    expect(seriesValue(e, 'vnetfw_doctor_last_run_timestamp_seconds')).toBe(9);
  });

  it('write the textfile atomically after each cycle, readable by node_exporter whatever the umask', async () => {
    const dir = tmpStateDir();
    const textDir = dirname(dir);
    await append(dir, [defined('default')]);
    const metrics = await createDaemonMetrics({ stateDir: dir, version: '0', textfileDir: textDir });
    const old = process.umask(0o077);
    try { await metrics.cycle({ job: 'reconcile' }); } finally { process.umask(old); }
    const path = join(textDir, 'vnetfw.prom');
    expect(statSync(path).mode & 0o777).toBe(0o644);
    const e = parseExposition(readFileSync(path, 'utf8'));
    expect(seriesValue(e, 'vnetfw_daemon_cycles_total', { job: 'reconcile', result: 'ok' })).toBe(1);
    expect(readdirSync(textDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('refuse a textfile directory that does not exist (exit 2, naming the option and value)', async () => {
    const dir = tmpStateDir();
    const err = await createDaemonMetrics({ stateDir: dir, version: '0', textfileDir: join(dirname(dir), 'nope') }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(MetricsError);
    expect((err as MetricsError).exitCode).toBe(2);
    expect((err as MetricsError).message).toBe(`--metrics-textfile '${join(dirname(dir), 'nope')}' is not an existing directory`);
  });
});
