// Crash-safe whole-file writes: after a crash the path holds either the old or the new content,
// never a mix. Temp file in the same directory (rename is only atomic within a file system),
// fsync the data, rename over the target, fsync the directory so the rename itself is durable.
import { closeSync, constants, fchmodSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

let counter = 0;

export const fsyncDir = (dir: string): void => {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try { fsyncSync(fd); } finally { closeSync(fd); }
};

export const writeAllSync = (fd: number, buf: Uint8Array): void => {
  for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off, buf.length - off);
};

export const writeFileAtomicSync = (path: string, data: string | Uint8Array, mode = FILE_MODE): void => {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${++counter}.tmp`);
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  // O_EXCL: never follow or reuse a file someone planted at the temp name.
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    fchmodSync(fd, mode);   // exactly `mode`, whatever the umask (a unit's UMask=0077, say)
    writeAllSync(fd, buf);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (err) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw err;
  }
  fsyncDir(dir);
};

// The promise form others use (definitions, config copies). The work is synchronous on purpose:
// these files are small and a half-finished write must never interleave with another.
export const writeFileAtomic = async (path: string, data: string | Uint8Array, mode = FILE_MODE): Promise<void> => {
  writeFileAtomicSync(path, data, mode);
};

// mkdir -p with 0700 for what it creates.
export const ensureDir = (dir: string): void => {
  mkdirSync(dir, { recursive: true, mode: DIR_MODE });
};
