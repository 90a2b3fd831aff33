import {
  FAMILIES, findTable, normaliseChainSpec, normaliseExpr, printRuleset, printTable,
  type NftChain, type NftState, type NftTable,
} from './nft-model.js';
import { tokenize } from './tokenize.js';
import type { ProgramOutput } from './types.js';

// Raised for one command of a script; turned into nft's error text by the caller.
class NftError extends Error {}
const ENOENT = 'Could not process rule: No such file or directory';

interface Ctx { state: NftState; echo: string[]; out: string[]; handles: boolean }

// Runs `nft [options] (-f - | words...)` against `state`. The whole input is one transaction:
// it is applied to a copy that replaces the state only if every command succeeded (nft -f).
export function runNft(args: string[], stdin: string | undefined, state: NftState, pid: number):
  { output: ProgramOutput; state: NftState } {
  let echo = false, handles = false, check = false, file: string | null = null;
  let i = 0;
  for (; i < args.length && (args[i] as string).startsWith('-'); i++) {
    const a = args[i] as string;
    if (a === '--echo' || a === '-e') echo = true;
    else if (a === '--handle' || a === '-a') handles = true;
    else if (a === '-ae' || a === '-ea') echo = handles = true;
    else if (a === '--check' || a === '-c') check = true;
    else if (a === '-f' || a === '--file') file = args[++i] ?? '';
    else return { state, output: fail(`Error: unknown option '${a}'\n`) };
  }
  if (file !== null && file !== '-') return { state, output: fail(`Error: Could not open file "${file}": No such file or directory\n`) };
  const fromStdin = file === '-';
  const lines = fromStdin ? (stdin ?? '').split('\n') : [args.slice(i).join(' ')];
  const ctx: Ctx = { state: structuredClone(state), echo: [], out: [], handles };
  for (const [n, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    try {
      runCommand(line, ctx);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      const where = fromStdin ? `/dev/stdin:${n + 1}:1-${raw.length}: ` : '';
      return { state, output: fail(`${where}Error: ${msg}\n${raw}\n`) };
    }
  }
  const changed = ctx.echo.length > 0 || JSON.stringify(ctx.state.tables) !== JSON.stringify(state.tables);
  if (check) return { state, output: { exitCode: 0, stdout: '', stderr: '' } };
  if (changed) ctx.state.generation++;
  let stdout = ctx.out.join('');
  if (echo && ctx.echo.length > 0) {
    stdout += ctx.echo.map((l) => `${l}\n`).join('') + `# new generation ${ctx.state.generation} by process ${pid} (nft)\n`;
  }
  return { state: ctx.state, output: { exitCode: 0, stdout, stderr: '' } };
}

const fail = (stderr: string): ProgramOutput => ({ exitCode: 1, stdout: '', stderr });

function runCommand(line: string, ctx: Ctx): void {
  const brace = line.indexOf('{');
  const head = tokenize(brace >= 0 ? line.slice(0, brace) : line, true);
  const body = brace >= 0 ? line.slice(brace + 1, line.lastIndexOf('}')) : null;
  const [verb, object, ...rest] = head;
  if (verb === 'list') return list(object, rest, ctx);
  const family = rest[0] !== undefined && FAMILIES.has(rest[0]) ? rest.shift() as string : 'ip';
  const h = (n: number) => (ctx.handles ? ` # handle ${n}` : '');
  const tableName = need(rest.shift(), 'table name');
  if (object === 'table') {
    let t = findTable(ctx.state, family, tableName);
    if (verb === 'add' || verb === 'create') {
      if (t && verb === 'create') throw new NftError('Could not process rule: File exists');
      const comment = body?.match(/comment\s+("[^"]*")/)?.[1] ?? null;
      if (!t) {
        const handle = (ctx.state.nextTableHandle[family] ?? 1);
        ctx.state.nextTableHandle[family] = handle + 1;
        t = { family, name: tableName, handle, comment, nextHandle: 1, chains: [] };
        ctx.state.tables.push(t);
        ctx.echo.push(`add table ${family} ${tableName}${h(handle)}`);
      }
      return;
    }
    if (!t) throw new NftError(ENOENT);
    if (verb === 'delete') ctx.state.tables = ctx.state.tables.filter((x) => x !== t);
    else if (verb === 'flush') t.chains.forEach((c) => (c.rules = []));
    else throw syntax(verb);
    return;
  }
  const t = findTable(ctx.state, family, tableName);
  const chainName = need(rest.shift(), 'chain name');
  if (object === 'chain') return chainCommand(verb, t, chainName, body, ctx, h);
  if (object !== 'rule') throw syntax(object);
  const c = t?.chains.find((x) => x.name === chainName);
  if (!t || !c) throw new NftError(ENOENT);
  if (verb === 'delete') {
    if (rest[0] !== 'handle' || rest.length !== 2) throw syntax(rest[0]);
    const idx = c.rules.findIndex((r) => String(r.handle) === rest[1]);
    if (idx < 0) throw new NftError(ENOENT);
    c.rules.splice(idx, 1);
    return;
  }
  if (verb !== 'add' && verb !== 'insert') throw syntax(verb);
  let at = verb === 'insert' ? 0 : c.rules.length;
  if (rest[0] === 'handle' || rest[0] === 'position') {
    const ref = c.rules.findIndex((r) => String(r.handle) === rest[1]);
    if (ref < 0) throw new NftError(ENOENT);
    at = verb === 'insert' ? ref : ref + 1;
    rest.splice(0, 2);
  }
  if (rest.length === 0) throw syntax(undefined);
  const exprText = normaliseExpr(rest);
  if (body !== null) throw syntax('{');
  const handle = t.nextHandle++;
  c.rules.splice(at, 0, { handle, expr: exprText });
  ctx.echo.push(`${verb} rule ${family} ${tableName} ${chainName} ${exprText}${h(handle)}`);
}

function chainCommand(verb: string | undefined, t: NftTable | undefined, name: string, body: string | null,
  ctx: Ctx, h: (n: number) => string): void {
  if (!t) throw new NftError(ENOENT);
  let c = t.chains.find((x) => x.name === name);
  if (verb === 'add' || verb === 'create') {
    if (c && verb === 'create') throw new NftError('Could not process rule: File exists');
    const spec = body === null ? null : normaliseChainSpec(body);
    if (!c) {
      c = { name, handle: t.nextHandle++, spec, rules: [] } satisfies NftChain;
      t.chains.push(c);
    }
    ctx.echo.push(`add chain ${t.family} ${t.name} ${name}${c.spec ? ` { ${c.spec} }` : ''}${h(c.handle)}`);
    return;
  }
  if (!c) throw new NftError(ENOENT);
  if (verb === 'flush') c.rules = [];
  else if (verb === 'delete') {
    const jumped = t.chains.some((x) => x.rules.some((r) => new RegExp(`\\b(jump|goto) ${name}\\b`).test(r.expr)));
    if (jumped) throw new NftError('Could not process rule: Device or resource busy');
    t.chains = t.chains.filter((x) => x !== c);
  } else throw syntax(verb);
}

function list(object: string | undefined, rest: string[], ctx: Ctx): void {
  if (object === 'ruleset') return void ctx.out.push(printRuleset(ctx.state, ctx.handles));
  if (object === 'tables') return void ctx.out.push(ctx.state.tables.map((t) => `table ${t.family} ${t.name}\n`).join(''));
  const family = rest[0] !== undefined && FAMILIES.has(rest[0]) ? rest.shift() as string : 'ip';
  const t = findTable(ctx.state, family, need(rest[0], 'table name'));
  if (!t) throw new NftError('No such file or directory');
  if (object === 'table') return void ctx.out.push(printTable(t, ctx.handles));
  if (object !== 'chain') throw syntax(object);
  const c = t.chains.find((x) => x.name === rest[1]);
  if (!c) throw new NftError('No such file or directory');
  ctx.out.push(printTable({ ...t, comment: null, chains: [c] }, ctx.handles));
}

function need(v: string | undefined, what: string): string {
  if (v === undefined) throw new NftError(`syntax error, unexpected end of file, expecting ${what}`);
  return v;
}

function syntax(tok: string | undefined): NftError {
  return new NftError(`syntax error, unexpected ${tok ?? 'end of file'}`);
}
