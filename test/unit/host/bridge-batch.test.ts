// The bridges of many networks in one `ip -batch -`: its input (written by hand from the single
// commands' argv), where ip stopped, and which bridges a recorded run may have made.
import { describe, expect, it } from 'vitest';
import type { NetworkDef } from '../../../src/definition/types.js';
import {
  bridgeCreateBatch, bridgeDeleteBatch, bridgeGroupDeleteBatch, bridgesAddedBy, failedBatchLine, failedBatchLines, freshLinkGroup, parseLinkGroups, parseLinkNames,
} from '../../../src/host/index.js';
import { isVnetfwError } from '../../../src/errors.js';

const def = (name: string, bridge: string, ips: NetworkDef['ips']): NetworkDef => ({
  name, bridge: { name: bridge, stp: true, delay: 0 }, forward: { mode: 'nat' }, ipv6: false, ips,
});
const v4 = (address: string): NetworkDef['ips'][number] => ({ family: 'ipv4', address, prefix: 24, dhcpRanges: [], dhcpHosts: [] });
const v6 = (address: string): NetworkDef['ips'][number] => ({ family: 'ipv6', address, prefix: 64, dhcpRanges: [], dhcpHosts: [] });

describe('bridge batch', () => {
  const batch = bridgeCreateBatch([def('a', 'vbr1', [v4('10.0.1.1'), v6('fd00:1::1')]), def('b', 'vbr2', [v4('10.0.2.1')])]);

  it('one line per single command, networks in the order given, each with its own lines', () => {
    expect(batch.argv).toEqual(['ip', '-batch', '-']);
    expect(batch.stdin).toBe([
      'link add vbr1 type bridge stp_state 1 forward_delay 0',
      'addr add 10.0.1.1/24 broadcast 10.0.1.255 dev vbr1',
      'addr add fd00:1::1/64 dev vbr1 nodad',
      'link set dev vbr1 up',
      'link add vbr2 type bridge stp_state 1 forward_delay 0',
      'addr add 10.0.2.1/24 broadcast 10.0.2.255 dev vbr2',
      'link set dev vbr2 up',
      '',
    ].join('\n'));
    expect(batch.lines).toEqual([{ network: 'a', first: 1, last: 4 }, { network: 'b', first: 5, last: 7 }]);
  });

  it('refuses a word ip would read as syntax (blank, quote, backslash, comment)', () => {
    for (const bad of ['vbr 1', 'vbr"1', "vbr'1", 'vbr\\1', 'vbr#1']) {
      let err: unknown;
      try { bridgeCreateBatch([def('a', bad, [])]); } catch (e) { err = e; }
      expect(isVnetfwError(err) && err.code).toBe('EBATCHWORD');
    }
  });

  it('reads the line ip stopped at', () => {
    expect(failedBatchLine('Error: ipv4: Address already assigned.\nCommand failed -:6\n')).toBe(6);
    expect(failedBatchLine('RTNETLINK answers: File exists\n')).toBeUndefined();
    expect(failedBatchLine('')).toBeUndefined();
  });

  it('reads the names of ip -j link show', () => {
    expect(parseLinkNames('[{"ifindex":1,"ifname":"lo"},{"ifindex":7,"ifname":"vbr2"}]')).toEqual(new Set(['lo', 'vbr2']));
    expect(parseLinkNames('[]')).toEqual(new Set());
    expect(parseLinkNames('{"ifname":"lo"}')).toBeNull();
    expect(parseLinkNames('1: lo: <LOOPBACK>')).toBeNull();
  });
});

