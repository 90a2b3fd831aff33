// POSIX shell quoting for display and for `plan` output: each word must survive `sh -c` intact.
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function shellQuoteWord(word: string): string {
  if (word !== '' && SAFE.test(word)) return word;
  // Single quotes protect everything except a single quote, which is closed, escaped, reopened.
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function shellQuote(argv: readonly string[]): string {
  return argv.map(shellQuoteWord).join(' ');
}
