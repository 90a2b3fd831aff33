// The lines of a network.conf in libvirt's conf syntax: `key = "value"`, `key = 1`,
// `key = ["a", "b"]` (a list may span lines), `#` comments. Read by hand rather than with an INI
// reader so that every value keeps its line number and nothing is hidden silently: a `[section]`
// header, a line that is not `key = value` and a key given twice become warnings naming the line.
export interface ConfEntry {
  key: string;
  value: string;          // unquoted for a "string"; a list keeps its brackets: ["a", "b"]
  line: number;           // 1-based, the line of the key
}

export interface ConfWarning {
  line: number;
  message: string;
}

export interface ConfLines {
  entries: Map<string, ConfEntry>;   // the last occurrence of each key counts, as before
  warnings: ConfWarning[];
}

const KEY = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/s;

// A '#' outside quotes starts a comment.
const stripComment = (s: string): string => {
  let quote: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote !== null) { if (c === quote) quote = null; } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') return s.slice(0, i);
  }
  return s;
};

const unquote = (v: string): string => {
  const t = v.trim();
  const m = /^"(.*)"$/s.exec(t) ?? /^'(.*)'$/s.exec(t);
  return (m?.[1] ?? t).trim();
};

export const readConfLines = (text: string): ConfLines => {
  const entries = new Map<string, ConfEntry>();
  const warnings: ConfWarning[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const body = stripComment(lines[i] ?? '').trim();
    if (body === '') continue;
    if (/^\[.*\]$/.test(body)) {
      warnings.push({ line: lineNo, message: `section header '${body}' ignored: network.conf has no sections; the keys after it are read as top-level keys` });
      continue;
    }
    const m = KEY.exec(body);
    if (m === null) {
      warnings.push({ line: lineNo, message: `ignored: not a 'key = value' line` });
      continue;
    }
    const key = m[1] ?? '';
    let value = (m[2] ?? '').trim();
    // A list may span lines until its closing bracket.
    if (value.startsWith('[')) {
      while (!value.includes(']') && i + 1 < lines.length) {
        i++;
        value += ` ${stripComment(lines[i] ?? '').trim()}`;
      }
    } else {
      value = unquote(value);
    }
    const first = entries.get(key);
    if (first !== undefined) {
      warnings.push({ line: lineNo, message: `duplicate key '${key}' (also on line ${first.line}): the last one counts` });
    }
    entries.set(key, { key, value, line: lineNo });
  }
  return { entries, warnings };
};
