// adopt of a network started by libvirt 10.3 or older (status file without a removal list), against
// the fake kernel: libvirt's iptables commands for the case (test/fixtures/cases) are run on it, the
// rules are derived from the definition and checked; exactly those present are recorded (in
// libvirt's legacy removal order), the missing ones named; nothing is changed on the kernel.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { casesDir, closeEngineWorlds, engineWorld } from '../../doubles/engine-world.js';
import { adoptFromLibvirt } from '../../../src/engine/index.js';
import { libvirtCommands } from '../../support/rulesets.js';

afterEach(closeEngineWorlds);

const argvOf = (line: string): string[] => line.split(/\s+/).map((w) => w.replace(/^'(.*)'$/, '$1'));

const world = async (name: string, skip?: (argv: string[]) => boolean) => {
  const { env, fake, store, dir } = await engineWorld({ backend: 'iptables', sysctl: '0' });
  await fake.run({ argv: ['ip', 'link', 'add', 'virbr0', 'type', 'bridge'] });
  const applied: string[][] = [];
  for (const file of ['base.iptables', `${name}-linux.iptables`]) {
    for (const line of libvirtCommands(readFileSync(join(casesDir, file), 'utf8'))) {
      const argv = argvOf(line);
      if (argv.includes('--list-rules') || skip?.(argv) === true) continue;
      const r = await fake.run({ argv });
      expect(r.exitCode, line).toBe(0);
      if (file !== 'base.iptables') applied.push(argv);
    }
  }
  const status = join(dir, `${name}.xml`);
  writeFileSync(status, `<networkstatus>\n  <class_id bitmap='0-2'/>\n  <floor sum='0'/>\n${readFileSync(join(casesDir, `${name}.xml`), 'utf8')}</networkstatus>\n`);
  return { env, fake, store, status, applied };
};

// libvirt's saved form of a rule: argv without program and -w, --insert -> --delete.
const saved = (argv: string[]): string[] => argv.slice(2).map((w) => (w === '--insert' ? '--delete' : w));

describe('adopt from libvirt <= 10.3 (no removal list in the status file)', () => {
  for (const name of ['nat-default', 'nat-ipv6', 'route-default', 'isolated']) {
    it(`${name}: every rule found; recorded in libvirt's legacy removal order; nothing changed`, async () => {
      const w = await world(name);
      const before = w.fake.dump();
      const a = await adoptFromLibvirt(w.env, w.status);
      expect(a.source).toBe('derived');
      expect(a.missing).toEqual([]);
      const recorded = a.removal.groups.flatMap((g) => g.commands.map((c) => [c.program, ...c.args]));
      // The checksum rule (its own group) first, then the others newest first.
      const checksum = w.applied.filter((x) => x.includes('CHECKSUM'));
      const rest = w.applied.filter((x) => !x.includes('CHECKSUM'));
      expect(recorded).toEqual([...checksum, ...rest.reverse()].map((x) => [x[0] ?? '', ...saved(x)]));
      expect(w.fake.dump()).toBe(before);
      expect(w.store.state().networks[a.def.name]).toMatchObject({ state: 'active', removals: { iptables: a.removal } });
    });
  }

  it('rules missing from the kernel are named and not recorded', async () => {
    const w = await world('nat-default', (argv) => argv.includes('MASQUERADE') && argv.includes('udp'));
    const a = await adoptFromLibvirt(w.env, w.status);
    expect(a.missing).toEqual(['iptables --table nat --insert LIBVIRT_PRT --source 192.168.122.0/24 -p udp ! --destination 192.168.122.0/24 --jump MASQUERADE --to-ports 1024-65535']);
    const recorded = a.removal.groups.flatMap((g) => g.commands.map((c) => c.args.join(' ')));
    expect(recorded).toHaveLength(w.applied.length);
    expect(recorded.some((r) => r.includes('-p udp'))).toBe(false);
  });
});
