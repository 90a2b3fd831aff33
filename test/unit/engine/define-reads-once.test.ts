// `define` validates and records the same bytes: the file is read once. Here the file is
// rewritten (another bridge) as soon as its first read ends; a second read would record the new
// text beside the definition parsed from the old one.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.js';

const watched = vi.hoisted(() => ({ path: '', reads: 0, afterFirst: (): void => undefined }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const orig = await importOriginal<typeof import('node:fs/promises')>();
  const touched = (p: unknown): void => {
    if (String(p) !== watched.path) return;
    if (++watched.reads === 1) watched.afterFirst();
  };
  const readFile = (async (p: unknown, ...rest: unknown[]) => {
    const r = await (orig.readFile as (...a: unknown[]) => Promise<unknown>)(p, ...rest);
    touched(p);
    return r;
  }) as typeof orig.readFile;
  const open = (async (p: unknown, ...rest: unknown[]) => {
    const fh = await (orig.open as (...a: unknown[]) => Promise<import('node:fs/promises').FileHandle>)(p, ...rest);
    const close = fh.close.bind(fh);
    fh.close = async () => { await close(); touched(p); };
    return fh;
  }) as typeof orig.open;
  return { ...orig, readFile, open, default: { ...orig, readFile, open } };
});

const dir = mkdtempSync(join(tmpdir(), 'vnetfw-define-once-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const xml = (bridge: string): string => `<network><name>n</name><bridge name="${bridge}"/></network>\n`;

it('define records the bytes it validated, even if the file changes after the read', async () => {
  const file = join(dir, 'n.xml');
  writeFileSync(file, xml('virbr10'));
  watched.path = file;
  watched.afterFirst = () => writeFileSync(file, xml('virbr99'));
  const sink = { write: () => true } as unknown as NodeJS.WritableStream;
  const state = join(dir, 'state');
  expect(await main(['--state-dir', state, 'define', file], { stdout: sink, stderr: sink })).toBe(0);
  expect(watched.reads).toBe(1);
  expect(readFileSync(file, 'utf8')).toBe(xml('virbr99'));     // the file did change
  let out = '';
  const cap = { write: (s: string) => { out += s; return true; } } as unknown as NodeJS.WritableStream;
  expect(await main(['--state-dir', state, '--json', 'log', '--type', 'network.defined'], { stdout: cap, stderr: sink })).toBe(0);
  const rec = JSON.parse(out.trim()) as { xml?: string; definition?: { bridge: { name: string } }; data?: { xml: string; definition: { bridge: { name: string } } } };
  const recorded = rec.data ?? rec;
  expect(recorded.definition?.bridge.name).toBe('virbr10');
  expect(recorded.xml).toBe(xml('virbr10'));
});
