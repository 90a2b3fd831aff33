import { canonicalRule, dumpXt, jumpTarget, listRules, saveTable, tableChains, type XtTables } from './xtables-model.js';
import { tokenize } from './tokenize.js';
import type { ProgramOutput } from './types.js';

// A failed command: `usage` errors are iptables' exit 2 (bad argument), others exit 1.
class XtError extends Error {
  constructor(message: string, readonly usage = false) { super(message); }
}

const COMMANDS: Record<string, string> = {
  '-N': 'new', '--new-chain': 'new', '-X': 'delchain', '--delete-chain': 'delchain',
  '-F': 'flush', '--flush': 'flush', '-I': 'insert', '--insert': 'insert', '-A': 'append',
  '--append': 'append', '-D': 'delete', '--delete': 'delete', '-C': 'check', '--check': 'check',
  '-S': 'list', '--list-rules': 'list', '-P': 'policy', '--policy': 'policy',
};
const NO_CHAIN = 'No chain/target/match by that name.';

interface Parsed { table: string; cmd: string; chain: string | undefined; num: number | null; spec: string[] }

function parse(args: string[], table = 'filter'): Parsed {
  let cmd: string | null = null, chain: string | undefined, num: number | null = null;
  const spec: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '-w' || a === '--wait' || a === '-W' || a === '--wait-interval') {
      if (/^\d+$/.test(args[i + 1] ?? '')) i++;
    } else if (a === '-t' || a === '--table') {
      table = args[++i] ?? '';
    } else if (COMMANDS[a] !== undefined) {
      if (cmd !== null) throw new XtError('Cannot use two commands at once', true);
      cmd = COMMANDS[a] as string;
      const next = args[i + 1];
      if (next !== undefined && !next.startsWith('-')) { chain = next; i++; }
      const n = args[i + 1];
      if (chain !== undefined && n !== undefined && /^\d+$/.test(n) && cmd !== 'policy') { num = Number(n); i++; }
      if (cmd === 'policy') spec.push(args[++i] ?? '');
    } else {
      spec.push(a);
    }
  }
  if (cmd === null) throw new XtError('no command specified', true);
  return { table, cmd, chain, num, spec };
}

// Applies one parsed command to `tables` (mutating) and returns its output.
function apply(tables: XtTables, p: Parsed): string {
  const mutating = p.cmd !== 'list' && p.cmd !== 'check';
  const chains = tableChains(tables, p.table, mutating);
  if (!chains) throw new XtError(`can't initialize iptables table \`${p.table}': Table does not exist`);
  const c = p.chain === undefined ? undefined : chains.find((x) => x.name === p.chain);
  const rule = canonicalRule(p.spec);
  switch (p.cmd) {
    case 'new':
      if (!p.chain) throw new XtError('option "-N" requires an argument', true);
      if (c) throw new XtError('Chain already exists.');
      chains.push({ name: p.chain, policy: null, rules: [] });
      return '';
    case 'list':
      if (p.chain !== undefined && !c) throw new XtError(NO_CHAIN);
      return listRules(chains, c ?? null);
    case 'flush':
      if (p.chain !== undefined && !c) throw new XtError(NO_CHAIN);
      for (const x of c ? [c] : chains) x.rules = [];
      return '';
    case 'delchain': {
      const victims = c ? [c] : chains.filter((x) => x.policy === null);
      if (p.chain !== undefined && (!c || c.policy !== null)) throw new XtError(NO_CHAIN);
      for (const v of victims) {
        if (v.rules.length > 0) throw new XtError('Directory not empty.');
        if (chains.some((x) => x.rules.some((r) => jumpTarget(r.split(' ')) === v.name))) throw new XtError('Too many links.');
      }
      chains.splice(0, chains.length, ...chains.filter((x) => !victims.includes(x)));
      return '';
    }
    case 'policy':
      if (!c || c.policy === null) throw new XtError('Bad built-in chain name.');
      c.policy = p.spec[0] ?? 'ACCEPT';
      return '';
  }
  if (!c) throw new XtError(NO_CHAIN);
  const target = jumpTarget(p.spec);
  if (target !== null && !chains.some((x) => x.name === target)) throw new XtError(NO_CHAIN);
  const at = c.rules.indexOf(rule);
  if (p.cmd === 'check') {
    if (at < 0) throw new XtError('Bad rule (does a matching rule exist in that chain?).');
  } else if (p.cmd === 'delete') {
    const idx = p.num !== null ? p.num - 1 : at;
    if (idx < 0 || idx >= c.rules.length) throw new XtError('Bad rule (does a matching rule exist in that chain?).');
    c.rules.splice(idx, 1);
  } else if (p.cmd === 'insert') {
    c.rules.splice(Math.min((p.num ?? 1) - 1, c.rules.length), 0, rule);
  } else {
    c.rules.push(rule);
  }
  return '';
}

