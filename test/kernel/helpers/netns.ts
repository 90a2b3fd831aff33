// Network-namespace helpers for real-kernel tests: unique namespaces, running commands inside,
// replaying libvirt's expected command files, and canonical ruleset dumps (the same views as
// test/fixtures/oracle/canon.py). Synchronous on purpose: tests run one file at a time.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface NsResult { code: number; stdout: string; stderr: string }

const run = (argv: readonly string[], input?: string): NsResult => {
  const r = spawnSync(argv[0] ?? '', argv.slice(1), { input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error?.message ?? '') };
};

let counter = 0;
const created = new Set<string>();

// Why netns tests may be skipped; undefined when they can run.
export const netnsSkipReason = ((): string | undefined => {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  const probe = `vfwprobe${process.pid}`;
  const add = run(['ip', 'netns', 'add', probe]);
  if (add.code !== 0) return `'ip netns add' does not work here: ${add.stderr.trim()}`;
  run(['ip', 'netns', 'del', probe]);
  return undefined;
})();
export const canUseNetns = netnsSkipReason === undefined;

export const newNs = (tag: string): string => {
  const name = `vfw-${tag}-${process.pid}-${++counter}`;
  const r = run(['ip', 'netns', 'add', name]);
  if (r.code !== 0) throw new Error(`ip netns add ${name}: ${r.stderr}`);
  created.add(name);
  run(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
  return name;
};

export const delNs = (name: string): void => { run(['ip', 'netns', 'del', name]); created.delete(name); };
export const delAllNs = (): void => { for (const n of [...created]) delNs(n); };

export const inNs = (ns: string, argv: readonly string[], input?: string): NsResult => run(['ip', 'netns', 'exec', ns, ...argv], input);
export const shInNs = (ns: string, cmd: string, input?: string): NsResult => inNs(ns, ['sh', '-c', cmd], input);

// The devices a network needs before its rules: the bridge (up) and, if any, the forward device
// (a veth).
export const addNetworkDevices = (ns: string, bridge: string, forwardDev?: string): void => {
  const must = (r: NsResult, what: string): void => { if (r.code !== 0) throw new Error(`${what}: ${r.stderr}`); };
  must(run(['ip', '-n', ns, 'link', 'add', bridge, 'type', 'bridge']), `bridge ${bridge}`);
  must(run(['ip', '-n', ns, 'link', 'set', bridge, 'up']), `bridge ${bridge} up`);
  if (forwardDev !== undefined) {
    must(run(['ip', '-n', ns, 'link', 'add', forwardDev, 'type', 'veth', 'peer', 'name', `${forwardDev.slice(0, 10)}-peer`]), `veth ${forwardDev}`);
  }
};

// Commands of a libvirt expected-output file: lines ending in ` \` joined.
export const libvirtCommands = (text: string): string[] =>
  text.replace(/ \\\n/g, ' ').split('\n').filter((l) => l.trim() !== '');

export const isQuery = (cmd: string): boolean => cmd.includes('--list-rules') || / list /.test(cmd);

// Runs each command with sh -c in order; failing queries are ignored (libvirt treats a failing
// `list` as empty), any other failure throws naming the command.
export const replayCommands = (ns: string, cmds: readonly string[]): void => {
  for (const cmd of cmds) {
    const r = shInNs(ns, cmd);
    if (r.code !== 0 && !isQuery(cmd)) throw new Error(`replay failed in ${ns}: ${cmd}: ${r.stderr.trim()}`);
  }
};

// The full dump, from the three listings: nft without handles and counters, iptables-save and
// ip6tables-save without their comment lines and counters.
export const normalizeDump = (nft: string, v4: string, v6: string): string => {
  const n = nft.split('\n').map((l) => l.replace(/ # handle \d+/, '').replace(/counter packets \d+ bytes \d+/, 'counter'))
    .filter((l) => l.trim() !== '');
  const save = (text: string): string[] => text.split('\n')
    .filter((l) => !/^# (Generated|Completed)/.test(l)).map((l) => l.replace(/\[\d+:\d+\]/, '[]'));
  return ['=== nft', ...n, '=== iptables', ...save(v4), '#--- ip6', ...save(v6)].join('\n') + '\n';
};

export const dumpAll = (ns: string): string =>
  normalizeDump(inNs(ns, ['nft', 'list', 'ruleset']).stdout, inNs(ns, ['iptables-save']).stdout, inNs(ns, ['ip6tables-save']).stdout);

const CANON = fileURLToPath(new URL('../../fixtures/oracle/canon.py', import.meta.url));

// canon.py's canonical form: tables and chains sorted, rule order kept. view: all|nftables|iptables.
export const canonDump = (ns: string, view: 'all' | 'nftables' | 'iptables' = 'all'): string => {
  const r = run(['python3', CANON, view], dumpAll(ns));
  if (r.code !== 0) throw new Error(`canon.py: ${r.stderr}`);
  return r.stdout;
};
