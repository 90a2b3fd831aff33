import { createActor, waitFor } from 'xstate';
import { describe, expect, it } from 'vitest';
import {
  networkMachine, observeTransitions, restoreNetworkActor, settledStateFor, type NetworkState,
} from '../../../machines/index.js';
import { ctx, fakeMachine, flush } from './harness.js';

describe('restoreNetworkActor', () => {
  it('restores an active network without re-running apply, and it accepts STOP', async () => {
    const calls: string[] = [];
    const actor = restoreNetworkActor(fakeMachine({}, calls), { state: 'active', context: ctx({ backend: 'iptables', op: 'start' }) });
    const seen: string[] = [];
    observeTransitions(actor, (from, to, ev) => seen.push(`${from}>${to}:${ev}`));
    actor.start();
    await flush();
    expect(actor.getSnapshot().value).toBe('active');
    expect(calls).toEqual([]);
    expect(seen).toEqual([]);
    actor.send({ type: 'STOP' });
    const done = await waitFor(actor, (s) => s.matches('stopped'));
    expect(done.context.backend).toBeNull();
    expect(calls).toEqual(['remove iptables']);
    expect(seen).toEqual(['active>stopping:STOP', 'stopping>stopped:xstate.done.actor.0.network.stopping']);
  });

  it('restores stopped and failed networks', async () => {
    const calls: string[] = [];
    const stopped = restoreNetworkActor(fakeMachine({}, calls), { state: 'stopped', context: ctx() });
    stopped.start();
    stopped.send({ type: 'START', backend: 'iptables' });
    expect((await waitFor(stopped, (s) => s.matches('active'))).context.backend).toBe('iptables');
    const failed = restoreNetworkActor(fakeMachine({}, calls), { state: 'failed', context: ctx({ backend: 'nftables', op: 'switch', target: 'iptables', lastError: 'x' }) });
    failed.start();
    expect(failed.getSnapshot().context.lastError).toBe('x');
    failed.send({ type: 'RETRY' });
    await waitFor(failed, (s) => s.matches('active'));
    expect(calls).toEqual(['apply iptables start', 'rollback switch to=nftables attempted=iptables']);
  });

  it('survives a JSON round trip of the context (as stored in the log)', async () => {
    const calls: string[] = [];
    const context = JSON.parse(JSON.stringify(ctx({ backend: 'nftables' }))) as ReturnType<typeof ctx>;
    const actor = restoreNetworkActor(fakeMachine({}, calls), { state: 'active', context });
    actor.start();
    actor.send({ type: 'SWITCH', to: 'iptables', strategy: 'make-before-break' });
    await waitFor(actor, (s) => s.matches('active') && s.context.backend === 'iptables');
    expect(calls).toEqual(['switch nftables->iptables make-before-break']);
  });

  it('refuses transitional states and an active network without a backend', () => {
    expect(() => restoreNetworkActor(networkMachine, { state: 'applying' as 'active', context: ctx({ backend: 'iptables' }) }))
      .toThrow(/transitional state 'applying'/);
    expect(() => restoreNetworkActor(networkMachine, { state: 'active', context: ctx() })).toThrow(/without an installed backend/);
  });
});

describe('settledStateFor', () => {
  const cases: [NetworkState, 'iptables' | null, boolean, string, boolean][] = [
    ['stopped', null, false, 'stopped', false],
    ['active', 'iptables', false, 'active', false],
    ['failed', 'iptables', false, 'failed', false],
    ['stopped', null, true, 'stopped', true],          // op began, nothing recorded yet
    ['active', 'iptables', true, 'active', true],      // reached active, op end not recorded
    ['applying', null, false, 'stopped', true],        // start interrupted
    ['applying', 'iptables', false, 'active', true],   // repair interrupted
    ['stopping', 'iptables', false, 'active', true],
    ['backend-switching', 'iptables', false, 'active', true],
    ['rolling-back', null, false, 'stopped', true],
    ['rolling-back', 'iptables', false, 'active', true],
  ];
  it.each(cases)('%s (installed %s, in flight %s) -> %s, recover %s', (state, backend, inFlight, settled, recover) => {
    const r = settledStateFor({ state, context: ctx({ backend, target: 'nftables', op: 'start' }) }, inFlight);
    expect(r.state).toBe(settled);
    expect(r.recover).toBe(recover);
    if (settled !== 'failed') expect(r.context.target).toBeNull();
    expect(r.context.backend).toBe(settled === 'stopped' ? null : backend);
    // Whatever it returns can be restored.
    expect(() => restoreNetworkActor(networkMachine, r)).not.toThrow();
  });
});

describe('observeTransitions', () => {
  it('reports only value changes, with the causing event, and can unsubscribe', async () => {
    const calls: string[] = [];
    const actor = createActor(fakeMachine({}, calls), { input: { network: 'n' } });
    const seen: string[] = [];
    const off = observeTransitions(actor, (from, to, ev) => seen.push(`${from}>${to}:${ev}`));
    actor.start();
    actor.send({ type: 'STOP' });   // ignored: no transition reported
    actor.send({ type: 'START', backend: 'nftables' });
    await waitFor(actor, (s) => s.matches('active'));
    expect(seen).toEqual(['stopped>applying:START', 'applying>active:xstate.done.actor.0.network.applying']);
    off();
    actor.send({ type: 'STOP' });
    await waitFor(actor, (s) => s.matches('stopped'));
    expect(seen).toHaveLength(2);
  });
});
