// Real kernel: the crash matrix of the reconciler. For start (each backend), stop (each backend)
// and a switch in each direction (config changed, then `reconcile`), vnetfw is SIGKILLed at every
// program call it makes, before the program runs and right after it finished (wrappers first on
// PATH). After one `vnetfw reconcile` without the wrappers:
// - the canonical ruleset of the backend the log records for the network equals the one libvirt's
//   own commands leave (test/fixtures/cases: base.<be> + nat-default-linux.<be> replayed in a
//   reference namespace) for an active network, or libvirt's private set-up alone for a stopped one;
// - the other backend's view holds nothing of the network (and exactly what libvirt leaves there);
// - `status` says active on the configured backend (start, switch) or stopped (stop), no operation
//   in flight; the bridge is there (up, addressed) or gone accordingly;
// - `vnetfw log verify` exits 0.
// Layout switches (nftables in libvirt's layout <-> the indexed layout, `firewall_layout` changed,
// then `reconcile`) are crashed the same way: afterwards the indexed table (`inet vnetfw`) holds
// exactly what an uninterrupted switch leaves there, and libvirt's tables what libvirt's commands
// leave (the network's rules, or the private set-up alone).
// One fresh namespace and state directory per case; independent cases run side by side.
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canon, casesDir, cliBuilt, cliPath, IP, limiter, makeCrashShims, mentions, must, netnsSkipReason, nsDel, nsDelAll, nsNew, other,
  reference, run, statusOf, vnet, vnetRO, writeConf, type Backend, type Crash, type Reference,
} from '../support/index.js';

const CASE = 'nat-default';
const NET = 'default';
const BRIDGE = 'virbr0';
const skipReason = netnsSkipReason ?? (cliBuilt ? undefined : 'dist/ is not built (run `npm run build`)');
const canRun = skipReason === undefined;

// A configuration: a backend, or nftables with firewall_layout = "indexed".
type Conf = Backend | 'indexed';
const confFile = (file: string, c: Conf): string =>
  (c === 'indexed' ? writeConf(file, 'nftables', 'firewall_layout = "indexed"\n') : writeConf(file, c));

interface Op {
  title: string;
  pre: Conf | null;               // started with this configuration before the operation (no wrappers)
  conf: Conf;                     // configuration for the operation and for the recovery
  args: string[];
  want: { state: 'active' | 'stopped'; backend: Backend; otherView: 'empty' | 'base' };
  layout?: 'indexed' | 'libvirt'; // a layout switch: the layout it ends on
}
const OPS: Op[] = [
  { title: 'start nftables', pre: null, conf: 'nftables', args: ['start', NET], want: { state: 'active', backend: 'nftables', otherView: 'empty' } },
  { title: 'start iptables', pre: null, conf: 'iptables', args: ['start', NET], want: { state: 'active', backend: 'iptables', otherView: 'empty' } },
  { title: 'stop nftables', pre: 'nftables', conf: 'nftables', args: ['stop', NET], want: { state: 'stopped', backend: 'nftables', otherView: 'empty' } },
  { title: 'stop iptables', pre: 'iptables', conf: 'iptables', args: ['stop', NET], want: { state: 'stopped', backend: 'iptables', otherView: 'empty' } },
  { title: 'switch nftables→iptables', pre: 'nftables', conf: 'iptables', args: ['reconcile'], want: { state: 'active', backend: 'iptables', otherView: 'base' } },
  { title: 'switch iptables→nftables', pre: 'iptables', conf: 'nftables', args: ['reconcile'], want: { state: 'active', backend: 'nftables', otherView: 'base' } },
  { title: 'switch layout libvirt→indexed', pre: 'nftables', conf: 'indexed', args: ['reconcile'], want: { state: 'active', backend: 'nftables', otherView: 'empty' }, layout: 'indexed' },
  { title: 'switch layout indexed→libvirt', pre: 'indexed', conf: 'nftables', args: ['reconcile'], want: { state: 'active', backend: 'nftables', otherView: 'empty' }, layout: 'libvirt' },
];

interface Outcome {
  opRun: { code: number | null; signal: string | null; stderr: string };
  calls: number;               // wrapper calls counted during the operation
  callLog: string;
  recover: { code: number | null; stdout: string; stderr: string };
  status: Record<string, unknown>;
  views: Record<'nftables' | 'iptables', string>;
  indexed: string;             // `nft list table inet vnetfw` ('' when there is none)
  bridge: { exists: boolean; up: boolean; addrs: string[] };
  logVerify: { code: number | null; out: string };
}

const gate = limiter(3);
const tmpRoot = canRun ? mkdtempSync(join(tmpdir(), 'vnetfw-crash-')) : '';
const shimDir = canRun ? makeCrashShims(join(tmpRoot, 'shims')) : '';
let caseNo = 0;

