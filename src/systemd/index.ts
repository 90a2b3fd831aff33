export { formatLine, toJournal, type Level } from './journal.js';
export { createNotifier, type Notifier } from './notify.js';
export { createReadiness, statusText, type NetworkCounts, type Readiness } from './readiness.js';
