// A sandbox for one CLI case: a state directory, network.conf, and recording wrappers (one writer
// with the crash wrappers: wrappers.ts) that record every call vnetfw makes, check that its intent
// was already in the event log (record.py), and inject failures on cue.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { vnet, vnetBg, writeConf, type CliRun } from './cli.js';
import type { Bg, Res } from './proc.js';
import type { Backend } from './rulesets.js';
import { PROGRAMS, writeWrappers } from './wrappers.js';

const RECORD_PY = fileURLToPath(new URL('./record.py', import.meta.url));

// One recorded call of a wrapped program.
export interface ShimCall {
  prog: string; n: number; argv: string[]; stdin: string;
  intent: 'present' | 'absent'; intentSeq: number | null; action: string; pid: number;
}

// A failure to inject: the `at`-th call of `prog` (counted per program since the last reset).
// exit1: exits 1 without running the real program; kill: SIGKILLs itself before running it;
// killafter: runs it, then SIGKILLs itself (the work is done but the caller sees a killed program);
// sleepN: sleeps N seconds, then runs it.
export interface Injection { prog: string; at: number; mode: 'exit1' | 'kill' | 'killafter' | `sleep${number}` }

export interface Sandbox {
  dir: string;          // temp dir holding everything below
  stateDir: string;
  shimDir: string;
  recDir: string;
  conf(backend: Backend): string;  // writes network.conf, returns its path
  calls(): ShimCall[];
  resetCalls(): void;
  cleanup(): void;
}

// Each wrapper records the call, then runs the real program unless told to fail. Settings
// (SHIM_REC, SHIM_STATE, SHIM_FAIL) come from shim.env; without SHIM_REC it only runs the program.
const recordingWrapper = (p: string, real: string): string => `[ -z "$SHIM_REC" ] && exec "${real}" "$@"
in=$(mktemp); cat > "$in"
action=$(python3 "${RECORD_PY}" "${p}" "$in" "$@") || action=run
case "$action" in
  exit1) rm -f "$in"; echo "${p}: injected failure" >&2; exit 1;;
  kill) rm -f "$in"; kill -9 $$;;
  sleep*) sleep "\${action#sleep}";;
esac
"${real}" "$@" < "$in"; rc=$?
rm -f "$in"
[ "$action" = killafter ] && kill -9 $$
exit $rc
`;

export const makeSandbox = (tag: string): Sandbox => {
  const dir = mkdtempSync(join(tmpdir(), `vnetfw-${tag}-`));
  const shimDir = writeWrappers(join(dir, 'shims'), PROGRAMS, 'shim.env', recordingWrapper);
  const recDir = join(dir, 'rec');
  mkdirSync(recDir);
  return {
    dir, shimDir, recDir, stateDir: join(dir, 'state'),
    conf: (backend) => writeConf(join(dir, `network.${backend}.conf`), backend),
    calls: () => {
      const f = join(recDir, 'calls.jsonl');
      if (!existsSync(f)) return [];
      return readFileSync(f, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as ShimCall);
    },
    resetCalls: () => { rmSync(recDir, { recursive: true, force: true }); mkdirSync(recDir); },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
};

export interface CliOptions {
  backend?: Backend;
  shims?: boolean;            // put the wrappers first on PATH (recording)
  fail?: Injection[];
  env?: Record<string, string>;
}

// Sets the wrappers for the next run (recording and failures) and says whether to use them.
const arm = (sb: Sandbox, o: CliOptions): string | undefined => {
  if (o.shims !== true && o.fail === undefined) return undefined;
  const fail = (o.fail ?? []).map((f) => `${f.prog}:${f.at}:${f.mode}`).join(',');
  writeFileSync(join(sb.shimDir, 'shim.env'), `export SHIM_REC='${sb.recDir}' SHIM_STATE='${sb.stateDir}' SHIM_FAIL='${fail}'\n`);
  return sb.shimDir;
};

const run = (sb: Sandbox, o: CliOptions): CliRun => {
  const wrappers = arm(sb, o);
  return { ...(wrappers === undefined ? {} : { wrappers }), ...(o.env === undefined ? {} : { env: o.env }) };
};

// Runs the built CLI inside `ns` with the sandbox's state and configuration.
export const vnetfw = (ns: string, sb: Sandbox, args: readonly string[], o: CliOptions = {}): Promise<Res> =>
  vnet(ns, sb.stateDir, sb.conf(o.backend ?? 'nftables'), args, run(sb, o));

// The same, in the background (for a second writer racing it).
export const vnetfwBg = (ns: string, sb: Sandbox, args: readonly string[], o: CliOptions = {}): Bg =>
  vnetBg(ns, sb.stateDir, sb.conf(o.backend ?? 'nftables'), args, run(sb, o));

// `status --json` of one network, as the sandbox's CLI reports it.
export const statusJson = async (ns: string, sb: Sandbox, name: string): Promise<Record<string, unknown>> => {
  const r = await vnetfw(ns, sb, ['--json', 'status', name]);
  if (r.code !== 0) throw new Error(`status ${name}: exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
};
