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
  addNetworkDevices, canonDump, canUseNetns, delAllNs, inNs, libvirtCommands, netnsSkipReason, newNs, replayCommands, shInNs,
} from './helpers/index.js';

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

const prepare = (tag: string, file: string): { ns: string; bridge: string } => {
  const def = parseNetworkXml(readFileSync(file, 'utf8'), file);
  const ns = newNs(tag);
  addNetworkDevices(ns, def.bridge.name, def.forward.dev);
  return { ns, bridge: def.bridge.name };
};

const applyPlanLines = async (ns: string, file: string, backend: Backend): Promise<void> => {
  for (const line of (await plan(file, backend, false)).split('\n').filter((l) => l !== '')) {
    const r = shInNs(ns, line);
    if (r.code !== 0) throw new Error(`${line}: ${r.stderr}`);
  }
};

const applyPlanBatch = async (ns: string, file: string, backend: Backend): Promise<void> => {
  const r = inNs(ns, ['sh', '-e'], await plan(file, backend, true));
  if (r.code !== 0) throw new Error(`batch: ${r.stderr}`);
};

describe.skipIf(!canUseNetns)(`plan conformance on a real kernel${canUseNetns ? '' : ` (skipped: ${reason})`}`, () => {
  afterAll(() => delAllNs());

  for (const c of cases) {
    for (const backend of BACKENDS) {
      it(`${c} (${backend}): plan lines and batches equal libvirt's commands`, async () => {
        const file = `${casesDir}${c}.xml`;
        const a = prepare('ref', file).ns;
        replayCommands(a, libvirtCommands(readFileSync(`${casesDir}base.${backend}`, 'utf8')));
        replayCommands(a, libvirtCommands(readFileSync(`${casesDir}${c}-linux.${backend}`, 'utf8')));
        const b = prepare('plan', file).ns;
        await applyPlanLines(b, file, backend);
        const cns = prepare('batch', file).ns;
        await applyPlanBatch(cns, file, backend);
        const reference = canonDump(a);
        expect(reference).toContain(backend === 'nftables' ? 'libvirt_network' : 'LIBVIRT_FWX');
        expect(canonDump(b)).toBe(reference);
        expect(canonDump(cns)).toBe(reference);
      });
    }
  }

  for (const c of extras) {
    for (const backend of BACKENDS) {
      it(`${c} (${backend}): the kernel accepts every command; lines and batches agree`, async () => {
        const file = `${extraDir}${c}.xml`;
        const b = prepare('plan', file).ns;
        await applyPlanLines(b, file, backend);
        const cns = prepare('batch', file).ns;
        await applyPlanBatch(cns, file, backend);
        expect(canonDump(cns)).toBe(canonDump(b));
      });
    }
  }

  // Apply through batches, record undos from echoed handles (nft) or --delete (iptables), remove
  // with the removal batches: only the private set-up remains.
  for (const backend of BACKENDS) {
    it(`nat-ipv6 (${backend}): removal built from what was applied leaves only the private set-up`, () => {
      const file = `${casesDir}nat-ipv6.xml`;
      const def = parseNetworkXml(readFileSync(file, 'utf8'), file);
      const ns = prepare('undo', file).ns;
      const setupOnly = prepare('setup', file).ns;
      for (const n of [ns, setupOnly]) {
        for (const batch of renderBatches(privateSetup(backend))) expect(inNs(n, batch.argv, batch.stdin).code).toBe(0);
      }
      const rules = buildRules(def, backend);
      const applied: AppliedCommand[] = [];
      rules.groups.forEach((group, g) => {
        for (const batch of renderBatches(group.commands)) {
          const r = inNs(ns, batch.argv, batch.stdin);
          expect(r.code, r.stderr).toBe(0);
          const handles = backend === 'nftables' ? parseNftEcho(batch.commands, r.stdout) : [];
          batch.commands.forEach((command, i) => applied.push({ command, undo: undoOf(command, handles[i]), group: g }));
        }
      });
      expect(applied.length).toBe(ruleCommands(rules).length);
      const removal = removalFromApplied(applied, backend);
      for (const group of removal.groups) {
        for (const batch of renderBatches(group.commands)) {
          const r = inNs(ns, batch.argv, batch.stdin);
          expect(r.code, r.stderr).toBe(0);
        }
      }
      expect(canonDump(ns)).toBe(canonDump(setupOnly));
    });
  }
});
