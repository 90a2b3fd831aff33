import { loadEngine } from '../lazy.js';
import { command } from '../spec.js';

export const adoptCommand = command({
  name: 'adopt',
  summary: 'take over a network libvirt runs, from its status file, without touching the kernel',
  args: [{ name: 'STATUSFILE', complete: 'file' }],
  description: [
    'Reads libvirt\'s status file of a running network (/run/libvirt/network/NAME.xml): its definition',
    'and its saved removal list (<firewall name=\'fwRemoval\'>). Records the network as active on that',
    'backend without running anything but a look at its bridge, so `vnetfw stop` later removes exactly',
    'the rules libvirt added, `reconcile` can switch it live and `verify` watches it. Then checks the',
    'kernel against it (exit 3 when the rules libvirt recorded are not all there).',
    'Stop libvirt from managing the network first (`virsh net-autostart NAME --disable`; see',
    'docs/operations.md): libvirt would otherwise remove the same rules again.',
  ].join('\n'),
  run: async ({ args: [file = ''] }, ctx) => {
    const { adoptFromLibvirt, findDrift, withEngine } = await loadEngine();
    return withEngine({ stateDir: ctx.stateDir, configPath: ctx.configPath }, async (env) => {
      const a = await adoptFromLibvirt(env, file);
      const drift = await findDrift(env, [a.def.name], { full: true });
      const rules = a.removal.groups.reduce((n, g) => n + g.commands.length, 0);
      if (ctx.json) {
        ctx.stdout.write(`${JSON.stringify({ name: a.def.name, backend: a.removal.backend, rules, bridge: a.def.bridge.name, bridgeExisted: a.bridgeExisted, inSync: drift.length === 0, drift })}\n`);
      } else {
        ctx.stdout.write(`${a.def.name}: adopted on ${a.removal.backend} (${rules} rules libvirt recorded, bridge ${a.def.bridge.name}${a.bridgeExisted ? '' : ' NOT FOUND'})\n`);
        for (const d of drift) ctx.stdout.write(`  drift: ${d.missing.length} of those rules missing, ${d.foreign.length} foreign (run 'vnetfw verify --repair')\n`);
      }
      return drift.length === 0 ? 0 : 3;
    });
  },
});
