// Series that exist from the daemon's start, at 0: Prometheus' rate() and increase() need a first
// sample before the first event, and an alert on a series that is absent never fires. Every label
// value vnetfw can give is known in advance for these (operation kinds and outcomes, the programs
// it runs and why, the doctor's owners and verdicts); per-network series are added as networks
// appear in the log.
import { COMMAND_PURPOSES, OPERATION_KINDS } from '../../state/index.js';
import { PROGRAMS_RUN } from '../exec/index.js';
import type { MetricFamilies } from './registry.js';

export const OUTCOMES = ['committed', 'rolled-back', 'failed'] as const;
export const VERDICTS = ['drop', 'reject', 'may-drop'] as const;
// A finding whose owner the doctor cannot name.
export const UNKNOWN_OWNER = 'unknown';

export const preCreate = (m: MetricFamilies): void => {
  for (const kind of OPERATION_KINDS) {
    for (const outcome of OUTCOMES) {
      m.operations.inc({ kind, outcome }, 0);
      m.operationSeconds.zero({ kind, outcome });
    }
  }
  for (const program of PROGRAMS_RUN) {
    for (const purpose of COMMAND_PURPOSES) {
      m.programRuns.inc({ program, purpose }, 0);
      m.programFailures.inc({ program, purpose }, 0);
    }
  }
};

// The doctor's finding series of one network, each owner by each verdict (`owners` without
// 'unknown'). Keys as the daemon's doctor bookkeeping writes them.
export const findingKeys = (network: string, owners: readonly string[]): string[] =>
  [...owners, UNKNOWN_OWNER].flatMap((owner) => VERDICTS.map((verdict) => JSON.stringify([network, owner, verdict])));
