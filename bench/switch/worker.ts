// The body of the switch benchmark, run once per method and size INSIDE a fresh network namespace
// (`ip netns exec NS node dist/bench/switch/worker.js MODE N WORKDIR`), so every program it spawns
// is the program itself, not wrapped in `ip netns exec`. Prints one JSON object (WorkerResult).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseNetworkXml } from '../../src/definition/index.js';
import {
  buildRules, nftUndo, parseNftEcho, privateSetup, privateSetupWithQueries, renderBatches, ruleCommands, runtimeArgv, iptablesUndo,
  type Backend, type FwCommand,
} from '../../src/firewall/index.js';
import { median, mustRun, netName, networkXml, run, type Phase, type WorkerResult } from './common.js';

const VNETFW = fileURLToPath(new URL('../../../bin/vnetfw.js', import.meta.url));

const defs = (n: number) => Array.from({ length: n }, (_, k) => parseNetworkXml(networkXml(k + 1), `${netName(k + 1)}.xml`));
const rulesOf = (n: number, backend: Backend): FwCommand[][] => defs(n).map((d) => ruleCommands(buildRules(d, backend)));

// Rules of ours on the kernel, by view: lines naming a bench bridge or subnet.
const OURS = /vbr\d|10\.\d+\.\d+\.0\/24|fd00:\d+::\/64/;
const kernelCounts = async (): Promise<{ nft: number; ipt: number }> => {
  const nft4 = await run(['nft', 'list', 'table', 'ip', 'libvirt_network']);
  const nft6 = await run(['nft', 'list', 'table', 'ip6', 'libvirt_network']);
  const s4 = await run(['iptables-save']);
  const s6 = await run(['ip6tables-save']);
  const count = (t: string): number => t.split('\n').filter((l) => OURS.test(l)).length;
  return { nft: count(nft4.stdout) + count(nft6.stdout), ipt: count(s4.stdout) + count(s6.stdout) };
};

// ---- libvirt's way: one process per rule ----------------------------------------------------
const libvirt = async (n: number): Promise<WorkerResult> => {
  let programs = 0;
  const one = async (cmd: FwCommand, tolerate = false): Promise<string> => {
    programs++;
    const r = await run(runtimeArgv(cmd));
    if (r.code !== 0 && !tolerate) throw new Error(`${runtimeArgv(cmd).join(' ')}: ${r.stderr.trim()}`);
    return r.stdout;
  };
  // The private setup as libvirt runs it on a fresh host: list queries (failing: nothing yet), then
  // the creations (base.nftables / base.iptables).
  const base = async (backend: Backend): Promise<void> => {
    for (const c of privateSetupWithQueries(backend)) await one(c, c.args.includes('list') || c.args.includes('--list-rules'));
  };
  const phase = async (f: () => Promise<void>): Promise<Phase> => {
    const p0 = programs;
    const t = performance.now();
    await f();
    return { ms: performance.now() - t, programs: programs - p0 };
  };
  const nftRules = rulesOf(n, 'nftables');
  const iptRules = rulesOf(n, 'iptables');
  const removal: FwCommand[] = [];
  const start = await phase(async () => {
    await base('nftables');
    for (const cmds of nftRules) {
      for (const c of cmds) {
        const out = await one({ ...c, autoRollback: true });
        const h = /# handle (\d+)/.exec(out.split('\n').filter((l) => l.includes('# handle')).pop() ?? '');
        if (h === null) throw new Error(`no handle echoed for nft ${c.args.join(' ')}`);
        removal.push(nftUndo(c, Number(h[1])));
      }
    }
  });
  const afterStart = await kernelCounts();
  // Backend change: every nft rule removed by handle (newest first), then iptables set-up and rules.
  const sw = await phase(async () => {
    for (const c of [...removal].reverse()) await one(c, true);
    await base('iptables');
    for (const cmds of iptRules) for (const c of cmds) await one(c);
  });
  const afterSwitch = await kernelCounts();
  const stop = await phase(async () => {
    for (const cmds of [...iptRules].reverse()) for (const c of [...cmds].reverse()) await one(iptablesUndo(c)!, true);
  });
  const afterStop = await kernelCounts();
  return { start, switch: sw, stop, check: JSON.stringify({ afterStart, afterSwitch, afterStop }) };
};

