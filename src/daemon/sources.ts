import { watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { concat, distinctUntilChanged, fromEvent, map, NEVER, Observable, of, switchMap, timer, type Observable as Obs } from 'rxjs';
import { isOwnObjectEvent, NFT_MONITOR_ARGV } from '../firewall/index.js';
import { watchLines } from '../exec/index.js';

// The daemon's triggers from the outside world, as streams. Each one releases what it holds
// (a watcher, a child process, a listener) when unsubscribed.

// Changes in a directory (fs.watch), optionally only of one file name. A directory that cannot be
// watched gives no events (`onMissing` says so).
export const dirChanges = (dir: string, onMissing: (err: unknown) => void, only?: string): Obs<string> =>
  new Observable<string>((sub) => {
    let w: ReturnType<typeof watch>;
    try {
      w = watch(dir, (_event, file) => { if (only === undefined || file === only) sub.next(file ?? ''); });
    } catch (err) {
      onMissing(err);
      return undefined;
    }
    w.on('error', () => undefined);
    return () => { w.close(); };
  });

export const fileChanges = (path: string, onMissing: (err: unknown) => void): Obs<string> =>
  dirChanges(dirname(path), onMissing, basename(path));

// `nft monitor` output that reports a change to our own objects (events of other tables are not
// ours to check): one event per chunk read, the first such line of it. A burst of rule events thus
// costs a few checks and a few debounce timers, not one per line.
const monitorEvents = (): Obs<string> =>
  new Observable<string>((sub) => {
    const w = watchLines(NFT_MONITOR_ARGV, (lines) => {
      const own = lines.find(isOwnObjectEvent);
      if (own !== undefined) sub.next(own);
    });
    return () => { w.stop(); };
  });

export const MONITOR_RESUMED = '# vnetfw: monitor resumed';
const RESUME_AFTER_MS = 50;

// The monitor does not run while `paused$` says so (the daemon reconciling): a switch's programs
// make thousands of events about our own objects, which cost nft and the daemon CPU in the middle
// of the switch and say nothing the daemon does not know. When it runs again it first says
// MONITOR_RESUMED, an event like any other: the drift check it brings covers the daemon's own
// changes and anything foreign done while nobody listened. (Resumed only after a short quiet, so
// back-to-back cycles do not restart it in between.)
export const ownRulesetEvents = (paused$: Obs<boolean> = of(false), live: () => Obs<string> = monitorEvents): Obs<string> =>
  paused$.pipe(distinctUntilChanged(), switchMap((paused, i) => {
    if (paused) return NEVER;
    return i === 0 ? live() : concat(timer(RESUME_AFTER_MS).pipe(map(() => MONITOR_RESUMED)), live());
  }));

export const signals = (name: NodeJS.Signals): Obs<NodeJS.Signals> =>
  fromEvent(process, name).pipe(map(() => name));

export const aborted = (signal: AbortSignal): Obs<unknown> =>
  signal.aborted ? of(true) : fromEvent(signal, 'abort');

