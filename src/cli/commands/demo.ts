import { UsageError } from '../../errors.js';
import { loadDemo } from '../lazy.js';
import { command } from '../spec.js';

export const demoCommand = command({
  name: 'demo',
  summary: 'show what vnetfw does on a real kernel, in throw-away namespaces (needs root)',
  description: [
    'Runs the whole story in network namespaces it creates and always removes, with a temporary',
    'state directory and config (the host\'s firewall, /etc and /var/lib/vnetfw are never touched):',
    '  1. starts libvirt\'s `default` NAT network with nftables (define + start, the real CLI)',
    '  2. a guest namespace reaches a "wan" namespace through the masquerade',
    '  3. live switch to iptables and back while the guest pings every 10 ms and holds a TCP session',
    '  4. vnetfw SIGKILLed in the middle of a switch, `reconcile`, ruleset compared with a clean start',
    '  5. the audit trail (`vnetfw log`) and `vnetfw log verify`',
    'Needs root (network namespaces). Exit 0 when every step held, 1 when one did not, 2 when it',
    'cannot run here. With --json: one JSON object with the measurements. Ctrl-C cleans up.',
  ].join('\n'),
  run: async (_inv, ctx) => {
    const { preflight, runDemo } = await loadDemo();
    const why = preflight();
    if (why !== undefined) throw new UsageError(why);
    const m = await runDemo({ json: ctx.json, out: ctx.stdout, tty: (ctx.stdout as NodeJS.WriteStream).isTTY === true });
    if (ctx.json) ctx.stdout.write(`${JSON.stringify(m)}\n`);
    return m.ok ? 0 : 1;
  },
});
