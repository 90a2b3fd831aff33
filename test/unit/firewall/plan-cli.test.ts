import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';

const fixture = new URL('../../fixtures/cases/nat-default.xml', import.meta.url).pathname;

const cli = async (args: string[]): Promise<{ code: number; out: string; err: string }> => {
  let out = ''; let err = '';
  const w = (f: (s: string) => void) => ({ write: (s: string) => { f(s); return true; } }) as unknown as NodeJS.WritableStream;
  const code = await main(args, { stdout: w((s) => { out += s; }), stderr: w((s) => { err += s; }) });
  return { code, out, err };
};

describe('vnetfw plan', () => {
  const state = join(mkdtempSync(join(tmpdir(), 'vnetfw-plan-')), 'state');
  it('FILE: private setup then the network, one shell-quoted line each', async () => {
    const r = await cli(['--state-dir', state, 'plan', fixture, '--backend', 'nftables']);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toBe('nft add table ip libvirt_network');
    expect(lines).toContain("nft -ae insert rule ip libvirt_network guest_nat ip saddr 192.168.122.0/24 ip daddr '!=' 192.168.122.0/24 counter masquerade");
    expect(lines.length).toBe(20 + 11);
    expect(existsSync(state)).toBe(false); // runs nothing, writes nothing
  });
  it('--json and --batch', async () => {
    const j = JSON.parse((await cli(['plan', fixture, '--backend', 'iptables', '--json'])).out) as { backend: string; commands: unknown[]; batches: unknown[] };
    expect(j.backend).toBe('iptables');
    expect(j.commands.length).toBe(28 + 19);
    const b = await cli(['plan', fixture, '--backend', 'nftables', '--batch']);
    expect(b.out.startsWith("nft --echo --handle -f - <<'VNETFW_EOF'\nadd table ip libvirt_network\n")).toBe(true);
  });
  it('NAME from a definition stored in the event log, clear error when missing', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'vnetfw-plan-')), 's');
    const xml = join(dirname(dir), 'default.xml');
    writeFileSync(xml, '<network><name>default</name><bridge name="virbr0"/></network>');
    expect((await cli(['--state-dir', dir, 'define', xml])).code).toBe(0);
    const ok = await cli(['--state-dir', dir, 'plan', 'default', '--backend', 'iptables']);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain("iptables -w --table filter --insert LIBVIRT_FWO --in-interface virbr0 --jump REJECT\n");
    const r = await cli(['--state-dir', dir, 'plan', 'nope', '--backend', 'iptables']);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`vnetfw: plan: network 'nope' is not defined in ${dir}; give an XML file or run 'vnetfw define FILE'\n`);
  });
  it('bad input: exit 2 with one line', async () => {
    const bad = join(mkdtempSync(join(tmpdir(), 'vnetfw-plan-')), 'bad.xml');
    writeFileSync(bad, '<network><name>x</name><bridge name="virbr 0"/></network>');
    expect(await cli(['plan', bad, '--backend', 'nftables'])).toEqual({ code: 2, out: '', err: `vnetfw: ${bad}: bridge name 'virbr 0' is invalid: U+0020 is not allowed: only letters, digits, '_', '.' and '-'\n` });
    expect((await cli(['plan', fixture, '--backend', 'pf'])).err).toBe("vnetfw: plan: backend 'pf' is invalid: must be iptables or nftables\n");
  });
  it('network.conf: a bad new key exits 2 with one line; a section header warns naming file and line', async () => {
    const d = mkdtempSync(join(tmpdir(), 'vnetfw-plan-'));
    const bad = join(d, 'bad.conf');
    writeFileSync(bad, 'host_firewall = "sometimes"\n');
    const r = await cli(['--config', bad, 'plan', fixture]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`vnetfw: ${bad}: host_firewall 'sometimes' is invalid: must be "integrate", "report" or "off"\n`);
    const sect = join(d, 'sect.conf');
    writeFileSync(sect, '[libvirt]\nfirewall_backend = "nftables"\n');
    const s = await cli(['--config', sect, 'plan', fixture]);
    expect(s.code).toBe(0);
    expect(s.out.split('\n')[0]).toBe('nft add table ip libvirt_network');
    expect(s.err).toBe(`vnetfw: warning: ${sect}:1: section header '[libvirt]' ignored: network.conf has no sections; the keys after it are read as top-level keys\n`);
  });
});
