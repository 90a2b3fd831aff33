// The monitor while the daemon reconciles, in virtual time: stopped during the cycle, and once it
// runs again, one MONITOR_RESUMED event first (the drift check after the cycle).
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { MONITOR_RESUMED, ownRulesetEvents } from '../../../src/daemon/sources.js';

const newScheduler = (): TestScheduler => new TestScheduler((a, b) => { expect(a).toEqual(b); });
const R = MONITOR_RESUMED;

describe('the nft monitor pauses while the daemon reconciles', () => {
  it('given no cycle, then its events pass as they come', () => {
    newScheduler().run(({ cold, hot, expectObservable }) => {
      const paused = hot<boolean>('f', { f: false });
      const live = cold<string>('-a--b');
      expectObservable(ownRulesetEvents(paused, () => live)).toBe('-a--b');
    });
  });

  it('given a reconcile cycle, then the monitor is not running during it and says it resumed 50 ms after', () => {
    newScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const paused = hot<boolean>('f-t 97ms f', { f: false, t: true });
      const live = cold<string>('-a');
      expectObservable(ownRulesetEvents(paused, () => live), '^ 400ms !').toBe('-a 148ms ra', { a: 'a', r: R });
      expectSubscriptions(live.subscriptions).toBe(['^-!', '150ms ^ 250ms !']);
    });
  });

  it('given back-to-back cycles, then the monitor is not restarted between them', () => {
    newScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const paused = hot<boolean>('t 9ms f 19ms t 9ms f', { f: false, t: true });
      const live = cold<string>('-a');
      expectObservable(ownRulesetEvents(paused, () => live), '^ 200ms !').toBe('- 89ms ra', { a: 'a', r: R });
      expectSubscriptions(live.subscriptions).toBe(['90ms ^ 110ms !']);
    });
  });
});
