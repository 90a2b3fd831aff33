import { describe, expect, it } from 'vitest';
import { assertSuccess } from '../../../src/exec/index.js';
import { FakeRunner } from '../../doubles/fake-runner.js';

const script = 'add table ip t\nadd chain ip t c\n';

describe('FakeRunner: ip', () => {
  it('creates, shows and deletes a bridge', async () => {
    const fake = new FakeRunner();
    const absent = await fake.run({ argv: ['ip', '-j', 'link', 'show', 'dev', 'virbr0'] });
    expect([absent.exitCode, absent.stderr]).toEqual([1, 'Device "virbr0" does not exist.\n']);
    for (const argv of [
      ['ip', 'link', 'add', 'virbr0', 'address', '52:54:00:aa:bb:cc', 'mtu', '9000', 'type', 'bridge', 'stp_state', '1', 'forward_delay', '0'],
      ['ip', 'addr', 'add', '192.168.122.1/24', 'broadcast', '192.168.122.255', 'dev', 'virbr0'],
      ['ip', 'addr', 'add', 'fd00::1/64', 'dev', 'virbr0', 'nodad'],
      ['ip', 'link', 'set', 'dev', 'virbr0', 'up'],
    ]) assertSuccess(await fake.run({ argv }));
    const shown = JSON.parse((await fake.run({ argv: ['ip', '-j', 'link', 'show', 'dev', 'virbr0'] })).stdout) as [{ ifname: string; mtu: number; flags: string[] }];
    expect(shown[0]).toMatchObject({ ifname: 'virbr0', mtu: 9000, address: '52:54:00:aa:bb:cc' });
    expect(shown[0].flags).toContain('UP');
    expect(fake.dump()).toContain('# links\nvirbr0 bridge up mtu 9000 address 52:54:00:aa:bb:cc stp_state 1 forward_delay 0 addrs 192.168.122.1/24,fd00::1/64\n');
    const dupAddr = await fake.run({ argv: ['ip', 'addr', 'add', '192.168.122.1/24', 'dev', 'virbr0'] });
    expect(dupAddr.exitCode).toBe(2);
    const dupLink = await fake.run({ argv: ['ip', 'link', 'add', 'virbr0', 'type', 'bridge'] });
    expect([dupLink.exitCode, dupLink.stderr]).toEqual([2, 'RTNETLINK answers: File exists\n']);
    assertSuccess(await fake.run({ argv: ['ip', 'link', 'del', 'dev', 'virbr0'] }));
    const gone = await fake.run({ argv: ['ip', 'link', 'del', 'dev', 'virbr0'] });
    expect([gone.exitCode, gone.stderr]).toEqual([1, 'Cannot find device "virbr0"\n']);
  });
});

describe('FakeRunner: failure injection and bookkeeping', () => {
  it('records every call with its result', async () => {
    const fake = new FakeRunner();
    await fake.run({ argv: ['nft', '-f', '-'], stdin: script });
    await fake.run({ argv: ['nft', 'list', 'ruleset'] });
    expect(fake.calls.map((c) => c.req.argv.join(' '))).toEqual(['nft -f -', 'nft list ruleset']);
    expect(fake.calls[0]?.result.stdin).toBe(script);
    expect(fake.calls[1]?.result.stdout).toBe('table ip t {\n\tchain c {\n\t}\n}\n');
  });

  it('fails matching calls without changing state', async () => {
    const fake = new FakeRunner().failWhen((req) => req.argv[0] === 'nft' && (req.stdin ?? '').includes('chain'));
    const r = await fake.run({ argv: ['nft', '-f', '-'], stdin: script });
    expect([r.exitCode, r.stderr]).toEqual([1, 'injected failure\n']);
    expect(fake.dump()).toBe(new FakeRunner().dump());
  });

  it('fails by call index with a custom result', async () => {
    const fake = new FakeRunner().failWhen((_req, i) => i === 1 && { exitCode: 4, stderr: 'boom\n' });
    expect((await fake.run({ argv: ['nft', 'list', 'ruleset'] })).exitCode).toBe(0);
    expect((await fake.run({ argv: ['nft', 'list', 'ruleset'] })).exitCode).toBe(4);
    expect((await fake.run({ argv: ['nft', 'list', 'ruleset'] })).exitCode).toBe(0);
  });

  it('simulates a program killed after it committed', async () => {
    const fake = new FakeRunner().failWhen(() => ({ signal: 'SIGKILL', afterApply: true }));
    const r = await fake.run({ argv: ['nft', '-f', '-'], stdin: script });
    expect(r).toMatchObject({ exitCode: -1, signal: 'SIGKILL' });
    expect(fake.dump()).toContain('table ip t {');
    fake.clearFailures();
    expect((await fake.run({ argv: ['nft', 'list', 'ruleset'] })).exitCode).toBe(0);
  });

  it('simulates a timeout', async () => {
    const fake = new FakeRunner().failWhen(() => ({ timedOut: true }));
    expect(await fake.run({ argv: ['nft', 'list', 'ruleset'] })).toMatchObject({ exitCode: -1, timedOut: true, signal: 'SIGTERM' });
  });

  it('reports missing programs as failing to start', async () => {
    const fake = new FakeRunner({ missing: ['iptables'] });
    expect(await fake.run({ argv: ['iptables', '-w', '-S'] })).toMatchObject({ exitCode: -1, failedToStart: true });
    expect(await fake.run({ argv: ['ebtables'] })).toMatchObject({ exitCode: -1, failedToStart: true });
  });

  it('honours an already aborted signal', async () => {
    const ac = new AbortController();
    ac.abort();
    const fake = new FakeRunner();
    expect(await fake.run({ argv: ['nft', '-f', '-'], stdin: script, signal: ac.signal })).toMatchObject({ canceled: true, exitCode: -1 });
    expect(fake.dump()).toBe(new FakeRunner().dump());
  });

  it('dumps a stable text of everything', () => {
    expect(new FakeRunner().dump()).toBe('# nft\n# iptables\n# ip6tables\n# links\n');
  });
});
