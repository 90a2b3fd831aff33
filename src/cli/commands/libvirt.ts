import { existsSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { VnetfwError } from '../../errors.js';
import { loadEngine } from '../lazy.js';
import { command } from '../spec.js';

const DIR_OPTION = { dir: { type: 'string', value: 'D', complete: 'dir', description: 'libvirt\'s network hook directory (default /etc/libvirt/hooks/network.d)' } } as const;
const loadLibvirt = (): Promise<typeof import('../../libvirt/index.js')> => import('../../libvirt/index.js');

// libvirt writes the network XML to the hook's stdin; read all of it (libvirt would see a broken
// pipe otherwise), keeping at most 1 MiB.
const readStdin = async (): Promise<string> => {
  if (process.stdin.isTTY === true) return '';
  const chunks: Buffer[] = [];
  let kept = 0;
  for await (const c of process.stdin as AsyncIterable<Buffer>) {
    if (kept < 1024 * 1024) { chunks.push(c); kept += c.length; }
  }
  return Buffer.concat(chunks).toString('utf8');
};

// Whether vnetfw has a definition of the network, from a read-only look (no writer lock: the
// daemon may hold it). The store is closed before the answer: the hook then exits or opens the
// state for writing with nothing of this look left open, and a failed close is the hook's error
// (exit 1, said on stderr), not a rejection nobody waits for.
const knowsNetwork = async (stateDir: string, name: string): Promise<boolean> => {
  const { openStore } = await import('../../../state/index.js');
  const store = await openStore(stateDir, { readonly: true });
  try {
    return store.state().networks[name]?.definition != null;
  } finally {
    await store.close();
  }
};

const installCommand = command({
  name: 'install',
  summary: 'install vnetfw as a libvirt network hook',
  options: DIR_OPTION,
  description: [
    'Writes an executable `vnetfw` into libvirt\'s network hook directory. libvirt runs it for every',
    'network event; it runs this same vnetfw, with the --state-dir and --config given here, which',
    'starts the firewall of a network it has defined under the same name when libvirt has started it',
    'and stops it when libvirt has stopped it. libvirtd looks for network hooks when it starts (and on',
    'SIGHUP): when none were in use, install says so; restarting libvirtd does not stop guests.',
  ].join('\n'),
  run: async ({ options }, ctx) => {
    const { DEFAULT_HOOK_DIR, installHook } = await loadLibvirt();
    const dir = options.dir ?? DEFAULT_HOOK_DIR;
    const script = realpathSync(process.argv[1] ?? '');
    const r = await installHook(dir, { node: process.execPath, script, stateDir: resolve(ctx.stateDir), configPath: resolve(ctx.configPath) });
    if (ctx.json) {
      ctx.stdout.write(`${JSON.stringify({ file: r.file, replaced: r.replaced, needsDaemonRestart: r.needsDaemonRestart })}\n`);
    } else {
      ctx.stdout.write(`${r.replaced ? 'updated' : 'installed'} ${r.file}\n`);
      if (r.needsDaemonRestart) {
        ctx.stdout.write('libvirtd calls network hooks only if it found some when it started: restart it (guests keep running),\n'
          + 'e.g. `systemctl restart libvirtd` (or virtnetworkd where the daemons are split), or send it SIGHUP.\n');
      }
    }
    return 0;
  },
});

const uninstallCommand = command({
  name: 'uninstall',
  summary: 'remove vnetfw\'s libvirt network hook',
  options: DIR_OPTION,
  description: 'Removes the `vnetfw` hook that `install` wrote (a file of that name vnetfw did not write is left alone, exit 2).\nThe networks keep their firewall; libvirt no longer starts or stops it.',
  run: async ({ options }, ctx) => {
    const { DEFAULT_HOOK_DIR, uninstallHook } = await loadLibvirt();
    const r = await uninstallHook(options.dir ?? DEFAULT_HOOK_DIR);
    ctx.stdout.write(ctx.json ? `${JSON.stringify(r)}\n` : `${r.removed ? 'removed' : 'not installed:'} ${r.file}\n`);
    return 0;
  },
});

const hookCommand = command({
  name: 'hook',
  summary: 'libvirt\'s network hook entry point (NAME OP SUBOP [EXTRA], network XML on stdin)',
  args: [{ name: 'NAME' }, { name: 'OP' }, { name: 'SUBOP' }, { name: 'EXTRA', optional: true }],
  subcommands: [installCommand, uninstallCommand],
  description: [
    'Called by libvirt (see `vnetfw libvirt hook install`). `started` of a network vnetfw has defined',
    'under the same name starts its firewall on libvirt\'s bridge; `stopped` stops it. Other events and',
    'networks vnetfw does not know: exit 0, nothing done. The network must run in libvirt with',
    '<forward mode=\'open\'/> on the bridge vnetfw\'s definition names. Exit 1 when the firewall cannot be',
    'applied, which makes libvirt fail the network\'s start. Recorded in the event log.',
  ].join('\n'),
  run: async ({ args: [name = '', op = '', subop = ''] }, ctx) => {
    const stdin = await readStdin();
    const { actionOf, hookNetwork } = await loadLibvirt();
    const action = actionOf(op);
    if (action === 'none') return 0;
    // A network vnetfw does not know is none of its business: answer without the writer lock.
    // (No state directory yet: vnetfw knows no network. One that exists but cannot be read is an error.)
    if (!existsSync(ctx.stateDir)) return 0;
    if (!await knowsNetwork(ctx.stateDir, name)) return 0;
    const { runLibvirtHook, withEngine } = await loadEngine();
    try {
      const r = await withEngine({ stateDir: ctx.stateDir, configPath: ctx.configPath }, (env) => runLibvirtHook(env, name, op, subop, action, hookNetwork(stdin)));
      if (ctx.json) ctx.stdout.write(`${JSON.stringify({ name, op, ...r })}\n`);
      return 0;
    } catch (e) {
      // libvirt shows the hook's stderr in its error; exit 1 (never 2) fails the network's start.
      if (e instanceof VnetfwError && e.exitCode !== 1) throw new VnetfwError(e.code, e.message, { exitCode: 1, cause: e });
      throw e;
    }
  },
});

export const libvirtCommand = command({
  name: 'libvirt',
  summary: 'live beside libvirt: its network hook (install, uninstall, entry point)',
  subcommands: [hookCommand],
});
