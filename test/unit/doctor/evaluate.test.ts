// The evaluator's semantics on small hand-written rulesets (nft's JSON form): jumps and gotos,
// verdict maps, priorities, what it cannot read ("may drop", never fine), and our own tables.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseNetworkXml } from '../../../src/definition/index.js';
import { analyseNetwork, describeFinding, type Finding } from '../../../src/doctor/index.js';
import { renderNftRule, tablesFromIptablesSave, tablesFromNftJson } from '../../../src/ruleset/index.js';

const xml = readFileSync(new URL('../../fixtures/cases/nat-default.xml', import.meta.url), 'utf8');
const def = parseNetworkXml(xml, 'nat-default.xml');
const isolated = parseNetworkXml(readFileSync(new URL('../../fixtures/cases/isolated.xml', import.meta.url), 'utf8'), 'isolated.xml');

type Expr = Record<string, unknown>;
interface ChainSpec { name: string; hook?: 'input' | 'forward' | 'output'; prio?: number; policy?: 'accept' | 'drop'; rules?: Expr[][] }
const ruleset = (family: string, table: string, chains: ChainSpec[]): Expr[] => [
  { table: { family, name: table } },
  ...chains.map((c) => ({ chain: { family, table, name: c.name, ...(c.hook === undefined ? {} : { type: 'filter', hook: c.hook, prio: c.prio ?? 0, policy: c.policy ?? 'accept' }) } })),
  ...chains.flatMap((c) => (c.rules ?? []).map((expr, i) => ({ rule: { family, table, chain: c.name, handle: 100 + i, expr } }))),
];
const doc = (...parts: Expr[][]): unknown => ({ nftables: parts.flat() });
const run = (d: unknown, network = def): Finding[] =>
  analyseNetwork(network, tablesFromNftJson(d, renderNftRule), { uplinks: ['eth0'], hostFirewall: { mode: 'integrate', explicit: false } });
const brief = (f: Finding): string => `${f.traffic} ${f.verdict} ${f.table} ${f.chain} ${f.policy ?? f.rule ?? ''}`;

const m = (key: string, right: unknown, op = '=='): Expr => ({ match: { op, left: { meta: { key } }, right } });
const daddr = (addr: string, len: number): Expr => ({ match: { op: '==', left: { payload: { protocol: 'ip', field: 'daddr' } }, right: { prefix: { addr, len } } } });
const DROP = { drop: null };
const ACCEPT = { accept: null };
const fwd = (rules: Expr[][], extra: ChainSpec[] = [], policy: 'accept' | 'drop' = 'accept'): unknown =>
  doc(ruleset('inet', 'host', [{ name: 'fwd', hook: 'forward', policy, rules }, ...extra]));

describe('doctor evaluator', () => {
  it('an accepting host table blocks nothing; a forward policy drop blocks the forwarded classes only', () => {
    expect(run(fwd([]))).toEqual([]);
    expect(run(fwd([], [], 'drop')).map(brief)).toEqual([
      'guest-out drop host fwd drop', 'reply-in drop host fwd drop', 'guest-guest drop host fwd drop',
    ]);
  });

  it('jump: a chain that returns lets the base chain go on; goto: its return ends the base chain (policy)', () => {
    const empty = { name: 'x' };
    expect(run(fwd([[{ jump: { target: 'x' } }], [DROP]], [empty])).map((f) => f.verdict)).toEqual(['drop', 'drop', 'drop']);
    expect(run(fwd([[{ goto: { target: 'x' } }], [DROP]], [empty]))).toEqual([]);
    // a rule of the called chain that accepts ends the walk in the base chain too
    expect(run(fwd([[{ jump: { target: 'x' } }], [DROP]], [{ name: 'x', rules: [[m('iifname', 'virbr0'), ACCEPT], [m('oifname', 'virbr0'), ACCEPT]] }]))).toEqual([]);
  });

  it('what it cannot read is "may drop", never fine: unknown matches, unknown verdicts, missing chains', () => {
    const mark = { match: { op: '==', left: { meta: { key: 'mark' } }, right: 1 } };
    expect(run(fwd([[mark, DROP]])).map(brief)).toEqual([
      'guest-out may-drop host fwd meta mark 1 drop', 'reply-in may-drop host fwd meta mark 1 drop', 'guest-guest may-drop host fwd meta mark 1 drop',
    ]);
    expect(run(fwd([[{ queue: { num: 1 } }]])).map((f) => f.verdict)).toEqual(['may-drop', 'may-drop', 'may-drop']);
    expect(run(fwd([[{ jump: { target: 'nowhere' } }]])).map((f) => f.verdict)).toEqual(['may-drop', 'may-drop', 'may-drop']);
  });

  it('addresses: a rule for part of the outside may drop guest -> outside; one for another family never matches', () => {
    expect(run(fwd([[daddr('10.0.0.0', 8), DROP]])).map(brief)).toEqual(['guest-out may-drop host fwd ip daddr 10.0.0.0/8 drop']);
    expect(run(fwd([[daddr('192.168.0.0', 16), DROP]])).map(brief)).toEqual([
      'guest-out may-drop host fwd ip daddr 192.168.0.0/16 drop', 'reply-in drop host fwd ip daddr 192.168.0.0/16 drop', 'guest-guest drop host fwd ip daddr 192.168.0.0/16 drop',
    ]);
    const v6 = { match: { op: '==', left: { payload: { protocol: 'ip6', field: 'daddr' } }, right: { prefix: { addr: '::', len: 0 } } } };
    expect(run(fwd([[v6, DROP]]))).toEqual([]);
  });

  it('verdict maps on interfaces and conntrack state; interface wildcards', () => {
    const vmap = { vmap: { key: { meta: { key: 'iifname' } }, data: { set: [['virbr*', DROP], ['lo', ACCEPT]] } } };
    expect(run(fwd([[vmap]])).map((f) => f.traffic)).toEqual(['guest-out', 'guest-guest']);
    const ct = { vmap: { key: { ct: { key: 'state' } }, data: { set: [['established', ACCEPT], ['new', DROP]] } } };
    expect(run(fwd([[ct]])).map((f) => f.traffic)).toEqual(['guest-out', 'guest-guest']);
  });

  it('every base chain on the hook has its say, in priority order; our own tables are not foreign', () => {
    const d = doc(
      ruleset('ip', 'early', [{ name: 'f', hook: 'forward', prio: -10, rules: [[ACCEPT]] }]),
      ruleset('ip', 'late', [{ name: 'f', hook: 'forward', prio: 10, policy: 'drop' }]),
      ruleset('ip', 'libvirt_network', [{ name: 'forward', hook: 'forward', rules: [[DROP]] }]),
    );
    expect(run(d).map(brief)).toEqual(['guest-out drop late f drop', 'reply-in drop late f drop', 'guest-guest drop late f drop']);
  });

  it('input and output: DNS, DHCP to the host and its DHCP replies, per protocol and port', () => {
    const d = doc(ruleset('inet', 'host', [
      { name: 'in', hook: 'input', policy: 'drop', rules: [[{ match: { op: '==', left: { payload: { protocol: 'udp', field: 'dport' } }, right: { set: [53, 67] } } }, ACCEPT]] },
      { name: 'out', hook: 'output', rules: [[{ match: { op: '==', left: { payload: { protocol: 'udp', field: 'sport' } }, right: 67 } }, { reject: null }]] },
    ]));
    expect(run(d).map((f) => `${f.traffic} ${f.protocols.join('+')} ${f.verdict}`)).toEqual(['dns-in tcp drop', 'dhcp-out udp reject']);
  });

  it('an isolated network has no forwarded traffic to the outside, only guest <-> guest', () => {
    expect(run(fwd([], [], 'drop'), isolated).map((f) => `${f.traffic} ${f.ipFamily}`)).toEqual(['guest-guest ipv4', 'guest-guest ipv6']);
  });
});

