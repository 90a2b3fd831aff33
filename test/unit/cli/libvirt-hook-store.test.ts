// `vnetfw libvirt hook NAME OP SUBOP` first looks, read-only and without the writer lock, whether
// vnetfw knows the network. That read-only store is closed before the hook goes on or exits: a
// close still running when the hook returns is a handle left open, and a close that fails then
// rejects with nobody waiting (Node ends the process with exit 1: libvirt would fail the start of
// a network vnetfw has nothing to do with). Here every read-only store's close takes a while, or
// fails, and the hook's exit code and the closes are checked when the command returns.
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { event, openStore as realOpen } from '../../../state/index.js';
import { defined, tmpStateDir } from '../state/helpers.js';

const closes = vi.hoisted(() => ({ started: 0, ended: 0, fail: false }));

vi.mock('../../../state/index.js', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../../../state/index.js')>();
  const openStore: typeof orig.openStore = async (dir, opts) => {
    const store = await orig.openStore(dir, opts);
    if (opts?.readonly !== true) return store;
    const close = store.close.bind(store);
    return Object.assign(Object.create(store) as typeof store, {
      close: async () => {
        closes.started++;
        await new Promise((r) => { setTimeout(r, 50); });
        await close();
        closes.ended++;
        if (closes.fail) throw new Error('close failed (injected)');
      },
    });
  };
  return { ...orig, openStore };
});

const sink = (): NodeJS.WritableStream => ({ write: () => true }) as unknown as NodeJS.WritableStream;
let err = '';
const hook = async (dir: string, name: string): Promise<number> => {
  err = '';
  const stderr = { write: (s: string) => { err += s; return true; } } as unknown as NodeJS.WritableStream;
  return main(['--state-dir', dir, '--config', `${dir}/none.conf`, 'libvirt', 'hook', name, 'started', 'begin', '-'], { stdout: sink(), stderr });
};

// libvirt writes the network's XML to the hook's stdin; here there is none to read.
const tty = Object.getOwnPropertyDescriptor(process.stdin, 'isTTY');
beforeAll(() => { Object.defineProperty(process.stdin, 'isTTY', { value: true, configurable: true }); });
afterAll(() => {
  if (tty === undefined) Reflect.deleteProperty(process.stdin, 'isTTY');
  else Object.defineProperty(process.stdin, 'isTTY', tty);
});

it('a network vnetfw does not know: exit 0 once its read-only store is closed', async () => {
  const dir = tmpStateDir();
  const s = await realOpen(dir);
  await s.append([defined('default')]);
  await s.close();
  closes.started = 0; closes.ended = 0; closes.fail = false;
  expect(await hook(dir, 'other')).toBe(0);
  expect(closes.started).toBe(1);
  expect(closes.ended).toBe(1);
});

it('a read-only store that fails to close: the hook says so and exits 1, nothing rejects unheard', async () => {
  const dir = tmpStateDir();
  const s = await realOpen(dir);
  await s.append([defined('default'), event('network.undefined', {}, { network: 'default' })]);
  await s.close();
  closes.started = 0; closes.ended = 0; closes.fail = true;
  const unheard: unknown[] = [];
  const onUnhandled = (e: unknown): void => { unheard.push(e); };
  process.on('unhandledRejection', onUnhandled);
  try {
    expect(await hook(dir, 'default')).toBe(1);
    expect(err).toBe('vnetfw: internal error: close failed (injected)\n');
    await new Promise((r) => { setTimeout(r, 100); });
    expect(unheard).toEqual([]);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  expect(closes.ended).toBe(1);
});
