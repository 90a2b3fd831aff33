import { loadEngine } from '../lazy.js';
import { command } from '../spec.js';

export const defineCommand = command({
  name: 'define',
  summary: 'validate a libvirt network XML file and store the definition',
  args: [{ name: 'FILE', complete: 'file' }],
  description: 'Validates FILE (libvirt network XML) and records it in the event log. Prints the network name.\nA bad file is refused with a one-line error (exit 2) and changes nothing.',
  run: async ({ args: [file = ''] }, ctx) => {
    const { defineNetwork, withEngine } = await loadEngine();
    const def = await withEngine({ stateDir: ctx.stateDir, configPath: ctx.configPath }, (env) => defineNetwork(env.journal, file));
    ctx.stdout.write(ctx.json ? `${JSON.stringify({ name: def.name, bridge: def.bridge.name, forward: def.forward.mode })}\n` : `${def.name}\n`);
    return 0;
  },
});
