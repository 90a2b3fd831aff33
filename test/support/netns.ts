// The one way to create, use and delete network namespaces in tests. Names are unique to this
// process (pid and a counter), so files and concurrent cases never meet; every namespace made here
// is remembered until deleted, so afterAll(nsDelAll) removes whatever a failed case left.
import { spawnSync } from 'node:child_process';
import { IP, must, run, type Res, type RunOptions } from './proc.js';

// Why netns tests may be skipped; undefined when they can run.
export const netnsSkipReason = ((): string | undefined => {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  const probe = `vfwprobe${process.pid}`;
  const add = spawnSync(IP, ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.status !== 0) return `'ip netns add' does not work here: ${(add.stderr ?? add.error?.message ?? '').trim()}`;
  spawnSync(IP, ['netns', 'del', probe]);
  return undefined;
})();
export const canUseNetns = netnsSkipReason === undefined;

const made = new Set<string>();
let seq = 0;

// A unique short prefix for names a test builds itself (interfaces: at most 15 bytes in all).
export const uniqueTag = (tag: string): string => `${tag}${process.pid % 10000}${(++seq).toString(36)}`;

const create = async (name: string): Promise<string> => {
  await must(run([IP, 'netns', 'add', name]), `ip netns add ${name}`);
  made.add(name);
  await must(run([IP, '-n', name, 'link', 'set', 'lo', 'up']), `lo up in ${name}`);
  return name;
};

// A fresh namespace with lo up; the name is unique to this process.
export const nsNew = (tag: string): Promise<string> => create(`vfw${tag}-${process.pid}-${++seq}`);

// Namespace `name` with lo up, made afresh (a stale one of that name, left by a killed run of a
// process with the same pid, is deleted first), and remembered.
export const nsAdd = async (name: string): Promise<string> => {
  await run([IP, 'netns', 'del', name]);
  return create(name);
};

export const nsDel = async (name: string): Promise<void> => { await run([IP, 'netns', 'del', name]); made.delete(name); };
export const nsDelAll = async (): Promise<void> => { for (const n of [...made]) await nsDel(n); };

// The one way to run a program inside a namespace.
export const inNs = (ns: string, argv: readonly string[], o: RunOptions = {}): Promise<Res> => run([IP, 'netns', 'exec', ns, ...argv], o);
export const shInNs = (ns: string, cmd: string, o: RunOptions = {}): Promise<Res> => inNs(ns, ['sh', '-c', cmd], o);

// `ip ARGS` that must succeed.
export const ipOk = (args: readonly string[]): Promise<Res> => must(run([IP, ...args]), `ip ${args.join(' ')}`);

// The devices a network needs before its rules: the bridge (up) and, if any, the forward device
// (a veth).
export const addNetworkDevices = async (ns: string, bridge: string, forwardDev?: string): Promise<void> => {
  await ipOk(['-n', ns, 'link', 'add', bridge, 'type', 'bridge']);
  await ipOk(['-n', ns, 'link', 'set', bridge, 'up']);
  if (forwardDev !== undefined) await ipOk(['-n', ns, 'link', 'add', forwardDev, 'type', 'veth', 'peer', 'name', `${forwardDev.slice(0, 10)}-peer`]);
};