// ---- the floor: one transaction per program ----------------------------------------------------
// `order`: 'remove-first' takes the old rules out, then puts the new ones in (guests are cut off in
// between); 'make-before-break' is the daemon's order (new rules in, then the old ones out), where
// each program also meets the other backend's rules in the kernel (iptables-nft and nft read the
// same nf_tables ruleset), so each costs a little more.
const floor = async (n: number, order: 'remove-first' | 'make-before-break'): Promise<WorkerResult> => {
  let programs = 0;
  const perProgram: string[] = [];
  const strict = (cmds: FwCommand[]): FwCommand[] => cmds.map((c) => ({ ...c, ignoreErrors: false }));
  const batch = async (cmds: FwCommand[]): Promise<string[]> => {
    const outs: string[] = [];
    for (const b of renderBatches(strict(cmds))) {
      programs++;
      const r = await mustRun(b.argv, b.stdin);
      outs.push(r.stdout);
      perProgram.push(`${b.argv[0] ?? ''} ${b.commands.length} cmds ${r.ms.toFixed(0)} ms`);
    }
    return outs;
  };
  const phase = async (f: () => Promise<void>): Promise<Phase> => {
    const p0 = programs;
    const t = performance.now();
    await f();
    return { ms: performance.now() - t, programs: programs - p0 };
  };
  const nftRules = rulesOf(n, 'nftables').flat();
  const iptRules = rulesOf(n, 'iptables').flat();
  let removal: FwCommand[] = [];
  const start = await phase(async () => {
    const cmds = [...privateSetup('nftables'), ...nftRules];
    const [out] = await batch(cmds);
    const handles = parseNftEcho(cmds, out ?? '');
    removal = nftRules.map((c, i) => nftUndo(c, handles[i + cmds.length - nftRules.length] ?? NaN)).reverse();
    if (removal.some((c) => c.args.includes('NaN'))) throw new Error('floor: a handle was not echoed');
  });
  const afterStart = await kernelCounts();
  const sw = await phase(async () => {
    if (order === 'remove-first') await batch(removal);
    await batch([...privateSetup('iptables'), ...iptRules]);
    if (order === 'make-before-break') await batch(removal);
  });
  const afterSwitch = await kernelCounts();
  const stop = await phase(async () => { await batch([...iptRules].reverse().map((c) => iptablesUndo(c)!)); });
  const afterStop = await kernelCounts();
  return { start, switch: sw, stop, check: JSON.stringify({ afterStart, afterSwitch, afterStop }), programs: perProgram.join('; ') };
};

// ---- vnetfw ------------------------------------------------------------------------------------
class Vnetfw {
  readonly stateDir: string;
  readonly config: string;
  constructor(readonly dir: string) {
    this.stateDir = join(dir, 'state');
    this.config = join(dir, 'network.conf');
  }
  backend(b: Backend): void { writeFileSync(this.config, `firewall_backend = "${b}"\n`); }
  argv(args: string[]): string[] { return [process.execPath, VNETFW, '--state-dir', this.stateDir, '--config', this.config, ...args]; }
  async cli(args: string[], ok = true): Promise<number> {
    const t = performance.now();
    const r = await run(this.argv(args));
    if (ok && r.code !== 0) throw new Error(`vnetfw ${args.join(' ')} exited ${r.code}: ${r.stderr.trim().slice(0, 500)}`);
    return performance.now() - t;
  }
  // Programs vnetfw ran, from its own log (untimed).
  async intended(): Promise<number> {
    const r = await run(this.argv(['log', '--json', '--type', 'command.intended']));
    return r.code === 0 ? r.stdout.split('\n').filter((l) => l.trim() !== '').length : 0;
  }
  async timed(args: string[]): Promise<Phase> {
    const p0 = await this.intended();
    const ms = await this.cli(args);
    return { ms, programs: (await this.intended()) - p0 };
  }
  async define(n: number, extra: string[] = []): Promise<void> {
    mkdirSync(join(this.dir, 'xml'), { recursive: true });
    for (let i = 1; i <= n; i++) {
      const f = join(this.dir, 'xml', `${netName(i)}.xml`);
      writeFileSync(f, networkXml(i));
      await this.cli(['define', f]);
    }
    for (const name of extra) {
      const i = 9000;
      const f = join(this.dir, 'xml', `${name}.xml`);
      writeFileSync(f, networkXml(i).replace(`<name>${netName(i)}</name>`, `<name>${name}</name>`));
      await this.cli(['define', f]);
    }
  }
  // Log lines since byte offsets, read straight from the segment files (no process start-up).
  logLines(): string[] {
    const dir = join(this.stateDir, 'log');
    return readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort()
      .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n')).filter((l) => l !== '');
  }
}

const names = (n: number): string[] => Array.from({ length: n }, (_, k) => netName(k + 1));

