import { describe, expect, it } from 'vitest';
import { networkMachine, type NetworkEvent, type NetworkState, type SettledState } from '../../../machines/index.js';
import { ctx, eventKind, flush, startIn, type Plan } from './harness.js';

interface Row {
  name: string;
  from: SettledState;
  backend?: 'iptables' | 'nftables' | null;
  events: NetworkEvent[];
  plan?: Plan;
  state: NetworkState;
  installed?: 'iptables' | 'nftables' | null;
  transitions: string[];
  calls: string[];
  lastError?: string | null;
}

const START = { type: 'START', backend: 'nftables' } as const;
const STOP = { type: 'STOP' } as const;
const TO_NFT = { type: 'SWITCH', to: 'nftables', strategy: 'remove-first' } as const;
const TO_IPT = { type: 'SWITCH', to: 'iptables', strategy: 'make-before-break' } as const;
const ipt = 'iptables' as const;

// Every edge of the machine, each reached from a settled state the way the engine reaches it.
const rows: Row[] = [
  { name: 'start succeeds', from: 'stopped', events: [START], state: 'active', installed: 'nftables',
    transitions: ['stopped>applying:START', 'applying>active:done'], calls: ['apply nftables start'], lastError: null },
  { name: 'start fails, rollback removes the partial rules', from: 'stopped', events: [START], plan: { apply: 'fail' },
    state: 'stopped', installed: null,
    transitions: ['stopped>applying:START', 'applying>rolling-back:error', 'rolling-back>stopped:done'],
    calls: ['apply nftables start', 'rollback start to=none attempted=nftables'], lastError: 'apply failed' },
  { name: 'start fails and rollback fails', from: 'stopped', events: [START], plan: { apply: 'fail', rollback: 'fail' },
    state: 'failed', installed: null,
    transitions: ['stopped>applying:START', 'applying>rolling-back:error', 'rolling-back>failed:error'],
    calls: ['apply nftables start', 'rollback start to=none attempted=nftables'],
    lastError: 'apply failed; rollback failed: rollback failed' },
  { name: 'stop succeeds', from: 'active', backend: ipt, events: [STOP], state: 'stopped', installed: null,
    transitions: ['active>stopping:STOP', 'stopping>stopped:done'], calls: ['remove iptables'] },
  { name: 'stop fails, rollback re-installs', from: 'active', backend: ipt, events: [STOP], plan: { remove: 'fail' },
    state: 'active', installed: ipt,
    transitions: ['active>stopping:STOP', 'stopping>rolling-back:error', 'rolling-back>active:done'],
    calls: ['remove iptables', 'rollback stop to=iptables attempted=none'], lastError: 'remove failed' },
  { name: 'switch succeeds', from: 'active', backend: ipt, events: [TO_NFT], state: 'active', installed: 'nftables',
    transitions: ['active>backend-switching:SWITCH', 'backend-switching>active:done'],
    calls: ['switch iptables->nftables remove-first'] },
  { name: 'switch fails, back on the old backend', from: 'active', backend: ipt, events: [TO_NFT], plan: { switchBackend: 'fail' },
    state: 'active', installed: ipt,
    transitions: ['active>backend-switching:SWITCH', 'backend-switching>rolling-back:error', 'rolling-back>active:done'],
    calls: ['switch iptables->nftables remove-first', 'rollback switch to=iptables attempted=nftables'] },
  { name: 'switch fails, rollback cannot restore anything', from: 'active', backend: ipt, events: [TO_NFT],
    plan: { switchBackend: 'fail', rollbackTo: null }, state: 'stopped', installed: null,
    transitions: ['active>backend-switching:SWITCH', 'backend-switching>rolling-back:error', 'rolling-back>stopped:done'],
    calls: ['switch iptables->nftables remove-first', 'rollback switch to=iptables attempted=nftables'] },
  { name: 'repair succeeds', from: 'active', backend: ipt, events: [{ type: 'REPAIR' }], state: 'active', installed: ipt,
    transitions: ['active>applying:REPAIR', 'applying>active:done'], calls: ['apply iptables repair'] },
  { name: 'failed: RETRY runs the rollback again', from: 'failed', backend: ipt, events: [{ type: 'RETRY' }],
    state: 'active', installed: ipt, transitions: ['failed>rolling-back:RETRY', 'rolling-back>active:done'],
    calls: ['rollback start to=iptables attempted=none'] },
  { name: 'failed: RESET forgets', from: 'failed', backend: ipt, events: [{ type: 'RESET' }], state: 'stopped', installed: null,
    transitions: ['failed>stopped:RESET'], calls: [], lastError: null },
  { name: 'failed: STOP removes what is installed', from: 'failed', backend: ipt, events: [STOP], state: 'stopped',
    installed: null, transitions: ['failed>stopping:STOP', 'stopping>stopped:done'], calls: ['remove iptables'] },
  // No-ops: events that do not apply are ignored.
  ...(['STOP', 'REPAIR', 'RETRY', 'RESET'] as const).map((type): Row => ({
    name: `${type} while stopped`, from: 'stopped', events: [{ type }], state: 'stopped', transitions: [], calls: [] })),
  { name: 'SWITCH while stopped', from: 'stopped', events: [TO_IPT], state: 'stopped', transitions: [], calls: [] },
  ...([START, { type: 'RETRY' }, { type: 'RESET' }] as const).map((ev): Row => ({
    name: `${ev.type} while active`, from: 'active', backend: ipt, events: [ev], state: 'active', installed: ipt, transitions: [], calls: [] })),
  { name: 'SWITCH to the installed backend', from: 'active', backend: ipt, events: [TO_IPT], state: 'active', installed: ipt,
    transitions: [], calls: [] },
  { name: 'STOP while failed with nothing installed', from: 'failed', backend: null, events: [STOP], state: 'failed',
    transitions: [], calls: [] },
  { name: 'START while failed', from: 'failed', backend: ipt, events: [START], state: 'failed', transitions: [], calls: [] },
  // Events during an operation are ignored too (the engine serialises operations).
  { name: 'START/STOP/SWITCH while applying', from: 'stopped', events: [START, STOP, START, TO_IPT, { type: 'REPAIR' }],
    plan: { apply: 'hang' }, state: 'applying', transitions: ['stopped>applying:START'], calls: ['apply nftables start'] },
  { name: 'STOP while stopping', from: 'active', backend: ipt, events: [STOP, STOP, START], plan: { remove: 'hang' },
    state: 'stopping', installed: ipt, transitions: ['active>stopping:STOP'], calls: ['remove iptables'] },
  { name: 'SWITCH while switching', from: 'active', backend: ipt, events: [TO_NFT, TO_IPT, STOP], plan: { switchBackend: 'hang' },
    state: 'backend-switching', installed: ipt, transitions: ['active>backend-switching:SWITCH'],
    calls: ['switch iptables->nftables remove-first'] },
  { name: 'STOP while rolling back', from: 'stopped', events: [START, STOP, { type: 'RESET' }], plan: { apply: 'fail', rollback: 'hang' },
    state: 'rolling-back', transitions: ['stopped>applying:START', 'applying>rolling-back:error'],
    calls: ['apply nftables start', 'rollback start to=none attempted=nftables'] },
];

