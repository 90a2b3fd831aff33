// Splits one line into words the way iptables-restore and nft do for our inputs: whitespace
// separates, double or single quotes group (quotes kept when `keepQuotes`, as nft prints them).
export function tokenize(line: string, keepQuotes = false): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quote) {
      if (ch === '\\' && quote === '"' && i + 1 < line.length) {
        cur += line[++i];
      } else if (ch === quote) {
        if (keepQuotes) cur += ch;
        quote = null;
      } else {
        cur += ch;
      }
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
      if (keepQuotes) cur += ch;
    } else if (/\s/.test(ch)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote) throw new Error('unterminated quote');
  if (inWord) out.push(cur);
  return out;
}

// iptables-save style: quote a word only when it needs it.
export function quoteIfNeeded(word: string): string {
  return /^[^\s"']+$/.test(word) ? word : `"${word.replace(/(["\\])/g, '\\$1')}"`;
}
