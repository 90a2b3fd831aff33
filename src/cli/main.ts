import { isVnetfwError } from '../errors.js';
import type { CliContext } from './context.js';
import { helpText } from './help.js';
import { parseCommandLine } from './parse.js';
import { program } from './program.js';
import { version } from './version.js';

type Io = { stdout?: NodeJS.WritableStream; stderr?: NodeJS.WritableStream };

// argv (without node and the script) -> exit code. Every failure is one line on stderr; a stack
// trace only with --debug.
export const main = async (argv: readonly string[], io: Io = {}): Promise<number> => {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const debug = argv.includes('--debug');
  try {
    const parsed = parseCommandLine(program, argv);
    if (parsed.kind === 'version') { stdout.write(`vnetfw ${version()}\n`); return 0; }
    if (parsed.kind === 'help') { stdout.write(helpText(parsed.path)); return 0; }
    if (parsed.kind === 'no-command') { stderr.write(helpText(parsed.path)); return 2; }
    const { options: o, path, args } = parsed;
    const ctx: CliContext = {
      stateDir: typeof o['state-dir'] === 'string' ? o['state-dir'] : process.env.VNETFW_STATE_DIR ?? '/var/lib/vnetfw',
      configPath: typeof o.config === 'string' ? o.config : process.env.VNETFW_CONFIG ?? '/etc/vnetfw/network.conf',
      json: o.json === true,
      debug: o.debug === true,
      stdout,
      stderr,
      isTTY: (stderr as NodeJS.WriteStream).isTTY === true,
      program,
    };
    // parseCommandLine returns 'run' only for a command that has run().
    return await path[path.length - 1]!.run!({ options: o, args }, ctx);
  } catch (err) {
    if (isVnetfwError(err)) {
      stderr.write(`vnetfw: ${err.message}\n`);
      if (debug && err.stack !== undefined) stderr.write(`${err.stack}\n`);
      return err.exitCode;
    }
    const msg = err instanceof Error ? err.message : String(err);
    stderr.write(`vnetfw: internal error: ${msg}\n`);
    if (debug && err instanceof Error && err.stack !== undefined) stderr.write(`${err.stack}\n`);
    return 1;
  }
};
