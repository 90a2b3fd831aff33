import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../doubles/fake-runner.js';

const SETUP = [
  'add table ip libvirt_network',
  'add chain ip libvirt_network forward { type filter hook forward priority 0; policy accept; }',
  'add chain ip libvirt_network guest_output',
  'insert rule ip libvirt_network forward counter jump guest_output',
  'add chain ip libvirt_network guest_nat { type nat hook postrouting priority 100; policy accept; }',
].join('\n') + '\n';

const nftF = (fake: FakeRunner, stdin: string) => fake.run({ argv: ['nft', '--echo', '--handle', '-f', '-'], stdin });

describe('FakeRunner: nft', () => {
  it('echoes each command with per-table handles shared by chains and rules', async () => {
    const fake = new FakeRunner();
    const r = await nftF(fake, SETUP);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe([
      'add table ip libvirt_network # handle 1',
      'add chain ip libvirt_network forward { type filter hook forward priority filter; policy accept; } # handle 1',
      'add chain ip libvirt_network guest_output # handle 2',
      'insert rule ip libvirt_network forward counter packets 0 bytes 0 jump guest_output # handle 3',
      'add chain ip libvirt_network guest_nat { type nat hook postrouting priority srcnat; policy accept; } # handle 4',
      '# new generation 2 by process 1000 (nft)',
      '',
    ].join('\n'));
  });

  it('runs -ae single commands joined like nft joins argv, quoting interface names', async () => {
    const fake = new FakeRunner();
    await nftF(fake, SETUP);
    const r = await fake.run({ argv: ['nft', '-ae', 'insert', 'rule', 'ip', 'libvirt_network', 'guest_output', 'iif', 'virbr0', 'counter', 'reject'] });
    expect(r.stdout.split('\n')[0]).toBe('insert rule ip libvirt_network guest_output iif "virbr0" counter packets 0 bytes 0 reject # handle 5');
  });

  it('lists a table as nft does, with handles under -a', async () => {
    const fake = new FakeRunner();
    await nftF(fake, SETUP + 'insert rule ip libvirt_network guest_output iif "virbr0" counter reject\n' +
      'insert rule ip libvirt_network guest_output ip saddr 10.0.0.0/8 iif virbr0 oifname != eth0 counter accept\n');
    const plain = await fake.run({ argv: ['nft', 'list', 'table', 'ip', 'libvirt_network'] });
    expect(plain.stdout).toBe(`table ip libvirt_network {
\tchain forward {
\t\ttype filter hook forward priority filter; policy accept;
\t\tcounter packets 0 bytes 0 jump guest_output
\t}

\tchain guest_output {
\t\tip saddr 10.0.0.0/8 iif "virbr0" oifname != "eth0" counter packets 0 bytes 0 accept
\t\tiif "virbr0" counter packets 0 bytes 0 reject
\t}

\tchain guest_nat {
\t\ttype nat hook postrouting priority srcnat; policy accept;
\t}
}
`);
    const withHandles = await fake.run({ argv: ['nft', '-a', 'list', 'table', 'ip', 'libvirt_network'] });
    expect(withHandles.stdout).toContain('table ip libvirt_network { # handle 1\n');
    expect(withHandles.stdout).toContain('\t\tiif "virbr0" counter packets 0 bytes 0 reject # handle 5\n');
    expect((await fake.run({ argv: ['nft', 'list', 'ruleset'] })).stdout).toBe(plain.stdout);
  });

  it('fails a missing table list with exit 1', async () => {
    const r = await new FakeRunner().run({ argv: ['nft', 'list', 'table', 'ip6', 'libvirt_network'] });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^Error: No such file or directory\nlist table ip6 libvirt_network\n/);
  });

  it('applies a script atomically: a failing line leaves nothing behind and echoes nothing', async () => {
    const fake = new FakeRunner();
    await nftF(fake, SETUP);
    const before = fake.dump();
    const r = await nftF(fake, 'insert rule ip libvirt_network guest_output counter accept\ninsert rule ip libvirt_network nochain counter accept\n');
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^\/dev\/stdin:2:1-\d+: Error: Could not process rule: No such file or directory\n/);
    expect(fake.dump()).toBe(before);
  });

  it('rejects a syntax error anywhere in the script', async () => {
    const fake = new FakeRunner();
    const r = await nftF(fake, 'add table ip t\nbogus\n');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('/dev/stdin:2:');
    expect(fake.dump()).toBe(new FakeRunner().dump());
  });

  it('deletes a rule by handle, and fails for an unknown handle', async () => {
    const fake = new FakeRunner();
    await nftF(fake, SETUP + 'insert rule ip libvirt_network guest_output counter accept\n');
    const del = await fake.run({ argv: ['nft', 'delete', 'rule', 'ip', 'libvirt_network', 'guest_output', 'handle', '5'] });
    expect(del.exitCode).toBe(0);
    expect(fake.dump()).not.toContain('accept\n\t}\n\n\tchain guest_nat');
    const again = await fake.run({ argv: ['nft', 'delete', 'rule', 'ip', 'libvirt_network', 'guest_output', 'handle', '5'] });
    expect(again.exitCode).toBe(1);
  });

  it('never reuses handles after deletion', async () => {
    const fake = new FakeRunner();
    await nftF(fake, SETUP + 'add rule ip libvirt_network guest_output counter accept\n');
    await fake.run({ argv: ['nft', 'delete', 'rule', 'ip', 'libvirt_network', 'guest_output', 'handle', '5'] });
    const r = await fake.run({ argv: ['nft', '-ae', 'add', 'rule', 'ip', 'libvirt_network', 'guest_output', 'counter', 'accept'] });
    expect(r.stdout).toContain('# handle 6\n');
  });

  it('treats add table/chain on existing objects as no-ops, create as an error', async () => {
    const fake = new FakeRunner();
    await nftF(fake, SETUP);
    const before = fake.dump();
    const again = SETUP.split('\n').filter((l) => !l.includes(' rule ')).join('\n');
    const r = await nftF(fake, again);
    expect(r.exitCode).toBe(0);
    // No echo for an existing table; an existing chain is echoed with its old handle.
    expect(r.stdout).not.toContain('add table');
    expect(r.stdout).toContain('add chain ip libvirt_network guest_output # handle 2\n');
    expect(fake.dump()).toBe(before);
    expect((await fake.run({ argv: ['nft', 'create', 'table', 'ip', 'libvirt_network'] })).exitCode).toBe(1);
  });

  it('refuses to delete a chain that is jumped to', async () => {
    const fake = new FakeRunner();
    await nftF(fake, SETUP);
    const r = await fake.run({ argv: ['nft', 'delete', 'chain', 'ip', 'libvirt_network', 'guest_output'] });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('Device or resource busy');
  });

  it('--check validates without applying', async () => {
    const fake = new FakeRunner();
    expect((await fake.run({ argv: ['nft', '-c', '-f', '-'], stdin: SETUP })).exitCode).toBe(0);
    expect(fake.dump()).toBe(new FakeRunner().dump());
  });

  it('prints a table comment', async () => {
    const fake = new FakeRunner();
    await fake.run({ argv: ['nft', 'add', 'table', 'ip', 't', '{ comment "managed by vnetfw"; }'] });
    expect((await fake.run({ argv: ['nft', 'list', 'table', 'ip', 't'] })).stdout)
      .toBe('table ip t {\n\tcomment "managed by vnetfw"\n}\n');
  });
});
