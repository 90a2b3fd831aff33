// POSIX shell quoting for display, `plan` output and logs: each word must survive `sh -c` intact.
// The rule is libvirt's virBufferEscapeShell (quote only when a shell metacharacter is present), so
// `plan` prints commands exactly as libvirt's dry run does.
const SHELL_META = /[\r\t\n !"#$&'()*;<>?[\\\]^`{|}~]/;

export function shellQuoteWord(word: string): string {
  if (word !== '' && !SHELL_META.test(word)) return word;
  // Single quotes protect everything except a single quote, which is closed, escaped, reopened.
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function shellQuote(argv: readonly string[]): string {
  return argv.map(shellQuoteWord).join(' ');
}
