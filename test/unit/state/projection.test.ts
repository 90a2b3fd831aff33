import { describe, expect, it } from 'vitest';
import { emptyState, event, fold, foldAll, replay, type LogRecord, type NewEvent, type ProjectionState } from '../../../state/index.js';
import { def, defined, removal, startOp } from './helpers.js';

// Given these events, expect this state. Records get seq 1.. and a stand-in hash.
const given = (...events: NewEvent[]): ProjectionState => foldAll(events.map((e, i): LogRecord => ({
  v: 1, seq: i + 1, time: '2025-01-01T00:00:00.000Z', prev: 'p', hash: `h${i + 1}`, ...e, type: e.type,
})));
const net = (s: ProjectionState, name = 'default') => s.networks[name];
const at = { network: 'default', op: 'op-1' };

describe('projection', () => {
  it('starts empty', () => {
    expect(emptyState()).toEqual({ seq: 0, hash: '0'.repeat(64), networks: {}, sysctl: {} });
  });

  it('network.defined adds a stopped network; undefined removes it', () => {
    const s = given(defined());
    expect(net(s)).toEqual({
      name: 'default', definition: def(), state: 'stopped', backend: null, bridge: 'virbr0', bridgeCreated: false,
      removals: {}, inFlight: null,
    });
    expect(s.seq).toBe(1);
    expect(s.hash).toBe('h1');
    expect(given(defined(), event('network.undefined', {}, { network: 'default' })).networks).toEqual({});
  });

  it('redefining keeps the runtime status', () => {
    const s = given(defined(), ...startOp(), event('network.defined', { definition: def('default', 'virbr9'), xml: '' }, { network: 'default' }));
    expect(net(s)).toMatchObject({ state: 'active', backend: 'iptables', bridge: 'virbr9' });
  });

  it('an operation in flight records its steps and what of them already ran', () => {
    const s = given(defined(), ...startOp().slice(0, 4));
    expect(net(s)?.inFlight).toEqual({
      op: 'op-1', kind: 'start', to: 'iptables', startedSeq: 2,
      steps: [expect.objectContaining({ step: 1, purpose: 'apply', result: { exitCode: 0, stdout: '', stderr: '', durationMs: 3 } })],
    });
    expect(net(s)?.inFlight?.steps[0]?.undo).toHaveLength(1);
    expect(net(s)?.state).toBe('applying');
  });

  it('a step intended but not finished has no result (the crash case)', () => {
    const s = given(defined(), ...startOp().slice(0, 3));
    expect(net(s)?.inFlight?.steps[0]?.result).toBeUndefined();
  });

  it('commands of another operation or none are not steps', () => {
    const s = given(defined(), ...startOp().slice(0, 2),
      event('command.intended', { step: 9, argv: ['nft', 'list', 'ruleset'], commands: [], purpose: 'query' }, { network: 'default', op: 'other' }),
      event('command.intended', { step: 9, argv: ['nft', 'list', 'ruleset'], commands: [], purpose: 'query' }));
    expect(net(s)?.inFlight?.steps).toEqual([]);
  });

  it('committed clears the operation, sets the backend and lastError', () => {
    const s = given(defined(), event('operation.started', { kind: 'start' }, at), event('operation.failed', { reason: 'boom' }, at),
      ...startOp());
    expect(net(s)).toMatchObject({ inFlight: null, backend: 'iptables', state: 'active', removals: { iptables: removal('iptables') } });
    expect(net(s)?.lastError).toBeUndefined();
  });

  it('rolled-back and failed clear the operation and keep the reason', () => {
    for (const type of ['operation.rolled-back', 'operation.failed'] as const) {
      const s = given(defined(), event('operation.started', { kind: 'start' }, at), event(type, { reason: 'iptables exited 1' }, at));
      expect(net(s)).toMatchObject({ inFlight: null, lastError: 'iptables exited 1', backend: null });
    }
  });

  it('make-before-break: both removals are kept until the old one is cleared', () => {
    const s1 = given(defined(), event('removal.recorded', { removal: removal('iptables') }, at),
      event('operation.started', { kind: 'switch', from: 'iptables', to: 'nftables', strategy: 'make-before-break' }, at),
      event('removal.recorded', { removal: removal('nftables') }, at));
    expect(net(s1)).toMatchObject({ backend: 'nftables', removals: { iptables: removal('iptables'), nftables: removal('nftables') } });
    expect(Object.keys(net(s1)!.removals).sort()).toEqual(['iptables', 'nftables']);
    expect(net(s1)?.inFlight).toMatchObject({ kind: 'switch', from: 'iptables', to: 'nftables', strategy: 'make-before-break' });
    const s2 = fold(s1, { v: 1, seq: 5, time: 't', prev: 'p', hash: 'h5', type: 'removal.cleared', network: 'default', data: { backend: 'iptables' } });
    expect(net(s2)).toMatchObject({ backend: 'nftables', removals: { nftables: removal('nftables') } });
    const s3 = fold(s2, { v: 1, seq: 6, time: 't', prev: 'p', hash: 'h6', type: 'removal.cleared', network: 'default', data: { backend: 'nftables' } });
    expect(net(s3)).toMatchObject({ backend: null, removals: {} });
  });

  it('remove-first: clearing the latest removal falls back to none', () => {
    const s = given(defined(), event('removal.recorded', { removal: removal('iptables') }, at), event('removal.cleared', { backend: 'iptables' }, at));
    expect(net(s)).toMatchObject({ backend: null, removals: {} });
  });

  it('bridge, transitions, drift', () => {
    const n = { network: 'default' };
    const s = given(defined(), event('bridge.created', { bridge: 'virbr0' }, n),
      event('network.transition', { from: 'stopped', to: 'failed', event: 'ERROR' }, n),
      event('drift.found', { missing: ['rule a'], foreign: [] }, n));
    expect(net(s)).toMatchObject({ bridgeCreated: true, state: 'failed', drift: { missing: ['rule a'], foreign: [], seq: 4 } });
    const s2 = given(defined(), event('bridge.created', { bridge: 'virbr0' }, n), event('bridge.deleted', { bridge: 'virbr0' }, n),
      event('drift.found', { missing: [], foreign: ['x'] }, n), event('drift.repaired', {}, n));
    expect(net(s2)?.bridgeCreated).toBe(false);
    expect(net(s2)?.drift).toBeUndefined();
  });

  it('config and sysctl (keeping the value before vnetfw first changed it)', () => {
    const s = given(event('config.changed', { backend: 'nftables', strategy: 'remove-first', path: '/etc/vnetfw/network.conf' }),
      event('host.sysctl', { key: 'net.ipv4.ip_forward', value: '1', previous: '0' }),
      event('host.sysctl', { key: 'net.ipv4.ip_forward', value: '1', previous: '1' }));
    expect(s.config).toEqual({ backend: 'nftables', strategy: 'remove-first', path: '/etc/vnetfw/network.conf', seq: 1 });
    expect(s.sysctl).toEqual({ 'net.ipv4.ip_forward': { value: '1', previous: '0' } });
  });

  it('setup.recorded: the backends whose set-up is in place, by seq; a log without one has no setup member', () => {
    const s = given(event('setup.recorded', { backend: 'iptables' }), event('config.changed', { backend: 'nftables', strategy: 'make-before-break', path: '/x' }),
      event('setup.recorded', { backend: 'nftables' }));
    expect(s.setup).toEqual({ iptables: 1, nftables: 3 });
    expect(Object.hasOwn(given(event('config.changed', { backend: 'nftables', strategy: 'make-before-break', path: '/x' })), 'setup')).toBe(false);
  });

  it('events for unknown networks and log events only advance seq', () => {
    const s = given(event('bridge.created', { bridge: 'x' }, { network: 'ghost' }), event('log.repaired', { quarantine: 'q', bytes: 3, reason: 'r' }));
    expect(s).toEqual({ ...emptyState(), seq: 2, hash: 'h2' });
  });

  it('fold never mutates its input', () => {
    const before = given(defined(), ...startOp().slice(0, 3));
    const frozen = JSON.stringify(before);
    const after = fold(before, { v: 1, seq: 5, time: 't', prev: 'p', hash: 'h5', ...startOp()[3]!, type: 'command.finished' });
    expect(JSON.stringify(before)).toBe(frozen);
    expect(after).not.toBe(before);
  });
});

