// The real libvirtd (Debian 12: libvirt 9.0, iptables backend, no saved removal list) inside a
// network namespace AND a private mount namespace: /etc/libvirt, /run and /var are bind mounts of
// a temporary directory, so the daemon, its networks, its status files and its dnsmasq never touch
// this machine's /etc/libvirt, /run/libvirt or /var/lib/libvirt, nor the system D-Bus (so it never
// talks to a firewalld). Only the network driver is loaded (no qemu user or hypervisor needed);
// clients use network:///system. One libvirtd at a time; always stop() it (afterAll).
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bg, IP, run, sleep, type Bg, type Res } from './proc.js';
import { waitFor } from './wait.js';

const LIBVIRTD = '/usr/sbin/libvirtd';
const DRIVER_DIR = '/usr/lib/x86_64-linux-gnu/libvirt/connection-driver';
const NETWORK_DRIVER = join(DRIVER_DIR, 'libvirt_driver_network.so');

export const libvirtdSkipReason = ((): string | undefined => {
  if (!existsSync(LIBVIRTD)) return 'libvirtd is not installed (apt-get install libvirt-daemon libvirt-clients dnsmasq-base)';
  if (!existsSync(NETWORK_DRIVER)) return `libvirt's network driver is not at ${NETWORK_DRIVER}`;
  for (const p of ['/usr/bin/virsh', '/usr/sbin/dnsmasq', '/usr/bin/nsenter', '/usr/bin/unshare']) if (!existsSync(p)) return `${p} is missing`;
  return undefined;
})();

export interface Libvirtd {
  ns: string;
  dir: string;                      // the daemon's private /etc/libvirt, /run and /var live here
  hookDir: string;                  // its /etc/libvirt/hooks/network.d, as seen from the host
  statusFile(name: string): string; // /run/libvirt/network/NAME.xml, as seen from the host
  pid(): number;
  virsh(args: readonly string[]): Promise<Res>;
  // A program in the daemon's namespaces (network and mount: sees its /run/libvirt).
  inside(argv: readonly string[], env?: NodeJS.ProcessEnv): Promise<Res>;
  restart(): Promise<void>;
  stop(): Promise<void>;            // destroys nothing: networks and dnsmasq stay, as on a restart
  cleanup(): Promise<void>;         // destroys its networks, stops it, kills dnsmasq, removes dir
}

export const startLibvirtd = async (ns: string, dir: string): Promise<Libvirtd> => {
  const etc = join(dir, 'etc');
  const hookDir = join(etc, 'hooks', 'network.d');
  for (const d of [etc, hookDir, join(dir, 'run', 'libvirt'), join(dir, 'var', 'lib', 'libvirt'), join(dir, 'var', 'cache', 'libvirt'),
    join(dir, 'var', 'log', 'libvirt'), join(dir, 'drv')]) mkdirSync(d, { recursive: true });
  cpSync('/etc/libvirt', etc, { recursive: true });
  writeFileSync(join(etc, 'libvirtd.conf'), 'log_outputs="3:file:/run/libvirt/libvirtd.log"\n');
  if (!existsSync(join(dir, 'var', 'run'))) symlinkSync('/run', join(dir, 'var', 'run'));
  copyFileSync(NETWORK_DRIVER, join(dir, 'drv', 'libvirt_driver_network.so'));
  chmodSync(dir, 0o755);
  let daemon: Bg | undefined;
  const mounts = [
    `mount --bind ${dir}/run /run`, `mount --bind ${dir}/var /var`, `mount --bind ${etc} /etc/libvirt`, `mount --bind ${dir}/drv ${DRIVER_DIR}`,
  ].join(' && ');
  const nsenter = (argv: readonly string[]): string[] => {
    if (daemon?.pid === undefined || !daemon.running()) throw new Error('libvirtd is not running');
    return ['nsenter', '-t', String(daemon.pid), '-m', '-n', ...argv];
  };
  const virsh = (args: readonly string[]): Promise<Res> => run(nsenter(['virsh', '-q', '-c', 'network:///system', ...args]), { timeoutMs: 60_000 });
  const up = async (): Promise<void> => {
    daemon = bg([IP, 'netns', 'exec', ns, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', `${mounts} && exec ${LIBVIRTD}`]);
    const d = daemon;
    await waitFor(async () => {
      if (!d.running()) throw new Error(`libvirtd exited: ${(await d.done).stderr.trim()}`);
      return (await virsh(['net-list', '--all'])).code === 0;
    }, 30_000, 'libvirtd to answer', 100).catch((err: unknown) => { throw new Error(`${err instanceof Error ? err.message : String(err)}; its log: ${readLog()}`); });
  };
  const readLog = (): string => { try { return readFileSync(join(dir, 'run', 'libvirt', 'libvirtd.log'), 'utf8').split('\n').slice(-5).join('\n'); } catch { return ''; } };
  const stop = async (): Promise<void> => {
    if (daemon === undefined || !daemon.running()) return;
    daemon.kill('SIGTERM');
    const r = await Promise.race([daemon.done, sleep(15_000).then(() => undefined)]);
    if (r === undefined) { daemon.kill('SIGKILL'); await daemon.done; }
  };
  const netDir = join(dir, 'run', 'libvirt', 'network');
  await up();
  return {
    ns, dir, hookDir,
    statusFile: (name) => join(netDir, `${name}.xml`),
    pid: () => daemon?.pid ?? -1,
    virsh,
    inside: (argv, env) => run(nsenter(argv), { timeoutMs: 120_000, ...(env === undefined ? {} : { env }) }),
    restart: async () => { await stop(); await up(); },
    stop,
    cleanup: async () => {
      if (daemon?.running() === true) {
        const list = await virsh(['net-list', '--name']);
        for (const n of list.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '')) await virsh(['net-destroy', n]);
      }
      await stop();
      // dnsmasq of networks libvirt no longer manages (adopted ones) or of a daemon stopped early.
      const pids = existsSync(netDir) ? readdirSync(netDir).filter((f) => f.endsWith('.pid') && f !== 'driver.pid') : [];
      for (const f of pids) {
        const pid = Number(readFileSync(join(netDir, f), 'utf8').trim());
        // Only a dnsmasq this daemon started (its pid file is in the daemon's private /run).
        const comm = ((): string => { try { return readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { return ''; } })();
        if (Number.isInteger(pid) && pid > 1 && comm === 'dnsmasq') process.kill(pid, 'SIGTERM');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
};