// `iptables ARGS` / `ip6tables ARGS`: one command, applied on success only.
export function runXtables(prog: string, args: string[], tables: XtTables): { output: ProgramOutput; tables: XtTables } {
  const next = structuredClone(tables);
  try {
    const stdout = apply(next, parse(args));
    return { tables: next, output: { exitCode: 0, stdout, stderr: '' } };
  } catch (e) {
    const err = e as XtError;
    const stderr = err.usage
      ? `${prog} v1.8.9 (nf_tables): ${err.message}\nTry \`${prog} -h' or '${prog} --help' for more information.\n`
      : `${prog}: ${err.message}\n`;
    return { tables, output: { exitCode: err.usage ? 2 : 1, stdout: '', stderr } };
  }
}

// `iptables-restore [--noflush] [-w] [--test]`: each *table ... COMMIT block is one transaction,
// as in iptables-nft: a failing block is discarded and stops the run, earlier blocks stay.
export function runRestore(prog: string, args: string[], stdin: string, tables: XtTables):
  { output: ProgramOutput; tables: XtTables } {
  const noflush = args.includes('--noflush') || args.includes('-n');
  const test = args.includes('--test') || args.includes('-t');
  let committed = structuredClone(tables);
  let block: XtTables | null = null;
  let table = '';
  const lines = stdin.split('\n');
  const failAt = (n: number, msg: string, code = 1) =>
    ({ tables: test ? tables : committed, output: { exitCode: code, stdout: '', stderr: msg } });
  for (const [idx, raw] of lines.entries()) {
    const n = idx + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      table = line.slice(1);
      block = structuredClone(committed);
      if (!tableChains(block, table, true)) return failAt(n, `${prog}: Table '${table}' does not exist\n`);
      if (!noflush) {
        // Without --noflush a table named in the input is replaced as a whole.
        delete block[table];
        tableChains(block, table, true);
      }
    } else if (block === null) {
      return failAt(n, `Bad argument \`${line}'\nError occurred at line: ${n}\n`, 2);
    } else if (line === 'COMMIT') {
      committed = block;
      block = null;
    } else if (line.startsWith(':')) {
      const [name = '', policy = '-'] = line.slice(1).split(/\s+/);
      const chains = tableChains(block, table, true) ?? [];
      const c = chains.find((x) => x.name === name);
      if (c && c.policy !== null && policy !== '-') c.policy = policy;
      else if (c) c.rules = [];   // a user chain named again is flushed, even with --noflush
      else if (policy === '-') chains.push({ name, policy: null, rules: [] });
      else return failAt(n, `${prog}: line ${n} failed: Bad built-in chain name.\n`);
    } else {
      let words: string[];
      try { words = tokenize(line); } catch { return failAt(n, `${prog}: line ${n} failed: unterminated quote\n`, 2); }
      try {
        apply(block, parse(words, table));
      } catch (e) {
        const err = e as XtError;
        if (err.usage) return failAt(n, `Bad argument \`${words[0] ?? ''}'\nError occurred at line: ${n}\n`, 2);
        return failAt(n, `${prog}: line ${n} failed: ${err.message}\n`);
      }
    }
  }
  if (block !== null) return failAt(lines.length, `${prog}: COMMIT expected at line ${lines.length}\n`);
  return { tables: test ? tables : committed, output: { exitCode: 0, stdout: '', stderr: '' } };
}

export function runSave(prog: string, args: string[], tables: XtTables): ProgramOutput {
  const ti = args.findIndex((a) => a === '-t' || a === '--table');
  const only = ti >= 0 ? args[ti + 1] : undefined;
  const stamp = 'Thu Jan  1 00:00:00 1970';
  const body = only !== undefined
    ? (tables[only] ? saveTable(only, tables[only]) : '')
    : dumpXt(tables);
  const stdout = body === '' ? '' : body.split('COMMIT\n').filter((b) => b !== '')
    .map((b) => `# Generated by ${prog} v1.8.9 (nf_tables) on ${stamp}\n${b}COMMIT\n# Completed on ${stamp}\n`).join('');
  return { exitCode: 0, stdout, stderr: '' };
}
