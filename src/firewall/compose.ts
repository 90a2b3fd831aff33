// The one composer of what an apply sends: the private set-up still missing, then each network's
// rules, rendered into batches (one transaction per program). The engine runs exactly these
// batches and `vnetfw plan --batch` prints exactly these, so the text a person reviews is the text
// the kernel gets.
import type { NetworkDef } from '../definition/types.js';
import { renderBatches, type Batch } from './batch.js';
import type { Backend, FwCommand } from './model.js';
import { privateSetup, type PrivateState } from './private-setup.js';
import { tableOf } from './restore-outcome.js';
import { indexedSetup } from './rules-indexed.js';
import { buildRules } from './rules.js';

// Where a command of a composed batch came from: a network's group, or the set-up (network null).
export interface Origin { network: string | null; group: number }

export interface ApplyComposition {
  setup: FwCommand[];                  // the set-up commands included (already in `batches`)
  batches: Batch[];
  origins: Map<FwCommand, Origin>;     // keyed by the command objects the batches carry
  riding: Set<FwCommand>;              // tolerated commands travelling strict in the main batch
}

export interface ComposeOptions {
  // What of the private set-up exists (null: the log says it is all there, add none). The indexed
  // layout's set-up is idempotent and always included.
  existing: PrivateState | null;
  // Tolerated commands (the DHCP checksum rule of iptables) ride in the main batch, which saves a
  // process; false when this host refused them once (they then go in a batch of their own).
  mergeTolerated: boolean;
}

// nft refuses (ENOENT) an element of an interval map created in the same transaction when the
// element jumps to a chain created after the map. So in the indexed layout's transaction: the
// table, every network's chains and rules, then the maps, sets and base chains, then the elements.
const indexedOrder = (all: readonly FwCommand[], origins: Map<FwCommand, Origin>): FwCommand[] => {
  const isSetup = (c: FwCommand): boolean => origins.get(c)?.network === null;
  const isTable = (c: FwCommand): boolean => c.args[1] === 'table';
  const isElement = (c: FwCommand): boolean => c.args[1] === 'element';
  return [
    ...all.filter((c) => isSetup(c) && isTable(c)),
    ...all.filter((c) => !isSetup(c) && !isElement(c)),
    ...all.filter((c) => isSetup(c) && !isTable(c)),
    ...all.filter((c) => !isSetup(c) && isElement(c)),
  ];
};

// iptables-restore commits table by table, in the order of its input. Tables that get only set-up
// (ip6 nat and mangle for most networks) go first: then, when a program dies without saying how far
// it got, the network rules found in the kernel tell which tables went in, since every table before
// one that went in did too. The order of commands within a table is kept.
const setupTablesFirst = (setup: readonly FwCommand[], nets: readonly FwCommand[]): FwCommand[] => {
  const withRules = new Set(nets.filter((c) => c.ignoreErrors !== true).map((c) => `${c.program}/${tableOf(c)}`));
  const programs = [...new Set(setup.map((c) => c.program))];
  const key = (c: FwCommand): number => programs.indexOf(c.program) * 2 + (withRules.has(`${c.program}/${tableOf(c)}`) ? 1 : 0);
  return [...setup].sort((a, b) => key(a) - key(b));
};

export const composeApply = (backend: Backend, defs: readonly NetworkDef[], opts: ComposeOptions): ApplyComposition => {
  const origins = new Map<FwCommand, Origin>();
  const riding = new Set<FwCommand>();
  const wanted = defs.filter((d) => d.forward.mode !== 'open');
  // Open networks get no rules and, as in libvirt, no private set-up either.
  if (wanted.length === 0) return { setup: [], batches: [], origins, riding };
  const setup = backend === 'nftables-indexed' ? indexedSetup() : opts.existing === null ? [] : privateSetup(backend, opts.existing);
  const nets: FwCommand[] = [];
  for (const def of wanted) {
    buildRules(def, backend).groups.forEach((g, gi) => {
      for (const c of g.commands) {
        let cmd: FwCommand = g.ignoreErrors ? { ...c, ignoreErrors: true } : c;
        if (cmd.ignoreErrors === true && opts.mergeTolerated) {
          cmd = { ...cmd, ignoreErrors: false };
          riding.add(cmd);
        }
        origins.set(cmd, { network: def.name, group: gi });
        nets.push(cmd);
      }
    });
  }
  for (const cmd of setup) origins.set(cmd, { network: null, group: 0 });
  const all = [...(backend === 'iptables' ? setupTablesFirst(setup, nets) : setup), ...nets];
  return { setup, batches: renderBatches(backend === 'nftables-indexed' ? indexedOrder(all, origins) : all), origins, riding };
};