const cli = async (n: number, dir: string): Promise<WorkerResult> => {
  const v = new Vnetfw(dir);
  v.backend('nftables');
  await v.define(n);
  const start = await v.timed(['start', ...names(n)]);
  const afterStart = await kernelCounts();
  v.backend('iptables');
  const sw = await v.timed(['reconcile']);
  const afterSwitch = await kernelCounts();
  const stop = await v.timed(['stop', ...names(n)]);
  const afterStop = await kernelCounts();
  return { start, switch: sw, stop, check: JSON.stringify({ afterStart, afterSwitch, afterStop }) };
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
// How many times the daemon's switch is measured (VNETFW_BENCH_SWITCHES, default 3).
const SWITCHES = Math.max(1, Number(process.env.VNETFW_BENCH_SWITCHES ?? '3'));

// programs: 'direct' runs the daemon with VNETFW_PROGRAM_HELPER=off (it starts its programs itself).
const daemon = async (n: number, dir: string, programs: 'helper' | 'direct' = 'helper'): Promise<WorkerResult> => {
  const v = new Vnetfw(dir);
  v.backend('nftables');
  await v.define(n);
  let api: ((stateDir: string, req: { cmd: 'reconcile' | 'ping' }) => Promise<unknown>) | undefined;
  try {
    const mod = (await import('../../src/daemon/index.js')) as Record<string, unknown>;
    if (typeof mod['requestDaemon'] === 'function') api = mod['requestDaemon'] as typeof api;
  } catch { /* not there */ }
  // VNETFW_BENCH_PROFILE=DIR: the daemon runs under `node --cpu-prof` into DIR, and DIR/window.json
  // holds the switch's start and end on the profile's clock (CLOCK_MONOTONIC, microseconds).
  const profileDir = process.env.VNETFW_BENCH_PROFILE;
  const dargv = v.argv(['daemon']);
  if (profileDir !== undefined) dargv.splice(1, 0, '--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--cpu-prof-interval', process.env.VNETFW_BENCH_PROFILE_US ?? '250');
  // VNETFW_BENCH_DAEMON_WRAP="strace -f ...": a program to run the daemon under (a timeline of it).
  const wrap = process.env.VNETFW_BENCH_DAEMON_WRAP?.split(' ').filter((w) => w !== '') ?? [];
  dargv.unshift(...wrap);
  const env = programs === 'direct' ? { ...process.env, VNETFW_PROGRAM_HELPER: 'off' } : process.env;
  const child: ChildProcess = spawn(dargv[0]!, dargv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env });
  let said = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => { said += c; });
  child.stderr?.setEncoding('utf8').on('data', (c: string) => { said += c; });
  try {
    // Ready: the socket answers (or, without it, the first reconcile has been logged).
    const t0 = performance.now();
    for (;;) {
      if (performance.now() - t0 > 30_000) throw new Error(`daemon not ready: ${said}`);
      if (api !== undefined) { if (await api(v.stateDir, { cmd: 'ping' }).then(() => true, () => false)) break; } else if (said.length > 0) break;
      await sleep(20);
    }
    // The networks are started with the CLI while the daemon runs (the daemon API has no start).
    const start = await v.timed(['start', ...names(n)]);
    await sleep(1500);                              // let the daemon's reaction to the new records settle
    if (api !== undefined) await api(v.stateDir, { cmd: 'reconcile' });
    const afterStart = await kernelCounts();
    // One switch to `to`, from an idle daemon (a reconcile is followed by the daemon's drift check,
    // about 150 ms after it: the switch is not queued behind that check).
    const cpuMs = (): number => {
      // The daemon's own CPU time over the switch, all its threads (/proc/PID/task/*/schedstat: time
      // on a CPU, in ns): what it costs besides waiting for its programs and for a CPU (steadier than
      // wall time on a loaded machine).
      const pid = child.pid ?? 0;
      let ns = 0;
      for (const t of readdirSync(`/proc/${pid}/task`)) {
        try { ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]); } catch { /* the thread ended */ }
      }
      return Math.round(ns / 1e5) / 10;
    };
    let how = '';
    const switchTo = async (to: Backend): Promise<{ ms: number; cpu: number; programs: number; startUs: number; endUs: number }> => {
      await sleep(700);
      const p0 = await v.intended();
      const lines0 = v.logLines().length;
      const c0 = cpuMs();
      const t = performance.now();
      const usNow = (): number => Number(process.hrtime.bigint() / 1000n);
      const w0 = usNow();
      v.backend(to);
      if (api !== undefined) {
        await api(v.stateDir, { cmd: 'reconcile' });
        how = 'config rewritten + socket reconcile request (resolves when the cycle is done)';
      } else {
        child.kill('SIGHUP');
        for (;;) {
          const committed = v.logLines().slice(lines0).filter((l) => l.includes('"operation.committed"') && l.includes(`"${to}"`)).length;
          if (committed >= n) break;
          await sleep(5);
        }
        how = 'config rewritten + SIGHUP, polling the log files for N operation.committed';
      }
      const ms = performance.now() - t;
      const w1 = usNow();
      return { ms, cpu: Math.round((cpuMs() - c0) * 10) / 10, programs: (await v.intended()) - p0, startUs: w0, endUs: w1 };
    };
    // The measured nftables -> iptables switch, SWITCHES times in the same daemon (back to nftables
    // in between, unmeasured): the median by wall time is reported, as for the floor, and every
    // run is kept. The first is the daemon's first switch after its start.
    const measured: Array<Awaited<ReturnType<typeof switchTo>>> = [];
    for (let k = 0; k < SWITCHES; k++) {
      if (k > 0) await switchTo('nftables');
      measured.push(await switchTo('iptables'));
    }
    const byMs = [...measured].sort((a, b) => a.ms - b.ms);
    const mid = byMs[(byMs.length - 1) >> 1]!;
    const daemonCpuMs = mid.cpu;
    if (profileDir !== undefined) writeFileSync(join(profileDir, 'window.json'), JSON.stringify({ startUs: mid.startUs, endUs: mid.endUs }));
    const sw: Phase = { ms: mid.ms, programs: mid.programs, note: `${how}; median of ${SWITCHES} switches in one daemon` };
    const switches = measured.map((m) => `${m.ms.toFixed(0)} ms (cpu ${m.cpu} ms)`).join(', ');
    const afterSwitch = await kernelCounts();
    await sleep(500);
    const stop = await v.timed(['stop', ...names(n)]);
    const afterStop = await kernelCounts();
    return { start, switch: sw, stop, check: JSON.stringify({ afterStart, afterSwitch, afterStop }), daemonSaid: said.slice(-4000), daemonCpuMs, switches };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => { if (child.exitCode !== null) r(null); else child.once('exit', r); });
  }
};

