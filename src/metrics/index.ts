export { createDaemonMetrics, type CycleSummary, type DaemonMetrics, type FindingSummary, type DaemonMetricsOptions } from './daemon-metrics.js';
export { MetricsError, TEXTFILE_NAME } from './textfile.js';
