// How long opening the state takes for logs of 10^3, 10^5 and 10^6 events, with and without a
// snapshot. The logs are written directly (correct hash chain, realistic command records) so the
// benchmark measures open, not append's fsyncs. Target (issue 3): 10^6 with snapshot < 200 ms.
//   node dist/bench/run.js log [--sizes 1000,100000,1000000] [--runs 5] [--keep]
import { closeSync, fstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_SEGMENT_BYTES, DEFAULT_SNAPSHOT_EVERY, event, GENESIS_HASH, normalizeEvent, openStore, RECORD_VERSION, sealRecord,
  segmentPath, type NewEvent, type OpenOptions,
} from '../state/index.js';
import type { NetworkDef } from '../src/definition/types.js';
import type { Bench } from './run.js';

const NETWORKS = 8;

const def = (i: number): NetworkDef => ({
  name: `net${i}`, bridge: { name: `virbr${i}`, stp: true, delay: 0 }, forward: { mode: 'nat' }, ipv6: false,
  ips: [{ family: 'ipv4', address: `192.168.${100 + i}.1`, prefix: 24, dhcpRanges: [{ start: `192.168.${100 + i}.2`, end: `192.168.${100 + i}.254` }], dhcpHosts: [] }],
});

// An endless stream of realistic events: networks defined, then start operations of 24 iptables
// commands each (intended + finished), removal, commit, transitions.
function* events(): Generator<NewEvent> {
  for (let i = 0; i < NETWORKS; i++) yield event('network.defined', { definition: def(i), xml: `<network><name>net${i}</name></network>` }, { network: `net${i}` });
  for (let n = 0; ; n++) {
    const network = `net${n % NETWORKS}`;
    const bridge = `virbr${n % NETWORKS}`;
    const at = { network, op: `op-${n}` };
    yield event('operation.started', { kind: 'start', to: 'iptables' }, at);
    yield event('network.transition', { from: 'stopped', to: 'applying', event: 'START' }, at);
    for (let step = 1; step <= 24; step++) {
      const args = ['--table', 'filter', '--insert', 'LIBVIRT_FWO', '--source', `192.168.${100 + (n % NETWORKS)}.0/24`, '--in-interface', bridge, '--jump', 'ACCEPT'];
      yield event('command.intended', {
        step, argv: ['iptables', '-w', ...args], commands: [{ program: 'iptables', args }], purpose: 'apply',
        undo: [{ program: 'iptables', args: args.map((a) => (a === '--insert' ? '--delete' : a)) }],
      }, at);
      // As the store writes it: the finished record repeats argv.
      yield event('command.finished', { step, exitCode: 0, stdout: '', stderr: '', durationMs: 2.5, argv: ['iptables', '-w', ...args] }, at);
    }
    yield event('removal.recorded', { removal: { backend: 'iptables', groups: [{ ignoreErrors: true, commands: [{ program: 'iptables', args: ['--table', 'filter', '--delete', 'LIBVIRT_FWO', '--in-interface', bridge, '--jump', 'ACCEPT'] }] }] } }, at);
    yield event('operation.committed', { backend: 'iptables' }, at);
    yield event('network.transition', { from: 'applying', to: 'active', event: 'APPLIED' }, at);
  }
}

// Appends `count` records to the log in `dir` straight to the files, continuing the chain.
class LogWriter {
  private seq = 0;
  private prev = GENESIS_HASH;
  private segment = 1;
  private size = 0;
  private fd: number;
  private buf: string[] = [];
  private readonly gen = events();
  private readonly t0 = Date.parse('2025-01-01T00:00:00Z');

  constructor(private readonly dir: string) {
    mkdirSync(join(dir, 'log'), { recursive: true, mode: 0o700 });
    this.fd = openSync(segmentPath(dir, 1), 'w', 0o600);
  }

  write(count: number): void {
    for (let i = 0; i < count; i++) {
      const e = normalizeEvent(this.gen.next().value as NewEvent);
      const { record, line } = sealRecord({
        v: RECORD_VERSION, seq: ++this.seq, time: new Date(this.t0 + this.seq * 10).toISOString(), type: e.type,
        ...(e.network === undefined ? {} : { network: e.network }), ...(e.op === undefined ? {} : { op: e.op }), data: e.data, prev: this.prev,
      });
      this.prev = record.hash;
      const bytes = Buffer.byteLength(line);
      if (this.size + bytes > DEFAULT_SEGMENT_BYTES) {
        this.flush();
        closeSync(this.fd);
        this.fd = openSync(segmentPath(this.dir, ++this.segment), 'w', 0o600);
        this.size = 0;
      }
      this.size += bytes;
      this.buf.push(line);
      if (this.buf.length >= 4096) this.flush();
    }
    this.flush();
  }

  // Goes on after records the store appended itself (its snapshot.written record).
  resume(seq: number, hash: string): void {
    this.flush();
    closeSync(this.fd);
    this.seq = seq;
    this.prev = hash;
    this.fd = openSync(segmentPath(this.dir, this.segment), 'a', 0o600);
    this.size = fstatSync(this.fd).size;
  }

