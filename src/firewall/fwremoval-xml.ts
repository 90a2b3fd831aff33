// libvirt's persisted removal list (libvirt >= 10.4, src/util/virfirewall.c): <firewall name='fwRemoval' backend='...'>, written
// the way virFirewallFormat writes it and read the way virFirewallParseXML reads it, so a libvirt
// status file's list can be imported.
import { VnetfwError } from '../errors.js';
import { attr as attrOf, children as list, decodeXmlText, parseSafeXml, type XNode as Node } from '../xml/index.js';
import type { Backend, FwCommand, FwGroup, FwRemoval, Program } from './model.js';
import { BACKENDS } from './model.js';

export class FwRemovalXmlError extends VnetfwError {
  constructor(message: string) {
    super('EFWXML', message, { exitCode: 2 });
    this.name = 'FwRemovalXmlError';
  }
}

export const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');

type Layer = 'ethernet' | 'ipv4' | 'ipv6' | 'tc';

const layerOf = (cmd: FwCommand): Layer => {
  if (cmd.program === 'iptables') return 'ipv4';
  if (cmd.program === 'ip6tables') return 'ipv6';
  if (cmd.program === 'tc') return 'tc';
  const verbAt = cmd.args.findIndex((a) => !a.startsWith('-'));
  return cmd.args[verbAt + 2] === 'ip6' ? 'ipv6' : 'ipv4';
};

const programOf = (backend: Backend, layer: string, what: string): Program => {
  if (backend === 'nftables' && (layer === 'ipv4' || layer === 'ipv6')) return 'nft';
  // The newest libvirt's nftables networks carry a tc filter (DHCP checksum) in their list.
  if (backend === 'nftables' && layer === 'tc') return 'tc';
  if (layer === 'ipv4') return 'iptables';
  if (layer === 'ipv6') return 'ip6tables';
  throw new FwRemovalXmlError(`${what}: fwRemoval action layer '${layer}' is not supported with backend ${backend}`);
};

export const formatFwRemovalXml = (removal: FwRemoval, indent = 0): string => {
  const pad = (n: number): string => ' '.repeat(indent + n * 2);
  const lines = [`${pad(0)}<firewall name='fwRemoval' backend='${escapeXml(removal.backend)}'>`];
  for (const group of removal.groups) {
    if (group.commands.length === 0) continue;
    lines.push(`${pad(1)}<group${group.ignoreErrors ? " ignoreErrors='yes'" : ''}>`);
    for (const cmd of group.commands) {
      const own = cmd.ignoreErrors === true && !group.ignoreErrors ? " ignoreErrors='yes'" : '';
      lines.push(`${pad(2)}<action layer='${layerOf(cmd)}'${own}>`, `${pad(3)}<args>`);
      for (const a of cmd.args) lines.push(`${pad(4)}<item>${escapeXml(a)}</item>`);
      lines.push(`${pad(3)}</args>`, `${pad(2)}</action>`);
    }
    lines.push(`${pad(1)}</group>`);
  }
  lines.push(`${pad(0)}</firewall>`);
  return `${lines.join('\n')}\n`;
};

// Items are kept as written, not trimmed, as libvirt reads them (virFirewallParseXML).
const parseDoc = (text: string, what: string): Node =>
  parseSafeXml(text, what, { trimValues: false, fail: (m) => new FwRemovalXmlError(m) });

const fromFirewallNode = (fw: Node, what: string): FwRemoval => {
  const backend = attrOf(fw, 'backend');
  if (backend === undefined || !(BACKENDS as readonly string[]).includes(backend)) {
    throw new FwRemovalXmlError(`${what}: firewall backend '${backend ?? ''}' is invalid: must be iptables or nftables`);
  }
  const groups: FwGroup[] = [];
  for (const g of list(fw, 'group')) {
    const groupIgnore = attrOf(g, 'ignoreErrors') === 'yes';
    const commands: FwCommand[] = [];
    for (const a of list(g, 'action')) {
      const layer = attrOf(a, 'layer');
      if (layer === undefined) throw new FwRemovalXmlError(`${what}: action layer is missing`);
      const argsNode = list(a, 'args')[0];
      if (argsNode === undefined) continue;
      const items = list(argsNode, 'item').map((i) => decodeXmlText(typeof i['#text'] === 'string' ? i['#text'] : ''));
      if (items.length === 0) throw new FwRemovalXmlError(`${what}: an action's <args> has no <item>`);
      const cmd: FwCommand = { program: programOf(backend as Backend, layer, what), args: items };
      // libvirt files an nft command under the layer of its family (ip: ipv4, ip6: ipv6).
      const fam = items[2];
      if (cmd.program === 'nft' && (fam === 'ip' || fam === 'ip6') && layer !== (fam === 'ip' ? 'ipv4' : 'ipv6')) {
        throw new FwRemovalXmlError(`${what}: action layer '${layer}' does not match nft family '${fam}' of '${items.join(' ')}'`);
      }
      if (groupIgnore || attrOf(a, 'ignoreErrors') === 'yes') cmd.ignoreErrors = true;
      commands.push(cmd);
    }
    if (commands.length > 0) groups.push({ ignoreErrors: groupIgnore, commands });
  }
  return { backend: backend as Backend, groups };
};

export const parseFwRemovalXml = (text: string, what = 'fwRemoval'): FwRemoval => {
  const fw = list(parseDoc(text, what), 'firewall')[0];
  if (fw === undefined) throw new FwRemovalXmlError(`${what}: no <firewall> element`);
  return fromFirewallNode(fw, what);
};

// The fwRemoval list of a libvirt <networkstatus> file; undefined when there is none (a network
// started by libvirt <= 10.3, whose rules need the legacy removal).
export const fwRemovalFromStatusXml = (text: string, what = 'networkstatus'): FwRemoval | undefined => {
  const status = list(parseDoc(text, what), 'networkstatus')[0];
  if (status === undefined) throw new FwRemovalXmlError(`${what}: root element is not <networkstatus>`);
  const fw = list(status, 'firewall').find((f) => attrOf(f, 'name') === 'fwRemoval');
  return fw === undefined ? undefined : fromFirewallNode(fw, what);
};
