import { loadEngine } from '../lazy.js';
import { command } from '../spec.js';

export const defineCommand = command({
  name: 'define',
  summary: 'validate libvirt network XML files and store the definitions',
  args: [{ name: 'FILE', variadic: true, complete: 'file' }],
  description: [
    'Validates each FILE (libvirt network XML) and records it in the event log. Prints the network',
    'names, one per line (with --json: one object per line).',
    'All or nothing: every file is checked (and checked against the others: names, bridges) before',
    'anything is recorded, then all are recorded with one write. A bad file is refused with a',
    'one-line error naming it (exit 2), and nothing changes.',
  ].join('\n'),
  run: async ({ args: files }, ctx) => {
    const { defineNetworks, withEngine } = await loadEngine();
    const defs = await withEngine({ stateDir: ctx.stateDir, configPath: ctx.configPath }, (env) => defineNetworks(env.journal, files));
    ctx.stdout.write(defs.map((def) => (ctx.json ? `${JSON.stringify({ name: def.name, bridge: def.bridge.name, forward: def.forward.mode })}\n` : `${def.name}\n`)).join(''));
    return 0;
  },
});
