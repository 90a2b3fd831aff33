// After a crash, the next `start` or `stop` of the network recovers it by itself (no separate
// `reconcile` needed): vnetfw is SIGKILLed in the middle of a start (after its firewall batch ran)
// or a stop (after the rules were removed, before the bridge went), then the same command again
// leaves libvirt's ruleset for the state asked for.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canon, casesDir, cliBuilt, inNs, IP, makeCrashShims, netnsSkipReason, nsDelAll, nsNew, reference, statusOf, vnet, writeConf, type Crash,
  type Reference,
} from '../support/index.js';

const skip = netnsSkipReason ?? (cliBuilt ? undefined : 'dist/ is not built (npm test builds it)');
const xml = join(casesDir, 'nat-default.xml');

describe.skipIf(skip !== undefined)(`the next command recovers after a crash${skip === undefined ? '' : ` (skipped: ${skip})`}`, () => {
  let ref: Reference;
  let root = '';
  let shimDir = '';
  beforeAll(async () => {
    ref = await reference('nat-default');
    root = mkdtempSync(join(tmpdir(), 'vnetfw-recover-'));
    shimDir = makeCrashShims(join(root, 'shims'));
  }, 120_000);
  afterAll(async () => { await nsDelAll(); });

  // The program calls of a start on nftables: ip (the links), ip -batch (the bridge: add, address,
  // up), nft -j list ruleset (neighbours), nft list ×2, nft batch; of a stop: nft removal, ip link
  // set down, ip link del.
  it('start killed right after its nft batch ran; start again: active with exactly libvirt\'s rules', async () => {
    const ns = await nsNew('recov');
    const st = join(root, 'a');
    const conf = writeConf(join(root, 'a.conf'), 'nftables');
    expect((await vnet(ns, st, conf, ['define', xml])).code).toBe(0);
    const crash: Crash = { shimDir, counter: join(root, 'a.count'), at: 6, when: 'after' };
    const killed = await vnet(ns, st, conf, ['start', 'default'], { crash });
    expect(killed.signal).toBe('SIGKILL');
    const again = await vnet(ns, st, conf, ['start', 'default']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('default: undid an interrupted operation first');
    expect(await statusOf(st, 'default')).toMatchObject({ state: 'active', backend: 'nftables', inFlight: null });
    expect(await canon(ns, 'nftables')).toBe(ref.full.nftables);
    expect((await vnet(ns, st, conf, ['verify'])).code).toBe(0);
  });

  it('stop killed after the rules went, before the bridge did; start again: active with exactly libvirt\'s rules', async () => {
    const ns = await nsNew('recov');
    const st = join(root, 'b');
    const conf = writeConf(join(root, 'b.conf'), 'nftables');
    expect((await vnet(ns, st, conf, ['define', xml])).code).toBe(0);
    expect((await vnet(ns, st, conf, ['start', 'default'])).code).toBe(0);
    const crash: Crash = { shimDir, counter: join(root, 'b.count'), at: 1, when: 'after' };
    const killed = await vnet(ns, st, conf, ['stop', 'default'], { crash });
    expect(killed.signal).toBe('SIGKILL');
    expect(await canon(ns, 'nftables')).toBe(ref.base.nftables);   // the rules did go
    const again = await vnet(ns, st, conf, ['start', 'default']);
    expect(again.code).toBe(0);
    expect(await statusOf(st, 'default')).toMatchObject({ state: 'active', backend: 'nftables', inFlight: null });
    expect(await canon(ns, 'nftables')).toBe(ref.full.nftables);
    expect((await inNs(ns, [IP, '-br', 'addr', 'show', 'virbr0'])).stdout).toContain('192.168.122.1/24');
    expect((await vnet(ns, st, conf, ['verify'])).code).toBe(0);
  });
});
