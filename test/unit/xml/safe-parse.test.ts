// Hostile XML through every reader of untrusted XML (definitions, removal lists, status files):
// each is refused with one line naming the document, exit 2, in the reader's own error type; all
// of them go through the one safe parser.
import { describe, expect, it } from 'vitest';
import { parseNetworkXml } from '../../../src/definition/index.js';
import { VnetfwError } from '../../../src/errors.js';
import { fwRemovalFromStatusXml, parseFwRemovalXml } from '../../../src/firewall/index.js';
import { parseStatusText } from '../../../src/libvirt/index.js';
import { child, MAX_XML_DEPTH, parseSafeXml, textOf } from '../../../src/xml/index.js';

const deep = (root: string, n: number): string => `<${root}>${'<x>'.repeat(n)}${'</x>'.repeat(n)}</${root}>`;
const laughs = (root: string): string =>
  `<?xml version="1.0"?><!DOCTYPE ${root} [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><${root}>&b;</${root}>`;
const status = (inner: string): string => `<networkstatus>${inner}</networkstatus>`;

const readers: Array<[string, string, (text: string) => unknown, string]> = [
  ['network definition', 'network', (t) => parseNetworkXml(t, 'n.xml'), 'EDEF_XML'],
  ['removal list', 'firewall', (t) => parseFwRemovalXml(t, 'n.xml'), 'EFWXML'],
  ['status file removal list', 'networkstatus', (t) => fwRemovalFromStatusXml(t, 'n.xml'), 'EFWXML'],
];

const refusal = (f: () => unknown): VnetfwError => {
  try { f(); } catch (e) { if (e instanceof VnetfwError) return e; throw e; }
  throw new Error('accepted');
};

describe.each(readers)('%s', (_what, root, read, code) => {
  it('DOCTYPE and entity declarations (billion laughs) are refused before parsing', () => {
    const e = refusal(() => read(laughs(root)));
    expect([e.code, e.exitCode, e.message]).toEqual([code, 2, 'n.xml: DOCTYPE and ENTITY declarations are not allowed']);
  });
  it('100,000 nested elements: one line, exit 2, no stack overflow', () => {
    const e = refusal(() => read(deep(root, 100_000)));
    expect([e.code, e.exitCode, e.message]).toEqual([code, 2, `n.xml: elements nested deeper than ${MAX_XML_DEPTH} levels`]);
  });
  it('not well-formed: the line of the problem, on one line', () => {
    const e = refusal(() => read(`<${root}>\n<a>\n</b></${root}>`));
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/^n\.xml: not well-formed XML at line 3: [^\n]+$/);
  });
});

describe('status files', () => {
  it('a hostile status file is refused naming the file (exit 2)', () => {
    const e = refusal(() => parseStatusText(status(`<network>${'<x>'.repeat(5000)}${'</x>'.repeat(5000)}</network>`), '/run/libvirt/network/n.xml'));
    expect([e.exitCode, e.message]).toEqual([2, `/run/libvirt/network/n.xml: elements nested deeper than ${MAX_XML_DEPTH} levels`]);
  });
});

describe('parseSafeXml', () => {
  const fail = (m: string): Error => new Error(`refused: ${m}`);
  it('keeps or trims text as the caller asks; textOf decodes the predefined entities', () => {
    const text = '<a><i> x &amp; y </i></a>';
    const item = (trimValues: boolean): string | undefined =>
      textOf(child(child(parseSafeXml(text, 't', { fail, trimValues }), 'a') ?? {}, 'i'));
    expect(item(false)).toBe(' x & y ');
    expect(item(true)).toBe('x & y');
  });
  it('an undeclared entity reference stays literal text: nothing is expanded or fetched', () => {
    expect(textOf(child(parseSafeXml('<a>&ext;</a>', 't', { fail, trimValues: true }), 'a'))).toBe('&ext;');
  });
  it("throws the caller's error", () => {
    expect(() => parseSafeXml('<!DOCTYPE a><a/>', 't', { fail, trimValues: true })).toThrow('refused: t: DOCTYPE and ENTITY declarations are not allowed');
  });
});
