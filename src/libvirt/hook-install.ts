// Installs and removes vnetfw's executable in libvirt's network hook directory. libvirt runs every
// executable there, in name order, for every network event. It looks for network hooks when the
// daemon starts (and on SIGHUP): while the directory held no executable and no
// /etc/libvirt/hooks/network script existed, a running libvirtd calls none until then.
import { constants } from 'node:fs';
import { access, lstat, mkdir, readFile, readdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../state/index.js';
import { VnetfwError } from '../errors.js';
import { HOOK_FILE, hookScript, isOurHook, type HookTarget } from './hook-script.js';

export class HookInstallError extends VnetfwError {
  constructor(message: string, exitCode: 1 | 2 = 2) {
    super('EHOOK', message, { exitCode });
    this.name = 'HookInstallError';
  }
}

const executable = async (p: string): Promise<boolean> => {
  try {
    const st = await lstat(p);
    if (!st.isFile() && !st.isSymbolicLink()) return false;
    await access(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

// Whether libvirt already runs network hooks from this directory (so it sees the new one at once).
const hooksActive = async (dir: string): Promise<boolean> => {
  if (await executable(join(dirname(dir), 'network'))) return true;
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const n of names) if (n !== HOOK_FILE && await executable(join(dir, n))) return true;
  return false;
};

const ours = async (file: string): Promise<'absent' | 'ours' | 'foreign'> => {
  const st = await lstat(file).catch(() => undefined);
  if (st === undefined) return 'absent';
  if (!st.isFile()) return 'foreign';
  return isOurHook(await readFile(file, 'utf8').catch(() => '')) ? 'ours' : 'foreign';
};

export interface Installed { file: string; replaced: boolean; needsDaemonRestart: boolean }

export const installHook = async (dir: string, target: HookTarget): Promise<Installed> => {
  const file = join(dir, HOOK_FILE);
  const was = await ours(file);
  if (was === 'foreign') throw new HookInstallError(`${file}: exists and was not written by vnetfw: refusing to replace it`);
  const active = await hooksActive(dir);
  try {
    await mkdir(dir, { recursive: true, mode: 0o755 });
    await writeFileAtomic(file, hookScript(target), 0o755);
  } catch (e) {
    if (e instanceof VnetfwError) throw e;
    throw new HookInstallError(`${file}: cannot write the hook (${(e as NodeJS.ErrnoException).code ?? 'error'})`, 1);
  }
  return { file, replaced: was === 'ours', needsDaemonRestart: !active && was === 'absent' };
};

export const uninstallHook = async (dir: string): Promise<{ file: string; removed: boolean }> => {
  const file = join(dir, HOOK_FILE);
  const was = await ours(file);
  if (was === 'foreign') throw new HookInstallError(`${file}: was not written by vnetfw: leaving it alone`);
  if (was === 'absent') return { file, removed: false };
  await unlink(file);
  return { file, removed: true };
};
