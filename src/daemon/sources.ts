import { watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { filter, fromEvent, map, Observable, of, type Observable as Obs } from 'rxjs';
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

// `nft monitor` lines about our own objects (events of other tables are not ours to check).
export const ownRulesetEvents = (): Obs<string> =>
  new Observable<string>((sub) => {
    const w = watchLines(NFT_MONITOR_ARGV, (line) => sub.next(line));
    return () => { w.stop(); };
  }).pipe(filter(isOwnObjectEvent));

export const signals = (name: NodeJS.Signals): Obs<NodeJS.Signals> =>
  fromEvent(process, name).pipe(map(() => name));

export const aborted = (signal: AbortSignal): Obs<unknown> =>
  signal.aborted ? of(true) : fromEvent(signal, 'abort');

