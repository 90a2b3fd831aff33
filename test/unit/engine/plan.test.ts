import { describe, expect, it } from 'vitest';
import type { Drift } from '../../../src/engine/drift.js';
import { operationOf } from '../../../src/engine/plan.js';
import type { IntegrationStep } from '../../../src/firewall/index.js';
import {
  adopted, CONF_PATH, configRecorded, defined, given, started, startInterrupted, stopInterrupted, stopped, switchInterrupted, undefinedNet,
} from './plan-given.js';

const nft = { backend: 'nftables' } as const;
const ipt = { backend: 'iptables' } as const;
const config = (backend: 'iptables' | 'nftables' | 'nftables-indexed', changed: boolean, strategy: 'make-before-break' | 'remove-first' = 'make-before-break') =>
  ({ op: 'config', backend, strategy, path: CONF_PATH, changed }) as const;
const drift = (network: string, d: Partial<Drift> = {}): Drift => ({ network, backend: 'nftables', missing: ['nft rule ip libvirt_network guest_input handle 7'], foreign: [], ...d });
const zoneStep: IntegrationStep = { id: 'firewalld:zone', neighbour: 'firewalld', argv: ['firewall-cmd', '--zone=libvirt', '--add-interface=vb-a'], undo: [] };

describe('plan: fresh start', () => {
  it('a host with nothing defined: nothing to do, no backend resolved', () => {
    given().when({}, nft).thenResolvesNoBackend();
  });

  it('networks defined, none started: reconcile starts nothing and resolves no backend', () => {
    given(defined('a'), defined('b')).when({}, nft).thenResolvesNoBackend();
  });

  it('the first reconcile records the configuration its running networks are on', () => {
    given(defined('a'), started('a', 'nftables')).when({}, nft).then([config('nftables', true)]);
  });

  it('after a reboot the kernel holds none of an active network\'s rules: it is repaired', () => {
    given(defined('a'), started('a', 'nftables'), configRecorded('nftables'))
      .when({ drift: [drift('a', { missing: ['r1', 'r2'] })] }, nft)
      .then([config('nftables', false), { op: 'repair-drift', network: 'a', setups: [], rules: true, neighbours: [] }]);
  });
});

describe('plan: interrupted operations (recovery)', () => {
  it('a start that died before any rule was recorded: undone, then started again', () => {
    given(defined('a'), startInterrupted('a', 'nftables')).when({}, nft).then([
      { op: 'recover', network: 'a', interrupted: 'start', to: 'stopped' },
      config('nftables', true),
      { op: 'event', network: 'a', event: { type: 'START', backend: 'nftables' } },
    ]);
  });

  it('a start that died after its rules were recorded: the network is active, nothing more', () => {
    given(defined('a'), startInterrupted('a', 'nftables', { rulesRecorded: true }), configRecorded('nftables')).when({}, nft).then([
      { op: 'recover', network: 'a', interrupted: 'start', to: 'active' },
      config('nftables', false),
    ]);
  });

  it('an interrupted start is started on the configured backend, not the one it was starting on', () => {
    given(defined('a'), startInterrupted('a', 'iptables')).when({}, nft).then([
      { op: 'recover', network: 'a', interrupted: 'start', to: 'stopped' },
      config('nftables', true),
      { op: 'event', network: 'a', event: { type: 'START', backend: 'nftables' } },
    ]);
  });

  it('a stop that died with rules still recorded: back to active, then stopped', () => {
    given(defined('a'), started('a', 'iptables'), stopInterrupted('a', 'iptables'), configRecorded('iptables')).when({}, ipt).then([
      { op: 'recover', network: 'a', interrupted: 'stop', to: 'active' },
      config('iptables', false),
      { op: 'event', network: 'a', event: { type: 'STOP' } },
    ]);
  });

  it('a stop that died after its rules were cleared: stopped, no backend needed', () => {
    given(defined('a'), started('a', 'iptables'), stopInterrupted('a', 'iptables', { rulesCleared: true })).when({}, ipt).then([
      { op: 'recover', network: 'a', interrupted: 'stop', to: 'stopped' },
    ]);
  });

  it('a make-before-break switch that died after the new rules were recorded: only the old ones go', () => {
    given(defined('a'), started('a', 'iptables'), switchInterrupted('a', 'iptables', 'nftables', { newRulesRecorded: true }))
      .when({}, nft).then([
        { op: 'recover', network: 'a', interrupted: 'switch', to: 'active' },
        config('nftables', true),
        { op: 'finish-switch', network: 'a', to: 'nftables' },
      ]);
  });

  it('a switch that died before the new rules were recorded: switched again', () => {
    given(defined('a'), started('a', 'iptables'), switchInterrupted('a', 'iptables', 'nftables')).when({}, nft).then([
      { op: 'recover', network: 'a', interrupted: 'switch', to: 'active' },
      config('nftables', true),
      { op: 'event', network: 'a', event: { type: 'SWITCH', to: 'nftables', strategy: 'make-before-break' } },
    ]);
  });

  it('recovery goes in log order, the rest by network name', () => {
    given(defined('b'), defined('a'), startInterrupted('b', 'nftables'), startInterrupted('a', 'nftables')).when({}, nft).then([
      { op: 'recover', network: 'b', interrupted: 'start', to: 'stopped' },
      { op: 'recover', network: 'a', interrupted: 'start', to: 'stopped' },
      config('nftables', true),
      { op: 'event', network: 'a', event: { type: 'START', backend: 'nftables' } },
      { op: 'event', network: 'b', event: { type: 'START', backend: 'nftables' } },
    ]);
  });

  it('recorded active with no rules (a remove-first switch died between its halves): set stopped, started again', () => {
    given(defined('a'), started('a', 'iptables'), { type: 'removal.cleared', network: 'a', op: 'x', data: { backend: 'iptables' } }, configRecorded('iptables'))
      .when({}, ipt).then([
        config('iptables', false),
        { op: 'set-state', network: 'a', from: 'active', to: 'stopped' },
        { op: 'event', network: 'a', event: { type: 'START', backend: 'iptables' } },
      ]);
  });
});

