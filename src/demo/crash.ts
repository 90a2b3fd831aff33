// Crash injection, the usual way: wrapper programs placed first
// on PATH count every call and SIGKILL their caller (vnetfw itself: it runs programs without a
// shell, so the wrapper's parent is the vnetfw process) at call number CRASH_AT, after the real
// program ran. That is the hard case: the kernel changed, but the log never heard the result.
// The victim is named by program (the first run of the victim program), not by a call number, so the
// demo keeps hitting an apply even when the engine changes how many queries come before it.
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './proc.js';

const PROGRAMS = ['nft', 'iptables', 'ip6tables', 'iptables-restore', 'ip6tables-restore', 'iptables-save', 'ip6tables-save', 'ip'];

// Writes the wrappers into dir; returns the env that activates them and the file listing the calls. The counter file and the
// victim are written into the scripts: vnetfw gives the programs it runs only PATH and LC_ALL.
export const makeCrashShims = async (dir: string, victim: string): Promise<{ env: NodeJS.ProcessEnv; callLog: string }> => {
  const counter = join(dir, 'count');
  for (const p of PROGRAMS) {
    const real = (await run(['sh', '-c', `command -v ${p}`])).stdout.trim();
    if (real === '') continue;
    const script = [
      '#!/bin/bash',
      `n=$(( $(cat '${counter}' 2>/dev/null || echo 0) + 1 )); echo $n > '${counter}'`,
      `echo "$n ${p} $*" >> '${counter}.log'`,
      `"${real}" "$@"; rc=$?`,
      ...(p === victim ? ['kill -9 $PPID'] : []),
      'exit $rc',
      '',
    ].join('\n');
    writeFileSync(join(dir, p), script);
    chmodSync(join(dir, p), 0o755);
  }
  return { env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}` }, callLog: `${counter}.log` };
};
