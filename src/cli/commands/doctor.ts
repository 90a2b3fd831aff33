import { loadDoctor, loadEngine } from '../lazy.js';
import { command } from '../spec.js';

export const doctorCommand = command({
  name: 'doctor',
  summary: 'which traffic of the active networks other firewalls drop (exit 3 when some is)',
  args: [{ name: 'NAME', variadic: true, optional: true, complete: 'network' }],
  description: [
    'For each active network (default: all of them), reads the host firewall once (nft -j list',
    'ruleset; iptables-nft-save / iptables-legacy-save where needed) and tells which of its traffic',
    '(guest -> outside, replies back in, guest <-> guest, guest -> host DHCP/DNS/TFTP, host -> guest',
    'DHCP replies) a base chain vnetfw does not own drops or rejects: family, table, chain, the rule',
    'or the policy, the owner when recognisable (firewalld, Docker, ufw, NixOS nixos-fw,',
    'iptables-legacy), and what vnetfw does about it (network.conf host_firewall). A chain it cannot',
    'fully reason about is reported as "may be dropped". Exit 0 when nothing blocks, 3 when something',
    'does. --json: one finding per line.',
  ].join('\n'),
  run: async ({ args: names }, ctx) => {
    const [{ doctorNetworks, withEngine }, { describeNetwork, findingJson }] = await Promise.all([loadEngine(), loadDoctor()]);
    const reports = await withEngine({ stateDir: ctx.stateDir, configPath: ctx.configPath }, (env) => doctorNetworks(env, names));
    let blocked = 0;
    for (const r of reports) {
      blocked += r.findings.length;
      if (ctx.json) { for (const f of r.findings) ctx.stdout.write(`${JSON.stringify(findingJson(f))}\n`); continue; }
      ctx.stdout.write(`${r.active ? describeNetwork(r.network, r.bridge, r.findings) : `${r.network} (${r.bridge}): not active, nothing to check`}\n`);
    }
    if (reports.length === 0 && !ctx.json) ctx.stdout.write('no active network\n');
    return blocked > 0 ? 3 : 0;
  },
});