// Process start-up alone: `--version`, and `list` on an empty state.
const startup = async (dir: string, runs: number): Promise<WorkerResult> => {
  const v = new Vnetfw(dir);
  v.backend('nftables');
  const version: number[] = [];
  const list: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < runs; i++) {
    version.push(await v.cli(['--version']));
    list.push(await v.cli(['list']));
    bare.push((await run([process.execPath, '-e', '0'])).ms);
  }
  return { version: { ms: median(version), programs: 0 }, list: { ms: median(list), programs: 0 }, node: { ms: median(bare), programs: 0 } };
};

// One network's start/stop with 0 and with `others` networks active, per backend.
const single = async (others: number, dir: string, runs: number, backend: Backend): Promise<WorkerResult> => {
  const v = new Vnetfw(dir);
  v.backend(backend);
  await v.define(others, ['x']);
  const measure = async (): Promise<{ start: Phase; stop: Phase }> => {
    const st: Phase[] = [];
    const sp: Phase[] = [];
    for (let i = 0; i < runs; i++) { st.push(await v.timed(['start', 'x'])); sp.push(await v.timed(['stop', 'x'])); }
    return {
      start: { ms: median(st.map((p) => p.ms)), programs: median(st.map((p) => p.programs)) },
      stop: { ms: median(sp.map((p) => p.ms)), programs: median(sp.map((p) => p.programs)) },
    };
  };
  const zero = await measure();
  const startOthers = await v.timed(['start', ...names(others)]);
  const busy = await measure();
  return { start0: zero.start, stop0: zero.stop, startN: busy.start, stopN: busy.stop, startOthers };
};

const main = async (): Promise<void> => {
  const [mode, nArg, dir, extra] = process.argv.slice(2);
  const n = Number(nArg);
  if (dir === undefined) throw new Error('usage: worker.js MODE N DIR [BACKEND|RUNS]');
  let res: WorkerResult;
  switch (mode) {
    case 'libvirt': res = await libvirt(n); break;
    case 'floor': res = await floor(n, 'remove-first'); break;
    case 'floor-mbb': res = await floor(n, 'make-before-break'); break;
    case 'cli': res = await cli(n, dir); break;
    case 'daemon': res = await daemon(n, dir); break;
    case 'daemon-direct': res = await daemon(n, dir, 'direct'); break;
    case 'startup': res = await startup(dir, Number(extra ?? '5')); break;
    case 'single': res = await single(n, dir, 5, (extra ?? 'nftables') as Backend); break;
    default: throw new Error(`unknown mode ${mode ?? ''}`);
  }
  process.stdout.write(`${JSON.stringify(res)}\n`);
};

main().catch((err: unknown) => { process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`); process.exitCode = 1; });
