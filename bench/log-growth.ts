// How much the event log grows per periodic drift check of an idle host: one network started (an
// IPv4 + IPv6 nat network, libvirt's layout) in a fresh network namespace, the daemon run with
// `--check-every 1 --no-monitor` until it has done --checks checks, then the log measured. Each
// check is the daemon's own cycle: its queries (one operation id, no network) and whatever the
// cycle writes after them (the snapshot.written record). Needs root (netns).
//   node dist/bench/run.js log-growth [--checks 20] [--backend nftables,iptables]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { networkXml } from './switch/common.js';
import type { Bench } from './run.js';

const BIN = join(fileURLToPath(new URL('../../', import.meta.url)), 'bin', 'vnetfw.js');
const DAY_AT_30S = 24 * 3600 / 30;

interface Rec { op?: string; network?: string; type: string; purpose?: string; bytes: number }

const readLog = (state: string): Rec[] => {
  const dir = join(state, 'log');
  return readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort().flatMap((f) =>
    readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l !== '').map((l) => ({ ...(JSON.parse(l) as Omit<Rec, 'bytes'>), bytes: Buffer.byteLength(l) + 1 })));
};

// Where each periodic check starts: the first record of an operation whose first record is a query
// that belongs to no network (the drift check's scope).
const checkStarts = (recs: Rec[]): number[] => {
  const seen = new Set<string>();
  const out: number[] = [];
  recs.forEach((r, i) => {
    if (r.op === undefined || seen.has(r.op)) return;
    seen.add(r.op);
    if (r.type === 'command.intended' && r.purpose === 'query' && r.network === undefined) out.push(i);
  });
  return out;
};

const must = (argv: string[]): string => {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

const waitFor = async (what: string, ok: () => boolean, ms: number): Promise<void> => {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

interface Row { backend: string; checks: number; bytesPerCheck: number; recordsPerCheck: number; queryBytesPerCheck: number }

const measure = async (backend: string, checks: number): Promise<Row> => {
  const ns = `vnetfw-bench-growth-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'vnetfw-bench-growth-'));
  const state = join(dir, 'state');
  must(['ip', 'netns', 'add', ns]);
  let daemon: ReturnType<typeof spawn> | undefined;
  try {
    must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    writeFileSync(join(dir, 'network.conf'), `firewall_backend = "${backend}"\n`);
    writeFileSync(join(dir, 'n0.xml'), networkXml(0));
    const cli = ['ip', 'netns', 'exec', ns, process.execPath, BIN, '--state-dir', state, '--config', join(dir, 'network.conf')];
    must([...cli, 'define', join(dir, 'n0.xml')]);
    must([...cli, 'start', 'n0']);
    daemon = spawn(cli[0]!, [...cli.slice(1), 'daemon', '--check-every', '1', '--no-monitor'], { stdio: 'ignore' });
    // checks + 2: the first check (with the first cycle's doctor) and the last (maybe unfinished) are left out.
    await waitFor(`${checks + 2} checks`, () => checkStarts(readLog(state)).length >= checks + 2, (checks + 30) * 2000);
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon?.once('exit', r));
    daemon = undefined;
    const recs = readLog(state);
    const starts = checkStarts(recs);
    const from = starts[1]!;
    const to = starts[checks + 1]!;
    const span = recs.slice(from, to);
    const ops = new Set(starts.slice(1, checks + 1).map((i) => recs[i]!.op));
    return {
      backend, checks,
      bytesPerCheck: span.reduce((a, r) => a + r.bytes, 0) / checks,
      recordsPerCheck: span.length / checks,
      queryBytesPerCheck: span.filter((r) => ops.has(r.op)).reduce((a, r) => a + r.bytes, 0) / checks,
    };
  } finally {
    if (daemon !== undefined) { daemon.kill('SIGTERM'); await new Promise((r) => daemon?.once('exit', r)); }
    spawnSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  }
};

export const logGrowthBench: Bench = {
  name: 'log-growth',
  about: 'event log bytes per periodic drift check of an idle host with one network (root, netns)',
  async run(args) {
    const arg = (name: string): string | undefined => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
    const checks = Number(arg('--checks') ?? '20');
    const rows: Row[] = [];
    for (const backend of (arg('--backend') ?? 'nftables,iptables').split(',')) rows.push(await measure(backend, checks));
    const lines = [
      `log growth per idle drift check (one network, ${checks} checks; per day = 2,880 checks at the default 30 s)`,
      `${'backend'.padEnd(10)} ${'records'.padStart(8)} ${'queries B'.padStart(10)} ${'total B'.padStart(9)} ${'MB/day'.padStart(8)}`,
      ...rows.map((r) => `${r.backend.padEnd(10)} ${r.recordsPerCheck.toFixed(1).padStart(8)} ${r.queryBytesPerCheck.toFixed(0).padStart(10)} ${r.bytesPerCheck.toFixed(0).padStart(9)} ${(r.bytesPerCheck * DAY_AT_30S / 1e6).toFixed(2).padStart(8)}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  },
};
