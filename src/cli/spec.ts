// The declarative shape of a command: its name, arguments and options are data, from which the
// parser (parse.ts), `--help` (help.ts) and the shell completion scripts (completion.ts) are all
// derived. A command file exports one `command({...})`; `commands/index.ts` lists it.
import type { CliContext } from './context.js';

// How a shell completes a value: a file name, a defined network's name, or one of fixed words.
export type Completer = 'file' | 'dir' | 'network' | readonly string[];

export interface OptionSpec {
  readonly type: 'boolean' | 'string';
  readonly description: string;
  readonly value?: string;                    // placeholder in help for string options, e.g. 'SECONDS'
  readonly short?: string;                    // one letter
  readonly required?: boolean;                // a string option that must be given
  readonly complete?: Completer;
}

export interface ArgSpec {
  readonly name: string;                      // as shown in usage, e.g. 'NAME' or 'NAME|FILE'
  readonly variadic?: boolean;                // NAME...: every remaining positional
  readonly optional?: boolean;                // [NAME]: may be absent (a variadic one: zero or more)
  readonly complete?: Completer;
}

export type OptionsSpec = Readonly<Record<string, OptionSpec>>;

// The parsed options of a spec: booleans are true or absent; strings are absent or their text.
export type OptionValues<O extends OptionsSpec> = {
  -readonly [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : O[K]['type'] extends 'string' ? string : string | boolean;
};

export interface Invocation<O extends OptionsSpec> {
  readonly options: OptionValues<O>;
  readonly args: string[];                    // positionals, counted against `args` already
}

export interface CommandSpec<O extends OptionsSpec = OptionsSpec> {
  readonly name: string;
  readonly summary: string;                   // one line for the command list
  readonly description?: string;              // paragraphs for `vnetfw CMD --help`
  readonly args?: readonly ArgSpec[];
  readonly options?: O;
  // Commands under this one (`log verify`, `libvirt hook install`): chosen by the first positional.
  readonly subcommands?: readonly Command[];
  readonly hidden?: boolean;                  // left out of help and completion
  // Absent on a pure group (`libvirt`): then a subcommand is required.
  run?(inv: Invocation<O>, ctx: CliContext): Promise<number>;
}

// What the registry holds: a spec with its option types erased (the method's parameter is
// bivariant, so a typed spec is assignable).
export type Command = CommandSpec;

// Identity with inference: `options` keep their literal types, so `inv.options.batch` is boolean.
export const command = <const O extends OptionsSpec = Record<never, OptionSpec>>(spec: CommandSpec<O>): CommandSpec<O> => spec;

// Options every command accepts, before or after its name.
export const GLOBAL_OPTIONS: OptionsSpec = {
  'state-dir': { type: 'string', value: 'DIR', complete: 'dir', description: 'state directory (default $VNETFW_STATE_DIR or /var/lib/vnetfw)' },
  config: { type: 'string', value: 'FILE', complete: 'file', description: 'network.conf (default $VNETFW_CONFIG or /etc/vnetfw/network.conf)' },
  json: { type: 'boolean', description: 'machine-readable output' },
  debug: { type: 'boolean', description: 'show stack traces on errors' },
  help: { type: 'boolean', short: 'h', description: 'show help and exit' },
};
