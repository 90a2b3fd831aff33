// Real kernel, the built CLI in fresh network namespaces: for every libvirt fixture and both
// backends, `define` + `start` leaves exactly the ruleset libvirt's own expected commands leave
// (replayed in another namespace), `status`/`list` say so, `stop` leaves nothing of the network
// (rules or the bridge vnetfw created) and `undefine` forgets it. Also `start a b` / `stop a b`.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  casesDir, addNetworkDevices, canon, canUseNetns, cliBuilt, inNs, libvirtCommands, makeSandbox, mentions, netnsSkipReason, nsDelAll, nsNew,
  replayCommands, statusJson, vnetfw, xmlFacts, type Sandbox,
} from '../support/index.js';

const cases = readdirSync(casesDir).filter((f) => f.endsWith('.xml')).map((f) => f.slice(0, -4));
const BACKENDS = ['nftables', 'iptables'] as const;
const skip = !canUseNetns || !cliBuilt;
const why = netnsSkipReason ?? (cliBuilt ? '' : 'dist/ not built: run npm run build');

const fixture = (name: string): string => readFileSync(join(casesDir, name), 'utf8');

// libvirt's expected ruleset: base + each case's commands replayed in a fresh namespace.
const referenceDump = async (backend: string, bridges: string[], forwardDev: string | undefined, caseCmds: string[]): Promise<string> => {
  const ns = await nsNew('ref');
  for (const br of bridges) await addNetworkDevices(ns, br);
  if (forwardDev !== undefined) await inNs(ns, ['ip', 'link', 'add', forwardDev, 'type', 'veth', 'peer', 'name', `${forwardDev.slice(0, 10)}-peer`]);
  await replayCommands(ns, libvirtCommands(fixture(`base.${backend}`)));
  for (const text of caseCmds) await replayCommands(ns, libvirtCommands(text));
  return canon(ns);
};

