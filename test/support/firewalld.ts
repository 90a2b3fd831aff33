// Debian's real firewalld inside a test's network namespace, on a private D-Bus (its own socket in
// a temp dir) and with its own system configuration directory (zones given by the test; never
// /etc/firewalld), so the host's firewall, bus and configuration are never touched. Stopped by its
// pids.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inNs } from './netns.js';
import { must, run, type Res } from './proc.js';
import { waitFor } from './wait.js';

export interface Firewalld { cmd(args: string[]): Promise<Res>; stop(): Promise<void> }

const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };

const waitGone = async (pid: number, ms: number): Promise<void> => {
  await waitFor(() => !alive(pid), ms, `pid ${pid} to exit`).catch(() => process.kill(pid, 'SIGKILL'));
};

export const startFirewalld = async (ns: string, dir: string, zones: Record<string, string> = {}): Promise<Firewalld> => {
  mkdirSync(join(dir, 'etc', 'zones'), { recursive: true });
  for (const [name, xml] of Object.entries(zones)) writeFileSync(join(dir, 'etc', 'zones', `${name}.xml`), xml);
  const bus = join(dir, 'bus');
  const conf = readFileSync('/usr/share/dbus-1/system.conf', 'utf8')
    .replace(/<listen>.*<\/listen>/, `<listen>unix:path=${bus}</listen>`)
    .replace(/<pidfile>.*<\/pidfile>/, '')
    .replace('<includedir>system.d</includedir>', '<includedir>/usr/share/dbus-1/system.d</includedir>');
  writeFileSync(join(dir, 'bus.conf'), conf);
  const d = await must(run(['dbus-daemon', `--config-file=${join(dir, 'bus.conf')}`, '--fork', '--print-pid']), 'dbus-daemon');
  const dbusPid = Number(d.stdout.trim());
  const env = { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${bus}` };
  const child = spawn('ip', ['netns', 'exec', ns, 'firewalld', '--nofork', '--nopid', '--system-config', join(dir, 'etc'),
    '--log-target', 'file', '--log-file', join(dir, 'firewalld.log')], { env, stdio: 'ignore' });
  const cmd = (args: string[]): Promise<Res> => inNs(ns, ['firewall-cmd', ...args], { env });
  const stop = async (): Promise<void> => {
    if (child.pid !== undefined && alive(child.pid)) { child.kill('SIGTERM'); await waitGone(child.pid, 10_000); }
    if (Number.isInteger(dbusPid) && dbusPid > 0 && alive(dbusPid)) { process.kill(dbusPid, 'SIGTERM'); await waitGone(dbusPid, 5_000); }
  };
  try {
    await waitFor(async () => { if (child.exitCode !== null) throw new Error('firewalld exited'); return cmd(['--state']); }, 30_000, 'firewalld to answer', 200);
  } catch (e) {
    await stop();
    throw new Error(`firewalld did not answer within 30 s: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  return { cmd, stop };
};
