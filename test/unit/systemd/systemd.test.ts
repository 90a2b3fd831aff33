import { closeSync, fstatSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunRequest, RunResult, Runner } from '../../../src/exec/index.js';
import { createNotifier, createReadiness, formatLine, statusText, toJournal } from '../../../src/systemd/index.js';

const dir = mkdtempSync(join(tmpdir(), 'vnetfw-systemd-'));
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

const recorder = (exitCode = 0): Runner & { calls: string[][] } => {
  const calls: string[][] = [];
  return {
    calls,
    run: (req: RunRequest): Promise<RunResult> => {
      calls.push(req.argv);
      return Promise.resolve({ argv: req.argv, exitCode, stdout: '', stderr: exitCode === 0 ? '' : 'No such file', durationMs: 1 });
    },
  };
};

describe('journal lines', () => {
  it('are for the journal only when stdout or stderr is the stream JOURNAL_STREAM names', () => {
    const fd = openSync(join(dir, 'out'), 'w');
    try {
      const { dev, ino } = fstatSync(fd);
      expect(toJournal({ JOURNAL_STREAM: `${dev}:${ino}` }, [fd])).toBe(true);
      expect(toJournal({ JOURNAL_STREAM: `${dev}:${ino + 1}` }, [fd])).toBe(false);
      expect(toJournal({ INVOCATION_ID: '0123456789abcdef0123456789abcdef' }, [fd])).toBe(false);
      expect(toJournal({ JOURNAL_STREAM: 'nonsense' }, [fd])).toBe(false);
      expect(toJournal({}, [fd])).toBe(false);
    } finally { closeSync(fd); }
  });

  it('carry a syslog priority for the journal, the time otherwise', () => {
    const at = new Date('2026-12-01T03:00:00.000Z');
    expect(formatLine('error', 'default: FAILED: x', true, at)).toBe('<3>default: FAILED: x');
    expect(formatLine('warning', 'default: drift on nftables: 2 missing, 0 foreign', true, at)).toBe('<4>default: drift on nftables: 2 missing, 0 foreign');
    expect(formatLine('info', 'repaired: default', true, at)).toBe('<6>repaired: default');
    expect(formatLine('info', 'repaired: default', false, at)).toBe('2026-12-01T03:00:00.000Z repaired: default');
  });
});

describe('readiness notifications', () => {
  const counts = { total: 3, byState: { active: 2, stopped: 1, failed: 0 } };
  const at = new Date('2026-12-01T03:04:05.000Z');

  it('send nothing without NOTIFY_SOCKET', async () => {
    const r = recorder();
    const n = createNotifier({ WATCHDOG_USEC: '1000000' }, r, () => undefined);
    await createReadiness(n).cycle({}, counts);
    expect(n.enabled).toBe(false);
    expect(n.watchdogMs).toBeNull();
    expect(r.calls).toEqual([]);
  });

  it('READY=1 with the first cycle only, WATCHDOG=1 with every cycle when the watchdog is ours, STATUS= always', async () => {
    const r = recorder();
    const n = createNotifier({ NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '120000000', WATCHDOG_PID: '42' }, r, () => undefined, 42);
    expect(n.watchdogMs).toBe(120_000);
    const ready = createReadiness(n, () => at);
    await ready.cycle({}, counts);
    await ready.cycle({ error: 'lock timeout' }, counts);
    expect(r.calls).toEqual([
      ['systemd-notify', 'READY=1', 'WATCHDOG=1', 'STATUS=3 networks (2 active, 1 stopped); last check 03:04:05 UTC'],
      ['systemd-notify', 'WATCHDOG=1', 'STATUS=3 networks (2 active, 1 stopped); check at 03:04:05 UTC failed: lock timeout'],
    ]);
  });

  it('leave the watchdog alone when it is meant for another process', () => {
    const n = createNotifier({ NOTIFY_SOCKET: '@x', WATCHDOG_USEC: '1000000', WATCHDOG_PID: '7' }, recorder(), () => undefined, 42);
    expect(n.watchdogMs).toBeNull();
  });

  it('report a failing systemd-notify once, not at every cycle', async () => {
    const said: string[] = [];
    const n = createNotifier({ NOTIFY_SOCKET: '/run/systemd/notify' }, recorder(1), (m) => { said.push(m); });
    const ready = createReadiness(n, () => at);
    await ready.cycle({}, counts);
    await ready.cycle({}, counts);
    expect(said).toEqual(['systemd-notify failed (exit 1): No such file']);
  });

  it('keep a newline in a status out of the message (it would start another field)', async () => {
    const r = recorder();
    const n = createNotifier({ NOTIFY_SOCKET: '/x' }, r, () => undefined);
    await n.send({ STATUS: 'a\nREADY=1' });
    expect(r.calls).toEqual([['systemd-notify', 'STATUS=a READY=1']]);
  });

  it('count networks in the status line', () => {
    expect(statusText({ total: 1, byState: { active: 1 } }, at)).toBe('1 network (1 active); last check 03:04:05 UTC');
    expect(statusText({ total: 0, byState: {} }, at)).toBe('0 networks; last check 03:04:05 UTC');
  });
});
