// The daemon as operators see it, on a real kernel: its metrics (socket and node_exporter
// textfile) parsed back after a switch, a start and drift, and checked against the event log; the
// textfile never seen half-written; systemd's readiness protocol (READY=1 only once the first
// reconcile is in the log, WATCHDOG=1 every cycle, STATUS= with the networks) through the real
// `systemd-notify`; syslog priority prefixes when its output is the journal stream; and the
// doctor's findings by owner (a firewalld forward chain that drops) as `vnetfw doctor` reports them.
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  casesDir, cliBuilt, cliPath, field, inNs, logRecords, netnsSkipReason, nsDelAll, nsNew, sleep, vnet, vnetRO, waitForValue, writeConf, type LogRec,
} from '../support/index.js';
import { parseExposition, seriesSum, seriesValue, type Exposition } from '../support/prom-text.js';

const hasNotify = spawn('systemd-notify', ['--version'], { stdio: 'ignore' });
const notifyMissing = await new Promise<boolean>((r) => { hasNotify.on('error', () => r(true)); hasNotify.on('exit', () => r(false)); });
const skip = netnsSkipReason ?? (cliBuilt ? undefined : 'dist/ is not built (npm test builds it)');
const LISTEN = fileURLToPath(new URL('../fixtures/notify/listen.py', import.meta.url));

// Every family the daemon exports: a rendering without one of them is incomplete.
const FAMILIES = [
  'vnetfw_networks', 'vnetfw_operations_total', 'vnetfw_operation_duration_seconds', 'vnetfw_program_runs_total',
  'vnetfw_program_failures_total', 'vnetfw_drift_found_total', 'vnetfw_drift_repaired_total', 'vnetfw_log_records_total',
  'vnetfw_log_last_seq', 'vnetfw_log_bytes', 'vnetfw_daemon_cycles_total', 'vnetfw_last_successful_check_timestamp_seconds',
  'vnetfw_seconds_since_last_successful_check', 'vnetfw_daemon_start_time_seconds', 'vnetfw_build_info',
  'vnetfw_doctor_findings', 'vnetfw_doctor_last_run_timestamp_seconds',
];

