// Reading the host firewall: which programs are asked, in which case, and what a failure means.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DoctorError, readHostFirewall, type QueryResult } from '../../../src/doctor/index.js';

const fixture = (f: string): string => readFileSync(new URL(`../../fixtures/doctor/${f}`, import.meta.url), 'utf8');
const ok = (stdout: string): QueryResult => ({ exitCode: 0, stdout, stderr: '' });

const recorder = (answer: (cmd: string) => QueryResult): { calls: string[]; run: (argv: string[]) => Promise<QueryResult> } => {
  const calls: string[] = [];
  return { calls, run: async (argv) => { calls.push(argv.join(' ')); return answer(argv.join(' ')); } };
};

describe('readHostFirewall', () => {
  it('native tables only: one nft read, legacy asked when its programs exist, default routes', async () => {
    const r = recorder((c) => (c === 'nft -j list ruleset' ? ok(fixture('nixos-nft.json')) : c.startsWith('ip ') ? ok('[{"dev":"eth0"},{"dev":"bad name"}]') : ok('')));
    const view = await readHostFirewall(r.run, () => true);
    expect(r.calls).toEqual(['nft -j list ruleset', 'iptables-legacy-save', 'ip6tables-legacy-save', 'ip -j route show default', 'ip -6 -j route show default']);
    expect(view.uplinks).toEqual(['eth0']);
    expect(view.tables.map((t) => `${t.family} ${t.name} ${t.source}`)).toEqual(['inet nixos-fw nft', 'ip libvirt_network nft', 'ip6 libvirt_network nft']);
  });

  it("iptables-nft tables holding xt matches are read from iptables-nft-save (without it they stay xt)", async () => {
    const answer = (c: string): QueryResult => (c === 'nft -j list ruleset' ? ok(fixture('docker27-nft.json')) : c === 'iptables-nft-save' ? ok(fixture('docker27-nft.iptables-nft-v4.save')) : ok(''));
    const r = recorder(answer);
    const view = await readHostFirewall(r.run, (p) => !p.includes('legacy'));
    expect(r.calls).toContain('iptables-nft-save');
    expect(view.tables.find((t) => t.name === 'filter')?.source).toBe('iptables-nft');
    const without = recorder(answer);
    const plain = await readHostFirewall(without.run, () => false);
    expect(without.calls).not.toContain('iptables-nft-save');
    expect(plain.tables.find((t) => t.name === 'filter')?.source).toBe('nft');
  });

  it('no nft on PATH: iptables-nft-save instead; nft failing or printing garbage: an error naming it', async () => {
    const missing = recorder((c) => (c === 'nft -j list ruleset' ? { exitCode: -1, stdout: '', stderr: 'ENOENT', failedToStart: true } : c === 'iptables-nft-save' ? ok(fixture('docker27-nft.iptables-nft-v4.save')) : ok('')));
    const view = await readHostFirewall(missing.run, (p) => !p.includes('legacy'));
    expect(view.tables.map((t) => `${t.family} ${t.name} ${t.source}`)).toContain('ip filter iptables-nft');
    const failing = recorder(() => ({ exitCode: 1, stdout: '', stderr: 'Error: Could not process rule: Operation not permitted\nmore' }));
    await expect(readHostFirewall(failing.run, () => true)).rejects.toThrow(new DoctorError('EDOCTOR_READ', 'nft -j list ruleset: exit 1: Error: Could not process rule: Operation not permitted'));
    const garbage = recorder(() => ok('{"nope": 1}'));
    await expect(readHostFirewall(garbage.run, () => true)).rejects.toThrow(/not nft JSON/);
  });
});
