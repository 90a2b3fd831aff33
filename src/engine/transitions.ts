import type { Journal } from './journal.js';

// The one writer of `network.transition` records: the machines' own state changes (machine-driver),
// recovery setting a network where its recorded removals leave it, reconcile setting straight a
// state no machine event leads out of, and adopt. The projection takes a network's state from them.
export interface Transition {
  network: string;
  op?: string;        // the operation it belongs to (none when reconcile sets a state straight)
  from: string;
  to: string;
  event: string;      // START, STOP, ..., RECOVER, ADOPT, or xstate's name of a completion
}

// xstate names completion events after its internals; the log says what happened instead.
const eventName = (ev: string): string => (ev.startsWith('xstate.done.') ? 'DONE' : ev.startsWith('xstate.error.') ? 'FAILED' : ev);

// Buffered like every report of what already happened: durable with the next intent or flush.
export const recordTransition = (journal: Journal, t: Transition): void => {
  journal.note({
    type: 'network.transition', network: t.network, ...(t.op === undefined ? {} : { op: t.op }),
    data: { from: t.from, to: t.to, event: eventName(t.event) },
  });
};
