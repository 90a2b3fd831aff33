import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HELPER_SCRIPT } from '../../src/exec/helper-script.js';
import { assertSuccess, createExecaRunner, ExecError, startProgramHelper, type ProgramHelper, type Runner, type RunResult } from '../../src/exec/index.js';
import { FakeRunner } from '../doubles/fake-runner.js';

const runner = createExecaRunner({ timeoutMs: 10_000 });
const isRoot = process.getuid?.() === 0;

// The two real runners (execa, and the daemon's program helper) keep one contract: the same tests.
const helpers: ProgramHelper[] = [];
const childrenOf = (pid: number): string[] => readdirSync(`/proc/${pid}/task`)
  .flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ').filter((x) => x.trim() !== ''));
const makeHelper = async (opts: { env?: Record<string, string> } = {}): Promise<Runner> => {
  const h = await startProgramHelper({ timeoutMs: 10_000, ...opts });
  if (h === undefined) throw new Error('the program helper did not start (python3 missing?)');
  helpers.push(h);
  return h.runner;
};
afterAll(async () => { await Promise.all(helpers.map((h) => h.close())); });

describe.each([
  { name: 'execa runner', make: (opts: { env?: Record<string, string> } = {}): Promise<Runner> => Promise.resolve(createExecaRunner({ timeoutMs: 10_000, ...opts })) },
  { name: 'program helper', make: makeHelper },
])('$name (real processes)', ({ make }) => {
  let runner: Runner;
  beforeAll(async () => { runner = await make(); });

  it('round-trips stdin to stdout byte-exact', async () => {
    const r = await runner.run({ argv: ['cat'], stdin: 'line one\nline two\n' });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('line one\nline two\n');
    expect(r.stdin).toBe('line one\nline two\n');
    expect(r.argv).toEqual(['cat']);
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('passes arguments without a shell', async () => {
    const r = await runner.run({ argv: ['echo', '$HOME; `id`', '*'] });
    expect(r.stdout).toBe('$HOME; `id` *\n');
  });

  it('reports a non-zero exit without throwing, and assertSuccess turns it into ExecError', async () => {
    const r = await runner.run({ argv: ['sh', '-c', 'echo out; echo "bad thing" >&2; echo more >&2; exit 3'] });
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('bad thing\nmore\n');
    expect(() => assertSuccess(r)).toThrow(ExecError);
    try {
      assertSuccess(r);
    } catch (e) {
      expect((e as ExecError).message).toBe(
        `command failed: sh -c 'echo out; echo "bad thing" >&2; echo more >&2; exit 3' (exit 3): bad thing`,
      );
      expect((e as ExecError).result).toBe(r);
      expect((e as ExecError).exitCode).toBe(1);
      expect((e as ExecError).code).toBe('EEXEC');
    }
  });

  it('reports a missing program as failedToStart with exit -1', async () => {
    const r = await runner.run({ argv: ['vnetfw-no-such-program', '-x'] });
    expect(r.failedToStart).toBe(true);
    expect(r.exitCode).toBe(-1);
    expect(r.stderr).toMatch(/ENOENT/);
    expect(() => assertSuccess(r)).toThrow(/could not start/);
  });

  it('looks the program up on the PATH given at run time', async () => {
    const r = await (await make({ env: { PATH: '/nonexistent' } })).run({ argv: ['cat'] });
    expect(r.failedToStart).toBe(true);
  });

  it("children get PATH and LC_ALL=C only, none of the caller's environment", async () => {
    const saved = { ...process.env };
    process.env.XTABLES_LIBDIR = '/nonexistent';
    process.env.LD_PRELOAD = '/nonexistent.so';
    try {
      const r = await runner.run({ argv: ['env'] });
      expect(r.exitCode).toBe(0);
      expect(r.stdout.split('\n').filter((l) => l !== '').sort()).toEqual(['LC_ALL=C', `PATH=${saved.PATH ?? ''}`]);
    } finally {
      delete process.env.XTABLES_LIBDIR;
      delete process.env.LD_PRELOAD;
    }
  });

  it('kills a program that exceeds its timeout', async () => {
    const started = Date.now();
    const r = await runner.run({ argv: ['sleep', '10'], timeoutMs: 200 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(r.timedOut).toBe(true);
    expect(r.signal).toBe('SIGTERM');
    expect(r.exitCode).toBe(-1);
    expect(() => assertSuccess(r)).toThrow(/timed out/);
  });

  it('kills a program when its signal is aborted', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const started = Date.now();
    const r = await runner.run({ argv: ['sleep', '10'], signal: ac.signal });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(r.canceled).toBe(true);
    expect(r.exitCode).toBe(-1);
    expect(() => assertSuccess(r)).toThrow(/canceled/);
  });
  it('refuses a NUL byte in an argument without running anything', async () => {
    await expect(runner.run({ argv: ['echo', 'a\0b'] })).rejects.toThrow(/null bytes/);
  });

  it('round-trips a large stdin with any characters byte-exact', async () => {
    const text = `${Array.from({ length: 20_000 }, (_, k) => `line ${k} é ✓ \t "q" \\ $x`).join('\n')}\n`;
    const r = await runner.run({ argv: ['cat'], stdin: text });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(text);
  });
});

describe('program helper: what only the helper has', () => {
  it('runs programs side by side, not one after the other', async () => {
    const h = await makeHelper();
    // 'sleep' is asked for before 'echo' and ends after it: the order of the answers proves the overlap.
    const both: string[] = [];
    await Promise.all([
      h.run({ argv: ['sleep', '0.5'] }).then(() => { both.push('sleep'); }),
      h.run({ argv: ['echo', 'x'] }).then(() => { both.push('echo'); }),
    ]);
    expect(both).toEqual(['echo', 'sleep']);
  });

  it('answers every request, even one it cannot run (the helper itself, fed by hand)', () => {
    const out = execFileSync('python3', ['-I', '-S', '-c', HELPER_SCRIPT], {
      input: `${JSON.stringify({ id: 7, argv: [], env: {}, timeoutMs: 1000 })}\n${JSON.stringify({ id: 8, argv: ['echo', 'ok'], env: { PATH: process.env.PATH ?? '' }, timeoutMs: 1000 })}\n`,
      encoding: 'utf8',
    });
    const answers = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(answers[0]).toEqual({ ready: 1 });
    const byId = new Map(answers.slice(1).map((a) => [a.id, a]));
    expect(byId.get(7)).toMatchObject({ code: -1, failedToStart: true, stdout: '' });
    expect(String(byId.get(7)?.stderr)).toMatch(/^program helper: \w+/);
    expect(byId.get(8)).toMatchObject({ code: 0, stdout: 'ok\n' });
  });

  it('is not there without python3, and the caller goes direct', async () => {
    expect(await startProgramHelper({ python: 'vnetfw-no-such-python' })).toBeUndefined();
  });

  it('when killed: the run in flight is failed with an unknown outcome, later runs go direct', async () => {
    const lost: string[] = [];
    const h = await startProgramHelper({ onLost: (why, inFlight) => { lost.push(`${why}; in flight ${inFlight}`); } });
    if (h === undefined) throw new Error('the program helper did not start');
    helpers.push(h);
    const inFlight = h.runner.run({ argv: ['sleep', '5'] });
    const query = h.runner.run({ argv: ['sleep', '5'], readOnly: true });
    // Killed once both programs run (children of the helper), not before.
    await expect.poll(() => childrenOf(h.pid).length, { timeout: 5000 }).toBe(2);
    const orphans = childrenOf(h.pid).map(Number);
    process.kill(h.pid, 'SIGKILL');
    const r = await inFlight;
    for (const pid of orphans) process.kill(pid, 'SIGKILL');   // the sleeps outlive their parent
    expect((await query).exitCode).toBe(-1);
    expect(r.exitCode).toBe(-1);
    expect(r.stderr).toMatch(/program helper .* ended \(SIGKILL\) while this program ran; its outcome is unknown/);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatch(/^the program helper \(python3, pid \d+\) ended \(SIGKILL\); in flight 1$/);   // the query is not counted
    const after = await h.runner.run({ argv: ['echo', 'still'] });
    expect(after.stdout).toBe('still\n');
  });

  it('an idle helper does not keep its process alive (the helper then ends at end of input)', () => {
    const script = `import { startProgramHelper } from ${JSON.stringify(join(repoRoot, 'dist/src/exec/index.js'))};
      const h = await startProgramHelper(); const r = await h.runner.run({ argv: ['echo', 'hi'] }); console.log(r.stdout.trim(), h.pid);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.signal).toBeNull();   // not killed by the timeout: it exited by itself
    expect(r.status).toBe(0);
    const [said, pid] = r.stdout.trim().split(' ');
    expect(said).toBe('hi');
    return expect.poll(() => existsSync(`/proc/${pid ?? ''}`), { timeout: 5000 }).toBe(false);
  });

  it('close lets a running program finish', async () => {
    const h = await startProgramHelper();
    if (h === undefined) throw new Error('the program helper did not start');
    const run = h.runner.run({ argv: ['sh', '-c', 'sleep 0.3; echo done'] });
    await h.close();
    expect((await run).stdout).toBe('done\n');
  });
});

describe.skipIf(!isRoot)('execa runner in a network namespace', () => {
  const ns = `vnetfw-exec-${process.pid}`;
  afterAll(() => {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  });

  it('runs nft with a script on stdin and echoes handles', async () => {
    assertSuccess(await runner.run({ argv: ['ip', 'netns', 'add', ns] }));
    const r = await runner.run({
      argv: ['ip', 'netns', 'exec', ns, 'nft', '--echo', '--handle', '-f', '-'],
      stdin: 'add table ip vnetfw_t\nadd chain ip vnetfw_t c\ninsert rule ip vnetfw_t c counter accept\n',
    });
    assertSuccess(r);
    expect(r.stdout).toMatch(/insert rule ip vnetfw_t c counter packets 0 bytes 0 accept # handle \d+/);
    const bad = await runner.run({ argv: ['ip', 'netns', 'exec', ns, 'nft', 'list', 'table', 'ip', 'nope'] });
    expect(bad.exitCode).toBe(1);
    expect(() => assertSuccess(bad)).toThrow(/^command failed: ip netns exec .* \(exit 1\): Error: /);
  });
});

// The fake runner is only worth something if it answers like the real programs: run the same
// commands against both (the real ones in a fresh network namespace) and compare.
const fakeNs = `vnetfw-fake-${process.pid}`;
const inNs: Runner = { run: (req) => runner.run({ ...req, argv: ['ip', 'netns', 'exec', fakeNs, ...req.argv] }) };

const NFT_SETUP = [
  'add table ip libvirt_network',
  'add chain ip libvirt_network forward { type filter hook forward priority 0; policy accept; }',
  'add chain ip libvirt_network guest_output',
  'add chain ip libvirt_network guest_input',
  'insert rule ip libvirt_network forward counter jump guest_output',
  'insert rule ip libvirt_network forward counter jump guest_input',
  'add chain ip libvirt_network guest_nat { type nat hook postrouting priority 100; policy accept; }',
  'add chain ip libvirt_network postroute_mangle { type filter hook postrouting priority 0; policy accept; }',
].join('\n') + '\n';

const RULES = [
  ['nft', '-ae', 'insert', 'rule', 'ip', 'libvirt_network', 'guest_output', 'iif', 'vnetfwbr0', 'counter', 'reject'],
  ['nft', '-ae', 'insert', 'rule', 'ip', 'libvirt_network', 'guest_output', 'ip', 'saddr', '192.168.122.0/24', 'iif', 'vnetfwbr0', 'counter', 'accept'],
  ['nft', '-ae', 'insert', 'rule', 'ip', 'libvirt_network', 'guest_input', 'oif', 'vnetfwbr0', 'ip', 'daddr', '192.168.122.0/24', 'ct', 'state', 'related,established', 'counter', 'accept'],
  ['nft', '-ae', 'insert', 'rule', 'ip', 'libvirt_network', 'guest_nat', 'ip', 'saddr', '192.168.122.0/24', 'ip', 'daddr', '!=', '192.168.122.0/24', 'counter', 'masquerade'],
  ['nft', '-ae', 'insert', 'rule', 'ip', 'libvirt_network', 'guest_nat', 'ip', 'saddr', '192.168.122.0/24', 'ip', 'daddr', '224.0.0.0/24', 'counter', 'return'],
];

const strip = (r: RunResult) => ({
  exitCode: r.exitCode,
  stdout: r.stdout.replace(/^# new generation .*\n/gm, ''),
});

async function both(argv: string[], stdin?: string) {
  const req = stdin === undefined ? { argv } : { argv, stdin };
  return { real: await inNs.run(req), fake: await fake.run(req) };
}

let fake: FakeRunner;

describe.skipIf(!isRoot)('FakeRunner answers like the real programs', () => {
  beforeAll(() => {
    execFileSync('ip', ['netns', 'add', fakeNs]);
    fake = new FakeRunner();
  });
  afterAll(() => {
    execFileSync('ip', ['netns', 'del', fakeNs], { stdio: 'ignore' });
  });

  it('ip: bridge create, show, errors', async () => {
    for (const argv of [
      ['ip', 'link', 'add', 'vnetfwbr0', 'mtu', '1400', 'type', 'bridge', 'stp_state', '1', 'forward_delay', '0'],
      ['ip', 'addr', 'add', '192.168.122.1/24', 'broadcast', '192.168.122.255', 'dev', 'vnetfwbr0'],
      ['ip', 'link', 'set', 'dev', 'vnetfwbr0', 'up'],
    ]) {
      const r = await both(argv);
      expect([r.fake.exitCode, r.fake.stderr]).toEqual([r.real.exitCode, r.real.stderr]);
    }
    const show = await both(['ip', '-j', 'link', 'show', 'dev', 'vnetfwbr0']);
    const pick = (r: RunResult) => {
      const [l] = JSON.parse(r.stdout) as [{ ifname: string; mtu: number; flags: string[] }];
      return { ifname: l.ifname, mtu: l.mtu, up: l.flags.includes('UP') };
    };
    expect(pick(show.fake)).toEqual(pick(show.real));
    for (const argv of [
      ['ip', '-j', 'link', 'show', 'dev', 'nonexistent0'],
      ['ip', 'link', 'add', 'vnetfwbr0', 'type', 'bridge'],
      ['ip', 'addr', 'add', '192.168.122.1/24', 'dev', 'vnetfwbr0'],
      ['ip', 'link', 'del', 'dev', 'nonexistent0'],
    ]) {
      const r = await both(argv);
      expect([r.fake.exitCode, r.fake.stderr]).toEqual([r.real.exitCode, r.real.stderr]);
    }
  });

  it('nft: echo of a script and of -ae commands, listings, handles', async () => {
    const setup = await both(['nft', '--echo', '--handle', '-f', '-'], NFT_SETUP);
    expect(strip(setup.fake)).toEqual(strip(setup.real));
    for (const argv of RULES) {
      const r = await both(argv);
      expect(strip(r.fake)).toEqual(strip(r.real));
    }
    for (const argv of [['nft', 'list', 'table', 'ip', 'libvirt_network'], ['nft', '-a', 'list', 'table', 'ip', 'libvirt_network'], ['nft', 'list', 'ruleset']]) {
      const r = await both(argv);
      // The real counters count whatever the namespace sent meanwhile (the bridge's own IPv6
      // multicast); the fake's stay at 0. Everything else must be identical.
      const noCounts = (s: string): string => s.replace(/counter packets \d+ bytes \d+/g, 'counter packets N bytes N');
      expect(noCounts(r.fake.stdout)).toBe(noCounts(r.real.stdout));
    }
  });

  it('nft: delete by handle, failures leave the ruleset unchanged', async () => {
    const del = await both(['nft', 'delete', 'rule', 'ip', 'libvirt_network', 'guest_output', 'handle', '9']);
    expect(strip(del.fake)).toEqual(strip(del.real));
    const bad = await both(['nft', '--echo', '--handle', '-f', '-'],
      'insert rule ip libvirt_network guest_output counter accept\ninsert rule ip libvirt_network nochain counter accept\n');
    expect([bad.fake.exitCode, bad.fake.stdout]).toEqual([bad.real.exitCode, bad.real.stdout]);
    expect(bad.fake.stderr.split('\n')[0]?.replace(/:\d+-\d+:/, ':')).toBe(bad.real.stderr.split('\n')[0]?.replace(/:\d+-\d+:/, ':'));
    const missing = await both(['nft', 'list', 'table', 'ip6', 'libvirt_network']);
    expect(missing.fake.exitCode).toBe(missing.real.exitCode);
    const after = await both(['nft', '-a', 'list', 'ruleset']);
    // Counters count traffic, which the fake has none of: the namespace's own bridge may send a
    // multicast report (IGMP, to 224.0.0.0/24) that the real guest_nat `return` rule counts. The
    // rules, their order and their handles must match exactly.
    const trafficless = (text: string): string => text.replace(/counter packets \d+ bytes \d+/g, 'counter packets 0 bytes 0');
    expect(after.fake.stdout).toBe(trafficless(after.real.stdout));
  });

  it('iptables: chains, rules, restore transactions and errors', async () => {
    for (const c of ['LIBVIRT_INP', 'LIBVIRT_FWO']) {
      const r = await both(['iptables', '-w', '--table', 'filter', '--new-chain', c]);
      expect(r.fake.exitCode).toBe(r.real.exitCode);
    }
    const steps: [string[], string?][] = [
      [['iptables', '-w', '--table', 'filter', '--new-chain', 'LIBVIRT_INP']],
      [['iptables', '-w', '--table', 'filter', '--insert', 'INPUT', '--jump', 'LIBVIRT_INP']],
      [['iptables', '-w', '--table', 'filter', '--insert', 'LIBVIRT_INP', '--in-interface', 'vnetfwbr0', '--jump', 'ACCEPT']],
      [['iptables', '-w', '--table', 'filter', '--insert', 'NOPE', '--jump', 'ACCEPT']],
      [['iptables', '-w', '--table', 'filter', '--delete', 'LIBVIRT_INP', '--in-interface', 'other0', '--jump', 'ACCEPT']],
      [['iptables-restore', '-w', '--noflush'], '*filter\n:LIBVIRT_FWI - [0:0]\n-I LIBVIRT_FWI -o vnetfwbr0 -j ACCEPT\n-A LIBVIRT_FWO -i vnetfwbr0 -j ACCEPT\nCOMMIT\n'],
      [['iptables-restore', '-w', '--noflush'], '*filter\n-I LIBVIRT_FWO -i vnetfwbr1 -j ACCEPT\n-D LIBVIRT_FWO -i vnetfwbr9 -j ACCEPT\nCOMMIT\n'],
      [['iptables-restore', '-w', '--noflush'], '*filter\n-A LIBVIRT_FWO -i vnetfwbr6 -j ACCEPT\nCOMMIT\n*nat\n-I NOPE -j ACCEPT\nCOMMIT\n'],
      [['iptables-restore', '-w', '--noflush'], '*filter\n-I LIBVIRT_FWO -i vnetfwbr1 -j ACCEPT\n'],
      [['iptables-restore', '-w', '--noflush'], '*filter\n:LIBVIRT_FWI - [0:0]\n-A LIBVIRT_FWI -o vnetfwbr2 -j ACCEPT\nCOMMIT\n'],
    ];
    for (const [argv, stdin] of steps) {
      const r = await both(argv, stdin);
      expect([argv, stdin, r.fake.exitCode, r.fake.stderr]).toEqual([argv, stdin, r.real.exitCode, r.real.stderr]);
    }
    const list = await both(['iptables', '-w', '--table', 'filter', '--list-rules']);
    expect(list.fake.stdout).toBe(list.real.stdout);
  });
});
