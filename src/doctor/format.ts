// How findings are shown: one readable block per network, or one JSON object per finding.
import type { Finding } from './analyse.js';

const VERB: Record<Finding['verdict'], string> = { drop: 'dropped', reject: 'rejected', 'may-drop': 'may be dropped' };

// Names and rule text come from the kernel, written by other programs (a rule's comment is any
// text): control characters are shown escaped, never sent to the terminal.
// eslint-disable-next-line no-control-regex
const safe = (s: string): string => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

export const describeFinding = (f: Finding): string => {
  const proto = `/${f.protocols.join('+')}`;
  const at = f.policy === undefined ? `rule ${safe(f.rule ?? '?')}${f.handle === undefined ? '' : ` (handle ${f.handle})`}` : `policy ${f.policy}`;
  const chain = safe(f.chain === f.baseChain ? f.chain : `${f.baseChain} -> ${f.chain}`);
  const src = f.source === 'nft' ? '' : ` (${f.source})`;
  return [
    `  ${f.trafficLabel} (${f.ipFamily}${proto}): ${VERB[f.verdict]} by ${f.family} ${safe(f.table)} ${chain}${src}: ${at}${f.owner === null ? '' : ` [${f.owner}]`}`,
    `    vnetfw ${safe(f.does)}`,
  ].join('\n');
};

export const describeNetwork = (network: string, bridge: string, findings: readonly Finding[]): string =>
  (findings.length === 0
    ? `${network} (${bridge}): nothing blocks its traffic`
    : [`${network} (${bridge}): ${findings.length} block${findings.length === 1 ? '' : 's'}`, ...findings.map(describeFinding)].join('\n'));

// The stable JSON form (`doctor --json`, `status --json` blockedBy).
export const findingJson = (f: Finding): Record<string, unknown> => ({ ...f });
