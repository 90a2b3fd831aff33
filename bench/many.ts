// Many networks from the command line: `vnetfw define` of N files in one process (one fsync), then
// one `vnetfw start` of all N (bridges created, rules in shared batches), then one `stop`; each in
// a fresh network namespace created and removed here. The goal: define + start of 1000 networks
// under 10 s in all. For comparison, --single M defines M of them one process each, and
// --compare BIN measures another build's CLI (e.g. an older commit's bin/vnetfw.js) the same way,
// in the same run, alternating with this one per size (--only-compare-up-to N: not above N).
//   node dist/bench/run.js many [--sizes 100,1000] [--backend nftables|iptables] [--single 50]
//                               [--compare /path/to/other/bin/vnetfw.js] [--only-compare-up-to N]
// Needs root (network namespaces), nft or iptables, iproute2.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bench } from './run.js';
import { mustRun, netName, networkXml, run } from './switch/common.js';

const BIN = fileURLToPath(new URL('../../bin/vnetfw.js', import.meta.url));

const arg = (args: string[], name: string, dflt: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : dflt;
};

interface Row { label: string; n: number; defineMs: number; startMs: number; stopMs: number; programs: number; active: number; singleMs?: number; single?: number }

const measure = async (bin: string, label: string, n: number, backend: string, single: number): Promise<Row> => {
  const ns = `vnetfw-bench-many-${process.pid}-${n}-${label}`;
  const dir = mkdtempSync(join(tmpdir(), 'vnetfw-bench-many-'));
  await mustRun(['ip', 'netns', 'add', ns]);
  try {
    const conf = join(dir, 'network.conf');
    writeFileSync(conf, `firewall_backend = "${backend}"\n`);
    const files = Array.from({ length: n }, (_, k) => {
      const f = join(dir, `n${k + 1}.xml`);
      writeFileSync(f, networkXml(k + 1));
      return f;
    });
    const names = files.map((_, k) => netName(k + 1));
    const cli = (state: string, ...a: string[]): Promise<{ code: number; stdout: string; stderr: string; ms: number }> =>
      run(['ip', 'netns', 'exec', ns, process.execPath, bin, '--state-dir', state, '--config', conf, ...a]);
    const must = async (state: string, ...a: string[]): Promise<number> => {
      const r = await cli(state, ...a);
      if (r.code !== 0) throw new Error(`vnetfw ${a[0]} (N=${n}) exited ${r.code}: ${r.stderr.trim().slice(0, 500)}`);
      return r.ms;
    };
    const state = join(dir, 'state');
    const defineMs = await must(state, 'define', ...files);
    const startMs = await must(state, 'start', ...names);
    const listed = (await cli(state, '--json', 'list')).stdout.split('\n').filter((l) => l.includes('"state":"active"')).length;
    const programs = (await cli(state, '--json', 'log', '--type', 'command.intended')).stdout.split('\n').filter((l) => l !== '').length;
    const stopMs = await must(state, 'stop', ...names);
    const row: Row = { label, n, defineMs, startMs, stopMs, programs, active: listed };
    if (single > 0) {
      const other = join(dir, 'state-single');
      const t = performance.now();
      for (const f of files.slice(0, single)) await must(other, 'define', f);
      row.singleMs = performance.now() - t;
      row.single = single;
    }
    return row;
  } finally {
    await run(['ip', 'netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  }
};

export const manyBench: Bench = {
  name: 'many',
  about: 'define N networks in one process, start them all, stop them all (root, netns)',
  run: async (args) => {
    const sizes = arg(args, '--sizes', '100,1000').split(',').map(Number);
    const backend = arg(args, '--backend', 'nftables');
    const single = Number(arg(args, '--single', '50'));
    const compare = arg(args, '--compare', '');
    const compareUpTo = Number(arg(args, '--only-compare-up-to', 'Infinity'));
    const builds = [...(compare === '' ? [] : [{ bin: compare, label: 'compared' }]), { bin: BIN, label: 'this build' }];
    process.stdout.write(`many: ${backend}, node ${process.version}, ${cpus().length} CPUs${compare === '' ? '' : `; compared: ${compare}`}\n\n`);
    process.stdout.write('| build | N | define ms (1 process) | start ms (1 process) | define + start ms | stop ms | programs run by start | active after start | define one process each |\n');
    process.stdout.write('|---|---:|---:|---:|---:|---:|---:|---:|---|\n');
    for (const n of sizes) {
      for (const b of builds) {
        if (b.label === 'compared' && n > compareUpTo) continue;
        const r = await measure(b.bin, b.label.replace(' ', '-'), n, backend, Math.min(single, n));
        const each = r.singleMs === undefined ? '' : `${r.single} files: ${r.singleMs.toFixed(0)} ms (${(r.singleMs / r.single!).toFixed(0)} ms each)`;
        process.stdout.write(`| ${b.label} | ${n} | ${r.defineMs.toFixed(0)} | ${r.startMs.toFixed(0)} | ${(r.defineMs + r.startMs).toFixed(0)} | ${r.stopMs.toFixed(0)} | ${r.programs} | ${r.active} | ${each} |\n`);
      }
    }
  },
};
