// Real kernel, the built CLI with wrapper programs first on PATH that fail on cue: a failure in the
// middle of a start (a program exiting 1, one killed before or after doing its work) leaves the
// canonical ruleset, the links and `status --json` exactly as before; a failing removal does not
// stop `stop`; a second writer gets a clear one-line error; bad definitions are refused by
// `define` (exit 2) before anything runs.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  casesDir, canon, canUseNetns, cliBuilt, pollUntil, inNs, logRecords, makeSandbox, mentions, netnsSkipReason, nsDelAll, nsNew, statusJson, vnetfw,
  vnetfwBg, xmlFacts, type Injection, type Sandbox,
} from '../support/index.js';

const skip = !canUseNetns || !cliBuilt;
const why = netnsSkipReason ?? (cliBuilt ? '' : 'dist/ not built: run npm run build');

const links = async (ns: string): Promise<string> => (await inNs(ns, ['ip', '-o', 'link', 'show'])).stdout
  .split('\n').map((l) => l.replace(/^\d+:\s*/, '').replace(/\s.*$/, '')).filter((l) => l !== '').sort().join(' ');
const bridgeExists = async (ns: string, br: string): Promise<boolean> => (await inNs(ns, ['ip', 'link', 'show', 'dev', br])).code === 0;
const snapshot = async (ns: string, sb: Sandbox): Promise<{ rules: string; links: string; status: Record<string, unknown> }> => {
  const { lastError: _e, ...status } = await statusJson(ns, sb, 'default');
  return { rules: await canon(ns), links: await links(ns), status };
};

interface Scenario { name: string; backend: 'iptables' | 'nftables'; fixture: string; fail: Injection; setUpAt?: number }
// Call numbers count per program within the failing `start`. iptables reads nothing before its
// batches (one iptables-restore, one ip6tables-restore): on a fresh host the set-up goes in as if
// absent, and once a start has recorded it (setup.recorded) it is trusted. nftables reads the
// ruleset once for the neighbours (`nft -j list ruleset`); on a fresh host it then lists its two
// tables and sends one `nft -f -` batch (call 4); with the set-up recorded it sends the batch at
// once (call 2, `setUpAt`). `ip` lists the links, then creates the bridge with one `ip -batch -`.
const scenarios: Scenario[] = [
  { name: 'iptables-restore succeeded, ip6tables-restore exits 1', backend: 'iptables', fixture: 'nat-ipv6', fail: { prog: 'ip6tables-restore', at: 1, mode: 'exit1' } },
  { name: 'ip6tables-restore is killed (SIGKILL) before it runs', backend: 'iptables', fixture: 'nat-ipv6', fail: { prog: 'ip6tables-restore', at: 1, mode: 'kill' } },
  { name: 'iptables-restore applied its batch, then was killed', backend: 'iptables', fixture: 'nat-default', fail: { prog: 'iptables-restore', at: 1, mode: 'killafter' } },
  { name: 'the nft batch exits 1', backend: 'nftables', fixture: 'nat-ipv6', fail: { prog: 'nft', at: 4, mode: 'exit1' }, setUpAt: 2 },
  { name: 'nft is killed before it runs', backend: 'nftables', fixture: 'nat-ipv6', fail: { prog: 'nft', at: 4, mode: 'kill' }, setUpAt: 2 },
  { name: 'nft applied its batch, then was killed', backend: 'nftables', fixture: 'nat-ipv6', fail: { prog: 'nft', at: 4, mode: 'killafter' }, setUpAt: 2 },
  { name: 'the bridge\'s ip -batch exits 1', backend: 'nftables', fixture: 'nat-default', fail: { prog: 'ip', at: 2, mode: 'exit1' } },
  { name: 'the bridge\'s ip -batch made the bridge, then was killed', backend: 'iptables', fixture: 'isolated', fail: { prog: 'ip', at: 2, mode: 'killafter' } },
];

