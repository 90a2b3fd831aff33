// What the kernel holds, read without asking vnetfw: canonical dumps (nft, iptables-save and
// ip6tables-save | canon.py), libvirt's reference rulesets replayed from the fixture command
// files, and the lines of a dump that still name a network.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { addNetworkDevices, inNs, nsDel, nsNew, shInNs } from './netns.js';
import { casesDir, oracleDir } from './paths.js';
import { run } from './proc.js';

export type Backend = 'nftables' | 'iptables';
export const BACKENDS: readonly Backend[] = ['nftables', 'iptables'];
export const other = (b: Backend): Backend => (b === 'nftables' ? 'iptables' : 'nftables');

// --- libvirt's reference: its expected commands replayed in a namespace ---

// Commands of a libvirt expected-output file: lines ending in ` \` joined.
export const libvirtCommands = (text: string): string[] =>
  text.replace(/ \\\n/g, ' ').split('\n').filter((l) => l.trim() !== '');

export const isQuery = (cmd: string): boolean => cmd.includes('--list-rules') || / list /.test(cmd);

// Runs each command with sh -c in order; failing queries are ignored (libvirt treats a failing
// `list` as empty), any other failure throws naming the command.
export const replayCommands = async (ns: string, cmds: readonly string[]): Promise<void> => {
  for (const cmd of cmds) {
    const r = await shInNs(ns, cmd);
    if (r.code !== 0 && !isQuery(cmd)) throw new Error(`replay failed in ${ns}: ${cmd}: ${r.stderr.trim()}`);
  }
};

// The same, from a fixture file.
export const replay = (ns: string, file: string): Promise<void> => replayCommands(ns, libvirtCommands(readFileSync(file, 'utf8')));

// Names the XML uses, read with regexes (not with vnetfw's parser).
export const xmlFacts = (xml: string): { bridge: string; forwardDev: string | undefined; addresses: string[] } => {
  const bridge = /<bridge[^>]*name=['"]([^'"]*)/.exec(xml)?.[1];
  if (bridge === undefined) throw new Error('fixture without <bridge name=>');
  const forwardDev = /<forward[^>]*dev=['"]([^'"]*)/.exec(xml)?.[1];
  const addresses = [...xml.matchAll(/<ip[^>]*address=['"]([^'"]*)/g)].map((m) => m[1] ?? '');
  return { bridge, forwardDev, addresses };
};

// The bridge a definition file names.
export const bridgeOf = (xmlFile: string): string => {
  const m = /<bridge[^>]*name=['"]([^'"]*)/.exec(readFileSync(xmlFile, 'utf8'));
  if (m?.[1] === undefined) throw new Error(`${xmlFile}: no <bridge name=>`);
  return m[1];
};

// --- canonical dumps ---

export type View = 'all' | 'nftables' | 'iptables';

// The full dump, from the three listings: nft without handles and counters, iptables-save and
// ip6tables-save without their comment lines and counters.
export const normalizeDump = (nft: string, v4: string, v6: string): string => {
  const n = nft.split('\n').map((l) => l.replace(/ # handle \d+/, '').replace(/counter packets \d+ bytes \d+/, 'counter'))
    .filter((l) => l.trim() !== '');
  const save = (text: string): string[] => text.split('\n')
    .filter((l) => !/^# (Generated|Completed)/.test(l)).map((l) => l.replace(/\[\d+:\d+\]/, '[]'));
  return ['=== nft', ...n, '=== iptables', ...save(v4), '#--- ip6', ...save(v6)].join('\n') + '\n';
};

export const dumpAll = async (ns: string): Promise<string> => {
  const [nft, v4, v6] = await Promise.all([inNs(ns, ['nft', 'list', 'ruleset']), inNs(ns, ['iptables-save']), inNs(ns, ['ip6tables-save'])]);
  return normalizeDump(nft.stdout, v4.stdout, v6.stdout);
};

// canon.py's canonical form: tables and chains sorted, rule order kept.
export const canon = async (ns: string, view: View = 'all'): Promise<string> => {
  const r = await run(['python3', join(oracleDir, 'canon.py'), view], { input: await dumpAll(ns) });
  if (r.code !== 0) throw new Error(`canon.py: ${r.stderr}`);
  return r.stdout;
};

// Lines of a canonical dump that still name a network: its bridge, or the test subnets, or (given
// the definition's addresses) the first three groups of each.
export const mentions = (dump: string, bridge: string, addresses: readonly string[] = []): string[] => {
  const stems = addresses.map((a) => (a.includes(':') ? a.split('::')[0] ?? a : a.split('.').slice(0, 3).join('.') + '.'));
  return dump.split('\n').filter((l) => l.includes(`"${bridge}"`) || new RegExp(`(^|\\s)${bridge}(\\s|$)`).test(l)
    || /192\.168\.|2001:db8|10\.50\./.test(l) || stems.some((s) => l.includes(s)));
};

// libvirt's rulesets for one case, per backend view: nothing at all, the private set-up only
// (base.<be>: a stopped network) and private set-up + the network's rules (an active one).
export interface Reference { empty: Record<Backend, string>; base: Record<Backend, string>; full: Record<Backend, string> }

export const reference = async (caseName: string): Promise<Reference> => {
  const br = bridgeOf(join(casesDir, `${caseName}.xml`));
  const ref: Reference = { empty: { nftables: '', iptables: '' }, base: { nftables: '', iptables: '' }, full: { nftables: '', iptables: '' } };
  const empty = await nsNew('ref');
  for (const v of BACKENDS) ref.empty[v] = await canon(empty, v);
  for (const be of BACKENDS) {
    const [base, full] = [await nsNew('ref'), await nsNew('ref')];
    for (const ns of [base, full]) {
      await addNetworkDevices(ns, br);
      await replay(ns, join(casesDir, `base.${be}`));
    }
    await replay(full, join(casesDir, `${caseName}-linux.${be}`));
    ref.base[be] = await canon(base, be);
    ref.full[be] = await canon(full, be);
    await nsDel(base);
    await nsDel(full);
  }
  await nsDel(empty);
  return ref;
};
