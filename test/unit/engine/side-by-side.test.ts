// iptables-restore and ip6tables-restore of one apply run side by side (FakeRunner, no root): both
// intents are on disk before their programs start, both programs start before either ends, and a
// failure of one still waits for the other, whose rules are then taken back with the rest.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { closeEngineWorlds, casesDir, engineWorld, type EngineWorld } from '../../doubles/engine-world.js';
import { defineNetwork, runNetworkOps } from '../../../src/engine/index.js';
import { sideBySide, type Batch } from '../../../src/firewall/index.js';
import type { RunRequest, RunResult, Runner } from '../../../src/exec/types.js';
import type { LogRecord } from '../../../state/index.js';

afterEach(closeEngineWorlds);

const batch = (program: string, ignoreErrors = false): Batch => ({ argv: [program], stdin: '', ignoreErrors, commands: [] });

describe('sideBySide', () => {
  it('given an iptables apply, then its two restores form one group', () => {
    const groups = sideBySide([batch('iptables-restore'), batch('ip6tables-restore')]);
    expect(groups.map((g) => g.map((b) => b.argv[0]))).toEqual([['iptables-restore', 'ip6tables-restore']]);
  });

  it('given nft, tolerated or repeated programs, then each goes alone, in order', () => {
    const groups = sideBySide([
      batch('nft'), batch('iptables-restore'), batch('iptables-restore', true), batch('iptables-restore'), batch('iptables-restore'), batch('ip6tables-restore'),
    ]);
    expect(groups.map((g) => g.map((b) => `${b.argv[0] ?? ''}${b.ignoreErrors ? ' (tolerant)' : ''}`))).toEqual([
      ['nft'], ['iptables-restore'], ['iptables-restore (tolerant)'], ['iptables-restore'], ['iptables-restore', 'ip6tables-restore'],
    ]);
  });

  it('given a removal, then its tolerant restores of the two families form one group, anything else alone', () => {
    const groups = sideBySide([batch('iptables-restore', true), batch('ip6tables-restore', true), batch('nft', true), batch('ip6tables-restore', true)], 'removal');
    expect(groups.map((g) => g.map((b) => b.argv[0]))).toEqual([['iptables-restore', 'ip6tables-restore'], ['nft'], ['ip6tables-restore']]);
  });
});

// A runner that answers each restore only once the other restore has started (or after 200 ms, so
// that a sequential apply fails the test instead of hanging), and keeps the order of events.
const overlapping = (inner: Runner, events: string[]): Runner => {
  const started = new Set<string>();
  const waiters: Array<() => void> = [];
  return {
    async run(req: RunRequest): Promise<RunResult> {
      const prog = req.argv[0] ?? '';
      if (!prog.endsWith('tables-restore')) return inner.run(req);
      events.push(`start ${prog}`);
      started.add(prog);
      for (const w of waiters.splice(0)) w();
      if (started.size < 2) await new Promise<void>((resolve) => { waiters.push(resolve); setTimeout(resolve, 200); });
      const res = await inner.run(req);
      events.push(`end ${prog}`);
      return res;
    },
  };
};

const dualStack = async (w: EngineWorld, names: string[]): Promise<void> => {
  for (const [i, name] of names.entries()) {
    const file = join(w.dir, `${name}.xml`);
    writeFileSync(file, readFileSync(join(casesDir, 'nat-ipv6.xml'), 'utf8').replace(/<name>[^<]*<\/name>/, `<name>${name}</name>`)
      .replace(/virbr0/g, `virbr${i + 10}`).replace(/192\.168\.122\./g, `192.168.${100 + i}.`).replace(/2001:db8:ca2:2:/g, `2001:db8:ca2:${10 + i}:`));
    await defineNetwork(w.env.journal, file);
  }
};

// Where the first record of `type` for program `prog` is among `recs`.
const runOf = (recs: readonly LogRecord[], type: 'command.intended' | 'command.finished', prog: string): number =>
  recs.findIndex((r) => r.type === type && (r.data as { argv: string[] }).argv[0] === prog);