const until = <T>(what: string, ms: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> => waitForValue(probe, ms, what);

// The metrics count records after `base` up to the seq they say they have read: so does this.
const checkAgainstLog = (e: Exposition, recs: readonly LogRec[], base: number): void => {
  const upTo = seriesValue(e, 'vnetfw_log_last_seq') ?? -1;
  expect(upTo).toBeGreaterThan(base);
  const win = recs.filter((r) => r.seq > base && r.seq <= upTo);
  expect(win.length).toBe(upTo - base);
  expect(seriesSum(e, 'vnetfw_log_records_total')).toBe(win.length);

  const started = new Map<string, { kind: string; at: number }>();
  const ops = new Map<string, { n: number; seconds: number }>();
  const runs = new Map<string, number>();
  const fails = new Map<string, number>();
  const found = new Map<string, number>();
  const repaired = new Map<string, number>();
  const bump = (m: Map<string, number>, k: string): void => { m.set(k, (m.get(k) ?? 0) + 1); };
  for (const r of win) {
    const key = `${r.network ?? ''}/${r.op ?? ''}`;
    if (r.type === 'operation.started') started.set(key, { kind: String(field(r, 'kind')), at: Date.parse(r.time) });
    else if (r.type.startsWith('operation.') && started.has(key)) {
      const s = started.get(key) ?? { kind: '', at: 0 };
      const k = `${s.kind}|${r.type.slice('operation.'.length)}`;
      const o = ops.get(k) ?? { n: 0, seconds: 0 };
      ops.set(k, { n: o.n + 1, seconds: o.seconds + (Date.parse(r.time) - s.at) / 1000 });
    } else if (r.type === 'command.finished') {
      const prog = basename(String((field(r, 'argv') as string[] | undefined)?.[0]));
      bump(runs, prog);
      if (field(r, 'exitCode') !== 0 || field(r, 'signal') !== undefined || field(r, 'timedOut') === true) bump(fails, prog);
    } else if (r.type === 'drift.found') bump(found, r.network ?? '');
    else if (r.type === 'drift.repaired') bump(repaired, r.network ?? '');
  }
  for (const [k, o] of ops) {
    const [kind = '', outcome = ''] = k.split('|');
    expect(seriesValue(e, 'vnetfw_operations_total', { kind, outcome }), k).toBe(o.n);
    expect(seriesValue(e, 'vnetfw_operation_duration_seconds_count', { kind, outcome }), k).toBe(o.n);
    expect(seriesValue(e, 'vnetfw_operation_duration_seconds_sum', { kind, outcome }) ?? NaN).toBeCloseTo(o.seconds, 6);
  }
  expect(seriesSum(e, 'vnetfw_operations_total')).toBe([...ops.values()].reduce((n, o) => n + o.n, 0));
  for (const [prog, n] of runs) expect(seriesSum(e, 'vnetfw_program_runs_total', { program: prog }), prog).toBe(n);
  expect(seriesSum(e, 'vnetfw_program_runs_total')).toBe([...runs.values()].reduce((a, b) => a + b, 0));
  expect(seriesSum(e, 'vnetfw_program_failures_total')).toBe([...fails.values()].reduce((a, b) => a + b, 0));
  for (const [net, n] of found) expect(seriesValue(e, 'vnetfw_drift_found_total', { network: net })).toBe(n);
  for (const [net, n] of repaired) expect(seriesValue(e, 'vnetfw_drift_repaired_total', { network: net })).toBe(n);
  expect(seriesSum(e, 'vnetfw_drift_found_total')).toBe([...found.values()].reduce((a, b) => a + b, 0));
};

describe.skipIf(skip !== undefined)(`the daemon for operators${skip === undefined ? '' : ` (skipped: ${skip})`}`, () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await nsDelAll();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  // A daemon that has done no operation yet (its networks are as it wants them) already shows every
  // operation series at 0, and the per-network drift and doctor series: Prometheus' rate() and
  // absent() see them from the first scrape.
  it('a fresh daemon, before any operation: every operation, program, drift and doctor series is there', async () => {
    const ns = await nsNew('ops');
    const dir = mkdtempSync(join(tmpdir(), 'vnetfw-ops-'));
    dirs.push(dir);
    const st = join(dir, 'state');
    const conf = writeConf(join(dir, 'network.conf'), 'nftables', 'host_firewall = "off"\n');
    expect((await vnet(ns, st, conf, ['define', join(casesDir, 'nat-default.xml')])).code).toBe(0);
    expect((await vnet(ns, st, conf, ['start', 'default'])).code).toBe(0);
    const daemon = spawn('ip', ['netns', 'exec', ns, process.execPath, cliPath, '--state-dir', st, '--config', conf, 'daemon', '--no-monitor'], { stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => daemon.on('exit', (code) => r(code)));
    try {
      // The first cycle (reconcile, drift check, doctor) has run once a cycle is counted.
      const e = await until('the first cycle in the metrics', 30_000, async () => {
        const r = await vnetRO(st, ['metrics']);
        if (r.code !== 0) return undefined;
        const x = parseExposition(r.stdout);
        return seriesSum(x, 'vnetfw_daemon_cycles_total') >= 1 && (seriesValue(x, 'vnetfw_doctor_last_run_timestamp_seconds') ?? 0) > 0 ? x : undefined;
      });
      expect([...e.keys()]).toEqual(FAMILIES);
      for (const kind of ['start', 'stop', 'switch', 'repair', 'recover', 'undefine', 'adopt']) {
        for (const outcome of ['committed', 'rolled-back', 'failed']) {
          expect(seriesValue(e, 'vnetfw_operations_total', { kind, outcome }), `${kind} ${outcome}`).toBe(0);
          expect(seriesValue(e, 'vnetfw_operation_duration_seconds_count', { kind, outcome }), `${kind} ${outcome}`).toBe(0);
        }
      }
      for (const program of ['nft', 'iptables', 'ip6tables', 'ip', 'tc', 'firewall-cmd']) {
        for (const purpose of ['apply', 'remove', 'host', 'rollback']) {
          expect(seriesValue(e, 'vnetfw_program_runs_total', { program, purpose }), `${program} ${purpose}`).toBe(0);
          expect(seriesValue(e, 'vnetfw_program_failures_total', { program, purpose }), `${program} ${purpose}`).toBe(0);
        }
      }
      expect(seriesValue(e, 'vnetfw_drift_found_total', { network: 'default' })).toBe(0);
      expect(seriesValue(e, 'vnetfw_drift_repaired_total', { network: 'default' })).toBe(0);
      for (const owner of ['firewalld', 'Docker', 'ufw', 'unknown']) {
        for (const verdict of ['drop', 'reject', 'may-drop']) {
          expect(seriesValue(e, 'vnetfw_doctor_findings', { network: 'default', owner, verdict }), `${owner} ${verdict}`).toBe(0);
        }
      }
    } finally {
      daemon.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });

  it('metrics match the log after a switch, a start and drift; the textfile is always whole; readiness and journal priorities', async () => {
    expect(notifyMissing, 'systemd-notify is needed (apt-get install systemd; .ci/run installs it)').toBe(false);
    const ns = await nsNew('ops');
    const dir = mkdtempSync(join(tmpdir(), 'vnetfw-ops-'));
    dirs.push(dir);
    const st = join(dir, 'state');
    // off: vnetfw leaves the other firewall (a firewalld table, no firewalld running) alone, so the
    // doctor's finding stays.
    const HOST_FW = 'host_firewall = "off"\n';
    const conf = writeConf(join(dir, 'network.conf'), 'nftables', HOST_FW);
    const second = join(dir, 'second.xml');
    writeFileSync(second, "<network><name>second</name><forward mode='nat'/><bridge name='virbr1'/><ip address='192.168.130.1' netmask='255.255.255.0'/></network>\n");
    expect((await vnet(ns, st, conf, ['define', join(casesDir, 'nat-default.xml')])).code).toBe(0);
    expect((await vnet(ns, st, conf, ['define', second])).code).toBe(0);
    expect((await vnet(ns, st, conf, ['start', 'default'])).code).toBe(0);
    // The daemon's first reconcile has work to do: move `default` to iptables.
    writeConf(conf, 'iptables', HOST_FW);
    // Someone else's firewall: a forward chain of firewalld's table that drops what it does not know
    // (a later base chain: our accepts do not save the packets from it).
    expect((await inNs(ns, ['nft', 'add', 'table', 'inet', 'firewalld'])).code).toBe(0);
    expect((await inNs(ns, ['nft', 'add', 'chain', 'inet', 'firewalld', 'filter_FORWARD', '{ type filter hook forward priority 10; policy drop; }'])).code).toBe(0);
    const base = (await logRecords(st)).at(-1)?.seq ?? 0;

    const sock = join(dir, 'notify.sock');
    const listener = spawn('python3', [LISTEN, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
    let notified = '';
    listener.stdout.on('data', (c: Buffer) => { notified += c.toString(); });
    const listenerExit = new Promise((r) => listener.on('exit', r));
    const messages = (): string[] => notified.split('\n');
    const prom = join(dir, 'prom');
    mkdirSync(prom);
    const textfile = join(prom, 'vnetfw.prom');
    const outPath = join(dir, 'daemon.out');
    const out = openSync(outPath, 'w');
    const { dev, ino } = fstatSync(out);
    let daemonExit: Promise<number | null> = Promise.resolve(null);
    let daemon: ReturnType<typeof spawn> | undefined;
    // Reads the textfile as fast as it can while the daemon rewrites it.
    const seen = { reads: 0, versions: new Set<string>(), bad: [] as string[] };
    let reading = true;
    const reader = (async () => {
      while (reading) {
        let text: string | undefined;
        try { text = readFileSync(textfile, 'utf8'); } catch { /* not written yet */ }
        if (text !== undefined) {
          seen.reads++;
          try {
            const names = [...parseExposition(text).keys()];
            if (names.join() !== FAMILIES.join()) seen.bad.push(`families: ${names.join()}`);
            seen.versions.add(text);
          } catch (err) { seen.bad.push(String(err)); }
        }
        await sleep(1);
      }
    })();
    try {
      await until('the notify listener', 10_000, () => (notified.includes('listening') ? true : undefined));
      daemon = spawn('ip', ['netns', 'exec', ns, process.execPath, cliPath, '--state-dir', st, '--config', conf, 'daemon', '--metrics-textfile', prom], {
        stdio: ['ignore', out, out],
        env: { ...process.env, NOTIFY_SOCKET: sock, WATCHDOG_USEC: '2000000', JOURNAL_STREAM: `${dev}:${ino}` },
      });
      const d = daemon;
      daemonExit = new Promise((r) => d.on('exit', (code) => r(code)));

      // READY=1 once the first reconcile is done: its switch is in the log by then.
      const ready = await until('READY=1', 60_000, () => messages().find((l) => l.includes('READY=1')));
      const recsAtReady = await logRecords(st);
      const switched = recsAtReady.filter((r) => r.seq > base && r.network === 'default' && r.type === 'operation.committed');
      expect(switched.length).toBe(1);
      expect(ready).toContain('STATUS=2 networks (1 active, 1 stopped); last check');
      expect(messages().filter((l) => l.includes('READY=1')).length).toBe(1);

      // After the switch.
      let e = parseExposition((await vnetRO(st, ['metrics'])).stdout);
      // The doctor ran in that first cycle (after its answer, the lock still held: `vnetfw doctor`
      // waits for it): its findings by owner are what `vnetfw doctor` says.
      const doctor = await vnet(ns, st, conf, ['--json', 'doctor']);
      const withDoctor = parseExposition((await vnetRO(st, ['metrics'])).stdout);
      expect(doctor.code).toBe(3);
      const findings = doctor.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { network: string; owner: string | null; verdict: string });
      expect(findings.filter((f) => f.owner === 'firewalld' && f.network === 'default').length).toBeGreaterThan(0);
      const byOwner = new Map<string, number>();
      for (const f of findings) byOwner.set(JSON.stringify([f.network, f.owner ?? 'unknown', f.verdict]), (byOwner.get(JSON.stringify([f.network, f.owner ?? 'unknown', f.verdict])) ?? 0) + 1);
      for (const [k, n] of byOwner) {
        const [network = '', owner = '', verdict = ''] = JSON.parse(k) as string[];
        expect(seriesValue(withDoctor, 'vnetfw_doctor_findings', { network, owner, verdict }), k).toBe(n);
      }
      expect(seriesSum(withDoctor, 'vnetfw_doctor_findings')).toBe(findings.length);
      expect(seriesValue(e, 'vnetfw_operations_total', { kind: 'switch', outcome: 'committed' })).toBe(1);
      expect(seriesValue(e, 'vnetfw_networks', { state: 'active', backend: 'iptables' })).toBe(1);
      expect(seriesValue(e, 'vnetfw_networks', { state: 'stopped', backend: 'none' })).toBe(1);
      checkAgainstLog(e, await logRecords(st), base);

      // After a start by another vnetfw process.
      expect((await vnet(ns, st, conf, ['start', 'second'])).code).toBe(0);
      e = await until('the start in the metrics', 10_000, async () => {
        const x = parseExposition((await vnetRO(st, ['metrics'])).stdout);
        return seriesValue(x, 'vnetfw_operations_total', { kind: 'start', outcome: 'committed' }) === 1 ? x : undefined;
      });
      expect(seriesValue(e, 'vnetfw_networks', { state: 'active', backend: 'iptables' })).toBe(2);
      expect(seriesValue(e, 'vnetfw_networks', { state: 'stopped', backend: 'none' })).toBe(0);
      checkAgainstLog(e, await logRecords(st), base);

      // After drift, repaired by the daemon.
      expect((await inNs(ns, ['iptables', '-w', '-F', 'LIBVIRT_FWO'])).code).toBe(0);
      e = await until('the repair in the metrics', 20_000, async () => {
        const x = parseExposition((await vnetRO(st, ['metrics'])).stdout);
        return (seriesValue(x, 'vnetfw_drift_repaired_total', { network: 'default' }) ?? 0) >= 1 ? x : undefined;
      });
      expect(seriesValue(e, 'vnetfw_drift_found_total', { network: 'default' })).toBeGreaterThanOrEqual(1);
      expect(seriesValue(e, 'vnetfw_operations_total', { kind: 'repair', outcome: 'committed' })).toBeGreaterThanOrEqual(1);
      expect(seriesValue(e, 'vnetfw_seconds_since_last_successful_check')).toBeLessThan(10);
      checkAgainstLog(e, await logRecords(st), base);

      // The textfile says what the socket says (the same registry), as of its last cycle.
      const fromFile = parseExposition(readFileSync(textfile, 'utf8'));
      expect(seriesValue(fromFile, 'vnetfw_build_info', { version: JSON.parse(readFileSync(join(cliPath, '..', '..', 'package.json'), 'utf8')).version as string })).toBe(1);
      checkAgainstLog(fromFile, await logRecords(st), base);

      // The check loop pings the watchdog (every cycle; cycles at least every WatchdogSec/2).
      await until('three WATCHDOG=1', 10_000, () => (messages().filter((l) => l.includes('WATCHDOG=1')).length >= 3 ? true : undefined));
    } finally {
      daemon?.kill('SIGTERM');
      expect(await daemonExit).toBe(0);
      reading = false;
      await reader;
      listener.kill();
      await listenerExit;
      closeSync(out);
    }
    expect(seen.bad).toEqual([]);
    expect(seen.versions.size).toBeGreaterThanOrEqual(3);
    console.log(`textfile: ${seen.reads} reads, ${seen.versions.size} versions, none partial`);

    // Its output was the "journal stream": every line carries a priority, drift as a warning.
    const lines = readFileSync(outPath, 'utf8').split('\n').filter((l) => l !== '');
    expect(lines.filter((l) => !/^<[346]>\S/.test(l))).toEqual([]);
    expect(lines).toContain('<6>default: switched to iptables');
    expect(lines.some((l) => /^<4>default: drift on iptables: \d+ missing/.test(l))).toBe(true);
    expect(lines).toContain('<6>vnetfw daemon: SIGTERM, exiting (networks stay up)');
  }, 180_000);
});
