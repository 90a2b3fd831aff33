import { UsageError } from '../../errors.js';
import { loadEngine } from '../lazy.js';
import { parseFlags, type Command } from '../context.js';

export const undefineCommand: Command = {
  name: 'undefine',
  summary: 'forget a stopped network\'s definition',
  usage: 'undefine NAME',
  help: 'Forgets the definition of a stopped network. An active network is refused (exit 2).',
  run: async (args, ctx) => {
    const { positionals } = parseFlags(args, {}, 'undefine');
    if (positionals.length !== 1) throw new UsageError('undefine: expected exactly one NAME');
    const name = positionals[0] ?? '';
    const { undefineNetwork, withEngine } = await loadEngine();
    await withEngine({ stateDir: ctx.stateDir, configPath: ctx.configPath }, (env) => undefineNetwork(env.journal, name));
    if (ctx.json) ctx.stdout.write(`${JSON.stringify({ name, undefined: true })}\n`);
    return 0;
  },
};
