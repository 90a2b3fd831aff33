import { expect } from 'vitest';
import type { NetworkDef } from '../../../src/definition/types.js';
import type { Backend, FwRemoval } from '../../../src/firewall/model.js';
import { planReconcile, type KernelView, type PlannedOp } from '../../../src/engine/plan.js';
import type { SwitchStrategy } from '../../../machines/index.js';
import { event, foldAll, type LogRecord, type NewEvent, type OperationKind } from '../../../state/index.js';

// The plan tested the way emmett tests deciders: given the events in the log, when the kernel and
// the configuration look like this, then these operations run, in this order.
//   given(...events).when(kernel, config).then(ops)
// The events go through the real projection (state/), so the plan sees what reconcile would see.

export const CONF_PATH = '/etc/vnetfw/network.conf';

export interface WhenConfig { backend: Backend; switchStrategy?: SwitchStrategy }

export const given = (...events: Array<NewEvent | NewEvent[]>) => {
  const state = foldAll(events.flat().map((e, i): LogRecord => ({
    v: 1, seq: i + 1, time: '2026-01-01T00:00:00.000Z', prev: 'p', hash: `h${i + 1}`, ...e, type: e.type,
  })));
  return {
    when: (kernel: KernelView, config: WhenConfig) => {
      const resolved: Backend[] = [];
      const ops = (): PlannedOp[] => [...planReconcile(state, kernel, {
        path: CONF_PATH,
        switchStrategy: config.switchStrategy ?? 'make-before-break',
        backend: () => { resolved.push(config.backend); return config.backend; },
      })];
      return {
        then: (expected: PlannedOp[]): void => { expect(ops()).toEqual(expected); },
        // The configured backend is resolved only when some network wants rules.
        thenResolvesNoBackend: (): void => { expect(ops()).toEqual([]); expect(resolved).toEqual([]); },
      };
    },
  };
};

// --- the events a log holds, as vnetfw writes them ---

export const def = (name: string, opts: { bridge?: string; mode?: NetworkDef['forward']['mode'] } = {}): NetworkDef => ({
  name,
  bridge: { name: opts.bridge ?? `vb-${name}`, stp: true, delay: 0 },
  forward: { mode: opts.mode ?? 'nat' },
  ipv6: false,
  ips: [{ family: 'ipv4', address: '192.168.122.1', prefix: 24, dhcpRanges: [], dhcpHosts: [] }],
});

export const removal = (backend: Backend): FwRemoval => ({
  backend,
  groups: [{ ignoreErrors: true, commands: [{ program: backend === 'iptables' ? 'iptables' : 'nft', args: ['delete', 'rule', 'of', backend] }] }],
});

export const defined = (name: string, opts: { mode?: NetworkDef['forward']['mode'] } = {}): NewEvent =>
  event('network.defined', { definition: def(name, opts), xml: `<network><name>${name}</name></network>` }, { network: name });

export const undefinedNet = (name: string): NewEvent => event('network.undefined', {}, { network: name });

export const configRecorded = (backend: Backend, strategy: SwitchStrategy = 'make-before-break'): NewEvent =>
  event('config.changed', { backend, strategy, path: CONF_PATH });

const at = (network: string, op: string) => ({ network, op });
const transition = (network: string, op: string, from: string, to: string, ev: string): NewEvent =>
  event('network.transition', { from, to, event: ev }, at(network, op));
const opStarted = (network: string, op: string, kind: OperationKind, extra: { from?: Backend; to?: Backend; strategy?: string } = {}): NewEvent =>
  event('operation.started', { kind, ...extra }, at(network, op));
const intended = (network: string, op: string, purpose: 'apply' | 'remove' | 'host'): NewEvent =>
  event('command.intended', { step: 1, argv: ['nft', '-f', '-'], commands: [], purpose }, at(network, op));

// A start that completed: rules recorded on `backend`, the network active.
export const started = (name: string, backend: Backend, op = `start-${name}`): NewEvent[] => [
  opStarted(name, op, 'start', { to: backend }),
  transition(name, op, 'stopped', 'applying', 'START'),
  event('removal.recorded', { removal: removal(backend) }, at(name, op)),
  event('operation.committed', { backend }, at(name, op)),
  transition(name, op, 'applying', 'active', 'DONE'),
];

// A stop that completed.
export const stopped = (name: string, backend: Backend, op = `stop-${name}`): NewEvent[] => [
  opStarted(name, op, 'stop'),
  transition(name, op, 'active', 'stopping', 'STOP'),
  event('removal.cleared', { backend }, at(name, op)),
  event('operation.committed', {}, at(name, op)),
  transition(name, op, 'stopping', 'stopped', 'DONE'),
];

// Operations the process died in: the log has their start and some steps, never their end.
export const startInterrupted = (name: string, backend: Backend, opts: { rulesRecorded?: boolean } = {}, op = `start-${name}`): NewEvent[] => [
  opStarted(name, op, 'start', { to: backend }),
  transition(name, op, 'stopped', 'applying', 'START'),
  intended(name, op, 'apply'),
  ...(opts.rulesRecorded === true ? [event('removal.recorded', { removal: removal(backend) }, at(name, op))] : []),
];

export const stopInterrupted = (name: string, backend: Backend, opts: { rulesCleared?: boolean } = {}, op = `stop-${name}`): NewEvent[] => [
  opStarted(name, op, 'stop'),
  transition(name, op, 'active', 'stopping', 'STOP'),
  intended(name, op, 'remove'),
  ...(opts.rulesCleared === true ? [event('removal.cleared', { backend }, at(name, op))] : []),
];

export const switchInterrupted = (name: string, from: Backend, to: Backend, opts: { newRulesRecorded?: boolean } = {}, op = `switch-${name}`): NewEvent[] => [
  opStarted(name, op, 'switch', { from, to, strategy: 'make-before-break' }),
  transition(name, op, 'active', 'backend-switching', 'SWITCH'),
  intended(name, op, 'apply'),
  ...(opts.newRulesRecorded === true ? [event('removal.recorded', { removal: removal(to) }, at(name, op))] : []),
];

// `vnetfw adopt`: libvirt's running network taken over with the rules libvirt installed.
export const adopted = (name: string, backend: Backend, op = `adopt-${name}`): NewEvent[] => [
  defined(name),
  opStarted(name, op, 'adopt', { to: backend }),
  event('bridge.created', { bridge: `vb-${name}` }, at(name, op)),
  event('removal.recorded', { removal: removal(backend) }, at(name, op)),
  transition(name, op, 'stopped', 'active', 'ADOPT'),
  event('operation.committed', { backend }, at(name, op)),
];