describe.skipIf(skip)(`failures on a real kernel${skip ? ` (skipped: ${why})` : ''}`, () => {
  let sb: Sandbox | undefined;
  afterEach(async () => { sb?.cleanup(); sb = undefined; await nsDelAll(); });

  for (const sc of scenarios) {
    for (const host of ['fresh host', 'private chains already set up'] as const) {
      it(`start, ${sc.name} (${sc.backend}, ${sc.fixture}, ${host}): kernel and status as before, exit 1, one line`, async () => {
        const s = (sb = makeSandbox('fail'));
        const ns = await nsNew('fail');
        const xml = join(casesDir, `${sc.fixture}.xml`);
        const { bridge } = xmlFacts(readFileSync(xml, 'utf8'));
        const o = { backend: sc.backend } as const;
        expect((await vnetfw(ns, s, ['define', xml], o)).code).toBe(0);
        if (host !== 'fresh host') {
          // A start/stop cycle leaves libvirt's private chains/tables, as a long-running host has.
          expect((await vnetfw(ns, s, ['start', 'default'], o)).code).toBe(0);
          expect((await vnetfw(ns, s, ['stop', 'default'], o)).code).toBe(0);
        }
        const before = await snapshot(ns, s);
        expect(before.status).toMatchObject({ state: 'stopped', inFlight: null });

        const fail: Injection = host !== 'fresh host' && sc.setUpAt !== undefined ? { ...sc.fail, at: sc.setUpAt } : sc.fail;
        const r = await vnetfw(ns, s, ['start', 'default'], { ...o, fail: [fail] });
        expect(s.calls().some((c) => c.action === fail.mode), 'the failure was injected').toBe(true);
        expect(r.code).toBe(1);
        const errLines = r.stderr.trim().split('\n');
        expect(errLines, r.stderr).toHaveLength(1);
        expect(errLines[0]).toMatch(/^vnetfw: default: /);
        expect(r.stderr).not.toMatch(/\n\s+at /);

        const after = await snapshot(ns, s);
        expect(after.rules).toBe(before.rules);
        expect(after.links).toBe(before.links);
        expect(await bridgeExists(ns, bridge)).toBe(false);
        expect(after.status).toEqual(before.status);
        const log = await logRecords(s.stateDir);
        expect(log.some((x) => x.type === 'operation.rolled-back')).toBe(true);

        // And the network still starts cleanly afterwards.
        expect((await vnetfw(ns, s, ['start', 'default'], o)).code).toBe(0);
        expect(await statusJson(ns, s, 'default')).toMatchObject({ state: 'active', backend: sc.backend });
      });
    }
  }

  for (const [backend, fail] of [
    ['iptables', { prog: 'ip6tables-restore', at: 1, mode: 'exit1' }],
    ['iptables', { prog: 'iptables-restore', at: 1, mode: 'kill' }],
    ['nftables', { prog: 'nft', at: 1, mode: 'exit1' }],
  ] as const) {
    it(`stop completes when a removal program fails (${backend}, ${fail.prog} ${fail.mode}), as libvirt ignores removal errors`, async () => {
      const s = (sb = makeSandbox('stopfail'));
      const ns = await nsNew('stopfail');
      const xml = join(casesDir, 'nat-ipv6.xml');
      const facts = xmlFacts(readFileSync(xml, 'utf8'));
      expect((await vnetfw(ns, s, ['define', xml], { backend })).code).toBe(0);
      expect((await vnetfw(ns, s, ['start', 'default'], { backend })).code).toBe(0);
      const r = await vnetfw(ns, s, ['stop', 'default'], { backend, fail: [fail] });
      expect(s.calls().some((c) => c.action === fail.mode), 'the failure was injected').toBe(true);
      expect(r.code, r.stderr).toBe(0);
      expect(mentions(await canon(ns), facts.bridge, facts.addresses)).toEqual([]);
      expect(await bridgeExists(ns, facts.bridge)).toBe(false);
      expect(await statusJson(ns, s, 'default')).toMatchObject({ state: 'stopped', inFlight: null });
    });
  }

  it('a second writer gets a one-line error naming the lock holder, exit 1, and runs nothing', async () => {
    const s = (sb = makeSandbox('lock'));
    const ns = await nsNew('lock');
    const xml = join(casesDir, 'nat-default.xml');
    expect((await vnetfw(ns, s, ['define', xml], { backend: 'nftables' })).code).toBe(0);
    // The first start sleeps 3 s in its first `ip` call, holding the writer lock.
    const first = vnetfwBg(ns, s, ['start', 'default'], { backend: 'nftables', fail: [{ prog: 'ip', at: 1, mode: 'sleep3' }] });
    await pollUntil(() => s.calls(), (calls) => calls.some((c) => c.action === 'sleep3'), 10_000);
    expect(s.calls().map((c) => c.action)).toEqual(['sleep3']);
    const second = await vnetfw(ns, s, ['start', 'default'], { backend: 'nftables', shims: true, env: { VNETFW_LOCK_TIMEOUT: '0' } });
    const firstDone = await first.done;
    expect(second.code).toBe(1);
    const lines = second.stderr.trim().split('\n');
    expect(lines, second.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/in use by another vnetfw process \(pid \d+\)/);
    expect(lines[0]).toContain(`pid ${first.pid}`);
    expect(lines[0]).toContain(s.stateDir);
    // Only the first process ran programs: each call's intent is one the first process logged.
    expect(firstDone.code, firstDone.stderr).toBe(0);
    const ops = new Set((await logRecords(s.stateDir)).filter((x) => x.type === 'operation.started').map((x) => x.op));
    expect(ops.size).toBe(1);
    expect(await statusJson(ns, s, 'default')).toMatchObject({ state: 'active' });
  });

  describe('bad definitions are refused before anything runs', () => {
    const good = (): string => readFileSync(join(casesDir, 'nat-default.xml'), 'utf8');
    const bad: Array<[string, () => string, RegExp]> = [
      ['bad bridge name', () => good().replace('name="virbr0"', 'name="vir br0/x"'), /bridge name/],
      ['too long bridge name', () => good().replace('name="virbr0"', 'name="averyveryverylongbridge0"'), /bridge name/],
      ['bad netmask', () => good().replace('netmask="255.255.255.0"', 'netmask="255.0.255.0"'), /netmask '255\.0\.255\.0'/],
      ['DOCTYPE', () => `<!DOCTYPE network [<!ENTITY x "virbr0">]>\n${good()}`, /DOCTYPE/],
    ];
    for (const [what, text, msg] of bad) {
      it(`${what}: define exits 2 with one line naming the file, no program ran, nothing logged`, async () => {
        const s = (sb = makeSandbox('baddef'));
        const ns = await nsNew('baddef');
        const before = await canon(ns);
        const file = join(s.dir, 'bad.xml');
        writeFileSync(file, text());
        const r = await vnetfw(ns, s, ['define', file], { backend: 'nftables', shims: true });
        expect(r.code).toBe(2);
        const lines = r.stderr.trim().split('\n');
        expect(lines, r.stderr).toHaveLength(1);
        expect(lines[0]).toContain(file);
        expect(lines[0]).toMatch(msg);
        expect(s.calls()).toEqual([]);
        const log = existsSync(join(s.stateDir, 'log')) ? await logRecords(s.stateDir) : [];
        expect(log.filter((x) => x.type === 'network.defined' || x.type.startsWith('command.'))).toEqual([]);
        // And `start` of it cannot happen: nothing is defined.
        const st = await vnetfw(ns, s, ['start', 'default'], { backend: 'nftables', shims: true });
        expect(st.code).toBe(2);
        expect(s.calls()).toEqual([]);
        expect(await canon(ns)).toBe(before);
      });
    }
  });
});
