// The engine's transactions against the in-memory FakeRunner (no root): start, stop and backend
// switches through runNetworkOp; a failure injected at every program call of a start (exit 1, or
// killed after the program did its work) leaves the fake kernel and the projection as before;
// and every program run has its command.intended record before its command.finished, which
// repeats the command's argv and stdin.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../src/config/index.js';
import { createJournal, defineNetwork, runNetworkOp, type EngineEnv } from '../../../src/engine/index.js';
import { FakeRunner, type InjectedFailure } from '../../doubles/fake-runner.js';
import type { Backend } from '../../../src/firewall/index.js';
import type { Sysctl } from '../../../src/host/index.js';
import { openStore, type LogRecord, type Store } from '../../../state/index.js';

const casesDir = fileURLToPath(new URL('../../fixtures/cases/', import.meta.url));
const BACKENDS: Backend[] = ['nftables', 'iptables'];

const fakeSysctl = (): Sysctl => {
  const values = new Map<string, string>();
  return {
    read: (k) => Promise.resolve(values.get(k) ?? '0'),
    write: (k, v) => { const prev = values.get(k) ?? '0'; values.set(k, v); return Promise.resolve(prev); },
  };
};

const open: Store[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface World { env: EngineEnv; fake: FakeRunner; store: Store; setBackend(b: Backend): void }

const world = async (backend: Backend, fixture = 'nat-ipv6'): Promise<World> => {
  const dir = mkdtempSync(join(tmpdir(), 'vnetfw-engine-'));
  dirs.push(dir);
  const store = await openStore(join(dir, 'state'));
  open.push(store);
  const journal = createJournal(store);
  const fake = new FakeRunner();
  let current = backend;
  const env: EngineEnv = {
    journal, runner: fake, sysctl: fakeSysctl(),
    config: { ...defaultConfig(join(dir, 'network.conf')), firewallBackend: backend },
    backend: () => current,
  };
  await defineNetwork(journal, join(casesDir, `${fixture}.xml`));
  return { env, fake, store, setBackend: (b) => { current = b; } };
};

const records = async (store: Store): Promise<LogRecord[]> => {
  const out: LogRecord[] = [];
  for await (const r of store.records()) out.push(r);
  return out;
};

const start = (w: World, b: Backend) => runNetworkOp(w.env, 'default', { type: 'START', backend: b });
const stop = (w: World) => runNetworkOp(w.env, 'default', { type: 'STOP' });
const status = (w: World) => w.store.state().networks.default!;

// Every fake call is matched, in order, by a command.intended record (same argv and stdin) whose
// command.finished comes after it.
const expectIntentBeforeFinish = async (w: World): Promise<void> => {
  const recs = await records(w.store);
  const intended = recs.filter((r) => r.type === 'command.intended');
  expect(intended.map((r) => (r.data as { argv: string[] }).argv)).toEqual(w.fake.calls.map((c) => c.req.argv));
  w.fake.calls.forEach((c, i) => {
    const rec = intended[i]!;
    const d = rec.data as { step: number; stdin?: string };
    expect(d.stdin).toBe(c.req.stdin);
    const fin = recs.filter((r) => r.type === 'command.finished' && r.op === rec.op && (r.data as { step: number }).step === d.step);
    expect(fin).toHaveLength(1);
    expect(fin[0]!.seq).toBeGreaterThan(rec.seq);
    expect((fin[0]!.data as { exitCode: number }).exitCode).toBe(c.result.exitCode);
    // A finished command repeats what ran, so the record alone tells the story.
    expect((fin[0]!.data as { argv: string[] }).argv).toEqual(c.req.argv);
    expect((fin[0]!.data as { stdin?: string }).stdin).toBe(c.req.stdin);
  });
};

describe('engine transactions on the fake runner', () => {
  for (const b of BACKENDS) {
    it(`start then stop (${b}): active with rules and bridge, then nothing of the network left`, async () => {
      const w = await world(b);
      const empty = w.fake.dump();
      const st = await start(w, b);
      expect(st).toMatchObject({ state: 'active', backend: b, bridgeCreated: true, inFlight: null });
      expect(w.fake.dump()).toContain('virbr0');
      expect(w.fake.dump()).toContain('192.168.122.0/24');
      const stopped = await stop(w);
      expect(stopped).toMatchObject({ state: 'stopped', backend: null, bridgeCreated: false, inFlight: null, removals: {} });
      const left = w.fake.dump();
      expect(left).not.toContain('virbr0');
      expect(left).not.toContain('192.168.122.');
      expect(left).not.toBe(empty);   // libvirt's private chains/tables stay, as in libvirt
      await expectIntentBeforeFinish(w);
    });

    const other: Backend = b === 'nftables' ? 'iptables' : 'nftables';
    for (const strategy of ['make-before-break', 'remove-first'] as const) {
      it(`switch ${b} -> ${other} (${strategy}) and back: rules move, the bridge stays`, async () => {
        const w = await world(b);
        await start(w, b);
        const onB = w.fake.dump();
        w.setBackend(other);
        const sw = await runNetworkOp(w.env, 'default', { type: 'SWITCH', to: other, strategy });
        expect(sw).toMatchObject({ state: 'active', backend: other, inFlight: null });
        expect(Object.keys(sw.removals)).toEqual([other]);
        const dump = w.fake.dump();
        expect(dump).toContain('virbr0');
        w.setBackend(b);
        const back = await runNetworkOp(w.env, 'default', { type: 'SWITCH', to: b, strategy });
        expect(back).toMatchObject({ state: 'active', backend: b });
        // Back on the first backend: the same rules as after the first start (the other
        // backend's private chains/tables stay, as libvirt's would).
        const section = (d: string, name: string): string => d.split('# ').find((s) => s.startsWith(name)) ?? '';
        const fw = b === 'nftables' ? 'nft' : 'iptables';
        expect(section(w.fake.dump(), fw)).toBe(section(onB, fw));
        await expectIntentBeforeFinish(w);
      });
    }
  }
});

// A failure at program call i of a start: exit 1 before the program ran, or killed after it did its
// work. Either the start still succeeds (a tolerated failure: a query, the checksum rule) or the
// kernel, the links and the projection are exactly as before.
describe('failure injected at every program call of a start', () => {
  const modes: Array<[string, InjectedFailure]> = [
    ['exits 1', { exitCode: 1 }],
    ['killed after it did its work', { signal: 'SIGKILL', afterApply: true }],
  ];
  for (const b of BACKENDS) {
    for (const host of ['fresh host', 'after a start/stop cycle'] as const) {
      for (const [what, failure] of modes) {
        it(`${b}, ${host}: call i ${what}`, async () => {
          const probe = await world(b);
          if (host !== 'fresh host') { await start(probe, b); await stop(probe); }
          const skipCalls = probe.fake.calls.length;
          await start(probe, b);
          const n = probe.fake.calls.length - skipCalls;
          expect(n).toBeGreaterThanOrEqual(4);   // links, the bridge, the neighbours' ruleset, at least one batch
          const problems: string[] = [];
          let failedStarts = 0;
          for (let i = 0; i < n; i++) {
            const w = await world(b);
            if (host !== 'fresh host') { await start(w, b); await stop(w); }
            const before = w.fake.dump();
            const { lastError: _e, ...stBefore } = status(w);
            const at = w.fake.calls.length + i;
            w.fake.failWhen((_req, idx) => (idx === at ? failure : false));
            const argv = (): string => w.fake.calls[at]?.req.argv.join(' ') ?? '?';
            try {
              await start(w, b);
              expect(status(w)).toMatchObject({ state: 'active', inFlight: null });
              continue;
            } catch (err) {
              failedStarts++;
              expect((err as Error).message).toMatch(/^default: /);
            }
            const { lastError, ...stAfter } = status(w);
            if (w.fake.dump() !== before) problems.push(`call ${i} (${argv()}): kernel differs from before`);
            if (JSON.stringify(stAfter) !== JSON.stringify(stBefore)) problems.push(`call ${i} (${argv()}): status differs: ${JSON.stringify(stAfter)}`);
            if (lastError === undefined) problems.push(`call ${i}: no lastError recorded`);
            await expectIntentBeforeFinish(w);
          }
          expect(failedStarts).toBeGreaterThan(0);
          expect(problems).toEqual([]);
        });
      }
    }
  }
});
