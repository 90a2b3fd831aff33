import { UsageError } from '../../errors.js';
import { loadEngine } from '../lazy.js';
import { parseFlags, type Command } from '../context.js';

export const defineCommand: Command = {
  name: 'define',
  summary: 'validate a libvirt network XML file and store the definition',
  usage: 'define FILE',
  help: 'Validates FILE (libvirt network XML) and records it in the event log. Prints the network name.\nA bad file is refused with a one-line error (exit 2) and changes nothing.',
  run: async (args, ctx) => {
    const { positionals } = parseFlags(args, {}, 'define');
    if (positionals.length !== 1) throw new UsageError('define: expected exactly one FILE (see \'vnetfw define --help\')');
    const file = positionals[0] ?? '';
    const { defineNetwork, withEngine } = await loadEngine();
    const def = await withEngine({ stateDir: ctx.stateDir, configPath: ctx.configPath }, (env) => defineNetwork(env.journal, file));
    ctx.stdout.write(ctx.json ? `${JSON.stringify({ name: def.name, bridge: def.bridge.name, forward: def.forward.mode })}\n` : `${def.name}\n`);
    return 0;
  },
};