describe('iptables-save reader', () => {
  const save = (rules: string, policy = 'DROP'): string => `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ${policy} [0:0]\n:OUTPUT ACCEPT [0:0]\n:X - [0:0]\n${rules}COMMIT\n`;
  const runSave = (text: string): Finding[] =>
    analyseNetwork(def, tablesFromIptablesSave(text, 'ip', 'iptables-legacy'), { uplinks: ['eth0'], hostFirewall: { mode: 'integrate', explicit: false } });

  it('negations, wildcards, conntrack states, multiport and goto', () => {
    expect(runSave(save('-A FORWARD -i virbr+ -j ACCEPT\n-A FORWARD -o virbr0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n'))).toEqual([]);
    expect(runSave(save('-A FORWARD ! -o eth0 -j ACCEPT\n')).map((f) => f.traffic)).toEqual(['guest-out']);
    expect(runSave(save('-A FORWARD -p tcp -j ACCEPT\n')).map((f) => `${f.traffic} ${f.protocols.join('+')}`))
      .toEqual(['guest-out udp', 'reply-in udp', 'guest-guest udp']);
    const input = '*filter\n:INPUT DROP [0:0]\n-A INPUT -i virbr0 -p udp -m multiport --dports 53,67:68 -j ACCEPT\nCOMMIT\n';
    expect(runSave(input).map((f) => `${f.traffic} ${f.protocols.join('+')}`)).toEqual(['dns-in tcp']);
    expect(runSave(save('-A FORWARD -g X\n-A FORWARD -j DROP\n', 'ACCEPT'))).toEqual([]);
  });

  it('an unknown module or target may drop; LIBVIRT_* chains are ours', () => {
    expect(runSave(save('-A FORWARD -m physdev --physdev-in vnet0 -j ACCEPT\n')).map((f) => f.verdict)).toEqual(['drop', 'drop', 'drop'].map(() => 'may-drop'));
    expect(runSave(save('-A FORWARD -j NFQUEUE --queue-num 1\n', 'ACCEPT')).map((f) => f.verdict)).toEqual(['may-drop', 'may-drop', 'may-drop']);
    const owner = runSave(save('', 'DROP'))[0]?.owner;
    expect(owner).toBe('iptables-legacy');
  });
});

describe('doctor output', () => {
  it("control characters in other programs' names and comments are shown escaped", () => {
    const evil = doc(ruleset('inet', 'host', [{ name: 'fwd', hook: 'forward', rules: [[{ drop: null }]] }])) as { nftables: Record<string, Record<string, unknown>>[] };
    const rule = evil.nftables.find((o) => o.rule !== undefined)?.rule;
    if (rule !== undefined) rule.comment = 'x\u001b[2Jy';
    const [f] = run(evil);
    expect(f?.rule).toBe('drop comment "x\u001b[2Jy"');
    const text = describeFinding(f as Finding);
    expect(text).toContain('drop comment "x\\x1b[2Jy"');
    expect(text).not.toContain('\u001b');
  });
});
