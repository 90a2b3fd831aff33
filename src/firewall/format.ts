// Text forms of commands: libvirt's test-harness format (golden files) and single shell-quoted
// lines for `plan`. Neither is ever executed through a shell by vnetfw itself.
import { shellQuoteWord } from '../exec/index.js';
import type { FwCommand } from './model.js';

// The arguments libvirt adds at run time: `-w` (xtables lock) for iptables/ip6tables, `-ae` (echo
// the handle) for nft create commands of AUTO_ROLLBACK groups (libvirt's virfirewall.c).
export const runtimeArgv = (cmd: FwCommand): string[] => {
  if (cmd.program === 'iptables' || cmd.program === 'ip6tables') return [cmd.program, '-w', ...cmd.args];
  if (cmd.program === 'tc') return ['tc', ...cmd.args];
  const verbAt = cmd.args.findIndex((a) => !a.startsWith('-'));
  const verb = cmd.args[verbAt];
  const object = cmd.args[verbAt + 1];
  const creates = (verb === 'insert' || verb === 'add' || verb === 'create') && (object === 'rule' || object === 'chain' || object === 'table');
  if (cmd.autoRollback === true && creates && cmd.args.length > 1) return ['nft', '-ae', ...cmd.args];
  return ['nft', ...cmd.args];
};


// One command as libvirt's dry-run hook prints it: a ` \` line break before an arg starting with
// '-', or between two args where neither it nor the next one starts with '-'; else a space.
export const formatLibvirt = (cmd: FwCommand): string => {
  const argv = runtimeArgv(cmd);
  let out = argv[0] ?? '';
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const prev = argv[i - 1] ?? '';
    const next = argv[i + 1];
    const isOpt = (a: string): boolean => a.startsWith('-');
    const breakBefore = isOpt(arg) || (!isOpt(prev) && (next === undefined || !isOpt(next)));
    out += (breakBefore ? ' \\\n' : ' ') + shellQuoteWord(arg);
  }
  return `${out}\n`;
};

export const formatLibvirtList = (cmds: readonly FwCommand[]): string => cmds.map(formatLibvirt).join('');

// One line, runnable with `sh -c`, exactly the argv libvirt would run.
export const formatShell = (cmd: FwCommand): string => runtimeArgv(cmd).map(shellQuoteWord).join(' ');