const seen = new Set<string>();

describe('network machine transitions', () => {
  it.each(rows)('$name', async (row) => {
    const { actor, calls, transitions } = startIn(row.from, ctx({ backend: row.backend ?? null }), row.plan ?? {});
    for (const ev of row.events) actor.send(ev);
    await flush();
    const snap = actor.getSnapshot();
    expect(snap.status).toBe('active');
    expect(snap.value).toBe(row.state);
    expect(transitions).toEqual(row.transitions);
    expect(calls).toEqual(row.calls);
    if (row.installed !== undefined) expect(snap.context.backend).toBe(row.installed);
    if (row.lastError !== undefined) expect(snap.context.lastError).toBe(row.lastError);
    if (['stopped', 'active'].includes(row.state)) expect(snap.context.target).toBeNull();
    for (const t of transitions) seen.add(t);
    actor.stop();
  });

  it('covers every edge of the machine', () => {
    const edges = new Set<string>();
    for (const [name, node] of Object.entries(networkMachine.root.states)) {
      for (const [type, defs] of node.transitions) {
        for (const def of defs) {
          const to = def.target?.[0]?.key ?? name;
          edges.add(`${name}>${to}:${eventKind(type)}`);
        }
      }
    }
    // 16 edges today; a new edge fails here until a row above exercises it.
    expect(edges.size).toBe(16);
    expect([...edges].filter((e) => !seen.has(e))).toEqual([]);
  });

  it('keeps the SWITCH strategy in context and clears lastError on a new operation', async () => {
    const { actor } = startIn('active', ctx({ backend: ipt, lastError: 'old' }), {});
    actor.send(TO_NFT);
    await flush();
    expect(actor.getSnapshot().context).toMatchObject({ strategy: 'remove-first', op: 'switch', lastError: null });
  });

  it('fails loudly when actors were not provided', async () => {
    const { createActor } = await import('xstate');
    const actor = createActor(networkMachine, { input: { network: 'n' } });
    actor.start();
    actor.send(START);
    await flush();
    // apply and rollback placeholders both reject: nothing touched the host, and the error says why.
    expect(actor.getSnapshot().value).toBe('failed');
    expect(actor.getSnapshot().context.lastError).toMatch(/actor 'apply' was not provided.*actor 'rollback' was not provided/);
  });
});
