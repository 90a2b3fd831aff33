// What puts a damaged private set-up back (drift repair): what is missing, and where a jump from a
// parent chain is missing every jump of that parent again in libvirt's order. Expected commands
// written by hand from libvirt's set-up (network_iptables.c / network_nftables.c).
import { describe, expect, it } from 'vitest';
import { parseIptablesSave, parseNftListTable, privateSetup, privateSetupRepair, type FwCommand, type PrivateState } from '../../../src/firewall/index.js';
import { emptyPrivateState } from '../../../src/firewall/private-setup.js';

const line = (c: FwCommand): string => `${c.program} ${c.args.join(' ')}`;

// iptables-save of one family with libvirt's set-up in place, minus the lines given.
const IPT_SAVE = `*mangle
:POSTROUTING ACCEPT [0:0]
:LIBVIRT_PRT - [0:0]
-A POSTROUTING -j LIBVIRT_PRT
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:LIBVIRT_FWI - [0:0]
:LIBVIRT_FWO - [0:0]
:LIBVIRT_FWX - [0:0]
:LIBVIRT_INP - [0:0]
:LIBVIRT_OUT - [0:0]
-A INPUT -j LIBVIRT_INP
-A FORWARD -j LIBVIRT_FWX
-A FORWARD -j LIBVIRT_FWI
-A FORWARD -j LIBVIRT_FWO
-A OUTPUT -j LIBVIRT_OUT
-A LIBVIRT_FWO -s 192.168.122.0/24 -i virbr0 -j ACCEPT
COMMIT
*nat
:POSTROUTING ACCEPT [0:0]
:LIBVIRT_PRT - [0:0]
-A POSTROUTING -j LIBVIRT_PRT
COMMIT
`;
const iptState = (without: readonly string[] = []): PrivateState => {
  const s = emptyPrivateState();
  const text = IPT_SAVE.split('\n').filter((l) => !without.includes(l)).join('\n');
  parseIptablesSave(text, s.ipv4);
  parseIptablesSave(text.replace('192.168.122.0/24', '::/0'), s.ipv6);
  return s;
};

const NFT_LIST = (fam: string): string => `table ${fam} libvirt_network { # handle 3
\tchain forward { # handle 1
\t\ttype filter hook forward priority filter; policy accept;
\t\tcounter packets 0 bytes 0 jump guest_cross # handle 7
\t\tcounter packets 0 bytes 0 jump guest_input # handle 5
\t\tcounter packets 0 bytes 0 jump guest_output # handle 3
\t}
\tchain guest_output { # handle 2
\t}
\tchain guest_input { # handle 4
\t}
\tchain guest_cross { # handle 6
\t}
\tchain guest_nat { # handle 8
\t\ttype nat hook postrouting priority srcnat; policy accept;
\t}
\tchain postroute_mangle { # handle 9
\t\ttype filter hook postrouting priority filter; policy accept;
\t}
}
`;
const nftState = (ipv4: string): PrivateState => {
  const s = emptyPrivateState();
  parseNftListTable('ipv4', ipv4, s.ipv4);
  parseNftListTable('ipv6', NFT_LIST('ip6'), s.ipv6);
  return s;
};

describe('privateSetupRepair', () => {
  it('is empty when the set-up is whole (iptables-save; nft -a list table, handles after the header)', () => {
    expect(privateSetupRepair('iptables', iptState())).toEqual([]);
    expect(privateSetupRepair('nftables', nftState(NFT_LIST('ip')))).toEqual([]);
  });

  it('iptables: one jump of FORWARD gone: the other two out, all three in again in libvirt order', () => {
    expect(privateSetupRepair('iptables', iptState(['-A FORWARD -j LIBVIRT_FWI']), ['ipv4']).map(line)).toEqual([
      'iptables --table filter --delete FORWARD --jump LIBVIRT_FWO',
      'iptables --table filter --delete FORWARD --jump LIBVIRT_FWX',
      'iptables --table filter --insert FORWARD --jump LIBVIRT_FWO',
      'iptables --table filter --insert FORWARD --jump LIBVIRT_FWI',
      'iptables --table filter --insert FORWARD --jump LIBVIRT_FWX',
    ]);
  });

  it('iptables: the jump from nat POSTROUTING gone: only that one', () => {
    expect(privateSetupRepair('iptables', iptState(['-A POSTROUTING -j LIBVIRT_PRT']), ['ipv4']).map(line)).toEqual([
      // The save's mangle and nat sections both had the line: both are gone here.
      'iptables --table nat --insert POSTROUTING --jump LIBVIRT_PRT',
      'iptables --table mangle --insert POSTROUTING --jump LIBVIRT_PRT',
    ]);
  });

  // The same commands as a first set-up; chains first, then the jumps (the result is the same).
  const sorted = (cmds: FwCommand[]): string[] => cmds.map(line).sort();
  it('iptables: everything flushed (a firewalld reload): the commands of a first set-up', () => {
    expect(sorted(privateSetupRepair('iptables', emptyPrivateState()))).toEqual(sorted(privateSetup('iptables')));
  });

  it('iptables: a family not read is not judged', () => {
    expect(privateSetupRepair('iptables', emptyPrivateState(), [])).toEqual([]);
  });

  it('nftables: a jump of forward gone: the chain flushed and its three jumps inserted in libvirt order', () => {
    const without = NFT_LIST('ip').split('\n').filter((l) => !l.includes('jump guest_input')).join('\n');
    expect(privateSetupRepair('nftables', nftState(without)).map(line)).toEqual([
      'nft flush chain ip libvirt_network forward',
      'nft insert rule ip libvirt_network forward counter jump guest_output',
      'nft insert rule ip libvirt_network forward counter jump guest_input',
      'nft insert rule ip libvirt_network forward counter jump guest_cross',
    ]);
  });

  it('nftables: the table gone: the commands of a first set-up', () => {
    expect(sorted(privateSetupRepair('nftables', emptyPrivateState()))).toEqual(sorted(privateSetup('nftables')));
  });
});
