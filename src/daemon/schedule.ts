import {
  catchError, concatMap, debounceTime, defer, EMPTY, map, merge, type Observable, of, share, take, takeUntil, tap,
  type SchedulerLike,
} from 'rxjs';

// The daemon's trigger logic, pure: streams in, cycles out. Nothing here touches the kernel, the
// log or the clock (debounces and timers take the scheduler given, so tests run in virtual time).
//
// Every trigger becomes a demand; demands accumulate in one pending batch and cycles run one at a
// time (`concatMap`). A cycle takes the whole pending batch, so a burst of triggers costs one cycle,
// and a demand that arrives while a cycle runs is never dropped: it runs the next one. Kernel events
// caused by the daemon's own work therefore cost one extra drift check after that work, which is
// also what catches a foreign change made during it or right after it.

export type Job = 'reconcile' | 'drift';

// 'start': the daemon's first cycle; 'config': network.conf written; 'log': a record appeared in
// the log (another vnetfw process, or ours); 'kernel': an `nft monitor` event about our objects;
// 'periodic': the fallback drift check; 'hup': SIGHUP; 'request': a socket request.
export type TriggerKind = 'start' | 'config' | 'log' | 'kernel' | 'periodic' | 'hup' | 'request';

export interface Triggers<R> {
  config$: Observable<unknown>;
  log$: Observable<unknown>;
  kernel$: Observable<unknown>;
  periodic$: Observable<unknown>;
  hup$: Observable<unknown>;
  // Each request carries how to answer it; it is answered with the result of the cycle that served it.
  requests$: Observable<(result: R) => void>;
  // Ends the daemon: no demand is taken after it; the cycle running finishes, queued ones do not run.
  stop$: Observable<unknown>;
}

export interface CycleDeps<R> {
  // Emits the cycle's result once, as soon as its work is durable (requests are answered then), and
  // completes when the cycle is over (housekeeping such as a snapshot may come between). Must not
  // fail: a failed cycle is a result too (the daemon goes on).
  run: (job: Job, triggers: readonly TriggerKind[]) => Observable<R> | Promise<R>;
  // Did anyone but us write to the log since our last cycle? Asked only when a log change is the
  // sole reason for a reconcile (our own records make the log change too).
  logMoved: () => Observable<boolean> | Promise<boolean>;
  // The answer given to requests still pending when the daemon stops.
  stopped: () => R;
}

export interface CycleOutcome<R> { job: Job; triggers: TriggerKind[]; result: R }

interface Demand<R> { trigger: TriggerKind; reply?: (result: R) => void }
export interface Batch<R> { triggers: Set<TriggerKind>; replies: Array<(result: R) => void> }

const RECONCILE_TRIGGERS: readonly TriggerKind[] = ['start', 'config', 'hup', 'request'];

// What a batch of triggers calls for. A reconcile includes the drift check, so it wins.
export const decideJob = (triggers: ReadonlySet<TriggerKind>, logMoved: boolean): Job | null => {
  if (RECONCILE_TRIGGERS.some((t) => triggers.has(t)) || (triggers.has('log') && logMoved)) return 'reconcile';
  if (triggers.has('kernel') || triggers.has('periodic')) return 'drift';
  return null;
};

const needsLogCheck = (triggers: ReadonlySet<TriggerKind>): boolean =>
  triggers.has('log') && !RECONCILE_TRIGGERS.some((t) => triggers.has(t));

export const scheduleCycles = <R>(
  t: Triggers<R>, deps: CycleDeps<R>, opts: { debounceMs: number; kernelDebounceMs?: number; scheduler?: SchedulerLike },
): Observable<CycleOutcome<R>> => defer(() => {
  const debounced = (src: Observable<unknown>, trigger: TriggerKind, ms = opts.debounceMs): Observable<Demand<R>> =>
    src.pipe(debounceTime(ms, opts.scheduler), map(() => ({ trigger })));
  const stop$ = t.stop$.pipe(take(1), share());
  let stopped = false;
  let pending: Batch<R> | null = null;
  const takeBatch = (): Batch<R> | null => { const b = pending; pending = null; return b; };

  const demands$ = merge(
    of<Demand<R>>({ trigger: 'start' }),
    debounced(t.config$, 'config'),
    debounced(t.log$, 'log'),
    // One nft or iptables command's events arrive together: a short wait gathers them.
    debounced(t.kernel$, 'kernel', opts.kernelDebounceMs),
    t.periodic$.pipe(map((): Demand<R> => ({ trigger: 'periodic' }))),
    t.hup$.pipe(map((): Demand<R> => ({ trigger: 'hup' }))),
    t.requests$.pipe(map((reply): Demand<R> => ({ trigger: 'request', reply }))),
  ).pipe(takeUntil(stop$));

  const runBatch = (b: Batch<R>): Observable<CycleOutcome<R>> => {
    const triggers = [...b.triggers];
    // A log that cannot be read now (a writer mid-rotation) is treated as changed: reconcile.
    const logMoved$ = needsLogCheck(b.triggers) ? defer(() => deps.logMoved()).pipe(catchError(() => of(true))) : of(false);
    return logMoved$.pipe(
      concatMap((moved) => {
        const job = decideJob(b.triggers, moved);
        if (job === null) return EMPTY;
        return defer(() => deps.run(job, triggers)).pipe(map((result) => ({ job, triggers, result })));
      }),
      tap((o) => { for (const reply of b.replies) reply(o.result); }),
    );
  };

  return merge(
    demands$.pipe(
      tap((d) => {
        const b = pending ?? (pending = { triggers: new Set(), replies: [] });
        b.triggers.add(d.trigger);
        if (d.reply !== undefined) b.replies.push(d.reply);
      }),
      // One queued slot per demand; a slot whose batch an earlier cycle already took runs nothing.
      concatMap(() => defer(() => {
        if (stopped) return EMPTY;
        const b = takeBatch();
        return b === null ? EMPTY : runBatch(b);
      })),
    ),
    stop$.pipe(
      tap(() => {
        stopped = true;
        const b = takeBatch();
        for (const reply of b?.replies ?? []) reply(deps.stopped());
      }),
      concatMap(() => EMPTY),
    ),
  );
  // Completes once stop$ has fired and the cycle running then (if any) is done.
});
