// A strict parser of Prometheus' text exposition format (0.0.4), for tests: any line that is not a
// well-formed HELP, TYPE or sample line, a sample of an undeclared family, a duplicate series, a
// missing final newline or an incomplete histogram is an error naming the line. A file cut short
// anywhere fails one of these checks.
export interface Sample { name: string; labels: Record<string, string>; value: number }
export interface Family { name: string; type: string; help: string; samples: Sample[] }
export type Exposition = Map<string, Family>;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

const parseValue = (s: string, where: string): number => {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`${where}: bad value '${s}'`);
  return Number(s);
};

// `{a="x",b="y\"z"}` -> labels; returns the index just past the closing brace.
const parseLabels = (line: string, start: number, where: string): { labels: Record<string, string>; end: number } => {
  const labels: Record<string, string> = {};
  let i = start + 1;
  while (line[i] !== '}') {
    const eq = line.indexOf('=', i);
    if (eq < 0) throw new Error(`${where}: label without '='`);
    const name = line.slice(i, eq);
    if (!LABEL.test(name)) throw new Error(`${where}: bad label name '${name}'`);
    if (line[eq + 1] !== '"') throw new Error(`${where}: label value not quoted`);
    let v = '';
    let j = eq + 2;
    for (; j < line.length && line[j] !== '"'; j++) {
      if (line[j] === '\\') {
        const e = line[++j];
        if (e === 'n') v += '\n'; else if (e === '\\' || e === '"') v += e; else throw new Error(`${where}: bad escape '\\${e ?? ''}'`);
      } else v += line[j];
    }
    if (j >= line.length) throw new Error(`${where}: unterminated label value`);
    if (name in labels) throw new Error(`${where}: label '${name}' twice`);
    labels[name] = v;
    i = j + 1;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') throw new Error(`${where}: expected ',' or '}' after a label`);
  }
  return { labels, end: i + 1 };
};

const familyOf = (fams: Exposition, sample: string): Family | undefined => {
  const direct = fams.get(sample);
  if (direct !== undefined) return direct;
  const m = /^(.*)_(bucket|sum|count)$/.exec(sample);
  const f = m === null ? undefined : fams.get(m[1] ?? '');
  return f !== undefined && (f.type === 'histogram' || (f.type === 'summary' && m?.[2] !== 'bucket')) ? f : undefined;
};

export const parseExposition = (text: string): Exposition => {
  if (text !== '' && !text.endsWith('\n')) throw new Error('the text does not end with a newline (cut short?)');
  const fams: Exposition = new Map();
  const series = new Set<string>();
  text.split('\n').slice(0, -1).forEach((line, idx) => {
    const where = `line ${idx + 1} '${line.slice(0, 80)}'`;
    if (line === '') return;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta !== null) {
      const [, kind, name = '', rest = ''] = meta;
      if (!NAME.test(name)) throw new Error(`${where}: bad metric name`);
      const f = fams.get(name) ?? { name, type: 'untyped', help: '', samples: [] };
      if (f.samples.length > 0) throw new Error(`${where}: ${kind ?? ''} after the family's samples`);
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type '${rest}'`);
        f.type = rest;
      } else f.help = rest;
      fams.set(name, f);
      return;
    }
    if (line.startsWith('#')) return;   // a comment
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) throw new Error(`${where}: not a sample line`);
    const name = line.slice(0, nameEnd);
    if (!NAME.test(name)) throw new Error(`${where}: bad metric name`);
    let labels: Record<string, string> = {};
    let i = nameEnd;
    if (line[i] === '{') ({ labels, end: i } = parseLabels(line, i, where));
    if (line[i] !== ' ') throw new Error(`${where}: expected a space before the value`);
    const parts = line.slice(i + 1).split(' ');
    if (parts.length > 2 || (parts[1] !== undefined && !/^-?\d+$/.test(parts[1]))) throw new Error(`${where}: bad value or timestamp`);
    const value = parseValue(parts[0] ?? '', where);
    const fam = familyOf(fams, name);
    if (fam === undefined) throw new Error(`${where}: sample of an undeclared family`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (series.has(key)) throw new Error(`${where}: duplicate series`);
    series.add(key);
    fam.samples.push({ name, labels, value });
  });
  for (const f of fams.values()) if (f.type === 'histogram') checkHistogram(f);
  return fams;
};

// Buckets cumulative, a +Inf bucket equal to _count, and a _sum, for every label set.
const checkHistogram = (f: Family): void => {
  const groups = new Map<string, { buckets: Array<[number, number]>; sum?: number; count?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const g = groups.get(key) ?? { buckets: [] };
    if (s.name === `${f.name}_bucket`) g.buckets.push([parseValue(le ?? '', `${f.name} le`), s.value]);
    else if (s.name === `${f.name}_sum`) g.sum = s.value;
    else if (s.name === `${f.name}_count`) g.count = s.value;
    groups.set(key, g);
  }
  for (const [key, g] of groups) {
    const b = g.buckets.sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < b.length; i++) if ((b[i]?.[1] ?? 0) < (b[i - 1]?.[1] ?? 0)) throw new Error(`${f.name}${key}: buckets not cumulative`);
    if (b.at(-1)?.[0] !== Infinity || g.sum === undefined || g.count === undefined || b.at(-1)?.[1] !== g.count) {
      throw new Error(`${f.name}${key}: incomplete histogram (+Inf bucket, _sum, _count)`);
    }
  }
};

// The value of one series (labels must match exactly), or undefined.
export const seriesValue = (e: Exposition, name: string, labels: Record<string, string> = {}): number | undefined => {
  const fam = familyOf(e, name);
  const want = JSON.stringify(Object.entries(labels).sort());
  return fam?.samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want)?.value;
};

// The sum over every series of `name` whose labels include `match`.
export const seriesSum = (e: Exposition, name: string, match: Record<string, string> = {}): number =>
  (familyOf(e, name)?.samples ?? [])
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