// A state directory holding only the definition (`define` runs no program): made once, copied
// into each case.
let defined: Promise<string> | undefined;
const definedState = (): Promise<string> => {
  defined ??= (async () => {
    const dir = join(tmpRoot, 'defined');
    const r = await run([process.execPath, cliPath, '--state-dir', dir, '--config', writeConf(join(tmpRoot, 'define.conf'), 'nftables'),
      'define', join(casesDir, `${CASE}.xml`)]);
    if (r.code !== 0) throw new Error(`define: ${r.stderr}`);
    return dir;
  })();
  return defined;
};

// `nft list table` prints maps, sets and chains in the order they were created, which a crash and
// its recovery may change: compared as sorted blocks (each block's own lines keep their order).
const sortedBlocks = (text: string): string =>
  text.trim().replace(/^table [^\n]*\{\n/, '').replace(/\n\}$/, '').split(/\n\s*\n/).map((b) => b.trim()).sort().join('\n\n');

// One case: fresh namespace and state, pre-operation state, the operation (crashing at `at`, or
// only counted when at = 0), one reconcile without wrappers, then everything observed.
const runCase = (op: Op, at: number, when: 'before' | 'after'): Promise<Outcome> => gate(async () => {
  const id = ++caseNo;   // captured now: other cases run while this one awaits
  const dir = join(tmpRoot, `case${id}`);
  const ns = await nsNew('cm');
  try {
    const stateDir = join(dir, 'state');
    const confOp = confFile(join(tmpRoot, `${id}.op.conf`), op.conf);
    cpSync(await definedState(), stateDir, { recursive: true });
    if (op.pre !== null) {
      const confPre = confFile(join(tmpRoot, `${id}.pre.conf`), op.pre);
      await must(vnet(ns, stateDir, confPre, ['start', NET]), `pre-start on ${op.pre}`);
    }
    const crash: Crash = { shimDir, counter: join(tmpRoot, `${id}.count`), at, when };
    const r = await vnet(ns, stateDir, confOp, op.args, { crash });
    const calls = Number(readFileSync(crash.counter, 'utf8').trim());
    const callLog = readFileSync(`${crash.counter}.log`, 'utf8');
    const rec = await vnet(ns, stateDir, confOp, ['reconcile']);
    const [status, nft, ipt, link, verify, indexed] = await Promise.all([
      statusOf(stateDir, NET), canon(ns, 'nftables'), canon(ns, 'iptables'),
      run([IP, '-n', ns, '-j', 'addr', 'show', 'dev', BRIDGE]), vnetRO(stateDir, ['log', 'verify']),
      run([IP, 'netns', 'exec', ns, 'nft', 'list', 'table', 'inet', 'vnetfw']),
    ]);
    const info = link.code === 0 ? (JSON.parse(link.stdout) as Array<{ flags?: string[]; addr_info?: Array<{ local: string; prefixlen: number }> }>)[0] : undefined;
    return {
      opRun: { code: r.code, signal: r.signal, stderr: r.stderr },
      calls, callLog,
      recover: { code: rec.code, stdout: rec.stdout, stderr: rec.stderr },
      status,
      views: { nftables: nft, iptables: ipt },
      indexed: indexed.code === 0 ? sortedBlocks(indexed.stdout) : '',
      bridge: {
        exists: info !== undefined,
        up: info?.flags?.includes('UP') ?? false,
        addrs: (info?.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`),
      },
      logVerify: { code: verify.code, out: verify.stdout + verify.stderr },
    };
  } finally {
    await nsDel(ns);
    rmSync(dir, { recursive: true, force: true });
  }
});

// The verdict on one case, against libvirt's reference rulesets.
const check = (op: Op, o: Outcome, ref: Reference): void => {
  const ctx = `calls:\n${o.callLog}\nrecover: ${o.recover.stdout}${o.recover.stderr}`;
  expect(o.recover.code, `reconcile after the crash: ${ctx}`).toBe(0);
  expect(o.status.state, `status ${JSON.stringify(o.status)}; ${ctx}`).toBe(op.want.state);
  expect(o.status.inFlight, ctx).toBeNull();
  const be = op.want.backend;
  if (op.want.state === 'active') {
    // The backend the log records is the configured one, and only it holds rules.
    expect(o.status.backend, ctx).toBe(be);
    expect(o.status.backends, ctx).toEqual([be]);
    expect(o.views[be], `${be} view vs libvirt's ${CASE} on ${be}; ${ctx}`).toBe(ref.full[be]);
    expect(o.bridge, ctx).toEqual({ exists: true, up: true, addrs: ['192.168.122.1/24'] });
  } else {
    expect(o.status.backends, ctx).toEqual([]);
    // libvirt keeps its private set-up when a network stops; nothing of the network remains.
    expect(o.views[be], `${be} view vs libvirt's private set-up; ${ctx}`).toBe(ref.base[be]);
    expect(o.bridge.exists, `bridge ${BRIDGE} left behind; ${ctx}`).toBe(false);
  }
  const ob = other(be);
  expect(mentions(o.views[ob], BRIDGE), `${ob} view still names the network; ${ctx}`).toEqual([]);
  expect(o.views[ob], `${ob} view; ${ctx}`).toBe(op.want.otherView === 'base' ? ref.base[ob] : ref.empty[ob]);
  expect(mentions(o.views[be], BRIDGE).length > 0, ctx).toBe(op.want.state === 'active');
  expect(o.logVerify.code, o.logVerify.out).toBe(0);
};

// A layout switch, against libvirt's reference for its tables and, for the indexed table, what
// the uninterrupted switch left (`clean`): the indexed layout's semantics are proven with traffic
// in dataplane.test.ts; here what counts is that a crash anywhere ends in the same state.
const checkLayout = (op: Op, o: Outcome, ref: Reference, clean: Outcome): void => {
  const ctx = `calls:\n${o.callLog}\nrecover: ${o.recover.stdout}${o.recover.stderr}`;
  expect(o.recover.code, `reconcile after the crash: ${ctx}`).toBe(0);
  expect(o.status.state, ctx).toBe('active');
  expect(o.status.inFlight, ctx).toBeNull();
  const want = op.layout === 'indexed' ? 'nftables-indexed' : 'nftables';
  expect([o.status.backend, o.status.backends], ctx).toEqual([want, [want]]);
  expect(o.indexed, `indexed table; ${ctx}`).toBe(clean.indexed);
  expect(o.indexed.includes('jump net_default'), ctx).toBe(op.layout === 'indexed');
  expect(o.views.nftables, `libvirt's tables; ${ctx}`).toBe(op.layout === 'indexed' ? ref.base.nftables : ref.full.nftables);
  expect(o.views.iptables, ctx).toBe(ref.empty.iptables);
  expect(o.bridge, ctx).toEqual({ exists: true, up: true, addrs: ['192.168.122.1/24'] });
  expect(o.logVerify.code, o.logVerify.out).toBe(0);
};

// How many program calls each operation makes (a run without a crash, counted by the wrappers).
// Known before the tests are declared, so each (operation, call, before|after) is its own test.
const baseline = new Map<string, Outcome | Error>();
if (canRun) {
  await Promise.all(OPS.map(async (op) => {
    baseline.set(op.title, await runCase(op, 0, 'before').catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))));
  }));
}
const callsOf = (op: Op): number => {
  const b = baseline.get(op.title);
  return b === undefined || b instanceof Error ? 0 : b.calls;
};

describe.skipIf(!canRun)(`crash matrix: SIGKILL at every program call, then one reconcile${canRun ? '' : ` (skipped: ${skipReason ?? ''})`}`, () => {
  let ref: Reference;
  beforeAll(async () => { ref = await reference(CASE); });
  afterAll(async () => {
    await nsDelAll();
    if (tmpRoot !== '') rmSync(tmpRoot, { recursive: true, force: true });
  });

  it('the reference rulesets are what libvirt\'s commands leave (sanity)', () => {
    expect(ref.full.nftables).toContain('table ip libvirt_network');
    expect(ref.full.nftables).toContain('masquerade');
    expect(ref.full.iptables).toContain('-A LIBVIRT_PRT -s 192.168.122.0/24 ! -d 192.168.122.0/24 -j MASQUERADE');
    expect(mentions(ref.base.nftables, BRIDGE)).toEqual([]);
    expect(mentions(ref.base.iptables, BRIDGE)).toEqual([]);
    expect(ref.empty.nftables.trim()).toBe('');
  });

  for (const op of OPS) {
    describe.concurrent(op.title, () => {
      it(`${op.title}, no crash (${callsOf(op)} program calls)`, () => {
        const b = baseline.get(op.title);
        if (b instanceof Error) throw b;
        expect(b).toBeDefined();
        if (b === undefined) return;
        expect(b.opRun.code, b.opRun.stderr).toBe(0);
        expect(b.calls).toBeGreaterThan(0);
        if (op.layout !== undefined) checkLayout(op, b, ref, b);
        else check(op, b, ref);
      });
      for (let k = 1; k <= callsOf(op); k++) {
        for (const when of ['before', 'after'] as const) {
          it(`${op.title}, crash ${when} call ${k}`, async () => {
            const o = await runCase(op, k, when);
            // The crash really happened, at call k.
            expect(o.opRun.signal, `operation was not killed: exit ${o.opRun.code}: ${o.opRun.stderr}`).toBe('SIGKILL');
            expect(o.calls).toBe(k);
            const b = baseline.get(op.title);
            if (op.layout !== undefined && b !== undefined && !(b instanceof Error)) checkLayout(op, o, ref, b);
            else check(op, o, ref);
          });
        }
      }
    });
  }
});
