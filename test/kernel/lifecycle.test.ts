// Real kernel, the built CLI in fresh network namespaces: for every libvirt fixture and both
// backends, `define` + `start` leaves exactly the ruleset libvirt's own expected commands leave
// (replayed in another namespace), `status`/`list` say so, `stop` leaves nothing of the network
// (rules or the bridge vnetfw created) and `undefine` forgets it. Also `start a b` / `stop a b`.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  addNetworkDevices, canonDump, canUseNetns, delAllNs, inNs, libvirtCommands, netnsSkipReason, newNs, replayCommands,
} from './helpers/index.js';
import {
  cliBuilt, makeSandbox, mentionsOf, repoRoot, statusJson, vnetfw, xmlFacts, type Sandbox,
} from '../fixtures/shims/shims.js';

const casesDir = join(repoRoot, 'test', 'fixtures', 'cases');
const cases = readdirSync(casesDir).filter((f) => f.endsWith('.xml')).map((f) => f.slice(0, -4));
const BACKENDS = ['nftables', 'iptables'] as const;
const skip = !canUseNetns || !cliBuilt;
const why = netnsSkipReason ?? (cliBuilt ? '' : 'dist/ not built: run npm run build');

const fixture = (name: string): string => readFileSync(join(casesDir, name), 'utf8');

// libvirt's expected ruleset: base + each case's commands replayed in a fresh namespace.
const referenceDump = (backend: string, bridges: string[], forwardDev: string | undefined, caseCmds: string[]): string => {
  const ns = newNs('ref');
  for (const br of bridges) addNetworkDevices(ns, br);
  if (forwardDev !== undefined) inNs(ns, ['ip', 'link', 'add', forwardDev, 'type', 'veth', 'peer', 'name', `${forwardDev.slice(0, 10)}-peer`]);
  replayCommands(ns, libvirtCommands(fixture(`base.${backend}`)));
  for (const text of caseCmds) replayCommands(ns, libvirtCommands(text));
  return canonDump(ns);
};

const bridgeExists = (ns: string, br: string): boolean => inNs(ns, ['ip', 'link', 'show', 'dev', br]).code === 0;
const listJson = (ns: string, sb: Sandbox): Array<Record<string, unknown>> => {
  const r = vnetfw(ns, sb, ['--json', 'list']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
};
const ok = (r: { code: number; stderr: string }, what: string): void => { expect(r.code, `${what}: ${r.stderr}`).toBe(0); };

describe.skipIf(skip)(`network lifecycle with the CLI on a real kernel${skip ? ` (skipped: ${why})` : ''}`, () => {
  let sb: Sandbox | undefined;
  afterEach(() => { sb?.cleanup(); sb = undefined; delAllNs(); });
  afterAll(() => delAllNs());

  for (const c of cases) {
    for (const backend of BACKENDS) {
      it(`${c} (${backend}): define, start = libvirt's ruleset, status, list, stop leaves nothing, undefine`, () => {
        const xmlFile = join(casesDir, `${c}.xml`);
        const facts = xmlFacts(fixture(`${c}.xml`));
        const want = referenceDump(backend, [facts.bridge], facts.forwardDev, [fixture(`${c}-linux.${backend}`)]);
        expect(want).toContain(backend === 'nftables' ? 'libvirt_network' : 'LIBVIRT_FWX');
        // What base alone leaves: libvirt's private chains, which stay after a stop (as in libvirt).
        const baseOnly = referenceDump(backend, [], undefined, []);

        const s = (sb = makeSandbox('life'));
        const ns = newNs('vnet');
        if (facts.forwardDev !== undefined) inNs(ns, ['ip', 'link', 'add', facts.forwardDev, 'type', 'veth', 'peer', 'name', `${facts.forwardDev.slice(0, 10)}-peer`]);
        const pristine = canonDump(ns);

        const def = vnetfw(ns, s, ['define', xmlFile], { backend });
        ok(def, 'define');
        expect(def.stdout.trim()).toBe('default');
        expect(canonDump(ns)).toBe(pristine);           // define runs nothing
        expect(bridgeExists(ns, facts.bridge)).toBe(false);
        expect(statusJson(ns, s, 'default')).toMatchObject({ name: 'default', state: 'stopped', bridge: facts.bridge });

        ok(vnetfw(ns, s, ['start', 'default'], { backend }), 'start');
        expect(canonDump(ns)).toBe(want);
        expect(bridgeExists(ns, facts.bridge)).toBe(true);
        expect(statusJson(ns, s, 'default')).toMatchObject({ name: 'default', state: 'active', backend, bridge: facts.bridge, inFlight: null });
        expect(listJson(ns, s)).toEqual([expect.objectContaining({ name: 'default', state: 'active', backend, bridge: facts.bridge })]);

        ok(vnetfw(ns, s, ['stop', 'default'], { backend }), 'stop');
        const after = canonDump(ns);
        expect(mentionsOf(after, facts.bridge, facts.addresses)).toEqual([]);
        expect(after).toBe(baseOnly);
        expect(bridgeExists(ns, facts.bridge)).toBe(false);
        expect(statusJson(ns, s, 'default')).toMatchObject({ state: 'stopped', inFlight: null });
        expect(listJson(ns, s)).toEqual([expect.objectContaining({ name: 'default', state: 'stopped' })]);

        ok(vnetfw(ns, s, ['undefine', 'default'], { backend }), 'undefine');
        expect(listJson(ns, s)).toEqual([]);
        const gone = vnetfw(ns, s, ['status', 'default']);
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
      it(`start a b / stop a b (${backend})`, () => {
        const cmds = fixture(`nat-default-linux.${backend}`);
        const want = referenceDump(backend, ['virbr0', 'virbr1'], undefined, [cmds, second(cmds)]);
        const baseOnly = referenceDump(backend, [], undefined, []);
        const s = (sb = makeSandbox('two'));
        const ns = newNs('two');
        ok(vnetfw(ns, s, ['define', fileA], { backend }), 'define a');
        ok(vnetfw(ns, s, ['define', fileB], { backend }), 'define b');

        ok(vnetfw(ns, s, ['start', 'a', 'b'], { backend }), 'start a b');
        expect(canonDump(ns)).toBe(want);
        for (const [n, br] of [['a', 'virbr0'], ['b', 'virbr1']] as const) {
          expect(statusJson(ns, s, n)).toMatchObject({ state: 'active', backend, bridge: br });
          expect(bridgeExists(ns, br)).toBe(true);
        }
        expect(listJson(ns, s).map((o) => [o.name, o.state])).toEqual([['a', 'active'], ['b', 'active']]);

        ok(vnetfw(ns, s, ['stop', 'a', 'b'], { backend }), 'stop a b');
        const after = canonDump(ns);
        expect(mentionsOf(after, 'virbr0', ['192.168.122.1'])).toEqual([]);
        expect(mentionsOf(after, 'virbr1', ['192.168.123.1'])).toEqual([]);
        expect(after).toBe(baseOnly);
        expect(bridgeExists(ns, 'virbr0') || bridgeExists(ns, 'virbr1')).toBe(false);
        expect(listJson(ns, s).map((o) => [o.name, o.state])).toEqual([['a', 'stopped'], ['b', 'stopped']]);
      });
    }
  });
});
