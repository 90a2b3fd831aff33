import { loadEngine } from '../lazy.js';
import { command } from '../spec.js';

export const undefineCommand = command({
  name: 'undefine',
  summary: 'forget a stopped network\'s definition',
  args: [{ name: 'NAME', complete: 'network' }],
  description: 'Forgets the definition of a stopped network. An active network is refused (exit 2).',
  run: async ({ args: [name = ''] }, ctx) => {
    const { undefineNetwork, withEngine } = await loadEngine();
    await withEngine({ stateDir: ctx.stateDir, configPath: ctx.configPath }, (env) => undefineNetwork(env.journal, name));
    if (ctx.json) ctx.stdout.write(`${JSON.stringify({ name, undefined: true })}\n`);
    return 0;
  },
});
