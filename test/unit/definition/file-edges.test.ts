// Files named on the command line and the XML in them, at their edges: nesting deep enough to
// overflow a recursive parser, files that are not regular files, bytes that are not UTF-8.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { DefinitionError, loadNetworkFile, parseNetworkXml } from '../../../src/definition/index.js';
import { MAX_XML_DEPTH, xmlDepth } from '../../../src/xml/index.js';
import { fwRemovalFromStatusXml } from '../../../src/firewall/index.js';
import { VnetfwError } from '../../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'vnetfw-file-edges-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = async (args: string[]): Promise<{ code: number; out: string; err: string }> => {
  let out = ''; let err = '';
  const w = (f: (s: string) => void) => ({ write: (s: string) => { f(s); return true; } }) as unknown as NodeJS.WritableStream;
  const code = await main(args, { stdout: w((s) => { out += s; }), stderr: w((s) => { err += s; }) });
  return { code, out, err };
};

const nested = (n: number): string => `<network><name>n</name><bridge name="virbr0"/><metadata>${'<a>'.repeat(n)}${'</a>'.repeat(n)}</metadata></network>`;

const rejection = async (p: Promise<unknown>): Promise<DefinitionError> => {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(DefinitionError);
  return e as DefinitionError;
};

describe('deep nesting', () => {
  it('100,000 nested elements: exit 2, one line (was an internal error, exit 1)', async () => {
    const file = join(dir, 'deep.xml');
    writeFileSync(file, nested(100_000));
    const r = await cli(['plan', file, '--backend', 'nftables']);
    expect(r).toEqual({ code: 2, out: '', err: `vnetfw: ${file}: elements nested deeper than 256 levels\n` });
    expect(() => parseNetworkXml(nested(100_000), 'x.xml')).toThrow(new DefinitionError('EDEF_XML', 'x.xml: elements nested deeper than 256 levels'));
  });
  it('up to the limit is read as usual', () => {
    // network > metadata > a...: the a's add to two levels.
    expect(parseNetworkXml(nested(MAX_XML_DEPTH - 2), 'x.xml').bridge.name).toBe('virbr0');
    expect(() => parseNetworkXml(nested(MAX_XML_DEPTH - 1), 'x.xml')).toThrow('nested deeper than 256 levels');
  });
  it('depth counts elements only: comments, CDATA, self-closing tags and a > in an attribute do not nest', () => {
    expect(xmlDepth('<a><b x="1>2"/><!-- <c><c> --><![CDATA[<d><d>]]><?pi <e>?><f></f></a>')).toBe(2);
    expect(xmlDepth('<a><b><c/></b></a>')).toBe(3);
  });
  it("a libvirt status file nested too deep is refused the same way", () => {
    const text = `<networkstatus>${'<x>'.repeat(100_000)}${'</x>'.repeat(100_000)}</networkstatus>`;
    let err: unknown;
    try { fwRemovalFromStatusXml(text, 's.xml'); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(VnetfwError);
    expect((err as VnetfwError).exitCode).toBe(2);
    expect((err as VnetfwError).message).toBe('s.xml: elements nested deeper than 256 levels');
  });
});

describe('only regular files are read', () => {
  it('a FIFO is refused at once (was: define waited for a writer)', async () => {
    const fifo = join(dir, 'fifo.xml');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const e = await rejection(loadNetworkFile(fifo));
    expect([e.code, e.exitCode, e.message]).toEqual(['EDEF_FILE', 2, `${fifo}: is a FIFO: only a regular file is read`]);
  });
  it('a character device and a directory are refused', async () => {
    expect((await rejection(loadNetworkFile('/dev/zero'))).message).toBe('/dev/zero: is a character device: only a regular file is read');
    const d = join(dir, 'd.xml');
    mkdirSync(d);
    expect((await rejection(loadNetworkFile(d))).message).toBe(`${d}: is a directory: only a regular file is read`);
  });
  it('the CLI says so in one line, exit 2', async () => {
    const fifo = join(dir, 'fifo2.xml');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const r = await cli(['plan', fifo, '--backend', 'iptables']);
    expect(r).toEqual({ code: 2, out: '', err: `vnetfw: ${fifo}: is a FIFO: only a regular file is read\n` });
  });
  it('bytes that are not UTF-8 are refused, not replaced', async () => {
    const f = join(dir, 'latin1.xml');
    writeFileSync(f, Buffer.concat([Buffer.from('<network><name>caf'), Buffer.from([0xe9]), Buffer.from('</name></network>')]));
    expect((await rejection(loadNetworkFile(f))).message).toBe(`${f}: not valid UTF-8`);
  });
  it('a file over 1 MiB is refused', async () => {
    const f = join(dir, 'big.xml');
    writeFileSync(f, `<network>${' '.repeat(1024 * 1024)}</network>`);
    expect((await rejection(loadNetworkFile(f))).message).toBe(`${f}: file is larger than 1 MiB`);
  });
});
