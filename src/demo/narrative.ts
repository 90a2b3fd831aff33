// What the user reads: a heading per step saying what it proves, indented facts as they happen,
// a live counter line on a terminal, and ✔/✘ with the step's duration. With --json all of this
// is silent and only the final measurements are printed.
export interface Narrator {
  step(n: number, title: string, why: string): void;
  info(text: string): void;
  live(text: string): void;
  result(ok: boolean, text: string, ms: number): void;
  close(): void;
}

export const silentNarrator: Narrator = { step: () => undefined, info: () => undefined, live: () => undefined, result: () => undefined, close: () => undefined };

export const textNarrator = (out: NodeJS.WritableStream, tty: boolean): Narrator => {
  let liveShown = false;
  const clearLive = (): void => { if (liveShown) { out.write('\r\x1b[K'); liveShown = false; } };
  const color = (code: string, s: string): string => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
  return {
    step: (n, title, why) => { clearLive(); out.write(`\n${color('1', `${n}. ${title}`)}\n   ${color('2', why)}\n`); },
    info: (text) => { clearLive(); out.write(`   ${text}\n`); },
    // Only a terminal gets the rewriting counter; a log file gets the milestones via info().
    live: (text) => { if (tty) { out.write(`\r\x1b[K   ${text}`); liveShown = true; } },
    result: (ok, text, ms) => {
      clearLive();
      out.write(`   ${ok ? color('32', '✔') : color('31', '✘')} ${text} ${color('2', `(${(ms / 1000).toFixed(1)} s)`)}\n`);
    },
    close: clearLive,
  };
};
