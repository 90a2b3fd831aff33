// The daemon's memory with 100 active networks and a 10^6-event log (issue: under 150 MB RSS).
// In a network namespace it creates and removes: defines and starts N dual-stack NAT networks with
// the real CLI, appends filler records (old program runs) until the log holds EVENTS records,
// starts `vnetfw daemon`, asks it to reconcile twice through its socket, and reads the daemon's
// VmRSS / VmHWM from /proc.   node dist/bench/run.js memory [--networks 100] [--events 1000000]
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requestDaemon } from '../src/daemon/index.js';
import { event, openStore, type NewEvent } from '../state/index.js';
import type { Bench } from './run.js';
import { bridgesBatch, mustRun, networkXml, run } from './switch/common.js';

const CLI = fileURLToPath(new URL('../../bin/vnetfw.js', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const flag = (args: string[], name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : dflt;
  return Number.isFinite(v) && v > 0 ? v : dflt;
};

// Records of past program runs: they fold to nothing (no operation of theirs is in flight), as
// most of a long-lived host's log does.
const filler = (i: number): NewEvent => event('command.finished', {
  step: i, exitCode: 0, stdout: '', stderr: '', durationMs: 3.2, argv: ['nft', '--echo', '--handle', '-f', '-'],
}, { network: 'n1', op: 'history' });

const memOf = (pid: number): { rssMb: number; hwmMb: number } => {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(text)?.[1] ?? 'NaN');
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
};

export const memoryBench: Bench = {
  name: 'memory',
  about: 'daemon RSS with N active networks and a 10^6-event log (root, netns)',
  run: async (args) => {
    const n = flag(args, 'networks', 100);
    const events = flag(args, 'events', 1_000_000);
    const ns = `vnetfw-mem-${process.pid}`;
    const dir = mkdtempSync(join(tmpdir(), 'vnetfw-mem-'));
    const st = join(dir, 'state');
    const conf = join(dir, 'network.conf');
    writeFileSync(conf, 'firewall_backend = "nftables"\n');
    mkdirSync(join(dir, 'xml'));
    await mustRun(['ip', 'netns', 'add', ns]);
    try {
      const idx = Array.from({ length: n }, (_, k) => k + 1);
      await mustRun(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      await mustRun(['ip', '-n', ns, '-batch', '-'], bridgesBatch(idx));
      const cli = (...a: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
        run(['ip', 'netns', 'exec', ns, process.execPath, CLI, '--state-dir', st, '--config', conf, ...a]);
      for (const i of idx) {
        writeFileSync(join(dir, 'xml', `n${i}.xml`), networkXml(i));
        const d = await cli('define', join(dir, 'xml', `n${i}.xml`));
        if (d.code !== 0) throw new Error(`define n${i}: ${d.stderr}`);
      }
      const s = await cli('start', ...idx.map((i) => `n${i}`));
      if (s.code !== 0) throw new Error(`start: ${s.stderr}`);
      process.stderr.write(`memory: ${n} networks active; appending filler records up to ${events} ...\n`);
      const store = await openStore(st);
      let seq = store.state().seq;
      while (seq < events) {
        const batch = Array.from({ length: Math.min(10_000, events - seq) }, (_, k) => filler(seq + k));
        seq = (await store.append(batch)).at(-1)?.seq ?? seq;
      }
      await store.close();
      process.stderr.write(`memory: log holds ${seq} records; starting the daemon\n`);
      const { spawn } = await import('node:child_process');
      const daemon = spawn('ip', ['netns', 'exec', ns, process.execPath, CLI, '--state-dir', st, '--config', conf, 'daemon'], { stdio: 'ignore' });
      const pid = daemon.pid ?? 0;
      try {
        for (let i = 0; i < 100; i++) { try { await requestDaemon(st, { cmd: 'ping' }, 1000); break; } catch { await sleep(200); } }
        const t0 = performance.now();
        await requestDaemon(st, { cmd: 'reconcile' });
        const reconcileMs = performance.now() - t0;
        await requestDaemon(st, { cmd: 'reconcile' });
        await sleep(1500);   // let its drift check run too
        const mem = memOf(pid);
        const result = { networks: n, events: seq, daemonRssMb: Number(mem.rssMb.toFixed(1)), daemonPeakRssMb: Number(mem.hwmMb.toFixed(1)), reconcileMs: Number(reconcileMs.toFixed(1)) };
        process.stdout.write(`daemon with ${n} active networks and a ${seq}-record log: RSS ${result.daemonRssMb} MB, peak ${result.daemonPeakRssMb} MB (goal < 150 MB); a converged reconcile through the socket ${result.reconcileMs} ms\n`);
        mkdirSync('bench-results', { recursive: true });
        writeFileSync(join('bench-results', 'memory.json'), `${JSON.stringify(result, null, 2)}\n`);
      } finally {
        daemon.kill('SIGTERM');
        await sleep(500);
      }
    } finally {
      await run(['ip', 'netns', 'del', ns]);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