describe('iptables and ip6tables batches side by side', () => {
  it('given two dual-stack networks on nftables, when they switch to iptables, then both restores start before either ends, each after its intent', async () => {
    const w = await engineWorld({ backend: 'iptables' });
    await dualStack(w, ['a', 'b']);
    await runNetworkOps(w.env, ['a', 'b'].map((name) => ({ name, event: { type: 'START' as const, backend: 'nftables' as const } })));
    // A switch there and back records the set-up on iptables, so the measured switch reads nothing first.
    await runNetworkOps(w.env, [{ name: 'a', event: { type: 'SWITCH', to: 'iptables', strategy: 'make-before-break' } }]);
    await runNetworkOps(w.env, [{ name: 'a', event: { type: 'SWITCH', to: 'nftables', strategy: 'make-before-break' } }]);
    const events: string[] = [];
    w.env.runner = overlapping(w.fake, events);
    const from = w.records.length;

    const results = await runNetworkOps(w.env, ['a', 'b'].map((name) => ({ name, event: { type: 'SWITCH' as const, to: 'iptables' as const, strategy: 'make-before-break' as const } })));

    expect(results.map((r) => r.status?.backend)).toEqual(['iptables', 'iptables']);
    expect(events.slice(0, 2)).toEqual(['start iptables-restore', 'start ip6tables-restore']);
    const recs = w.records.slice(from);
    const intent = (p: string): number => runOf(recs, 'command.intended', p);
    const finished = (p: string): number => runOf(recs, 'command.finished', p);
    expect(intent('iptables-restore')).toBeGreaterThanOrEqual(0);
    expect(intent('ip6tables-restore')).toBeGreaterThan(intent('iptables-restore'));
    expect(intent('ip6tables-restore')).toBeLessThan(finished('iptables-restore'));
    const dump = w.fake.dump();
    expect(dump).toMatch(/-A LIBVIRT_FWO -s 192\.168\.101\.0\/24 -i virbr11 -j ACCEPT/);
    expect(dump).toMatch(/-A LIBVIRT_FWO -s 2001:db8:ca2:11::\/64 -i virbr11 -j ACCEPT/);
  });

  it('given two dual-stack networks on iptables, when they switch to nftables, then the removal restores start before either ends, each after its intent', async () => {
    const w = await engineWorld({ backend: 'iptables' });
    await dualStack(w, ['a', 'b']);
    await runNetworkOps(w.env, ['a', 'b'].map((name) => ({ name, event: { type: 'START' as const, backend: 'iptables' as const } })));
    const events: string[] = [];
    w.env.runner = overlapping(w.fake, events);
    const from = w.records.length;

    const results = await runNetworkOps(w.env, ['a', 'b'].map((name) => ({ name, event: { type: 'SWITCH' as const, to: 'nftables' as const, strategy: 'make-before-break' as const } })));

    expect(results.map((r) => r.status?.backend)).toEqual(['nftables', 'nftables']);
    expect(events.slice(0, 2)).toEqual(['start iptables-restore', 'start ip6tables-restore']);
    const recs = w.records.slice(from);
    const intent = (p: string): number => runOf(recs, 'command.intended', p);
    const finished = (p: string): number => runOf(recs, 'command.finished', p);
    expect((recs[intent('ip6tables-restore')]?.data as { purpose: string }).purpose).toBe('remove');
    expect(intent('ip6tables-restore')).toBeLessThan(finished('iptables-restore'));
    expect(w.fake.dump()).not.toMatch(/-A LIBVIRT_\w+ .*virbr1[01]/);   // the iptables rules gone
    expect(w.fake.dump()).toMatch(/iif "virbr11" oif "virbr11" counter/);   // the nftables rules in
  });

  it('given the set-up recorded, when ip6tables-restore fails during a start, then iptables-restore still ends, its rules are taken back, and the error is the ip6tables one', async () => {
    const w = await engineWorld({ backend: 'iptables' });
    await dualStack(w, ['a']);
    await runNetworkOps(w.env, [{ name: 'a', event: { type: 'START', backend: 'iptables' } }]);
    await runNetworkOps(w.env, [{ name: 'a', event: { type: 'STOP' } }]);
    const before = w.fake.dump();
    const events: string[] = [];
    w.env.runner = overlapping(w.fake, events);
    w.fake.failWhen((req) => req.argv[0] === 'ip6tables-restore' && (req.stdin ?? '').includes('-I LIBVIRT_FWO'));

    const [r] = await runNetworkOps(w.env, [{ name: 'a', event: { type: 'START', backend: 'iptables' } }]);

    expect(r?.error).toMatch(/ip6tables-restore/);
    expect(events.slice(0, 2)).toEqual(['start iptables-restore', 'start ip6tables-restore']);
    expect(events).toContain('end iptables-restore');
    expect(w.fake.dump()).toBe(before);
    expect(w.store.state().networks.a?.state).toBe('stopped');
  });
});
