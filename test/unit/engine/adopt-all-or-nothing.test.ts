// An adopt that fails leaves the state as it was (and it never changes the kernel): no definition
// left behind, no operation left open, a network defined before keeps its definition. Failures
// injected: the log write that records the adoption fails (the disk), and the last kernel query
// (is the bridge there?) gives no answer (the fake executor kills `ip`).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { casesDir, closeEngineWorlds, engineWorld, type EngineWorld } from '../../doubles/engine-world.js';
import { parseNetworkXml, type NetworkDef } from '../../../src/definition/index.js';
import { adoptFromLibvirt } from '../../../src/engine/index.js';
import { event, openStore, type LogRecord } from '../../../state/index.js';
import { nodeIo, type FileIo } from '../../../state/file-io.js';

afterEach(closeEngineWorlds);

// libvirt >= 10.4's status file of the default network (iptables), one rule in its removal list.
const statusFile = (dir: string): string => {
  const file = join(dir, 'default.xml');
  writeFileSync(file, ['<networkstatus>', readFileSync(join(casesDir, 'nat-default.xml'), 'utf8').trim(),
    "  <firewall name='fwRemoval' backend='iptables'>", "    <group ignoreErrors='yes'>", "      <action layer='ipv4'>", '        <args>',
    ...['--table', 'filter', '--delete', 'LIBVIRT_FWO', '--in-interface', 'virbr0', '--jump', 'REJECT'].map((a) => `          <item>${a}</item>`),
    '        </args>', '      </action>', '    </group>', '  </firewall>', '</networkstatus>', ''].join('\n'));
  return file;
};

// Fails every log write whose bytes contain `marker` while `armed`.
const failingIo = (marker: string): { io: FileIo; armed: { on: boolean } } => {
  const armed = { on: false };
  return {
    armed,
    io: {
      write: async (fd, buf, position) => {
        if (armed.on && buf.toString('utf8').includes(marker)) throw new Error('ENOSPC: no space left on device (injected)');
        await nodeIo.write(fd, buf, position);
      },
      fsync: nodeIo.fsync,
    },
  };
};

const world = async (io?: FileIo): Promise<EngineWorld> => {
  const w = await engineWorld({ backend: 'iptables', sysctl: '0', ...(io === undefined ? {} : { io }) });
  await w.fake.run({ argv: ['ip', 'link', 'add', 'virbr0', 'type', 'bridge'] });
  return w;
};

const records = async (stateDir: string): Promise<LogRecord[]> => {
  const s = await openStore(stateDir, { readonly: true });
  const out: LogRecord[] = [];
  try { for await (const r of s.records()) out.push(r); } finally { await s.close(); }
  return out;
};

it('the log write that records the adoption fails: nothing of it is in the log or the state', async () => {
  const { io, armed } = failingIo('"operation.committed"');
  const w = await world(io);
  const file = statusFile(w.dir);
  const kernel = w.fake.dump();
  armed.on = true;
  await expect(adoptFromLibvirt(w.env, file)).rejects.toThrow(/injected/);
  armed.on = false;
  expect(w.store.state().networks.default).toBeUndefined();
  expect(w.fake.dump()).toBe(kernel);
  const types = (await records(w.stateDir)).filter((r) => r.network === 'default').map((r) => r.type);
  expect(types).toEqual([]);
  // Nothing half-done to trip over: the same adoption goes through once the disk is back.
  const a = await adoptFromLibvirt(w.env, file);
  expect(a.bridgeExisted).toBe(true);
  expect(w.store.state().networks.default).toMatchObject({ state: 'active', backend: 'iptables', inFlight: null });
});

it('a network defined (stopped) before: a failed adoption leaves its definition as it was', async () => {
  const { io, armed } = failingIo('"operation.committed"');
  const w = await world(io);
  const parsed = parseNetworkXml(readFileSync(join(casesDir, 'nat-default.xml'), 'utf8'), 'nat-default.xml');
  const before: NetworkDef = { ...parsed, bridge: { ...parsed.bridge, stp: !parsed.bridge.stp } };
  await w.store.append([event('network.defined', { definition: before, xml: '<network/>' }, { network: 'default' })]);
  armed.on = true;
  await expect(adoptFromLibvirt(w.env, statusFile(w.dir))).rejects.toThrow(/injected/);
  expect(w.store.state().networks.default).toMatchObject({ state: 'stopped', definition: before, inFlight: null });
});

it('the bridge query gives no answer (ip killed): the adoption fails, exit 1, nothing recorded', async () => {
  const w = await world();
  w.fake.failWhen((req) => req.argv[0] === 'ip' && { signal: 'SIGKILL' });
  const file = statusFile(w.dir);
  const err = await adoptFromLibvirt(w.env, file).then(() => undefined, (e: unknown) => e);
  expect(err).toMatchObject({ code: 'EADOPT', exitCode: 1 });
  expect((err as Error).message).toBe(`${file}: network 'default': cannot tell whether its bridge 'virbr0' exists: command failed: ip -j link show dev virbr0 (killed by SIGKILL): injected failure`);
  expect(w.store.state().networks.default).toBeUndefined();
  expect((await records(w.stateDir)).filter((r) => r.network === 'default')).toEqual([]);
});
