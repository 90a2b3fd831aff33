// Backend switch nftables -> iptables of N dual-stack NAT networks (libvirt's nat-ipv6 case,
// renumbered), side by side: libvirt's way (one process per rule), the floor (one transaction per
// program; remove-first order, and `floor-mbb` in the daemon's make-before-break order), the vnetfw
// CLI and the vnetfw daemon. Each method and size runs in a fresh network
// namespace, created and removed here; the body runs inside it (bench/switch/worker.ts).
//   node dist/bench/run.js switch [--sizes 1,10,40,100] [--methods libvirt,floor,floor-mbb,cli,daemon,daemon-direct] [--others 100] [--no-single]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bench } from './run.js';
import { bridgesBatch, bridgeName, mustRun, run, type Phase, type WorkerResult } from './switch/common.js';

const WORKER = fileURLToPath(new URL('./switch/worker.js', import.meta.url));
const METHODS = ['libvirt', 'floor', 'floor-mbb', 'cli', 'daemon', 'daemon-direct'] as const;
type Method = typeof METHODS[number];

let nsCounter = 0;
const inNamespace = async (mode: string, n: number, bridges: number[], extra?: string): Promise<WorkerResult> => {
  const ns = `vnetfw-bench-${process.pid}-${++nsCounter}`;
  const dir = mkdtempSync(join(tmpdir(), `vnetfw-bench-${mode}-`));
  await mustRun(['ip', 'netns', 'add', ns]);
  try {
    await mustRun(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    if (bridges.length > 0) await mustRun(['ip', '-n', ns, '-batch', '-'], bridgesBatch(bridges));
    const r = await run(['ip', 'netns', 'exec', ns, process.execPath, WORKER, mode, String(n), dir, ...(extra === undefined ? [] : [extra])]);
    if (r.code !== 0) throw new Error(`${mode} N=${n} failed: ${r.stderr.trim().slice(-2000)}`);
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as WorkerResult;
  } finally {
    await run(['ip', 'netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  }
};

const range = (n: number): number[] => Array.from({ length: n }, (_, k) => k + 1);
const phase = (r: WorkerResult | undefined, key: string): Phase | undefined => r?.[key] as Phase | undefined;

const version = async (argv: string[]): Promise<string> => (await run(argv)).stdout.split('\n')[0]?.trim() ?? '?';

export const switchBench: Bench = {
  name: 'switch',
  about: 'nftables -> iptables switch of N nat-ipv6 networks: libvirt\'s way, the floor, vnetfw CLI and daemon (root, netns)',
  async run(args) {
    const arg = (name: string): string | undefined => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
    const sizes = (arg('--sizes') ?? '1,10,40,100').split(',').map(Number);
    const methods = (arg('--methods') ?? METHODS.join(',')).split(',') as Method[];
    const others = Number(arg('--others') ?? '100');
    if (process.getuid?.() !== 0) throw new Error('the switch benchmark needs root (network namespaces)');

    const machine = {
      nproc: cpus().length, cpu: cpus()[0]?.model ?? '?', kernel: release(), node: process.version,
      nft: await version(['nft', '--version']), iptables: await version(['iptables', '--version']),
    };
    process.stdout.write(`machine: ${JSON.stringify(machine)}\n`);
    const results: Record<string, Record<string, WorkerResult>> = {};
    for (const n of sizes) {
      results[n] = {};
      for (const m of methods) {
        process.stderr.write(`switch: ${m} N=${n} ...\n`);
        const t = Date.now();
        if (m === 'floor' || m === 'floor-mbb') {
          // The floor is cheap and the most sensitive to noise: median of 3 runs by switch time.
          const runs: WorkerResult[] = [];
          for (let k = 0; k < 3; k++) runs.push(await inNamespace(m, n, range(n)));
          runs.sort((a, b) => (phase(a, 'switch')?.ms ?? 0) - (phase(b, 'switch')?.ms ?? 0));
          results[n]![m] = runs[1]!;
        } else {
          results[n]![m] = await inNamespace(m, n, range(n));
        }
        const done = results[n]![m]!;
        const ms = (k: string): string => (phase(done, k)?.ms ?? NaN).toFixed(0);
        process.stderr.write(`switch: ${m} N=${n} done in ${((Date.now() - t) / 1000).toFixed(1)} s: start ${ms('start')} ms, switch ${ms('switch')} ms, stop ${ms('stop')} ms\n`);
        // Partial results survive an interrupted run.
        mkdirSync('bench-results', { recursive: true });
        writeFileSync('bench-results/switch.partial.json', `${JSON.stringify({ machine, results }, null, 2)}\n`);
      }
    }
    process.stderr.write('switch: start-up ...\n');
    const startup = await inNamespace('startup', 0, [], '7');
    const single: Record<string, WorkerResult> = {};
    if (!args.includes('--no-single')) {
      for (const b of ['nftables', 'iptables']) {
        process.stderr.write(`switch: one network with 0 and ${others} others (${b}) ...\n`);
        single[b] = await inNamespace('single', others, [...range(others), 9000], b);
      }
    }

    // ---- table ----
    const f = (x: number | undefined, w = 9): string => (x === undefined || Number.isNaN(x) ? '-' : x < 10 ? x.toFixed(2) : x.toFixed(0)).padStart(w);
    const lines: string[] = [];
    lines.push(`| N | method | start ms | switch ms | stop ms | switch / libvirt | switch / floor | switch / floor-mbb | programs per network (start / switch / stop) |`);
    lines.push('|---:|---|---:|---:|---:|---:|---:|---:|---|');
    const label: Record<Method, string> = {
      libvirt: "libvirt's way (process per rule)", floor: 'floor (1 transaction per program, remove first)',
      'floor-mbb': 'floor-mbb (1 transaction per program, make before break)', cli: 'vnetfw CLI', daemon: 'vnetfw daemon (programs started by its helper)',
      'daemon-direct': 'vnetfw daemon (programs started by itself, VNETFW_PROGRAM_HELPER=off)',
    };
    for (const n of sizes) {
      const lv = phase(results[n]?.libvirt, 'switch')?.ms;
      const fl = phase(results[n]?.floor, 'switch')?.ms;
      const fm = phase(results[n]?.['floor-mbb'], 'switch')?.ms;
      for (const m of methods) {
        const r = results[n]?.[m];
        const s = phase(r, 'start');
        const w = phase(r, 'switch');
        const p = phase(r, 'stop');
        const per = (x: Phase | undefined): string => (x === undefined ? '-' : (x.programs / n).toFixed(1));
        lines.push(`| ${n} | ${label[m]} | ${f(s?.ms).trim()} | ${f(w?.ms).trim()} | ${f(p?.ms).trim()} | ${lv === undefined || w === undefined ? '-' : (w.ms / lv).toFixed(3)} | ${fl === undefined || w === undefined ? '-' : (w.ms / fl).toFixed(1)} | ${fm === undefined || w === undefined ? '-' : (w.ms / fm).toFixed(1)} | ${per(s)} / ${per(w)} / ${per(p)} |`);
      }
    }
    const su = (k: string): string => f(phase(startup, k)?.ms).trim();
    lines.push('');
    lines.push(`Process start-up alone (median of 7): \`node -e 0\` ${su('node')} ms, \`vnetfw --version\` ${su('version')} ms, \`vnetfw list\` (empty state) ${su('list')} ms.`);
    if (Object.keys(single).length > 0) {
      lines.push('');
      lines.push(`| one network \`x\` (median of 5, CLI) | start, 0 active | start, ${others} active | ratio | stop, 0 active | stop, ${others} active | ratio | programs start (0 / ${others}) |`);
      lines.push('|---|---:|---:|---:|---:|---:|---:|---|');
      for (const [b, r] of Object.entries(single)) {
        const g = (k: string): Phase | undefined => phase(r, k);
        const ratio = (a?: Phase, c?: Phase): string => (a === undefined || c === undefined ? '-' : (c.ms / a.ms).toFixed(2));
        lines.push(`| ${b} | ${f(g('start0')?.ms).trim()} | ${f(g('startN')?.ms).trim()} | ${ratio(g('start0'), g('startN'))} | ${f(g('stop0')?.ms).trim()} | ${f(g('stopN')?.ms).trim()} | ${ratio(g('stop0'), g('stopN'))} | ${g('start0')?.programs ?? '-'} / ${g('startN')?.programs ?? '-'} |`);
      }
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    const checks: string[] = [];
    for (const n of sizes) for (const m of methods) checks.push(`N=${n} ${m}: ${String(results[n]?.[m]?.check ?? '')}`);
    process.stdout.write(`rules of ours on the kernel after start/switch/stop (nft lines, iptables lines):\n${checks.join('\n')}\n`);
    const dnote = sizes.map((n) => phase(results[n]?.daemon, 'switch')?.note).find((x) => x !== undefined);
    if (dnote !== undefined) process.stdout.write(`daemon switch measured as: ${dnote}\n`);
    for (const n of sizes) {
      for (const m of ['daemon', 'daemon-direct'] as const) {
        const cpu = results[n]?.[m]?.daemonCpuMs;
        if (typeof cpu === 'number') process.stdout.write(`N=${n} ${m}: its own CPU time during the switch ${cpu} ms (all its threads, /proc schedstat)\n`);
        const each = results[n]?.[m]?.switches;
        if (typeof each === 'string') process.stdout.write(`N=${n} ${m}: each switch, in order: ${each}\n`);
      }
    }
    mkdirSync('bench-results', { recursive: true });
    writeFileSync('bench-results/switch.json', `${JSON.stringify({ machine, sizes, methods, results, startup, single, bridges: bridgeName(1) }, null, 2)}\n`);
    process.stdout.write('wrote bench-results/switch.json\n');
  },
};
