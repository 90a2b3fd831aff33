// adopt reads libvirt's status file, which is untrusted input: a removal list that is not made of
// removals of libvirt's own rules of that network is refused (exit 2) before anything runs or is
// recorded, and nothing the file says is ever run, not even as a query (against the fake kernel).
import { writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { casesDir, closeEngineWorlds, engineWorld, type EngineWorld } from '../../doubles/engine-world.js';
import { adoptFromLibvirt } from '../../../src/engine/index.js';

afterEach(closeEngineWorlds);

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const statusFile = (dir: string, backend: string, actions: Array<{ layer: string; args: string[] }>): string => {
  const file = join(dir, 'default.xml');
  writeFileSync(file, ['<networkstatus>', "  <class_id bitmap='0-2'/>", "  <floor sum='0'/>", readFileSync(join(casesDir, 'nat-default.xml'), 'utf8').trim(),
    `  <firewall name='fwRemoval' backend='${backend}'>`, "    <group ignoreErrors='yes'>",
    ...actions.map((a) => `      <action layer='${a.layer}'>\n        <args>\n${a.args.map((x) => `          <item>${esc(x)}</item>`).join('\n')}\n        </args>\n      </action>`),
    '    </group>', '  </firewall>', '</networkstatus>', ''].join('\n'));
  return file;
};

const world = (): Promise<EngineWorld> => engineWorld({ sysctl: '0' });

const HOSTILE: Array<[string, string, string[]]> = [
  ['iptables', 'ipv4', ['--table', 'filter', '--flush']],
  ['iptables', 'ipv4', ['--table', 'filter', '--policy', 'INPUT', 'DROP']],
  ['iptables', 'ipv4', ['--table', 'filter', '--delete', 'INPUT', '--jump', 'ACCEPT']],
  ['nftables', 'ipv4', ['flush', 'ruleset']],
  ['nftables', 'ipv4', ['delete', 'table', 'inet', 'hostfw']],
];

describe('adopt: a status file\'s removal list is untrusted', () => {
  for (const [backend, layer, args] of HOSTILE) {
    it(`${backend} '${args.join(' ')}' beside a genuine removal: exit 2 naming it, nothing run, nothing recorded`, async () => {
      const w = await world();
      const genuine = backend === 'iptables'
        ? ['--table', 'filter', '--delete', 'LIBVIRT_FWO', '--in-interface', 'virbr0', '--jump', 'REJECT']
        : ['delete', 'rule', 'ip', 'libvirt_network', 'guest_output', 'handle', '7'];
      const file = statusFile(w.dir, backend, [{ layer: 'ipv4', args: genuine }, { layer, args }]);
      const dumpBefore = w.fake.dump();
      const err = await adoptFromLibvirt(w.env, file).then(() => undefined, (e: unknown) => e);
      expect(err).toMatchObject({ exitCode: 2 });
      expect((err as Error).message).toContain(`${file}: fwRemoval action '${args.join(' ')}' refused`);
      const ran = w.fake.calls.map((c) => c.req.argv.join(' '));
      expect(ran.filter((a) => a.includes(args.slice(-2).join(' ')))).toEqual([]);
      expect(ran.filter((a) => /flush|policy|hostfw|--check|-C /.test(a))).toEqual([]);
      expect(w.fake.dump()).toBe(dumpBefore);
      expect(w.store.state().networks.default).toBeUndefined();
    });
  }

  it('an nft handle that is another network\'s rule is refused (it would delete that rule at stop)', async () => {
    const w = await world();
    // Another network's rule in libvirt's table, as the kernel numbers it.
    const add = await w.fake.run({ argv: ['nft', '--echo', '--handle', '-f', '-'], stdin: [
      'add table ip libvirt_network',
      'add chain ip libvirt_network guest_output',
      'insert rule ip libvirt_network guest_output iif "virbr9" counter reject',
    ].join('\n') + '\n' });
    const handle = /insert rule .* # handle (\d+)/.exec(add.stdout)?.[1] ?? /# handle (\d+)\s*$/.exec(add.stdout.trim())?.[1];
    expect(handle).toBeDefined();
    const file = statusFile(w.dir, 'nftables', [{ layer: 'ipv4', args: ['delete', 'rule', 'ip', 'libvirt_network', 'guest_output', 'handle', handle ?? ''] }]);
    const err = await adoptFromLibvirt(w.env, file).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ exitCode: 2 });
    expect((err as Error).message).toMatch(/refused: handle \d+ is the rule 'iif "virbr9" counter reject', not one of network 'default'/);
    expect(w.fake.calls.filter((c) => c.req.argv.includes('delete') || (c.req.stdin ?? '').includes('delete'))).toEqual([]);
    expect(w.store.state().networks.default).toBeUndefined();
  });
});
