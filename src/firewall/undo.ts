// Undo commands, as libvirt's virFirewall records them (src/util/virfirewall.c), and the per-network removal
// list built from what was applied (virFirewallNewFromRollback).
import { VnetfwError } from '../errors.js';
import type { AppliedCommand, Backend, FwCommand, FwGroup, FwRemoval, FwRuleSet } from './model.js';
import { indexedUndo, isIndexedCommand } from './rules-indexed.js';

const CREATE_OPTS = new Set(['--insert', '-I', '--append', '-A']);

// iptables: the same arguments with the insert/append option turned into --delete.
export const iptablesUndo = (cmd: FwCommand): FwCommand | undefined => {
  const i = cmd.args.findIndex((a) => CREATE_OPTS.has(a));
  if (i < 0) return undefined;
  const args = [...cmd.args];
  args[i] = '--delete';
  return { program: cmd.program, args, ignoreErrors: true };
};

// nftables: `delete <object> <family> [<table> [<chain>]] handle N` from the echoed handle.
export const nftUndo = (cmd: FwCommand, handle: number): FwCommand => {
  const verbAt = cmd.args.findIndex((a) => !a.startsWith('-'));
  const object = cmd.args[verbAt + 1];
  const family = cmd.args[verbAt + 2];
  const table = cmd.args[verbAt + 3];
  const chain = cmd.args[verbAt + 4];
  if (family === undefined || (object !== 'rule' && object !== 'chain' && object !== 'table')) {
    throw new VnetfwError('EFW_UNDO', `cannot derive an undo for nft ${cmd.args.join(' ')}`);
  }
  const where = object === 'table' ? [family] : object === 'chain' ? [family, table ?? ''] : [family, table ?? '', chain ?? ''];
  return { program: 'nft', args: ['delete', object, ...where, 'handle', String(handle)], ignoreErrors: true };
};

// The undo known before a command runs: iptables (the same rule with --delete) and the indexed
// layout (objects by name); undefined for libvirt-layout nft commands (they need the echoed
// handle) and for indexed rules and flushes (their chain's deletion takes them).
export const knownUndo = (cmd: FwCommand): FwCommand | undefined =>
  (cmd.program === 'nft' ? (isIndexedCommand(cmd) ? indexedUndo(cmd) : undefined) : iptablesUndo(cmd));

// Whether a command's undo is known up front (see knownUndo), so no echo is needed.
export const undoKnownUpFront = (cmd: FwCommand): boolean => cmd.program !== 'nft' || isIndexedCommand(cmd);

// The undo of any applied command; nft needs the handle the kernel echoed (a missing one is the
// hard error libvirt reports: "couldn't register rollback command").
export const undoOf = (cmd: FwCommand, handle?: number): FwCommand => {
  if (cmd.program === 'nft') {
    if (handle === undefined) throw new VnetfwError('EFW_UNDO', `couldn't register rollback command: no handle echoed for nft ${cmd.args.join(' ')}`);
    return nftUndo(cmd, handle);
  }
  const undo = iptablesUndo(cmd);
  if (undo === undefined) throw new VnetfwError('EFW_UNDO', `cannot derive an undo for ${cmd.program} ${cmd.args.join(' ')}`);
  return undo;
};

// Groups last -> first, each group's undos last -> first, every group tolerating errors.
export const removalFromApplied = (applied: readonly AppliedCommand[], backend: Backend): FwRemoval => {
  const byGroup = new Map<number, FwCommand[]>();
  for (const a of applied) {
    const g = a.group ?? 0;
    const list = byGroup.get(g) ?? [];
    list.push({ ...a.undo, ignoreErrors: true });
    byGroup.set(g, list);
  }
  const groups: FwGroup[] = [...byGroup.keys()].sort((a, b) => b - a)
    .map((g) => ({ ignoreErrors: true, commands: [...(byGroup.get(g) ?? [])].reverse() }));
  return { backend, groups };
};

// The removal of a rule set whose undos are all known up front (the indexed layout): what its
// apply records, computed without running it (recovery of an apply whose outcome is unknown).
export const removalOfRules = (rules: FwRuleSet): FwRemoval =>
  removalFromApplied(rules.groups.flatMap((g, group) => g.commands.flatMap((command) => {
    const undo = knownUndo(command);
    return undo === undefined ? [] : [{ command, undo, group }];
  })), rules.backend);
