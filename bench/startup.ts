// Start-up of the CLI next to the floor, `node -e 0`, measured side by side in one run (rounds,
// each running every command once, in turn, so machine load hits all of them alike). Each run is
// timed by bash's `time` (wall, user, sys; ms resolution) around the process alone.
//   node dist/bench/run.js startup [--runs 21] [--baseline DIR]
// Needs no root: the state directory is a temporary one with 10 defined networks. --baseline: another
// built checkout (e.g. the commit before a change) whose bin/vnetfw.js runs the same commands in
// the same rounds, for a before/after side by side.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, networkXml } from './switch/common.js';
import type { Bench } from './run.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'vnetfw.js');

interface Sample { wall: number; cpu: number }

// One run of argv under bash's `time`; the command's own output is discarded.
const timed = (argv: readonly string[]): Sample => {
  const r = spawnSync('bash', ['-c', 'TIMEFORMAT="%3R %3U %3S"; { time "$@" >/dev/null 2>&1; } 2>&1', 'bench', ...argv], { encoding: 'utf8' });
  const [wall = NaN, user = NaN, sys = NaN] = r.stdout.trim().split(/\s+/).map(Number);
  return { wall: wall * 1000, cpu: (user + sys) * 1000 };
};

const arg = (args: string[], name: string, dflt: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : dflt;
};

export const startupBench: Bench = {
  name: 'startup',
  about: 'start-up of vnetfw --version, list, status, plan and an engine command vs node -e 0',
  run: async (args) => {
    const runs = Number(arg(args, '--runs', '21'));
    const dir = mkdtempSync(join(tmpdir(), 'vnetfw-bench-startup-'));
    try {
      const state = join(dir, 'state');
      const conf = join(dir, 'network.conf');
      const files = Array.from({ length: 10 }, (_, i) => {
        const f = join(dir, `n${i}.xml`);
        writeFileSync(f, networkXml(i));
        return f;
      });
      const def = spawnSync(process.execPath, [BIN, '--state-dir', state, '--config', conf, 'define', ...files], { encoding: 'utf8' });
      if (def.status !== 0) throw new Error(`define: ${def.stderr}`);
      // tsc's modules without the bundle, for comparison: the same main() the bundle holds.
      const unbundled = join(dir, 'unbundled.mjs');
      writeFileSync(unbundled, `import { main } from ${JSON.stringify(join(ROOT, 'dist', 'src', 'cli', 'main.js'))};\nmain(process.argv.slice(2)).then((c) => { process.exitCode = c; });\n`);
      const g = ['--state-dir', state, '--config', conf];
      const cases: Array<[string, string[]]> = [
        ['node -e 0', [process.execPath, '-e', '0']],
        ['vnetfw --version', [process.execPath, BIN, '--version']],
        ['vnetfw --help', [process.execPath, BIN, '--help']],
        ['vnetfw list (10 networks)', [process.execPath, BIN, ...g, 'list']],
        ['vnetfw status n3', [process.execPath, BIN, ...g, 'status', 'n3']],
        ['vnetfw plan n3', [process.execPath, BIN, ...g, 'plan', 'n3', '--backend', 'nftables']],
        // An engine command with nothing to do on the kernel: loads the engine, takes the lock,
        // opens the log, refuses the unknown name.
        ['vnetfw start nosuch (engine, no work)', [process.execPath, BIN, ...g, 'start', 'nosuch']],
        ['unbundled: --version', [process.execPath, unbundled, '--version']],
        ['unbundled: list', [process.execPath, unbundled, ...g, 'list']],
      ];
      const baseline = arg(args, '--baseline', '');
      if (baseline !== '') {
        const old = join(baseline, 'bin', 'vnetfw.js');
        cases.push(
          ['baseline: --version', [process.execPath, old, '--version']],
          ['baseline: list (10 networks)', [process.execPath, old, ...g, 'list']],
          ['baseline: status n3', [process.execPath, old, ...g, 'status', 'n3']],
          ['baseline: start nosuch', [process.execPath, old, ...g, 'start', 'nosuch']],
        );
      }
      const samples = new Map<string, Sample[]>(cases.map(([n]) => [n, []]));
      for (const [, argv] of cases) timed(argv); // warm the page cache
      for (let r = 0; r < runs; r++) for (const [n, argv] of cases) samples.get(n)!.push(timed(argv));
      const floor = samples.get('node -e 0')!;
      const fw = median(floor.map((s) => s.wall));
      const fc = median(floor.map((s) => s.cpu));
      process.stdout.write(`startup: median of ${runs} runs, ms (node ${process.version})\n\n`);
      process.stdout.write('| command | wall ms | wall / floor | cpu ms | cpu / floor |\n|---|---:|---:|---:|---:|\n');
      for (const [n] of cases) {
        const s = samples.get(n)!;
        const w = median(s.map((x) => x.wall));
        const c = median(s.map((x) => x.cpu));
        process.stdout.write(`| ${n} | ${w.toFixed(0)} | ${(w / fw).toFixed(2)} | ${c.toFixed(0)} | ${(c / fc).toFixed(2)} |\n`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
