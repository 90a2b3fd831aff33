// The one-writer rule: <stateDir>/lock is created with O_EXCL and holds the owner's pid and its
// process start time (so a recycled pid is not mistaken for the owner). A lock whose owner is gone
// is stale and is taken over; the caller records that in the log.
import { closeSync, constants, fsyncSync, lstatSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FILE_MODE, writeAllSync } from './atomic-file.js';
import { StateError } from './errors.js';
import { readFileNoFollow } from './secure-dir.js';

export interface Lock {
  readonly path: string;
  readonly staleOwner: number | undefined; // pid of the dead owner whose lock was taken over
  release(): void;
}

export const lockPath = (stateDir: string): string => join(stateDir, 'lock');

// Field 22 of /proc/<pid>/stat: start time in clock ticks since boot. '' where /proc is absent.
const startTimeOf = (pid: number): string => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
};

const isAlive = (pid: number, start: string): boolean => {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return start === '' || startTimeOf(pid) === '' || startTimeOf(pid) === start;
};

const readOwner = (path: string): { pid: number; start: string } | undefined => {
  try {
    const [pid = '', start = ''] = readFileNoFollow(path).split('\n');
    return /^\d+$/.test(pid) ? { pid: Number(pid), start } : { pid: 0, start: '' };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
};

const mtimeOf = (path: string): number => {
  try { return lstatSync(path).mtimeMs; } catch { return 0; }
};

const busy = (stateDir: string, pid: number): StateError =>
  new StateError('ELOCKED', `state directory ${stateDir} is in use by another vnetfw process (pid ${pid})`);

export const acquireLock = (stateDir: string): Lock => {
  const path = lockPath(stateDir);
  const content = `${process.pid}\n${startTimeOf(process.pid)}\n`;
  let staleOwner: number | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, FILE_MODE);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = readOwner(path);
      if (owner === undefined) continue; // released between our open and read: try again
      if (owner.pid !== 0 && isAlive(owner.pid, owner.start)) throw busy(stateDir, owner.pid);
      // An empty lock may be one another process created a moment ago and is still writing.
      if (owner.pid === 0 && Date.now() - mtimeOf(path) < 2000) throw busy(stateDir, 0);
      // Stale. Move it aside under a name only we use, then check we moved the stale one and not
      // a lock another process created in the meantime (which we put back).
      const aside = `${path}.stale.${process.pid}`;
      try { renameSync(path, aside); } catch { continue; }
      const moved = readOwner(aside);
      if (moved !== undefined && moved.pid !== owner.pid) {
        try { renameSync(aside, path); } catch { /* it is theirs either way */ }
        throw busy(stateDir, moved.pid);
      }
      try { unlinkSync(aside); } catch { /* gone */ }
      staleOwner = owner.pid;
      continue;
    }
    try {
      writeAllSync(fd, Buffer.from(content));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    let released = false;
    return {
      path,
      staleOwner,
      release: () => {
        if (released) return;
        released = true;
        // Only remove the lock if it is still ours (someone may have broken it by hand).
        if (readOwner(path)?.pid === process.pid) unlinkSync(path);
      },
    };
  }
  const owner = readOwner(path);
  throw busy(stateDir, owner?.pid ?? 0);
};

// Test helper and recovery tool: write a lock as if `pid` held it.
export const writeLockFor = (stateDir: string, pid: number): void => {
  writeFileSync(lockPath(stateDir), `${pid}\n\n`, { mode: FILE_MODE });
};
