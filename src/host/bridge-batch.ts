import type { NetworkDef } from '../definition/types.js';
import { bridgeCreateCommands, bridgeDeleteCommands, bridgeIntoGroupCommands, linkGroupDeleteCommand } from './bridge.js';
import { HostError } from './errors.js';

// The bridges of many networks made by one `ip -batch -` (one process instead of four or more per
// network), and what a batch's record says it may have made (crash recovery reads that).

export const IP_BATCH_ARGV: readonly string[] = ['ip', '-batch', '-'];

// Every link, for one read of which bridges already exist.
export const linkListQuery = (): string[] => ['ip', '-j', 'link', 'show'];

// The links of `ip -j link show` output (name, and group as ip prints it: a number, or its name
// from /etc/iproute2/group); null when it is not that JSON.
const parseLinks = (stdout: string): Array<{ name: string | undefined; group: string | undefined }> | null => {
  try {
    const parsed: unknown = JSON.parse(stdout);
    if (!Array.isArray(parsed)) return null;
    return (parsed as unknown[]).filter((l): l is { ifname?: unknown; group?: unknown } => typeof l === 'object' && l !== null).map((l) => ({
      name: typeof l.ifname === 'string' ? l.ifname : undefined,
      group: typeof l.group === 'string' || typeof l.group === 'number' ? String(l.group) : undefined,
    }));
  } catch {
    return null;
  }
};

const present = (xs: ReadonlyArray<string | undefined>): Set<string> => new Set(xs.filter((x): x is string => x !== undefined));

// The names in `ip -j link show` output; null when it is not that JSON.
export const parseLinkNames = (stdout: string): Set<string> | null => {
  const links = parseLinks(stdout);
  return links === null ? null : present(links.map((l) => l.name));
};

// The link groups in use, from the same output; null when it is not that JSON.
export const parseLinkGroups = (stdout: string): Set<string> | null => {
  const links = parseLinks(stdout);
  return links === null ? null : present(links.map((l) => l.group));
};

export interface BridgeBatch {
  argv: string[];
  stdin: string;
  // Per network, in order: the 1-based lines of the input that are its own (first = its link add).
  lines: Array<{ network: string; first: number; last: number }>;
}

// ip splits a batch line at blanks and reads quotes, backslashes and '#' itself: only words without
// any of them are written (validated definitions never have them; this keeps it so).
const PLAIN_WORD = /^[^\s"'\\#]+$/;

// -force goes on past a line that fails, so a bridge someone already removed does not keep the others.
const IP_FORCE_BATCH_ARGV: readonly string[] = ['ip', '-force', '-batch', '-'];

// One batch from each network's commands (full argv, `ip` first), in order, then `tail`; records
// which lines are each network's.
const batchOf = (argv: readonly string[], parts: ReadonlyArray<{ network: string; cmds: string[][] }>, tail: string[][] = []): BridgeBatch => {
  const out: string[] = [];
  const line = (network: string | undefined, cmd: string[]): void => {
    const words = cmd.slice(1);
    const bad = words.find((w) => !PLAIN_WORD.test(w));
    if (bad !== undefined) throw new HostError('EBATCHWORD', `${network === undefined ? '' : `network '${network}': `}${JSON.stringify(bad)} cannot be written to ip -batch`);
    out.push(words.join(' '));
  };
  const lines: BridgeBatch['lines'] = [];
  for (const { network, cmds } of parts) {
    const first = out.length + 1;
    for (const cmd of cmds) line(network, cmd);
    lines.push({ network, first, last: out.length });
  }
  for (const cmd of tail) line(undefined, cmd);
  return { argv: [...argv], stdin: out.map((l) => `${l}\n`).join(''), lines };
};

export const bridgeCreateBatch = (defs: readonly NetworkDef[]): BridgeBatch =>
  batchOf(IP_BATCH_ARGV, defs.map((def) => ({ network: def.name, cmds: bridgeCreateCommands(def) })));

// The bridges of many networks deleted by one `ip -force -batch -` (down, then del, as one at a time).
export const bridgeDeleteBatch = (items: ReadonlyArray<{ network: string; bridge: string }>): BridgeBatch =>
  batchOf(IP_FORCE_BATCH_ARGV, items.map(({ network, bridge }) => ({ network, cmds: bridgeDeleteCommands(bridge) })));

// A link group no link is in, for one deletion: drawn from [2^30, 2^31) (administrators name small
// numbers in /etc/iproute2/group; `draw` returns a number in that range).
export const freshLinkGroup = (used: ReadonlySet<string>, draw: () => number): number => {
  for (;;) {
    const g = draw();
    if (!Number.isInteger(g) || g < 2 ** 30 || g >= 2 ** 31) throw new HostError('EGROUP', `link group ${g} is outside [2^30, 2^31)`);
    if (!used.has(String(g))) return g;
  }
};

// Many bridges deleted in one kernel operation: the kernel unregisters the bridges of one
// `link del group G` together, where one `link del` per bridge waits for the kernel once per
// bridge (38 ms per bridge against 16 on a 2-vCPU machine). Each bridge is put down and moved into
// group G (a group no link was in: freshLinkGroup), then the last line deletes the group. A bridge
// already gone fails only its own lines (-force goes on).
export const bridgeGroupDeleteBatch = (items: ReadonlyArray<{ network: string; bridge: string }>, group: number): BridgeBatch & { groupLine: number } => {
  const batch = batchOf(IP_FORCE_BATCH_ARGV, items.map(({ network, bridge }) => ({ network, cmds: bridgeIntoGroupCommands(bridge, group) })), [linkGroupDeleteCommand(group)]);
  return { ...batch, groupLine: (batch.lines[batch.lines.length - 1]?.last ?? 0) + 1 };
};

// Each failed line of an `ip -force -batch` run and what ip said about it (the text before its
// "Command failed -:N").
export const failedBatchLines = (stderr: string): Map<number, string> => {
  const out = new Map<number, string>();
  let said: string[] = [];
  for (const line of stderr.split('\n')) {
    const m = /^Command failed -:(\d+)$/.exec(line);
    if (m === null) { if (line !== '') said.push(line); continue; }
    out.set(Number(m[1]), said.join(' '));
    said = [];
  }
  return out;
};

// The line at which `ip -batch` stopped ("Command failed -:N"); undefined when stderr does not say.
export const failedBatchLine = (stderr: string): number | undefined => {
  const m = /^Command failed -:(\d+)$/m.exec(stderr);
  return m === null ? undefined : Number(m[1]);
};

// The bridges a recorded program run may have created: a single `ip link add NAME ...`, or the
// `link add NAME ...` lines of an `ip -batch -` input. When the run's result is known and ip named
// the line it stopped at, lines after it never ran and that line itself did nothing.
export const bridgesAddedBy = (step: { argv: readonly string[]; stdin?: string; result?: { exitCode: number; stderr: string } }): string[] => {
  const { argv } = step;
  if (argv[0] !== 'ip') return [];
  if (argv[1] === 'link' && argv[2] === 'add' && argv[3] !== undefined) return [argv[3]];
  if (argv.length !== IP_BATCH_ARGV.length || !argv.every((a, i) => a === IP_BATCH_ARGV[i]) || step.stdin === undefined) return [];
  const stop = step.result === undefined || step.result.exitCode === 0 ? undefined : failedBatchLine(step.result.stderr);
  const names: string[] = [];
  step.stdin.split('\n').forEach((line, i) => {
    if (stop !== undefined && i + 1 >= stop) return;
    const w = line.split(' ');
    if (w[0] === 'link' && w[1] === 'add' && w[2] !== undefined) names.push(w[2]);
  });
  return names;
};
