// Wrapper programs placed first on PATH in front of the programs vnetfw runs: crash wrappers
// (count every call, SIGKILL vnetfw at a chosen one) and recording wrappers (see recorder.ts).
// One writer for both. vnetfw gives the programs it runs only PATH and LC_ALL, so a wrapper reads
// its settings from a file in its own directory, written before each run.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { which } from './proc.js';

// Every program vnetfw runs for a network's firewall and bridge.
export const PROGRAMS = ['nft', 'iptables', 'ip6tables', 'iptables-restore', 'ip6tables-restore', 'iptables-save', 'ip6tables-save', 'ip'] as const;
export const CRASH_PROGRAMS = PROGRAMS;

// Writes one wrapper per program found on PATH into dir: `#!/bin/bash`, the settings file sourced
// if present, then `body(program, its real path)`. Returns dir.
export const writeWrappers = (dir: string, programs: readonly string[], settings: string, body: (prog: string, real: string) => string): string => {
  mkdirSync(dir, { recursive: true });
  for (const p of programs) {
    const real = which(p);
    if (real === undefined) continue;
    writeFileSync(join(dir, p), `#!/bin/bash\n[ -f "${join(dir, settings)}" ] && . "${join(dir, settings)}"\n${body(p, real)}`);
    chmodSync(join(dir, p), 0o755);
  }
  return dir;
};

// Each crash wrapper counts its call in CRASH_COUNTER (and logs it to CRASH_COUNTER.log); at call
// number CRASH_AT it SIGKILLs its parent (vnetfw) before the real program runs (CRASH_WHEN=before)
// or right after it finished (after). Settings: crash.env (armCrash).
export const makeCrashShims = (dir: string, programs: readonly string[] = CRASH_PROGRAMS): string =>
  writeWrappers(dir, programs, 'crash.env', (p, real) => `n=$(( $(cat "$CRASH_COUNTER" 2>/dev/null || echo 0) + 1 )); echo $n > "$CRASH_COUNTER"
echo "$n ${p} $*" >> "$CRASH_COUNTER.log"
if [ "$n" = "\${CRASH_AT:-0}" ] && [ "\${CRASH_WHEN:-before}" = before ]; then kill -9 $PPID; exit 137; fi
"${real}" "$@"; rc=$?
if [ "$n" = "\${CRASH_AT:-0}" ]; then kill -9 $PPID; fi
exit $rc
`);

export interface Crash { shimDir: string; counter: string; at: number; when: 'before' | 'after' }

// Sets the crash wrappers in dir for the next run: count in `counter`, kill at call `at` (0: never).
export const armCrash = (dir: string, counter: string, at: number, when: 'before' | 'after'): void =>
  writeFileSync(join(dir, 'crash.env'), `CRASH_COUNTER='${counter}' CRASH_AT='${at}' CRASH_WHEN='${when}'\n`);

// PATH with dir first.
export const pathWith = (dir: string): string => `${dir}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`;
