// Debian's real firewalld inside a test's network namespace, on a private D-Bus (its own socket in
// a temp dir) and with its own system configuration directory (never /etc/firewalld), so the
// host's firewall, bus and configuration are never touched. Used by the doctor's and the
// neighbours' tests. Stopped by its pids; firewalldDown(fw) in afterEach/afterAll or finally.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inNs } from './netns.js';
import { fixturesDir } from './paths.js';
import { bg, IP, must, run, sleep, type Bg, type Res } from './proc.js';
import { waitFor } from './wait.js';

export interface Firewalld { ns: string; dir: string; env: NodeJS.ProcessEnv; proc: Bg | null; dbusPid: number }

export const firewalldAvailable = (): boolean => existsSync('/usr/sbin/firewalld') && existsSync('/usr/bin/dbus-daemon');

export const fwCmd = (fw: Firewalld, args: readonly string[]): Promise<Res> =>
  inNs(fw.ns, ['firewall-cmd', ...args], { env: fw.env, timeoutMs: 30_000 });

const waitAnswers = async (fw: Firewalld, ms: number): Promise<void> => {
  let last = '';
  await waitFor(async () => {
    if (fw.proc?.running() !== true) throw new Error(`firewalld exited: ${fw.proc === null ? '' : (await fw.proc.done).stderr.trim()}`);
    const r = await fwCmd(fw, ['--state']);
    last = `${r.stdout}${r.stderr}`;
    return r.code === 0 && r.stdout.trim() === 'running';
  }, ms, 'firewalld to start', 200).catch((e: unknown) => { throw new Error(`firewalld did not start: ${last}`, { cause: e }); });
};

export interface FirewalldConfig {
  libvirtZone?: boolean;              // libvirt's zone installed (test/fixtures/neighbours/libvirt-zone.xml)
  zones?: Record<string, string>;     // more zones: name -> XML
}

// Starts a private D-Bus, then firewalld in `ns` with Debian's defaults written out.
export const firewalldUp = async (ns: string, dir: string, c: FirewalldConfig = {}): Promise<Firewalld> => {
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'etc');
  if (!existsSync(conf)) {
    mkdirSync(join(conf, 'zones'), { recursive: true });
    writeFileSync(join(conf, 'firewalld.conf'), 'DefaultZone=public\nCleanupOnExit=yes\nLockdown=no\nIPv6_rpfilter=yes\nIndividualCalls=no\nLogDenied=off\nFirewallBackend=nftables\nFlushAllOnReload=yes\n');
    if (c.libvirtZone === true) cpSync(join(fixturesDir, 'neighbours', 'libvirt-zone.xml'), join(conf, 'zones', 'libvirt.xml'));
    for (const [name, xml] of Object.entries(c.zones ?? {})) writeFileSync(join(conf, 'zones', `${name}.xml`), xml);
  }
  const bus = join(dir, 'bus');
  const busConf = readFileSync('/usr/share/dbus-1/system.conf', 'utf8')
    .replace(/<listen>.*<\/listen>/, `<listen>unix:path=${bus}</listen>`).replace(/<pidfile>.*<\/pidfile>/, '')
    .replace('<includedir>system.d</includedir>', '<includedir>/usr/share/dbus-1/system.d</includedir>');
  writeFileSync(join(dir, 'bus.conf'), busConf);
  rmSync(bus, { force: true });
  const d = await must(run(['dbus-daemon', `--config-file=${join(dir, 'bus.conf')}`, '--fork', '--print-pid']), 'dbus-daemon');
  const env = { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${bus}` };
  const fw: Firewalld = { ns, dir, env, proc: null, dbusPid: Number(d.stdout.trim()) };
  try {
    await firewalldStart(fw);
  } catch (e) {
    await firewalldDown(fw);
    throw e;
  }
  return fw;
};

export const firewalldStart = async (fw: Firewalld): Promise<void> => {
  fw.proc = bg([IP, 'netns', 'exec', fw.ns, 'firewalld', '--nofork', '--nopid', '--system-config', join(fw.dir, 'etc'), '--log-target', 'console'], { env: fw.env });
  await waitAnswers(fw, 60_000);
};

// SIGTERM: firewalld removes its table (CleanupOnExit); SIGKILL leaves it in the kernel. A
// firewalld that does not exit within 15 s of SIGTERM is killed.
export const firewalldStop = async (fw: Firewalld, sig: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
  const p = fw.proc;
  if (p === null) return;
  p.kill(sig);
  if (await Promise.race([p.done.then(() => true), sleep(15_000).then(() => false)]) === false) { p.kill('SIGKILL'); await p.done; }
  fw.proc = null;
};

export const firewalldDown = async (fw: Firewalld): Promise<void> => {
  await firewalldStop(fw);
  try { process.kill(fw.dbusPid, 'SIGTERM'); } catch { /* gone */ }
};

// firewalld's zones, their settings and interfaces, as it reports them (runtime; with `permanent`
// its permanent configuration too).
export const firewalldConfig = async (fw: Firewalld, permanent = false): Promise<string> => {
  const runtime = await must(fwCmd(fw, ['--list-all-zones']), 'list-all-zones');
  if (!permanent) return runtime.stdout;
  const perm = await must(fwCmd(fw, ['--permanent', '--list-all-zones']), 'permanent list-all-zones');
  return `${runtime.stdout}\n--- permanent\n${perm.stdout}`;
};