  private flush(): void {
    if (this.buf.length > 0) writeSync(this.fd, this.buf.join(''));
    this.buf = [];
  }

  close(): void { closeSync(this.fd); }
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };

const timeOpen = async (dir: string, opts: OpenOptions, runs: number, expectSeq: number): Promise<number> => {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const s = await openStore(dir, opts);
    ms.push(performance.now() - t);
    if (s.state().seq !== expectSeq) throw new Error(`opened at seq ${s.state().seq}, expected ${expectSeq}`);
    await s.close();
  }
  return median(ms);
};

// The same open in a fresh process: what a CLI command pays (no warmed-up JIT).
const coldOpen = (dir: string, runs: number, expectSeq: number, mode = 'snapshot'): number => {
  const script = fileURLToPath(new URL('./open-once.js', import.meta.url));
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(process.execPath, [script, dir, mode], { encoding: 'utf8' });
    const r = JSON.parse(out) as { ms: number; seq: number };
    if (r.seq !== expectSeq) throw new Error(`cold open at seq ${r.seq}, expected ${expectSeq}`);
    ms.push(r.ms);
  }
  return median(ms);
};

interface Row { events: number; logBytes: number; segments: number; buildMs: number; fullReplayMs: number; snapshotMs: number; snapshotWorstTailMs: number; coldSnapshotMs: number; coldWorstTailMs: number; tail: number }

export const logOpenBench: Bench = {
  name: 'log',
  about: 'event log open time for 10^3, 10^5, 10^6 events, with and without a snapshot',
  async run(args) {
    const arg = (name: string): string | undefined => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
    const sizes = (arg('--sizes') ?? '1000,100000,1000000').split(',').map(Number);
    const runs = Number(arg('--runs') ?? '5');
    const rows: Row[] = [];
    for (const n of sizes) {
      const dir = mkdtempSync(join(tmpdir(), `vnetfw-bench-${n}-`));
      try {
        const t = performance.now();
        const w = new LogWriter(dir);
        w.write(n);
        const buildMs = performance.now() - t;
        // Without a snapshot: the whole log is read, checked and folded.
        const fullReplayMs = await timeOpen(dir, { readonly: true, rebuild: true }, n >= 1_000_000 ? 1 : Math.min(runs, 3), n);
        const s = await openStore(dir); // a writer open of a long tail writes the snapshot itself
        await s.snapshot();
        const at = s.state();           // n + 1: the snapshot.written record the snapshot is taken at
        await s.close();
        w.resume(at.seq, at.hash);
        const snapshotMs = await timeOpen(dir, {}, runs, at.seq);
        const coldSnapshotMs = coldOpen(dir, runs, at.seq);
        const segs = readdirSync(join(dir, 'log')).filter((f) => f.endsWith('.jsonl'));
        const logBytes = segs.reduce((a, f) => a + statSync(join(dir, 'log', f)).size, 0);
        // Worst case: the snapshot is snapshotEvery - 1 records old.
        const tail = DEFAULT_SNAPSHOT_EVERY - 1;
        w.write(tail);
        w.close();
        // Read-only opens: a writer's close() would snapshot the tail away after the first run.
        const snapshotWorstTailMs = await timeOpen(dir, { readonly: true }, runs, at.seq + tail);
        const coldWorstTailMs = coldOpen(dir, runs, at.seq + tail, 'readonly');
        rows.push({ events: n, logBytes, segments: segs.length, buildMs, fullReplayMs, snapshotMs, snapshotWorstTailMs, coldSnapshotMs, coldWorstTailMs, tail });
      } finally {
        if (!args.includes('--keep')) rmSync(dir, { recursive: true, force: true });
      }
    }
    const f = (x: number): string => x.toFixed(1).padStart(10);
    const lines = [
      `event log open (node ${process.version}, ${cpus().length} CPUs, ${cpus()[0]?.model ?? '?'}; median of ${runs} runs, warm page cache)`,
      `${'events'.padStart(9)} ${'log MiB'.padStart(8)} ${'segs'.padStart(4)} ${'no snapshot'.padStart(12)} ${'snapshot'.padStart(10)} ${`snap+${DEFAULT_SNAPSHOT_EVERY - 1}`.padStart(10)} ${'cold snap'.padStart(10)} ${`cold s+${DEFAULT_SNAPSHOT_EVERY - 1}`.padStart(11)}  (ms)`,
      ...rows.map((r) => `${String(r.events).padStart(9)} ${(r.logBytes / 2 ** 20).toFixed(1).padStart(8)} ${String(r.segments).padStart(4)} ${f(r.fullReplayMs).padStart(12)} ${f(r.snapshotMs)} ${f(r.snapshotWorstTailMs)} ${f(r.coldSnapshotMs)} ${f(r.coldWorstTailMs).padStart(11)}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    mkdirSync('bench-results', { recursive: true });
    writeFileSync('bench-results/log-open.json', `${JSON.stringify({ node: process.version, cpus: cpus().length, runs, rows }, null, 2)}\n`);
    process.stdout.write('wrote bench-results/log-open.json\n');
  },
};
