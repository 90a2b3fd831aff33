// The indexed layout's commands (pure) and the one batch composer. Expected text written by hand
// from the layout's design (docs/architecture.md): libvirt's per-network rules, in the order
// libvirt's chains hold them, moved into one chain per network behind interface verdict maps.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { closeEngineWorlds, defineRenumbered, engineWorld } from '../../doubles/engine-world.js';
import { planFor } from '../../../src/cli/commands/plan-run.js';
import { parseNetworkXml } from '../../../src/definition/index.js';
import { defineNetwork, runNetworkOps } from '../../../src/engine/index.js';
import {
  buildRules, chainPart, composeApply, removalOfRules, renderBatches, ruleCommands, type Backend,
} from '../../../src/firewall/index.js';

const casesDir = fileURLToPath(new URL('../../fixtures/cases/', import.meta.url));
const load = (name: string) => parseNetworkXml(readFileSync(join(casesDir, `${name}.xml`), 'utf8'), `${name}.xml`);
const lines = (cmds: ReturnType<typeof ruleCommands>): string[] => renderBatches(cmds)[0]?.stdin.trim().split('\n') ?? [];

describe('indexed layout: one network', () => {
  it('nat-default: one filter chain, one nat chain, map elements; no counters; family-scoped general rules', () => {
    const n = '192.168.122.0/24';
    expect(lines(ruleCommands(buildRules(load('nat-default'), 'nftables-indexed')))).toEqual([
      'add chain inet vnetfw net_default',
      'flush chain inet vnetfw net_default',
      'add rule inet vnetfw net_default meta nfproto ipv4 iif "virbr0" oif "virbr0" accept',
      `add rule inet vnetfw net_default oif "virbr0" ip daddr ${n} ct state related,established accept`,
      'add rule inet vnetfw net_default meta nfproto ipv4 oif "virbr0" reject',
      `add rule inet vnetfw net_default ip saddr ${n} iif "virbr0" accept`,
      'add rule inet vnetfw net_default meta nfproto ipv4 iif "virbr0" reject',
      'add chain inet vnetfw nat_default',
      'flush chain inet vnetfw nat_default',
      `add rule inet vnetfw nat_default ip saddr ${n} ip daddr 224.0.0.0/24 return`,
      `add rule inet vnetfw nat_default ip saddr ${n} ip daddr 255.255.255.255/32 return`,
      `add rule inet vnetfw nat_default meta l4proto tcp ip saddr ${n} ip daddr != ${n} masquerade to :1024-65535`,
      `add rule inet vnetfw nat_default meta l4proto udp ip saddr ${n} ip daddr != ${n} masquerade to :1024-65535`,
      `add rule inet vnetfw nat_default ip saddr ${n} ip daddr != ${n} masquerade`,
      'add element inet vnetfw to_guest { "virbr0" : jump net_default }',
      'add element inet vnetfw from_guest { "virbr0" : jump net_default }',
      `add element inet vnetfw nat4 { ${n} : jump nat_default }`,
      'add element inet vnetfw dhcp_csum { "virbr0" }',
    ]);
  });

  it('its removal is known without running anything: elements first, then the chains, by name', () => {
    const removal = removalOfRules(buildRules(load('nat-default'), 'nftables-indexed'));
    expect(removal.backend).toBe('nftables-indexed');
    expect(removal.groups.flatMap((g) => g.commands).map((c) => c.args.join(' '))).toEqual([
      'delete element inet vnetfw dhcp_csum { "virbr0" }',
      'delete element inet vnetfw nat4 { 192.168.122.0/24 }',
      'delete element inet vnetfw from_guest { "virbr0" }',
      'delete element inet vnetfw to_guest { "virbr0" }',
      'delete chain inet vnetfw nat_default',
      'delete chain inet vnetfw net_default',
    ]);
  });

  it('isolated: no nat chain, no nat element; route: no nat chain', () => {
    for (const name of ['isolated-linux', 'route-default']) {
      const text = lines(ruleCommands(buildRules(load(name.replace('-linux', '')), 'nftables-indexed'))).join('\n');
      expect(text).not.toMatch(/nat_|nat4|masquerade/);
      expect(text).toContain('jump net_');
    }
  });

  it('chain names: distinct networks get distinct chains, whatever characters their names hold', () => {
    expect(chainPart('default')).toBe('default');
    expect(chainPart('a.b')).toBe('a.2eb');
    expect(chainPart('a+b:c')).toBe('a.2bb.3ac');
    expect(chainPart('a_b')).not.toBe(chainPart('a.b'));
  });

  it('one transaction: table, network chains, then maps and base chains, then elements (nft refuses an interval-map element jumping to a chain created after the map)', () => {
    const c = composeApply('nftables-indexed', [load('nat-default')], { existing: null, mergeTolerated: true });
    expect(c.batches.map((b) => b.argv)).toEqual([['nft', '-f', '-']]);
    const script = c.batches[0]?.stdin.split('\n') ?? [];
    const at = (prefix: string): number => script.findIndex((l) => l.startsWith(prefix));
    expect(at('add table inet vnetfw')).toBe(0);
    expect(at('add chain inet vnetfw nat_default')).toBeLessThan(at('add map inet vnetfw nat4'));
    expect(at('add rule inet vnetfw forward oifname vmap @to_guest')).toBeLessThan(at('add element'));
  });
});

