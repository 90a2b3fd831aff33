// The state directory is trusted only if no one but its owner could have put anything in it: root
// acting on a directory another user controls would chmod, write and read wherever that user's
// symlinks point, and obey whatever that user wrote. So the directory and everything in it must
// be: not a symlink, owned by root (or, for a non-root caller such as a test, by the caller), and
// not writable by others (nor by the group, unless the group is root's).
import { closeSync, constants, fchmodSync, lstatSync, openSync, readdirSync, readFileSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { StateError } from './errors.js';

export const NOFOLLOW = constants.O_NOFOLLOW;

const trustedUid = (): number => process.geteuid?.() ?? 0;

const unsafe = (stateDir: string, path: string, why: string): StateError =>
  new StateError('EUNSAFE', `state directory ${stateDir}: ${path === stateDir ? 'it' : path} ${why}: refused (it must be a real directory owned by root and writable only by root)`, { exitCode: 2 });

const problemOf = (st: Stats): string | undefined => {
  if (st.isSymbolicLink()) return 'is a symlink';
  if (st.uid !== 0 && st.uid !== trustedUid()) return `is owned by uid ${st.uid}, not root`;
  if (!st.isDirectory() && !st.isFile() && !st.isSocket()) return 'is neither a file, a directory nor a socket';
  // A socket's own mode does not matter: its directory (0700) decides who can reach it.
  if (!st.isSocket()) {
    if ((st.mode & 0o002) !== 0) return `is writable by others (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')})`;
    if ((st.mode & 0o020) !== 0 && st.gid !== 0) return `is writable by group ${st.gid} (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')})`;
  }
  return undefined;
};

// lstat of a path that may be missing; a problem with it is thrown.
export const checkEntry = (stateDir: string, path: string): Stats | undefined => {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const problem = problemOf(st);
  if (problem !== undefined) throw unsafe(stateDir, path, problem);
  return st;
};

// Checks the directory and everything below it (it holds a handful of entries).
export const checkStateDir = (stateDir: string): void => {
  const walk = (dir: string): void => {
    const st = checkEntry(stateDir, dir);
    if (st === undefined || !st.isDirectory()) {
      if (st !== undefined) throw unsafe(stateDir, dir, 'is not a directory');
      return;
    }
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const s = checkEntry(stateDir, p);
      if (s?.isDirectory() === true) walk(p);
    }
  };
  walk(stateDir);
};

// Takes group/other bits off a directory (a state directory created by hand with 0755), through a
// descriptor opened without following a symlink.
export const tightenDir = (dir: string, mode: number): void => {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | NOFOLLOW);
  try { fchmodSync(fd, mode); } finally { closeSync(fd); }
};

// readFileSync that refuses to follow a symlink at the last component (ELOOP).
export const readFileNoFollow = (path: string): string => {
  const fd = openSync(path, constants.O_RDONLY | NOFOLLOW);
  try { return readFileSync(fd, 'utf8'); } finally { closeSync(fd); }
};
