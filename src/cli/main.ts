import { readFileSync } from 'node:fs';
import { isVnetfwError, UsageError } from '../errors.js';
import { commands } from './commands/index.js';
import type { CliContext } from './context.js';

const version = (): string => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
};

const topHelp = (): string => [
  'usage: vnetfw [--state-dir DIR] [--config FILE] [--json] [--debug] <command> [args]',
  '',
  'The firewall of a host\'s virtual networks (libvirt network XML), on iptables or nftables,',
  'with every program run recorded in an append-only, hash-chained event log.',
  '',
  'commands:',
  ...commands.map((c) => (c.usage.length > 33 ? `  ${c.usage}\n  ${''.padEnd(34)} ${c.summary}` : `  ${c.usage.padEnd(34)} ${c.summary}`)),
  '',
  'global options:',
  '  --state-dir DIR   state directory (default $VNETFW_STATE_DIR or /var/lib/vnetfw)',
  '  --config FILE     network.conf (default $VNETFW_CONFIG or /etc/vnetfw/network.conf)',
  '  --json            machine-readable output',
  '  --debug           show stack traces on errors',
  '  --version, --help',
  '',
  'exit codes: 0 success, 1 operation failed, 2 bad usage or input, 3 drift found',
  '',
].join('\n');

// Global options come before the subcommand (the documented command line); `--json`/`--debug` are also
// accepted after it, since that is what people type.
export const main = async (argv: readonly string[], io: { stdout?: NodeJS.WritableStream; stderr?: NodeJS.WritableStream } = {}): Promise<number> => {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  let debug = argv.includes('--debug');
  try {
    let stateDir = process.env.VNETFW_STATE_DIR ?? '/var/lib/vnetfw';
    let configPath = process.env.VNETFW_CONFIG ?? '/etc/vnetfw/network.conf';
    let json = false;
    let i = 0;
    for (; i < argv.length; i++) {
      const a = argv[i] ?? '';
      if (a === '--state-dir' || a === '--config') {
        const v = argv[++i];
        if (v === undefined || v === '') throw new UsageError(`option '${a}' needs a value`);
        if (a === '--state-dir') stateDir = v; else configPath = v;
      } else if (a.startsWith('--state-dir=')) stateDir = a.slice('--state-dir='.length);
      else if (a.startsWith('--config=')) configPath = a.slice('--config='.length);
      else if (a === '--json') json = true;
      else if (a === '--debug') debug = true;
      else if (a === '--version' || a === '-V') { stdout.write(`vnetfw ${version()}\n`); return 0; }
      else if (a === '--help' || a === '-h') { stdout.write(topHelp()); return 0; }
      else if (a.startsWith('-')) throw new UsageError(`unknown option '${a}' (see 'vnetfw --help')`);
      else break;
    }
    const name = argv[i];
    if (name === undefined) { stderr.write(topHelp()); return 2; }
    if (name === 'help') { stdout.write(topHelp()); return 0; }
    const cmd = commands.find((c) => c.name === name);
    if (cmd === undefined) throw new UsageError(`unknown command '${name}' (see 'vnetfw --help')`);
    const rest = argv.slice(i + 1).filter((a) => {
      if (a === '--json') { json = true; return false; }
      if (a === '--debug') return false;
      return true;
    });
    if (rest.includes('--help') || rest.includes('-h')) { stdout.write(`usage: vnetfw ${cmd.usage}\n\n${cmd.help.trimEnd()}\n`); return 0; }
    const isTTY = (stderr as NodeJS.WriteStream).isTTY === true;
    const ctx: CliContext = { stateDir, configPath, json, debug, stdout, stderr, isTTY };
    return await cmd.run(rest, ctx);
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
