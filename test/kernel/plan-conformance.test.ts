// Real kernel: `vnetfw plan` output, run line by line (and as batches), leaves exactly the ruleset
// libvirt's own expected commands leave. One fresh network namespace per case, backend and form.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { parseNetworkXml } from '../../src/definition/index.js';
import {
  BACKENDS, buildRules, parseNftEcho, privateSetup, removalFromApplied, renderBatches, ruleCommands, undoOf,
  type AppliedCommand, type Backend,
} from '../../src/firewall/index.js';
import { main } from '../../src/cli/main.js';
import {
  addNetworkDevices, canon, canUseNetns, inNs, libvirtCommands, netnsSkipReason, nsDelAll, nsNew, replayCommands, shInNs,
} from '../support/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const casesDir = `${root}test/fixtures/cases/`;
const extraDir = `${root}test/fixtures/extra/`;
const cases = readdirSync(casesDir).filter((f) => f.endsWith('.xml')).map((f) => f.slice(0, -4));
const extras = readdirSync(extraDir).filter((f) => f.endsWith('.xml')).map((f) => f.slice(0, -4));
const reason = netnsSkipReason ?? '';

// The built CLI when dist/ exists (npm test builds it), else the same main() in-process.
const plan = async (file: string, backend: Backend, batch: boolean): Promise<string> => {
  const args = ['plan', file, '--backend', backend, ...(batch ? ['--batch'] : [])];
  if (existsSync(`${root}dist/src/cli/main.js`)) {
    const r = spawnSync('node', [`${root}bin/vnetfw.js`, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`vnetfw ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }
  let out = '';
  const sink = { write: (s: string) => { out += s; return true; } } as unknown as NodeJS.WritableStream;
  const code = await main(args, { stdout: sink, stderr: sink });
  if (code !== 0) throw new Error(`vnetfw ${args.join(' ')}: ${out}`);
  return out;
};

const prepare = async (tag: string, file: string): Promise<{ ns: string; bridge: string }> => {
  const def = parseNetworkXml(readFileSync(file, 'utf8'), file);
  const ns = await nsNew(tag);
  await addNetworkDevices(ns, def.bridge.name, def.forward.dev);
  return { ns, bridge: def.bridge.name };
};

const applyPlanLines = async (ns: string, file: string, backend: Backend): Promise<void> => {
  for (const line of (await plan(file, backend, false)).split('\n').filter((l) => l !== '')) {
    const r = await shInNs(ns, line);
    if (r.code !== 0) throw new Error(`${line}: ${r.stderr}`);
  }
};

const applyPlanBatch = async (ns: string, file: string, backend: Backend): Promise<void> => {
  const r = await inNs(ns, ['sh', '-e'], { input: await plan(file, backend, true) });
  if (r.code !== 0) throw new Error(`batch: ${r.stderr}`);
};

describe.skipIf(!canUseNetns)(`plan conformance on a real kernel${canUseNetns ? '' : ` (skipped: ${reason})`}`, () => {
  afterAll(() => nsDelAll());

  for (const c of cases) {
    for (const backend of BACKENDS) {
      it(`${c} (${backend}): plan lines and batches equal libvirt's commands`, async () => {
        const file = `${casesDir}${c}.xml`;
        const a = (await prepare('ref', file)).ns;
        await replayCommands(a, libvirtCommands(readFileSync(`${casesDir}base.${backend}`, 'utf8')));
        await replayCommands(a, libvirtCommands(readFileSync(`${casesDir}${c}-linux.${backend}`, 'utf8')));
        const b = (await prepare('plan', file)).ns;
        await applyPlanLines(b, file, backend);
        const cns = (await prepare('batch', file)).ns;
        await applyPlanBatch(cns, file, backend);
        const reference = await canon(a);
        expect(reference).toContain(backend === 'nftables' ? 'libvirt_network' : 'LIBVIRT_FWX');
        expect(await canon(b)).toBe(reference);
        expect(await canon(cns)).toBe(reference);
      });
    }
  }

  for (const c of extras) {
    for (const backend of BACKENDS) {
      it(`${c} (${backend}): the kernel accepts every command; lines and batches agree`, async () => {
        const file = `${extraDir}${c}.xml`;
        const b = (await prepare('plan', file)).ns;
        await applyPlanLines(b, file, backend);
        const cns = (await prepare('batch', file)).ns;
        await applyPlanBatch(cns, file, backend);
        expect(await canon(cns)).toBe(await canon(b));
      });
    }
  }

  // Apply through batches, record undos from echoed handles (nft) or --delete (iptables), remove
  // with the removal batches: only the private set-up remains.
  for (const backend of BACKENDS) {
    it(`nat-ipv6 (${backend}): removal built from what was applied leaves only the private set-up`, async () => {
      const file = `${casesDir}nat-ipv6.xml`;
      const def = parseNetworkXml(readFileSync(file, 'utf8'), file);
      const ns = (await prepare('undo', file)).ns;
      const setupOnly = (await prepare('setup', file)).ns;
      for (const n of [ns, setupOnly]) {
        for (const batch of renderBatches(privateSetup(backend))) expect((await inNs(n, batch.argv, { input: batch.stdin })).code).toBe(0);
      }
      const rules = buildRules(def, backend);
      const applied: AppliedCommand[] = [];
      for (const [g, group] of rules.groups.entries()) {
        for (const batch of renderBatches(group.commands)) {
          const r = await inNs(ns, batch.argv, { input: batch.stdin });
          expect(r.code, r.stderr).toBe(0);
          const handles = backend === 'nftables' ? parseNftEcho(batch.commands, r.stdout) : [];
          batch.commands.forEach((command, i) => applied.push({ command, undo: undoOf(command, handles[i]), group: g }));
        }
      }
      expect(applied.length).toBe(ruleCommands(rules).length);
      const removal = removalFromApplied(applied, backend);
      for (const group of removal.groups) {
        for (const batch of renderBatches(group.commands)) {
          const r = await inNs(ns, batch.argv, { input: batch.stdin });
          expect(r.code, r.stderr).toBe(0);
        }
      }
      expect(await canon(ns)).toBe(await canon(setupOnly));
    });
  }
});