describe('projection: one batch for several networks', () => {
  it('a program run naming no network belongs to every network whose operation has its op id', () => {
    const shared = { op: 'op-many' };
    const s = given(
      defined('a'), defined('b'), defined('c'),
      event('operation.started', { kind: 'switch', from: 'nftables', to: 'iptables' }, { network: 'a', ...shared }),
      event('operation.started', { kind: 'switch', from: 'nftables', to: 'iptables' }, { network: 'b', ...shared }),
      event('command.intended', { step: 1, argv: ['iptables-restore', '-w', '--noflush'], stdin: '*filter\nCOMMIT\n', commands: [], purpose: 'apply' }, shared),
      event('command.finished', { step: 1, exitCode: 0, stdout: '', stderr: '', durationMs: 2 }, shared),
    );
    for (const name of ['a', 'b']) {
      expect(net(s, name)?.inFlight?.steps).toEqual([expect.objectContaining({ step: 1, purpose: 'apply', result: expect.objectContaining({ exitCode: 0 }) })]);
    }
    expect(net(s, 'c')?.inFlight).toBeNull();
  });
});

describe('projection: a replay of many records', () => {
  const records = (...events: NewEvent[]): LogRecord[] => events.map((e, i): LogRecord => ({
    v: 1, seq: i + 1, time: '2025-01-01T00:00:00.000Z', prev: 'p', hash: `h${i + 1}`, ...e, type: e.type,
  }));
  const many = records(
    defined('a'), defined('b'), defined('c'),
    event('host.sysctl', { key: 'net.ipv4.ip_forward', value: '1', previous: '0' }),
    ...startOp().map((e) => ({ ...e, network: 'b' })),
    event('network.undefined', {}, { network: 'c' }),
    event('host.sysctl', { key: 'net.ipv6.conf.all.forwarding', value: '1', previous: '0' }),
  );

  it('folds to what folding the records one at a time gives', () => {
    let one = emptyState();
    for (const r of many) one = fold(one, r);
    expect(foldAll(many)).toEqual(one);
    const r = replay(emptyState());
    for (const rec of many) r.add(rec);
    expect(r.result()).toEqual(one);
  });

  it('never changes a result it handed out: the records after it go to a copy', () => {
    const r = replay(emptyState());
    const seen: Array<{ state: ProjectionState; text: string }> = [];
    for (const rec of many) {
      r.add(rec);
      const state = r.result();
      seen.push({ state, text: JSON.stringify(state) });
    }
    for (const { state, text } of seen) expect(JSON.stringify(state)).toBe(text);
    expect(Object.keys(seen[2]!.state.networks)).toEqual(['a', 'b', 'c']);
    expect(Object.keys(seen.at(-1)!.state.networks)).toEqual(['a', 'b']);
  });

  it('never changes the state it starts from, and shares the networks no record touched', () => {
    const from = foldAll(many.slice(0, 3));
    const text = JSON.stringify(from);
    const after = foldAll(many.slice(3), from);
    expect(JSON.stringify(from)).toBe(text);
    expect(after.networks.a).toBe(from.networks.a);
    expect(after.networks.b).not.toBe(from.networks.b);
  });

  it('a replay with no record gives back the state it started from', () => {
    const from = foldAll(many);
    expect(replay(from).result()).toBe(from);
  });
});
