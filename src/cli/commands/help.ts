import { UsageError } from '../../errors.js';
import { helpText } from '../help.js';
import type { Command } from '../spec.js';
import { command } from '../spec.js';

export const helpCommand = command({
  name: 'help',
  summary: 'show the help of the program or of a command',
  args: [{ name: 'COMMAND', variadic: true, optional: true }],
  description: "'vnetfw help log verify' is 'vnetfw log verify --help'.",
  run: async ({ args }, ctx) => {
    const path: Command[] = [ctx.program];
    for (const name of args) {
      const sub = path[path.length - 1]?.subcommands?.find((c) => c.name === name && c.hidden !== true);
      if (sub === undefined) throw new UsageError(`help: unknown command '${[...path.slice(1).map((c) => c.name), name].join(' ')}' (see 'vnetfw --help')`);
      path.push(sub);
    }
    ctx.stdout.write(helpText(path));
    return 0;
  },
});
