// `vnetfw plan NAME|FILE [--backend B] [--layout L] [--batch]`: what `start` would apply on a
// fresh host. The work is in plan-run.ts, loaded when the command runs.
import { BACKENDS, LAYOUTS } from '../../firewall/model.js';
import { command } from '../spec.js';

export const PLAN_OPTIONS = {
  backend: { type: 'string', value: 'B', complete: BACKENDS, description: 'iptables or nftables (default: network.conf, else auto-detection on PATH)' },
  layout: { type: 'string', value: 'L', complete: LAYOUTS, description: 'libvirt or indexed (nftables only; default: firewall_layout of network.conf)' },
  batch: { type: 'boolean', description: 'print batches instead of single commands' },
} as const;

export const planCommand = command({
  name: 'plan',
  summary: 'print the firewall commands start would apply (runs nothing)',
  args: [{ name: 'NAME|FILE', complete: 'file' }],
  options: PLAN_OPTIONS,
  description: [
    'Prints what `start` would apply on a fresh host, private set-up included, for a stored network',
    'NAME or a libvirt network XML FILE (an existing file or a name ending in .xml). Runs nothing.',
    '',
    'By default: one command per line in libvirt\'s form, shell-quoted, each runnable with `sh -c`',
    'in order. With --batch: the batches the executor sends (nft -f - scripts, iptables-restore',
    'input), each as its command line with the input as a here-document (runnable with sh).',
    'With --json: {network, backend, commands:[{phase, argv, ignoreErrors}], batches:[{argv, stdin, ignoreErrors}]}.',
  ].join('\n'),
  run: async (inv, ctx) => (await import('./plan-run.js')).runPlan(inv, ctx),
});