describe('plan: configuration changes', () => {
  it('the backend changed: every active network switches, make-before-break by default', () => {
    given(defined('a'), defined('b'), defined('c'), started('a', 'iptables'), started('b', 'iptables'), configRecorded('iptables'))
      .when({}, nft).then([
        config('nftables', true),
        { op: 'event', network: 'a', event: { type: 'SWITCH', to: 'nftables', strategy: 'make-before-break' } },
        { op: 'event', network: 'b', event: { type: 'SWITCH', to: 'nftables', strategy: 'make-before-break' } },
      ]);
  });

  it('the strategy is the configured one, and a new strategy is recorded', () => {
    given(defined('a'), started('a', 'nftables'), configRecorded('nftables'))
      .when({}, { backend: 'iptables', switchStrategy: 'remove-first' }).then([
        config('iptables', true, 'remove-first'),
        { op: 'event', network: 'a', event: { type: 'SWITCH', to: 'iptables', strategy: 'remove-first' } },
      ]);
  });

  it('the layout changed (libvirt -> indexed nftables): a switch to the indexed backend', () => {
    given(defined('a'), started('a', 'nftables'), configRecorded('nftables'))
      .when({}, { backend: 'nftables-indexed' }).then([
        config('nftables-indexed', true),
        { op: 'event', network: 'a', event: { type: 'SWITCH', to: 'nftables-indexed', strategy: 'make-before-break' } },
      ]);
  });

  it('an open network has no rules: nothing to switch', () => {
    given(defined('a', { mode: 'open' }), started('a', 'iptables'), configRecorded('iptables')).when({}, nft).then([config('nftables', true)]);
  });

  it('nothing changed: nothing to do', () => {
    given(defined('a'), started('a', 'nftables'), configRecorded('nftables')).when({}, nft).then([config('nftables', false)]);
  });
});