const bridgeExists = async (ns: string, br: string): Promise<boolean> => (await inNs(ns, ['ip', 'link', 'show', 'dev', br])).code === 0;
const listJson = async (ns: string, sb: Sandbox): Promise<Array<Record<string, unknown>>> => {
  const r = await vnetfw(ns, sb, ['--json', 'list']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
};
const ok = (r: { code: number | null; stderr: string }, what: string): void => { expect(r.code, `${what}: ${r.stderr}`).toBe(0); };

describe.skipIf(skip)(`network lifecycle with the CLI on a real kernel${skip ? ` (skipped: ${why})` : ''}`, () => {
  let sb: Sandbox | undefined;
  afterEach(async () => { sb?.cleanup(); sb = undefined; await nsDelAll(); });
  afterAll(() => nsDelAll());

  for (const c of cases) {
    for (const backend of BACKENDS) {
      it(`${c} (${backend}): define, start = libvirt's ruleset, status, list, stop leaves nothing, undefine`, async () => {
        const xmlFile = join(casesDir, `${c}.xml`);
        const facts = xmlFacts(fixture(`${c}.xml`));
        const want = await referenceDump(backend, [facts.bridge], facts.forwardDev, [fixture(`${c}-linux.${backend}`)]);
        expect(want).toContain(backend === 'nftables' ? 'libvirt_network' : 'LIBVIRT_FWX');
        // What base alone leaves: libvirt's private chains, which stay after a stop (as in libvirt).
        const baseOnly = await referenceDump(backend, [], undefined, []);

        const s = (sb = makeSandbox('life'));
        const ns = await nsNew('vnet');
        if (facts.forwardDev !== undefined) await inNs(ns, ['ip', 'link', 'add', facts.forwardDev, 'type', 'veth', 'peer', 'name', `${facts.forwardDev.slice(0, 10)}-peer`]);
        const pristine = await canon(ns);

        const def = await vnetfw(ns, s, ['define', xmlFile], { backend });
        ok(def, 'define');
        expect(def.stdout.trim()).toBe('default');
        expect(await canon(ns)).toBe(pristine);           // define runs nothing
        expect(await bridgeExists(ns, facts.bridge)).toBe(false);
        expect(await statusJson(ns, s, 'default')).toMatchObject({ name: 'default', state: 'stopped', bridge: facts.bridge });

        ok(await vnetfw(ns, s, ['start', 'default'], { backend }), 'start');
        expect(await canon(ns)).toBe(want);
        expect(await bridgeExists(ns, facts.bridge)).toBe(true);
        expect(await statusJson(ns, s, 'default')).toMatchObject({ name: 'default', state: 'active', backend, bridge: facts.bridge, inFlight: null });
        expect(await listJson(ns, s)).toEqual([expect.objectContaining({ name: 'default', state: 'active', backend, bridge: facts.bridge })]);

        ok(await vnetfw(ns, s, ['stop', 'default'], { backend }), 'stop');
        const after = await canon(ns);
        expect(mentions(after, facts.bridge, facts.addresses)).toEqual([]);
        expect(after).toBe(baseOnly);
        expect(await bridgeExists(ns, facts.bridge)).toBe(false);
        expect(await statusJson(ns, s, 'default')).toMatchObject({ state: 'stopped', inFlight: null });
        expect(await listJson(ns, s)).toEqual([expect.objectContaining({ name: 'default', state: 'stopped' })]);

        ok(await vnetfw(ns, s, ['undefine', 'default'], { backend }), 'undefine');
        expect(await listJson(ns, s)).toEqual([]);
        const gone = await vnetfw(ns, s, ['status', 'default']);
        expect(gone.code).toBe(2);
        expect(gone.stderr.trim().split('\n')).toHaveLength(1);
      });
    }
  }

  describe('two networks in one command', () => {
    let dir: Sandbox;
    let fileA: string;
    let fileB: string;
    const nat = (): string => fixture('nat-default.xml');
    const second = (t: string): string => t.replaceAll('virbr0', 'virbr1').replaceAll('192.168.122.', '192.168.123.');
    beforeAll(() => {
      dir = makeSandbox('two-xml');
      fileA = join(dir.dir, 'a.xml');
      fileB = join(dir.dir, 'b.xml');
      writeFileSync(fileA, nat().replace('<name>default</name>', '<name>a</name>'));
      writeFileSync(fileB, second(nat()).replace('<name>default</name>', '<name>b</name>'));
    });
    afterAll(() => dir.cleanup());

    for (const backend of BACKENDS) {
      it(`start a b / stop a b (${backend})`, async () => {
        const cmds = fixture(`nat-default-linux.${backend}`);
        const want = await referenceDump(backend, ['virbr0', 'virbr1'], undefined, [cmds, second(cmds)]);
        const baseOnly = await referenceDump(backend, [], undefined, []);
        const s = (sb = makeSandbox('two'));
        const ns = await nsNew('two');
        ok(await vnetfw(ns, s, ['define', fileA], { backend }), 'define a');
        ok(await vnetfw(ns, s, ['define', fileB], { backend }), 'define b');

        ok(await vnetfw(ns, s, ['start', 'a', 'b'], { backend }), 'start a b');
        expect(await canon(ns)).toBe(want);
        for (const [n, br] of [['a', 'virbr0'], ['b', 'virbr1']] as const) {
          expect(await statusJson(ns, s, n)).toMatchObject({ state: 'active', backend, bridge: br });
          expect(await bridgeExists(ns, br)).toBe(true);
        }
        expect((await listJson(ns, s)).map((o) => [o.name, o.state])).toEqual([['a', 'active'], ['b', 'active']]);

        ok(await vnetfw(ns, s, ['stop', 'a', 'b'], { backend }), 'stop a b');
        const after = await canon(ns);
        expect(mentions(after, 'virbr0', ['192.168.122.1'])).toEqual([]);
        expect(mentions(after, 'virbr1', ['192.168.123.1'])).toEqual([]);
        expect(after).toBe(baseOnly);
        expect(await bridgeExists(ns, 'virbr0') || await bridgeExists(ns, 'virbr1')).toBe(false);
        expect((await listJson(ns, s)).map((o) => [o.name, o.state])).toEqual([['a', 'stopped'], ['b', 'stopped']]);
      });
    }
  });
});
