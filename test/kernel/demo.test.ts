// Runs `vnetfw demo --json` exactly as a newcomer would (the built CLI, as a child process) and
// checks what it claims: no ping lost, the TCP session kept, the crash recovered exactly, the
// log intact, and nothing left behind on the host.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Measurements } from '../../src/demo/index.js';
import { netnsSkipReason, waitFor } from '../support/index.js';

const BIN = fileURLToPath(new URL('../../bin/vnetfw.js', import.meta.url));
const demoNetns = (): string[] => spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout
  .split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith('vnetfw-demo-'));

describe('vnetfw demo', () => {
  if (netnsSkipReason !== undefined) it.skip(`skipped: ${netnsSkipReason}`, () => undefined);

  it.skipIf(netnsSkipReason !== undefined)('holds every step, prints its measurements, and leaves no namespace behind', () => {
    const before = demoNetns();
    const r = spawnSync(process.execPath, [BIN, 'demo', '--json'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    const m = JSON.parse(r.stdout) as Measurements;
    expect(m.steps.map((s) => [s.name, s.ok, s.detail]).filter(([, ok]) => ok !== true)).toEqual([]);
    expect(r.status).toBe(0);
    expect(m.ok).toBe(true);
    expect(m.steps).toHaveLength(5);
    expect(m.masquerade.wanSawSource).toBe(m.masquerade.expected);
    expect(m.pings.sent).toBeGreaterThan(50);
    expect(m.pings.lost).toBe(0);
    expect(m.tcp.broke).toBe(false);
    expect(m.tcp.echoed).toBeGreaterThan(50);
    expect(m.switches.map((s) => [s.to, s.exitCode])).toEqual([['iptables', 0], ['nftables', 0]]);
    expect(m.crash).toMatchObject({ killed: true, recovered: true, rulesetMatches: true, verifyOk: true, pingsLost: 0 });
    expect(m.log.verifyOk).toBe(true);
    expect(m.log.programRuns).toBeGreaterThan(10);
    expect(m.log.records).toBeGreaterThan(m.log.programRuns);
    expect(demoNetns().filter((n) => !before.includes(n))).toEqual([]);
  });

  it.skipIf(netnsSkipReason !== undefined)('cleans up when interrupted with Ctrl-C', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [BIN, 'demo'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    // Interrupt in the middle of step 1, once its namespaces exist.
    const mine = (): string[] => demoNetns().filter((n) => n.includes(`-${String(child.pid)}-`));
    await waitFor(() => out.includes('1. ') && mine().length > 0, 60_000, "the demo's step 1 and its namespaces", 20);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(130);
    expect(out).toContain('interrupted: removing');
    expect(mine()).toEqual([]);
  });
});
