import { commands } from './commands/index.js';
import { command } from './spec.js';

// The root of the command tree: `vnetfw` itself. Its subcommands are the registry in commands/.
export const program = command({
  name: 'vnetfw',
  summary: 'the firewall of a host\'s virtual networks (libvirt network XML), on iptables or nftables',
  description: [
    'Every program run is recorded in an append-only, hash-chained event log.',
    'Run \'vnetfw COMMAND --help\' for a command\'s options.',
    '',
    'exit codes: 0 success, 1 operation failed, 2 bad usage or input, 3 drift found',
  ].join('\n'),
  subcommands: commands,
});
