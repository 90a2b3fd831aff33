import { UsageError } from '../errors.js';

// What every command receives: resolved global options and the streams to write to.
export interface CliContext {
  stateDir: string;
  configPath: string;
  json: boolean;
  debug: boolean;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  isTTY: boolean;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;              // e.g. 'start NAME...'
  help: string;               // full text for `vnetfw CMD --help`
  run(args: string[], ctx: CliContext): Promise<number>;
}

// Splits argv into flags it knows and positionals; unknown flags are a usage error naming them.
export const parseFlags = (
  args: readonly string[],
  spec: Record<string, 'boolean' | 'string'>,
  command: string,
): { flags: Record<string, string | boolean>; positionals: string[] } => {
  const flags: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--') { positionals.push(...args.slice(i + 1)); break; }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      const kind = spec[name];
      if (kind === undefined) throw new UsageError(`${command}: unknown option '--${name}' (see 'vnetfw ${command} --help')`);
      if (kind === 'boolean') {
        if (eq > 0) throw new UsageError(`${command}: option '--${name}' takes no value`);
        flags[name] = true;
      } else {
        const v = eq > 0 ? a.slice(eq + 1) : args[++i];
        if (v === undefined) throw new UsageError(`${command}: option '--${name}' needs a value`);
        flags[name] = v;
      }
    } else {
      positionals.push(a);
    }
  }
  return { flags, positionals };
};
