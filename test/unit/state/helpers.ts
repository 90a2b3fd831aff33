import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { NetworkDef } from '../../../src/definition/types.js';
import type { FwRemoval } from '../../../src/firewall/model.js';
import { event, type NewEvent } from '../../../state/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

export const tmpStateDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'vnetfw-state-'));
  dirs.push(d);
  return join(d, 'state');
};

export const def = (name = 'default', bridge = 'virbr0'): NetworkDef => ({
  name,
  bridge: { name: bridge, stp: true, delay: 0 },
  forward: { mode: 'nat' },
  ipv6: false,
  ips: [{ family: 'ipv4', address: '192.168.122.1', prefix: 24, dhcpRanges: [{ start: '192.168.122.2', end: '192.168.122.254' }], dhcpHosts: [] }],
});

export const removal = (backend: 'iptables' | 'nftables' = 'iptables'): FwRemoval => ({
  backend,
  groups: [{ ignoreErrors: true, commands: [{ program: backend === 'iptables' ? 'iptables' : 'nft', args: ['--table', 'filter', '--delete', 'LIBVIRT_INP'] }] }],
});

// A realistic operation: start with two commands, a removal and the commit.
const INSERT_ARGV = ['iptables', '-w', '--table', 'filter', '--insert', 'LIBVIRT_INP', '--in-interface', 'virbr0', '--jump', 'ACCEPT'];

export const startOp = (network = 'default', op = 'op-1'): NewEvent[] => [
  event('operation.started', { kind: 'start', to: 'iptables' }, { network, op }),
  event('network.transition', { from: 'stopped', to: 'applying', event: 'START' }, { network, op }),
  event('command.intended', {
    step: 1, argv: INSERT_ARGV,
    commands: [{ program: 'iptables', args: ['--table', 'filter', '--insert', 'LIBVIRT_INP', '--in-interface', 'virbr0', '--jump', 'ACCEPT'] }],
    purpose: 'apply',
    undo: [{ program: 'iptables', args: ['--table', 'filter', '--delete', 'LIBVIRT_INP', '--in-interface', 'virbr0', '--jump', 'ACCEPT'] }],
  }, { network, op }),
  event('command.finished', { step: 1, argv: INSERT_ARGV, exitCode: 0, stdout: '', stderr: '', durationMs: 3 }, { network, op }),
  event('removal.recorded', { removal: removal() }, { network, op }),
  event('operation.committed', { backend: 'iptables' }, { network, op }),
  event('network.transition', { from: 'applying', to: 'active', event: 'APPLIED' }, { network, op }),
];

export const defined = (name = 'default'): NewEvent => event('network.defined', { definition: def(name), xml: `<network><name>${name}</name></network>` }, { network: name });

export const filler = (i: number): NewEvent =>
  event('command.finished', { step: i, exitCode: 0, stdout: `out ${i}`, stderr: '', durationMs: 1 }, { network: 'default', op: 'filler' });
