// The daemon's trigger logic in virtual time (rxjs TestScheduler): which triggers cause which cycle,
// debouncing, one cycle at a time, nothing dropped while a cycle runs, socket requests answered by
// the cycle that served them, and what stopping does.
import { map, NEVER, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { decideJob, scheduleCycles, type Job, type TriggerKind, type Triggers } from '../../../src/daemon/schedule.js';

const newScheduler = (): TestScheduler => new TestScheduler((a, b) => { expect(a).toEqual(b); });

interface Run { at: number; job: Job; triggers: TriggerKind[] }
interface Result { cycle: number; job: Job }

// Runs the scheduler over the given marble sources; every cycle takes `cycleMs` of virtual time.
// Returns the cycles started (when, which job, why) and the answers requests got (when, which cycle).
const simulate = (
  marbles: Partial<Record<'config' | 'log' | 'kernel' | 'periodic' | 'hup' | 'requests' | 'stop', string>>,
  o: { cycleMs?: number; tailMs?: number; logMoved?: boolean; debounceMs?: number } = {},
): { runs: Run[]; answers: Array<{ at: number; request: string; result: Result | 'stopped' }> } => {
  const runs: Run[] = [];
  const answers: Array<{ at: number; request: string; result: Result | 'stopped' }> = [];
  const ts = newScheduler();
  ts.run(({ hot, cold }) => {
    const src = (m: string | undefined): Observable<string> => (m === undefined ? NEVER : hot(m));
    const requests$ = src(marbles.requests);
    const t: Triggers<Result | 'stopped'> = {
      config$: src(marbles.config), log$: src(marbles.log), kernel$: src(marbles.kernel),
      periodic$: src(marbles.periodic), hup$: src(marbles.hup), stop$: src(marbles.stop),
      requests$: requests$.pipe(map((name) => (r: Result | 'stopped') => { answers.push({ at: ts.now(), request: name, result: r }); })),
    };
    const cycleMs = o.cycleMs ?? 10;
    scheduleCycles(t, {
      run: (job, triggers) => {
        runs.push({ at: ts.now(), job, triggers: [...triggers].sort() });
        const n = runs.length;
        // The result at cycleMs; the cycle ends tailMs later (its snapshot).
        const tail = o.tailMs === undefined ? '' : ` ${o.tailMs - 1}ms`;
        return cold<Result | 'stopped'>(o.tailMs === undefined ? `${cycleMs}ms (r|)` : `${cycleMs}ms r${tail} |`, { r: { cycle: n, job } });
      },
      logMoved: () => cold('1ms (m|)', { m: o.logMoved ?? false }),
      stopped: (): 'stopped' => 'stopped',
    }, { debounceMs: o.debounceMs ?? 5 }).subscribe();
    ts.flush();
  });
  return { runs, answers };
};

describe('decideJob', () => {
  it('reconciles for start, config, SIGHUP, requests and a log moved by someone else; drift-checks for kernel events and the timer', () => {
    expect(decideJob(new Set(['start']), false)).toBe('reconcile');
    expect(decideJob(new Set(['config']), false)).toBe('reconcile');
    expect(decideJob(new Set(['hup']), false)).toBe('reconcile');
    expect(decideJob(new Set(['request', 'kernel']), false)).toBe('reconcile');
    expect(decideJob(new Set(['log']), true)).toBe('reconcile');
    expect(decideJob(new Set(['log']), false)).toBe(null);
    expect(decideJob(new Set(['log', 'kernel']), false)).toBe('drift');
    expect(decideJob(new Set(['kernel']), false)).toBe('drift');
    expect(decideJob(new Set(['periodic']), false)).toBe('drift');
  });
});

describe('scheduleCycles', () => {
  it('reconciles at start', () => {
    expect(simulate({}).runs).toEqual([{ at: 0, job: 'reconcile', triggers: ['start'] }]);
  });

  it('debounces a burst of kernel events into one drift check', () => {
    // Cycle 1 (start) runs 0..10; the burst is at 30..33; debounced 5 ms after the last: 38.
    const { runs } = simulate({ kernel: '30ms a a a a' });
    expect(runs).toEqual([
      { at: 0, job: 'reconcile', triggers: ['start'] },
      { at: 38, job: 'drift', triggers: ['kernel'] },
    ]);
  });

  it('debounces network.conf writes into one reconcile', () => {
    // Writes at 50, 51 and 54: one reconcile 5 ms after the last.
    const { runs } = simulate({ config: '50ms a a 2ms a' });
    expect(runs.map((r) => [r.at, r.job])).toEqual([[0, 'reconcile'], [59, 'reconcile']]);
  });

  it('runs one cycle at a time and keeps what arrives meanwhile: a kernel event during a cycle is checked after it', () => {
    // A config change at 120 (debounced: 125) starts a 100 ms reconcile; the kernel event at 160 (debounced:
    // 165), e.g. a foreign flush during that reconcile, gets a drift check once it ends (at 225), not dropped.
    const { runs } = simulate({ config: '120ms a', kernel: '160ms k' }, { cycleMs: 100 });
    expect(runs).toEqual([
      { at: 0, job: 'reconcile', triggers: ['start'] },
      { at: 125, job: 'reconcile', triggers: ['config'] },
      { at: 225, job: 'drift', triggers: ['kernel'] },
    ]);
  });

  it('coalesces everything that arrived during a cycle into one next cycle, reconcile winning', () => {
    const { runs } = simulate({ kernel: '10ms k', periodic: '20ms p', hup: '30ms h', config: '40ms c' }, { cycleMs: 100 });
    expect(runs).toEqual([
      { at: 0, job: 'reconcile', triggers: ['start'] },
      { at: 100, job: 'reconcile', triggers: ['config', 'hup', 'kernel', 'periodic'] },
    ]);
  });

  it('answers each socket request from the cycle that served it: one started after the request', () => {
    // Request a arrives while the start cycle runs (0..50): it is served by cycle 2 (50..100), not by
    // cycle 1, which began before it. Request b (120, idle) starts cycle 3 at once.
    const { runs, answers } = simulate({ requests: '10ms a 109ms b' }, { cycleMs: 50 });
    expect(runs.map((r) => [r.at, r.job, r.triggers.join(',')])).toEqual([
      [0, 'reconcile', 'start'], [50, 'reconcile', 'request'], [120, 'reconcile', 'request'],
    ]);
    expect(answers).toEqual([
      { at: 100, request: 'a', result: { cycle: 2, job: 'reconcile' } },
      { at: 170, request: 'b', result: { cycle: 3, job: 'reconcile' } },
    ]);
  });

  it('answers as soon as the cycle has its result; the next cycle waits for the end of this one', () => {
    // Each cycle has its result 50 ms in and ends 30 ms later (its snapshot). Request a (10) is served
    // by cycle 2 (80..160), answered at 130; b arrives at 140, after that answer: cycle 3 (160..240).
    const { runs, answers } = simulate({ requests: '10ms a 129ms b' }, { cycleMs: 50, tailMs: 30 });
    expect(runs.map((r) => r.at)).toEqual([0, 80, 160]);
    expect(answers.map((a) => [a.request, a.at])).toEqual([['a', 130], ['b', 210]]);
  });

  it('serves several requests waiting together with one cycle', () => {
    const { runs, answers } = simulate({ requests: '10ms a b c' }, { cycleMs: 50 });
    expect(runs).toHaveLength(2);
    expect(answers.map((a) => [a.request, a.at, a.result])).toEqual([
      ['a', 100, { cycle: 2, job: 'reconcile' }], ['b', 100, { cycle: 2, job: 'reconcile' }], ['c', 100, { cycle: 2, job: 'reconcile' }],
    ]);
  });

  it('reconciles for a log change only when someone else wrote', () => {
    expect(simulate({ log: '30ms a' }, { logMoved: false }).runs.map((r) => r.job)).toEqual(['reconcile']);
    const moved = simulate({ log: '30ms a' }, { logMoved: true }).runs;
    expect(moved.map((r) => [r.at, r.job])).toEqual([[0, 'reconcile'], [36, 'reconcile']]);
  });

  it('on stop: the running cycle finishes and answers its requests, queued work does not run, waiting requests are told', () => {
    // Cycle 2 (serving a) runs 50..100; b arrives at 60 and waits; stop at 70.
    const { runs, answers } = simulate({ requests: '10ms a 49ms b', kernel: '65ms k', stop: '70ms s' }, { cycleMs: 50 });
    expect(runs.map((r) => r.at)).toEqual([0, 50]);
    expect(answers).toEqual([
      { at: 70, request: 'b', result: 'stopped' },
      { at: 100, request: 'a', result: { cycle: 2, job: 'reconcile' } },
    ]);
  });
});