describe('bridges a recorded run may have made', () => {
  const step = { argv: ['ip', '-batch', '-'], stdin: bridgeCreateBatch([def('a', 'vbr1', [v4('10.0.1.1')]), def('b', 'vbr2', [v4('10.0.2.1')])]).stdin };

  it('a single ip link add, or every link add of a batch whose result is unknown or good', () => {
    expect(bridgesAddedBy({ argv: ['ip', 'link', 'add', 'virbr0', 'type', 'bridge'] })).toEqual(['virbr0']);
    expect(bridgesAddedBy(step)).toEqual(['vbr1', 'vbr2']);
    expect(bridgesAddedBy({ ...step, result: { exitCode: 0, stderr: '' } })).toEqual(['vbr1', 'vbr2']);
  });

  it('a batch that stopped: only the lines before the one that failed ran', () => {
    // vbr2's link add (line 4) failed: the bridge of that name is not ours.
    expect(bridgesAddedBy({ ...step, result: { exitCode: 1, stderr: 'RTNETLINK answers: File exists\nCommand failed -:4\n' } })).toEqual(['vbr1']);
    // its address (line 5) failed: its link add had run.
    expect(bridgesAddedBy({ ...step, result: { exitCode: 1, stderr: 'Command failed -:5\n' } })).toEqual(['vbr1', 'vbr2']);
    // killed: not known how far it went.
    expect(bridgesAddedBy({ ...step, result: { exitCode: -1, stderr: '' } })).toEqual(['vbr1', 'vbr2']);
  });

  it('nothing else creates a bridge', () => {
    expect(bridgesAddedBy({ argv: ['ip', '-j', 'link', 'show'] })).toEqual([]);
    expect(bridgesAddedBy({ argv: ['ip', 'link', 'del', 'dev', 'vbr1'] })).toEqual([]);
    expect(bridgesAddedBy({ argv: ['nft', '-f', '-'], stdin: 'link add vbr1 type bridge\n' })).toEqual([]);
    expect(bridgesAddedBy({ argv: ['ip', '-force', '-batch', '-'], stdin: 'link del vbr1\n' })).toEqual([]);
  });
});

describe('bridge deletion batch', () => {
  it('down, then del, per bridge; ip goes on past a failed line (-force)', () => {
    expect(bridgeDeleteBatch([{ network: 'a', bridge: 'vbr1' }, { network: 'b', bridge: 'vbr2' }])).toEqual({
      argv: ['ip', '-force', '-batch', '-'],
      stdin: 'link set dev vbr1 down\nlink del dev vbr1\nlink set dev vbr2 down\nlink del dev vbr2\n',
      lines: [{ network: 'a', first: 1, last: 2 }, { network: 'b', first: 3, last: 4 }],
    });
  });

  it('many bridges: each down and into the group, then the group deleted on the last line', () => {
    expect(bridgeGroupDeleteBatch([{ network: 'a', bridge: 'vbr1' }, { network: 'b', bridge: 'vbr2' }], 1234567890)).toEqual({
      argv: ['ip', '-force', '-batch', '-'],
      stdin: 'link set dev vbr1 down\nlink set dev vbr1 group 1234567890\nlink set dev vbr2 down\nlink set dev vbr2 group 1234567890\nlink del group 1234567890\n',
      lines: [{ network: 'a', first: 1, last: 2 }, { network: 'b', first: 3, last: 4 }],
      groupLine: 5,
    });
    expect(() => bridgeGroupDeleteBatch([{ network: 'a', bridge: 'vbr 1' }], 1234567890)).toThrow(/cannot be written to ip -batch/);
  });

  it('a fresh link group is one no link is in, drawn again until it is', () => {
    const draws = [2 ** 30, 2 ** 30 + 5, 2 ** 30 + 9];
    expect(freshLinkGroup(new Set(['default', String(2 ** 30), String(2 ** 30 + 5)]), () => draws.shift() ?? 0)).toBe(2 ** 30 + 9);
    expect(() => freshLinkGroup(new Set(), () => 7)).toThrow(/outside/);
  });

  it('reads the groups links are in from ip -j link show', () => {
    expect(parseLinkGroups('[{"ifname":"lo","group":"default"},{"ifname":"x","group":"1073741824"},{"ifname":"y"}]')).toEqual(new Set(['default', '1073741824']));
    expect(parseLinkGroups('not json')).toBeNull();
    expect(parseLinkGroups('{}')).toBeNull();
  });

  it('reads every failed line with what ip said about it', () => {
    expect(failedBatchLines('Cannot find device "vbr1"\nCommand failed -:1\nCannot find device "vbr1"\nCommand failed -:2\nRTNETLINK answers: Operation not permitted\nCommand failed -:4\n'))
      .toEqual(new Map([[1, 'Cannot find device "vbr1"'], [2, 'Cannot find device "vbr1"'], [4, 'RTNETLINK answers: Operation not permitted']]));
    expect(failedBatchLines('')).toEqual(new Map());
  });
});
