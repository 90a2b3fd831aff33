// The batches the executor really sends: one `nft -f -` script, or one `iptables-restore
// --noflush` input per program, instead of one process per rule. A batch is all-or-nothing on the
// kernel side; commands whose failure is tolerated go in a batch of their own (the executor may
// fall back to running those one by one, since one failure aborts a whole batch).
import { VnetfwError } from '../errors.js';
import { IPTABLES_IFACE_KEYS, NFT_IFACE_KEYS, checkIfaceName, nftIfaceToken } from './iface.js';
import type { FwCommand, Program } from './model.js';
import { restoreSections } from './restore-outcome.js';
import { isIndexedCommand } from './rules-indexed.js';

export interface Batch {
  argv: string[];             // argv[0] the program, looked up on PATH; never a shell
  stdin: string;
  ignoreErrors: boolean;
  commands: FwCommand[];      // the commands the batch carries, in order
}

export const NFT_BATCH_ARGV: readonly string[] = ['nft', '--echo', '--handle', '-f', '-'];
// The indexed layout names every object it adds, so it needs no echoed handles (and `--echo` would
// make nft read the whole table first: a cost that grows with the number of networks).
export const NFT_PLAIN_BATCH_ARGV: readonly string[] = ['nft', '-f', '-'];

const plainToken = (arg: string, cmd: FwCommand): string => {
  if (arg === '' || /[\s"'\\;#]/.test(arg)) {
    throw new VnetfwError('EFW_BATCH', `cannot put argument '${arg}' of ${cmd.program} ${cmd.args.join(' ')} in a batch`);
  }
  return arg;
};

// Lines already rendered, per command object: rule sets (buildRules) and recorded removals are the
// same objects from one operation to the next, and a command is not changed once made.
const nftLines = new WeakMap<FwCommand, string>();
const restoreLines = new WeakMap<FwCommand, string>();

const cached = (cache: WeakMap<FwCommand, string>, cmd: FwCommand, render: (c: FwCommand) => string): string => {
  let line = cache.get(cmd);
  if (line === undefined) {
    line = render(cmd);
    cache.set(cmd, line);
  }
  return line;
};

export const nftScriptLine = (cmd: FwCommand): string => cached(nftLines, cmd, renderNftLine);

// One nft script line: interface names checked and double-quoted (whatever they look like, a
// set in braces included), chain specs ({ ... }) as they are.
const renderNftLine = (cmd: FwCommand): string =>
  cmd.args.map((a, i) => {
    const key = cmd.args[i - 1];
    // `oifname vmap @map` / `oifname @set`: a lookup, not a name.
    if (key !== undefined && NFT_IFACE_KEYS.has(key) && a !== 'vmap' && !a.startsWith('@')) return nftIfaceToken(a);
    // An interface name as a set or map key of the indexed layout, written quoted in the model.
    const quoted = /^"(.*)"$/s.exec(a);
    if (quoted !== null) return nftIfaceToken(quoted[1] ?? '');
    if (a.startsWith('{') && a.endsWith('}') && !/["\\\n]/.test(a)) return a;
    return plainToken(a, cmd);
  }).join(' ');

const RESTORE_VERBS: Record<string, string> = {
  '--insert': '-I', '-I': '-I', '--append': '-A', '-A': '-A', '--delete': '-D', '-D': '-D', '--delete-chain': '-X', '-X': '-X',
};

// iptables-restore input, one section per table (in order of first appearance), each command on
// its own line. A new chain is `-N CHAIN`, as --new-chain is when run alone: it fails if the chain
// exists (a `:CHAIN - [0:0]` declaration would instead flush an existing chain under --noflush),
// which is what lets an apply that has not read the set-up find out it was there after all.
export const iptablesRestoreInput = (cmds: readonly FwCommand[]): string => {
  let out = '';
  for (const { table, commands } of restoreSections(cmds)) {
    const lines = commands.map((cmd) => cached(restoreLines, cmd, restoreLine));
    out += [`*${table}`, ...lines, 'COMMIT'].join('\n') + '\n';
  }
  return out;
};

const restoreLine = (cmd: FwCommand): string => {
  const args = [...cmd.args];
  const t = args.findIndex((a) => a === '--table' || a === '-t');
  if (t >= 0) args.splice(t, 2);
  const n = args.findIndex((a) => a === '--new-chain' || a === '-N');
  if (n >= 0) return `-N ${plainToken(args[n + 1] ?? '', cmd)}`;
  const v = args.findIndex((a) => RESTORE_VERBS[a] !== undefined);
  if (v < 0) throw new VnetfwError('EFW_BATCH', `cannot put ${cmd.program} ${cmd.args.join(' ')} in an iptables-restore batch`);
  args[v] = RESTORE_VERBS[args[v] ?? ''] ?? '';
  return args.map((a, i) => (IPTABLES_IFACE_KEYS.has(args[i - 1] ?? '') ? checkIfaceName(a) : plainToken(a, cmd))).join(' ');
};

const restoreArgv = (program: Program): string[] => [program === 'ip6tables' ? 'ip6tables-restore' : 'iptables-restore', '-w', '--noflush'];

// Order inside each program is kept; programs touch disjoint kernel objects (nft: one script for
// both families; iptables and ip6tables: one restore each).
export const renderBatches = (cmds: readonly FwCommand[]): Batch[] => {
  const batches: Batch[] = [];
  const keyed = new Map<string, FwCommand[]>();
  for (const cmd of cmds) {
    const key = `${cmd.program}/${cmd.ignoreErrors === true ? 'tolerant' : 'strict'}/${isIndexedCommand(cmd) ? 'plain' : 'echo'}`;
    const list = keyed.get(key) ?? [];
    list.push(cmd);
    keyed.set(key, list);
  }
  for (const [key, list] of keyed) {
    const [program, tolerance, echo] = key.split('/') as [Program, string, string];
    const ignoreErrors = tolerance === 'tolerant';
    if (program === 'tc') {
      // tc has no transaction: one process per command.
      for (const c of list) batches.push({ argv: ['tc', ...c.args.map((a) => plainToken(a, c))], stdin: '', ignoreErrors, commands: [c] });
    } else if (program === 'nft') {
      batches.push({ argv: [...(echo === 'plain' ? NFT_PLAIN_BATCH_ARGV : NFT_BATCH_ARGV)], stdin: list.map(nftScriptLine).join('\n') + '\n', ignoreErrors, commands: list });
    } else {
      batches.push({ argv: restoreArgv(program), stdin: iptablesRestoreInput(list), ignoreErrors, commands: list });
    }
  }
  return batches;
};

interface Echoed { object: string; key: string; handle: number }

const echoKey = (words: readonly string[]): string => words.slice(1, words[0] === 'table' ? 3 : 4).join(' ');

// Maps each command of an nft script to the handle `nft --echo --handle` printed for it. Echo
// prints created objects in order (one line each, ending `# handle N`); an `add` of an object
// that already exists prints nothing, so rules are matched in order and chains/tables by name.
export const parseNftEcho = (commands: readonly FwCommand[], stdout: string): Array<number | undefined> => {
  const rules: number[] = [];
  const named = new Map<string, number>();
  for (const raw of stdout.split('\n')) {
    const m = /# handle (\d+)\s*$/.exec(raw);
    if (m === null) continue;
    const words = raw.trim().split(/\s+/);
    const e: Echoed = { object: words[1] ?? '', key: echoKey(words.slice(1)), handle: Number(m[1]) };
    if (e.object === 'rule') rules.push(e.handle);
    else named.set(e.key, e.handle);
  }
  let r = 0;
  return commands.map((cmd) => {
    const verbAt = cmd.args.findIndex((a) => !a.startsWith('-'));
    const object = cmd.args[verbAt + 1];
    const verb = cmd.args[verbAt];
    if (verb !== 'insert' && verb !== 'add' && verb !== 'create') return undefined;
    if (object === 'rule') return rules[r++];
    return named.get(echoKey(cmd.args.slice(verbAt + 1)));
  });
};

// Batches that may run at the same time: an iptables-restore and an ip6tables-restore (one each)
// write different kernel tables (ip and ip6), so neither can flush or race the other; every other
// batch goes alone, in order. Groups in the order of `batches`. An apply's batches must be strict
// (a tolerant one is the checksum rule's retry, kept apart); a removal's are all tolerant (each
// retried one command at a time if refused, which stays within its own family).
const SIDE_BY_SIDE = new Set(['iptables-restore', 'ip6tables-restore']);

export const sideBySide = (batches: readonly Batch[], kind: 'apply' | 'removal' = 'apply'): Batch[][] => {
  const mayJoin = (b: Batch): boolean => (kind === 'removal' || !b.ignoreErrors) && SIDE_BY_SIDE.has(b.argv[0] ?? '');
  const groups: Batch[][] = [];
  for (const b of batches) {
    const last = groups[groups.length - 1];
    if (last !== undefined && mayJoin(b) && last.every((o) => mayJoin(o) && o.argv[0] !== b.argv[0])) last.push(b);
    else groups.push([b]);
  }
  return groups;
};
