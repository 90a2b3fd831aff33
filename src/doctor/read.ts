// Reads what the doctor decides from, through a runner the caller provides (the engine's, which
// logs every run): `nft -j list ruleset` once; iptables-nft-save for iptables-nft tables whose xt
// matches nft's JSON cannot show; iptables-legacy-save when that program exists; the default
// routes' interfaces. Parsing is pure (src/ruleset).
import type { IpFamily } from '../definition/types.js';
import { iptablesVariantSave, nftListRulesetJson } from '../firewall/index.js';
import { defaultRouteQuery, parseDefaultRouteDevs } from '../host/index.js';
import { DoctorError } from './errors.js';
import { hasXtExpressions, renderNftRule, tablesFromIptablesSave, tablesFromNftJson, type Table } from '../ruleset/index.js';

export interface QueryResult { exitCode: number; stdout: string; stderr: string; failedToStart?: boolean }
export type RunQuery = (argv: string[]) => Promise<QueryResult>;

export interface HostView { tables: Table[]; uplinks: string[] }

const FAMILY: Record<'ip' | 'ip6', IpFamily> = { ip: 'ipv4', ip6: 'ipv6' };

// Replaces the nft view of iptables-nft tables holding xt matches with iptables-nft-save's, which
// spells the matches out. Without that program the xt matches stay "may match".
const withIptablesNft = async (run: RunQuery, doc: unknown, tables: Table[], onPath: (p: string) => boolean): Promise<Table[]> => {
  let out = tables;
  for (const fam of ['ip', 'ip6'] as const) {
    const xt = out.filter((t) => t.family === fam && hasXtExpressions(doc, fam, t.name));
    const argv = iptablesVariantSave(FAMILY[fam], 'nft');
    if (xt.length === 0 || !onPath(argv[0] ?? '')) continue;
    const res = await run(argv);
    if (res.exitCode !== 0) continue;
    const saved = tablesFromIptablesSave(res.stdout, fam, 'iptables-nft');
    const names = new Set(xt.map((t) => t.name));
    const replace = saved.filter((t) => names.has(t.name));
    const replaced = new Set(replace.map((t) => t.name));
    out = [...out.filter((t) => !(t.family === fam && replaced.has(t.name))), ...replace];
  }
  return out;
};

export const readHostFirewall = async (run: RunQuery, onPath: (prog: string) => boolean): Promise<HostView> => {
  const argv = nftListRulesetJson();
  const res = await run(argv);
  let tables: Table[];
  if (res.failedToStart === true) {
    // no nft on this host: iptables-nft's tables as iptables-nft-save shows them (legacy below)
    tables = [];
    for (const fam of ['ip', 'ip6'] as const) {
      const save = iptablesVariantSave(FAMILY[fam], 'nft');
      const r = onPath(save[0] ?? '') ? await run(save) : undefined;
      if (r?.exitCode === 0) tables.push(...tablesFromIptablesSave(r.stdout, fam, 'iptables-nft'));
    }
  } else if (res.exitCode !== 0) {
    throw new DoctorError('EDOCTOR_READ', `${argv.join(' ')}: exit ${res.exitCode}: ${res.stderr.trim().split('\n')[0] ?? ''}`);
  } else {
    let doc: unknown;
    try { doc = JSON.parse(res.stdout); } catch { throw new DoctorError('EDOCTOR_NFT_JSON', `${argv.join(' ')}: output is not JSON`); }
    tables = await withIptablesNft(run, doc, tablesFromNftJson(doc, renderNftRule), onPath);
  }
  for (const fam of ['ip', 'ip6'] as const) {
    const legacy = iptablesVariantSave(FAMILY[fam], 'legacy');
    if (!onPath(legacy[0] ?? '')) continue;
    const r = await run(legacy);
    if (r.exitCode === 0) tables = [...tables, ...tablesFromIptablesSave(r.stdout, fam, 'iptables-legacy')];
  }
  const uplinks: string[] = [];
  for (const fam of ['ipv4', 'ipv6'] as const) {
    const r = await run(defaultRouteQuery(fam));
    if (r.exitCode === 0) uplinks.push(...parseDefaultRouteDevs(r.stdout).filter((d) => !uplinks.includes(d)));
  }
  return { tables, uplinks };
};
