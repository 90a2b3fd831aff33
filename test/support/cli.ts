// The built CLI as a user runs it: inside a namespace (`ip netns exec` execs node, so the process
// crash wrappers kill is the one this waits for), with its own state directory and network.conf;
// and what it reports (status, the event log) read back through the CLI.
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { inNs } from './netns.js';
import { cliPath } from './paths.js';
import { bg, IP, must, run, type Bg, type Res } from './proc.js';
import type { Backend } from './rulesets.js';
import { armCrash, makeCrashShims, pathWith, type Crash } from './wrappers.js';

export const writeConf = (file: string, backend: Backend, extra = ''): string => {
  writeFileSync(file, `firewall_backend = "${backend}"\n${extra}`);
  return file;
};

export interface CliRun {
  crash?: Crash;                  // crash wrappers, set for this run, first on PATH
  wrappers?: string;              // a directory of (already set) wrappers first on PATH
  env?: Record<string, string>;   // added to the environment
}

const cliEnv = (o: CliRun = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, ...o.env };
  delete env.VNETFW_STATE_DIR;
  delete env.VNETFW_CONFIG;
  if (o.crash !== undefined) {
    const c = o.crash;
    // A directory per counter and crash point: cases running side by side never share settings.
    const dir = makeCrashShims(join(c.shimDir, `${basename(c.counter)}-${c.at}-${c.when}`));
    armCrash(dir, c.counter, c.at, c.when);
    env.PATH = pathWith(dir);
  } else if (o.wrappers !== undefined) {
    env.PATH = pathWith(o.wrappers);
  }
  return env;
};

const cliArgv = (stateDir: string, conf: string, args: readonly string[]): string[] =>
  [process.execPath, cliPath, '--state-dir', stateDir, '--config', conf, ...args];

export const vnet = (ns: string, stateDir: string, conf: string, args: readonly string[], o: CliRun = {}): Promise<Res> =>
  inNs(ns, cliArgv(stateDir, conf, args), { env: cliEnv(o), timeoutMs: 120_000 });

// The same, left running in the background (a daemon, or a writer another run races).
export const vnetBg = (ns: string, stateDir: string, conf: string, args: readonly string[], o: CliRun = {}): Bg =>
  bg([IP, 'netns', 'exec', ns, ...cliArgv(stateDir, conf, args)], { env: cliEnv(o) });

// Read-only commands need no namespace.
export const vnetRO = (stateDir: string, args: readonly string[]): Promise<Res> =>
  run([process.execPath, cliPath, '--state-dir', stateDir, ...args], { env: cliEnv() });

export const statusOf = async (stateDir: string, name: string): Promise<Record<string, unknown>> => {
  const r = await must(vnetRO(stateDir, ['--json', 'status', name]), `status ${name}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
};

// A record as `log --json` prints it, its event's fields under `data` (the log writes them beside
// the envelope; field() reads one).
export interface LogRec { seq: number; time: string; type: string; network?: string; op?: string; data: Record<string, unknown> }
export const field = (r: LogRec, k: string): unknown => r.data[k];

const ENVELOPE = new Set(['v', 'seq', 'time', 'type', 'network', 'op', 'prev', 'hash']);
export const logRecords = async (stateDir: string): Promise<LogRec[]> => {
  const r = await must(vnetRO(stateDir, ['--json', 'log']), 'log --json');
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => {
    const flat = JSON.parse(l) as Record<string, unknown>;
    const rec: Record<string, unknown> = { data: {} };
    for (const [k, v] of Object.entries(flat)) {
      if (ENVELOPE.has(k)) rec[k] = v; else (rec.data as Record<string, unknown>)[k] = v;
    }
    return rec as unknown as LogRec;
  });
};

// Duration of each operation of `kind` in the log: operation.started -> committed | rolled-back.
export const opDurations = (recs: readonly LogRec[], kind: string): Array<{ op: string; ms: number; outcome: string }> => {
  const started = new Map<string, number>();
  const out: Array<{ op: string; ms: number; outcome: string }> = [];
  for (const r of recs) {
    if (r.op === undefined) continue;
    if (r.type === 'operation.started' && field(r, 'kind') === kind) started.set(r.op, Date.parse(r.time));
    else if ((r.type === 'operation.committed' || r.type === 'operation.rolled-back') && started.has(r.op)) {
      out.push({ op: r.op, ms: Date.parse(r.time) - (started.get(r.op) ?? 0), outcome: r.type.slice('operation.'.length) });
    }
  }
  return out;
};
