import { runIp, dumpIp, emptyIpState, type IpState } from './fake/ip.js';
import { dumpNft, emptyNftState, type NftState } from './fake/nft-model.js';
import { runNft } from './fake/nft.js';
import type { ProgramOutput } from './fake/types.js';
import { dumpXt, emptyXtState, type XtState } from './fake/xtables-model.js';
import { runRestore, runSave, runXtables } from './fake/xtables.js';
import type { Runner, RunRequest, RunResult } from '../../src/exec/index.js';

// What an injected failure looks like. `afterApply` lets the command take effect first and then
// report failure, like a program killed after it committed (the caller cannot tell).
export interface InjectedFailure {
  exitCode?: number;
  stderr?: string;
  signal?: string;
  timedOut?: boolean;
  afterApply?: boolean;
}
export type FailurePredicate = (req: RunRequest, callIndex: number) => boolean | InjectedFailure;

export interface FakeCall { req: RunRequest; result: RunResult }

export interface FakeRunnerOptions {
  // Programs absent from the fake PATH: running them fails to start (ENOENT), as execa reports.
  missing?: readonly string[];
}

interface FakeKernel { nft: NftState; xt: XtState; ip: IpState }

const sharedXtTable = (args: readonly string[], k: FakeKernel): { fam: 'ipv4' | 'ipv6'; table: string } | null => {
  const [verb, object, family, table] = args;
  if (verb !== 'delete' || object !== 'table' || table === undefined || (family !== 'ip' && family !== 'ip6')) return null;
  const fam = family === 'ip' ? 'ipv4' : 'ipv6';
  return k.xt[fam][table] !== undefined && table !== 'libvirt_network' ? { fam, table } : null;
};

const PROGRAMS = new Set(['nft', 'iptables', 'ip6tables', 'iptables-restore', 'ip6tables-restore',
  'iptables-save', 'ip6tables-save', 'ip']);

/**
 * An in-memory model of the host's firewall and bridges, in the spirit of knftables' Fake: it
 * understands the commands vnetfw sends (nft scripts and single commands, iptables single
 * commands, iptables-restore/-save, `ip link`/`ip addr`), applies each run atomically as the real
 * program does, and answers in the real programs' output format.
 *
 * @example
 *   const fake = new FakeRunner();
 *   fake.failWhen((req) => req.argv[0] === 'iptables-restore');
 *   const before = fake.dump(); ...; expect(fake.dump()).toBe(before);
 */
export class FakeRunner implements Runner {
  /** Every run, in order, with what it returned. */
  readonly calls: FakeCall[] = [];
  private kernel: FakeKernel = { nft: emptyNftState(), xt: emptyXtState(), ip: emptyIpState() };
  private failures: FailurePredicate[] = [];
  private readonly missing: Set<string>;

  constructor(opts: FakeRunnerOptions = {}) {
    this.missing = new Set(opts.missing ?? []);
  }

  /** Injects failures: the first predicate that matches a run decides its result. */
  failWhen(pred: FailurePredicate): this {
    this.failures.push(pred);
    return this;
  }

  clearFailures(): void {
    this.failures = [];
  }

  /** Stable text of everything modelled (nft tables, iptables/ip6tables tables, links). */
  dump(): string {
    return [
      `# nft\n${dumpNft(this.kernel.nft)}`,
      `# iptables\n${dumpXt(this.kernel.xt.ipv4)}`,
      `# ip6tables\n${dumpXt(this.kernel.xt.ipv6)}`,
      `# links\n${dumpIp(this.kernel.ip)}`,
    ].join('');
  }

  // Runner.run: never throws, like the execa runner.
  run(req: RunRequest): Promise<RunResult> {
    const callIndex = this.calls.length;
    const started = Date.now();
    const [prog = '', ...args] = req.argv;
    const base: RunResult = { argv: [...req.argv], exitCode: 0, stdout: '', stderr: '', durationMs: 0 };
    if (req.stdin !== undefined) base.stdin = req.stdin;
    let result: RunResult;
    const injected = this.failures.map((f) => f(req, callIndex)).find((f) => f !== false);
    if (req.signal?.aborted) {
      result = { ...base, exitCode: -1, canceled: true, signal: 'SIGTERM' };
    } else if (!PROGRAMS.has(prog) || this.missing.has(prog)) {
      result = { ...base, exitCode: -1, failedToStart: true, stderr: `spawn ${prog} ENOENT` };
    } else if (injected !== undefined && !(typeof injected === 'object' && injected.afterApply)) {
      result = { ...base, ...failureResult(injected) };
    } else {
      const out = this.execute(prog, args, req.stdin, callIndex);
      result = { ...base, ...out, ...(injected !== undefined ? failureResult(injected) : {}) };
    }
    result.durationMs = Date.now() - started;
    this.calls.push({ req: { ...req, argv: [...req.argv] }, result });
    return Promise.resolve(result);
  }

  private execute(prog: string, args: string[], stdin: string | undefined, callIndex: number): ProgramOutput {
    const k = this.kernel;
    const fam = prog.startsWith('ip6') ? 'ipv6' : 'ipv4';
    switch (prog) {
      case 'nft': {
        // iptables-nft keeps its tables in nf_tables, so `nft delete table ip filter` removes an
        // iptables table; the fake's two models are apart, so that one case is routed here.
        const shared = sharedXtTable(args, k);
        if (shared !== null) {
          delete k.xt[shared.fam][shared.table];
          return { exitCode: 0, stdout: '', stderr: '' };
        }
        const r = runNft(args, stdin, k.nft, 1000 + callIndex);
        k.nft = r.state;
        return r.output;
      }
      case 'iptables':
      case 'ip6tables': {
        const r = runXtables(prog, args, k.xt[fam]);
        k.xt[fam] = r.tables;
        return r.output;
      }
      case 'iptables-restore':
      case 'ip6tables-restore': {
        const r = runRestore(prog, args, stdin ?? '', k.xt[fam]);
        k.xt[fam] = r.tables;
        return r.output;
      }
      case 'iptables-save':
      case 'ip6tables-save':
        return runSave(prog, args, k.xt[fam]);
      default: {
        const r = runIp(args, k.ip, stdin);
        k.ip = r.state;
        return r.output;
      }
    }
  }
}

function failureResult(f: true | InjectedFailure): Partial<RunResult> {
  const o = f === true ? {} : f;
  const killed = o.signal !== undefined || o.timedOut === true;
  return {
    exitCode: killed ? -1 : (o.exitCode ?? 1),
    stdout: '',
    stderr: o.stderr ?? 'injected failure\n',
    ...(o.signal !== undefined ? { signal: o.signal } : o.timedOut ? { signal: 'SIGTERM' } : {}),
    ...(o.timedOut ? { timedOut: true } : {}),
  };
}
