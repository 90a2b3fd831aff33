import { UsageError } from '../../errors.js';
import { completionScript, SHELLS } from '../completion.js';
import { command } from '../spec.js';

export const completionCommand = command({
  name: 'completion',
  summary: 'print a shell completion script',
  args: [{ name: 'bash|zsh', complete: SHELLS }],
  description: [
    'Prints a script that completes commands, options, file names and defined networks.',
    '  bash: eval "$(vnetfw completion bash)" in ~/.bashrc, or save it as /etc/bash_completion.d/vnetfw',
    '  zsh:  save it as _vnetfw in a directory of $fpath, or source <(vnetfw completion zsh) after compinit',
  ].join('\n'),
  run: async ({ args: [shell = ''] }, ctx) => {
    const known = SHELLS.find((s) => s === shell);
    if (known === undefined) throw new UsageError(`completion: shell '${shell}' is not supported: must be ${SHELLS.join(' or ')}`);
    ctx.stdout.write(completionScript(known, ctx.program));
    return 0;
  },
});
