// The one way tests wait: poll a condition until it holds or a deadline passes (never a fixed
// sleep: a busy two-core machine makes any fixed delay too short some day). Deadlines are
// generous; a condition that holds returns at once.
import { sleep, type Res } from './proc.js';

// A probe is met when it returns true, or a command result with exit code 0.
export type Probe = () => Promise<boolean | Res> | boolean;

const met = (v: boolean | Res): boolean => (typeof v === 'boolean' ? v : v.code === 0);

// Polls `probe` every `everyMs` until it is met; throws `timed out waiting for <what>` after `ms`.
// Returns how long it took (ms).
export const waitFor = async (probe: Probe, ms: number, what: string, everyMs = 50): Promise<number> => {
  const t0 = performance.now();
  for (;;) {
    if (met(await probe())) return performance.now() - t0;
    if (performance.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
};

// Polls `probe` until it gives a value (not undefined), and returns it; throws as waitFor.
export const waitForValue = async <T>(probe: () => Promise<T | undefined> | T | undefined, ms: number, what: string, everyMs = 50): Promise<T> => {
  const t0 = performance.now();
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (performance.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
};

// Polls `read` until `done(value)` holds or `ms` pass; returns the last value either way (for
// tests that assert on what they got rather than throw).
export const pollUntil = async <T>(read: () => Promise<T> | T, done: (v: T) => boolean, ms: number, everyMs = 50): Promise<T> => {
  const end = performance.now() + ms;
  for (;;) {
    const v = await read();
    if (done(v) || performance.now() > end) return v;
    await sleep(everyMs);
  }
};