describe('plan: drift', () => {
  it('missing or foreign rules: the network\'s rules are re-applied', () => {
    given(defined('a'), started('a', 'nftables'), configRecorded('nftables'))
      .when({ drift: [drift('a', { missing: [], foreign: ['nft ip libvirt_network guest_input: accept (handle 9)'] })] }, nft)
      .then([config('nftables', false), { op: 'repair-drift', network: 'a', setups: [], rules: true, neighbours: [] }]);
  });

  it('only a neighbour binding gone: the step is taken again, the rules stay', () => {
    given(defined('a'), started('a', 'nftables'), configRecorded('nftables'))
      .when({ drift: [drift('a', { missing: ['firewalld: firewall-cmd --zone=libvirt --add-interface=vb-a'], neighbours: [zoneStep] })] }, nft)
      .then([config('nftables', false), { op: 'repair-drift', network: 'a', setups: [], rules: false, neighbours: [zoneStep] }]);
  });

  it('only the private set-up gone (a LIBVIRT_* chain deleted): the set-up is put back, the rules stay', () => {
    const setup = [{ program: 'iptables' as const, args: ['--table', 'filter', '--new-chain', 'LIBVIRT_FWO'] }];
    given(defined('a'), started('a', 'iptables'), configRecorded('iptables'))
      .when({ drift: [drift('a', { backend: 'iptables', missing: ['private set-up: iptables --table filter --new-chain LIBVIRT_FWO'], setup })] }, ipt)
      .then([config('iptables', false), { op: 'repair-drift', network: 'a', setups: ['iptables'], rules: false, neighbours: [] }]);
  });

  it('set-up and a rule gone: the set-up first, then the rules', () => {
    const setup = [{ program: 'nft' as const, args: ['add', 'chain', 'ip', 'libvirt_network', 'guest_output'] }];
    given(defined('a'), started('a', 'nftables'), configRecorded('nftables'))
      .when({ drift: [drift('a', { missing: ['private set-up: nft add chain ip libvirt_network guest_output', 'nft rule ip libvirt_network guest_output handle 4'], setup })] }, nft)
      .then([config('nftables', false), { op: 'repair-drift', network: 'a', setups: ['nftables'], rules: true, neighbours: [] }]);
  });

  it('a network that is switched anyway gets its rules fresh: no separate repair', () => {
    given(defined('a'), defined('b'), started('a', 'iptables'), started('b', 'nftables'), configRecorded('iptables'))
      .when({ drift: [drift('a', { backend: 'iptables' }), drift('b')] }, nft).then([
        config('nftables', true),
        { op: 'event', network: 'a', event: { type: 'SWITCH', to: 'nftables', strategy: 'make-before-break' } },
        { op: 'repair-drift', network: 'b', setups: [], rules: true, neighbours: [] },
      ]);
  });
});

describe('plan: networks removed and adopted', () => {
  it('a network stopped and undefined is gone from the plan', () => {
    given(defined('a'), started('a', 'nftables'), stopped('a', 'nftables'), undefinedNet('a')).when({}, nft).thenResolvesNoBackend();
  });

  it('a network stopped (rules removed) stays stopped', () => {
    given(defined('a'), started('a', 'nftables'), stopped('a', 'nftables'), configRecorded('nftables')).when({}, nft).thenResolvesNoBackend();
  });

  it('adopted from libvirt on the configured backend: kept as it is', () => {
    given(adopted('a', 'iptables')).when({}, ipt).then([config('iptables', true)]);
  });

  it('adopted from libvirt on another backend: switched live to the configured one', () => {
    given(adopted('a', 'iptables'), configRecorded('iptables')).when({}, nft).then([
      config('nftables', true),
      { op: 'event', network: 'a', event: { type: 'SWITCH', to: 'nftables', strategy: 'make-before-break' } },
    ]);
  });
});

describe('plan: the operation each machine event opens', () => {
  it('a switch names the backend it leaves; a start the one it installs; RETRY and RESET open none', () => {
    expect(operationOf({ type: 'SWITCH', to: 'nftables', strategy: 'remove-first' }, 'iptables'))
      .toEqual({ kind: 'switch', extra: { from: 'iptables', to: 'nftables', strategy: 'remove-first' } });
    expect(operationOf({ type: 'SWITCH', to: 'nftables', strategy: 'make-before-break' }, null))
      .toEqual({ kind: 'switch', extra: { to: 'nftables', strategy: 'make-before-break' } });
    expect(operationOf({ type: 'START', backend: 'iptables' }, null)).toEqual({ kind: 'start', extra: { to: 'iptables' } });
    expect(operationOf({ type: 'STOP' }, 'iptables')).toEqual({ kind: 'stop', extra: {} });
    expect(operationOf({ type: 'REPAIR' }, 'nftables')).toEqual({ kind: 'repair', extra: {} });
    expect(operationOf({ type: 'RETRY' }, 'nftables')).toBeNull();
    expect(operationOf({ type: 'RESET' }, null)).toBeNull();
  });
});
