import { watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { fromEvent, map, Observable, of, type Observable as Obs } from 'rxjs';
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
// ours to check): one event per chunk read, the first such line of it. A switch's thousands of
// rule events thus cost a few checks and a few debounce timers, not one per line.
export const ownRulesetEvents = (): Obs<string> =>
  new Observable<string>((sub) => {
    const w = watchLines(NFT_MONITOR_ARGV, (lines) => {
      const own = lines.find(isOwnObjectEvent);
      if (own !== undefined) sub.next(own);
    });
    return () => { w.stop(); };
  });

export const signals = (name: NodeJS.Signals): Obs<NodeJS.Signals> =>
  fromEvent(process, name).pipe(map(() => name));

export const aborted = (signal: AbortSignal): Obs<unknown> =>
  signal.aborted ? of(true) : fromEvent(signal, 'abort');

