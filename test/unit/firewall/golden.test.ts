// libvirt's own expected outputs (tests/networkxml2firewalldata, copied to test/fixtures/cases):
// the per-network commands and the private set-up on a fresh host, byte for byte.
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseNetworkXml } from '../../../src/definition/index.js';
import { BACKENDS, buildRules, formatLibvirtList, privateSetup, privateSetupWithQueries, ruleCommands } from '../../../src/firewall/index.js';

const dir = new URL('../../fixtures/cases/', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, dir), 'utf8');
const cases = readdirSync(dir).filter((f) => f.endsWith('.xml')).map((f) => f.slice(0, -4));

describe('golden: libvirt expected files', () => {
  it('has the cases', () => expect(cases.length).toBeGreaterThanOrEqual(6));
  for (const c of cases) {
    for (const backend of BACKENDS) {
      it(`${c} (${backend})`, () => {
        const def = parseNetworkXml(read(`${c}.xml`), `${c}.xml`);
        expect(formatLibvirtList(ruleCommands(buildRules(def, backend)))).toBe(read(`${c}-linux.${backend}`));
      });
    }
  }
  for (const backend of BACKENDS) {
    // base.* includes libvirt's list queries; privateSetupWithQueries reproduces it exactly, and
    // privateSetup (what plan prints) is the same without the queries.
    it(`base.${backend} with queries`, () => {
      expect(formatLibvirtList(privateSetupWithQueries(backend))).toBe(read(`base.${backend}`));
    });
    it(`base.${backend} without queries`, () => {
      const expected = read(`base.${backend}`).split(/\n(?=(?:ip6?tables|nft) \\\n)/).filter((cmd) => !/--list-rules|^nft \\\nlist/.test(cmd));
      expect(formatLibvirtList(privateSetup(backend))).toBe(`${expected.join('\n').replace(/\n?$/, '\n')}`);
    });
  }
});