describe('indexed layout in the engine: one network, one transaction', () => {
  afterEach(closeEngineWorlds);

  it('with 5 networks active, starting and stopping a 6th is one nft -f each, naming only that network', async () => {
    const w = await engineWorld({ backend: 'nftables-indexed' });
    const { env, fake } = w;
    // The fake's nft model knows libvirt's tables only: indexed batches succeed as sent.
    fake.failWhen((req) => (req.stdin?.includes('inet vnetfw') === true ? { exitCode: 0 } : false));
    await defineRenumbered(w, 6);
    await runNetworkOps(env, [0, 1, 2, 3, 4].map((i) => ({ name: `n${i}`, event: { type: 'START' as const, backend: 'nftables-indexed' as const } })));
    // Programs that change the ruleset: start's one read of it for the neighbours (`nft -j list
    // ruleset`, firewalld/Docker/host tables) changes nothing.
    const nftRuns = (from: number) => fake.calls.slice(from).filter((c) => c.req.argv[0] === 'nft' && c.req.argv[1] !== '-j');
    let mark = fake.calls.length;
    const [started] = await runNetworkOps(env, [{ name: 'n5', event: { type: 'START', backend: 'nftables-indexed' } }]);
    expect(started?.status?.state).toBe('active');
    const startRuns = nftRuns(mark);
    expect(startRuns.map((c) => c.req.argv)).toEqual([['nft', '-f', '-']]);
    expect(startRuns[0]?.req.stdin).toContain('net_n5');
    expect(startRuns[0]?.req.stdin).not.toMatch(/n[0-4]\b|virbr[0-4]\b/);
    mark = fake.calls.length;
    await runNetworkOps(env, [{ name: 'n5', event: { type: 'STOP' } }]);
    const stopRuns = nftRuns(mark);
    expect(stopRuns.map((c) => c.req.argv)).toEqual([['nft', '-f', '-']]);
    expect((stopRuns[0]?.req.stdin ?? '').trim().split('\n')).toEqual([
      'delete element inet vnetfw dhcp_csum { "virbr5" }',
      'delete element inet vnetfw nat4 { 192.168.105.0/24 }',
      'delete element inet vnetfw from_guest { "virbr5" }',
      'delete element inet vnetfw to_guest { "virbr5" }',
      'delete chain inet vnetfw nat_n5',
      'delete chain inet vnetfw net_n5',
    ]);
  });
});

describe('plan --batch shows what is sent', () => {
  afterEach(closeEngineWorlds);

  it.each(['iptables', 'nftables', 'nftables-indexed'] as const)('%s: the apply batches of a first start equal planFor().batches', async (backend: Backend) => {
    const { env, fake } = await engineWorld({ backend });
    await defineNetwork(env.journal, join(casesDir, 'nat-default.xml'));
    const def = load('nat-default');
    // The fake's nft model knows libvirt's tables only: the indexed batch is checked as sent.
    if (backend === 'nftables-indexed') fake.failWhen((req) => (req.stdin?.includes('inet vnetfw') === true ? { exitCode: 0 } : false));
    await runNetworkOps(env, [{ name: 'default', event: { type: 'START', backend } }]);
    // The firewall's batches: the bridge's `ip -batch -` is host plumbing, not part of the plan.
    const sent = fake.calls.filter((c) => c.req.stdin !== undefined && c.req.stdin !== '' && c.req.argv[0] !== 'ip')
      .map((c) => ({ argv: c.req.argv, stdin: c.req.stdin }));
    const planned = planFor(def, backend).batches.map((b) => ({ argv: b.argv, stdin: b.stdin }));
    expect(planned.length).toBeGreaterThan(0);
    expect(sent).toEqual(planned);
  });
});
