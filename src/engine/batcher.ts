// Gathers the work of several networks' machines into one batch: each machine's actor joins with
// its input and gets its own result back. The batch runs once every expected member has joined
// or left (a member that fails before joining leaves, so nobody waits for it).
export interface Batcher<I, O> {
  join(name: string, input: I): Promise<O>;
  leave(name: string): void;
}

export const createBatcher = <I, O>(expected: number, run: (inputs: Map<string, I>) => Promise<Map<string, O | Error>>): Batcher<I, O> => {
  let remaining = expected;
  const inputs = new Map<string, I>();
  const waiters = new Map<string, { resolve: (o: O) => void; reject: (e: unknown) => void }>();
  const maybeRun = (): void => {
    if (inputs.size === 0 || inputs.size < remaining) return;
    const batch = new Map(inputs);
    const ws = new Map(waiters);
    inputs.clear();
    waiters.clear();
    remaining = 0;
    run(batch).then((results) => {
      for (const [name, w] of ws) {
        const r = results.get(name);
        if (r === undefined) w.reject(new Error(`batch returned nothing for ${name}`));
        else if (r instanceof Error) w.reject(r);
        else w.resolve(r);
      }
    }, (err: unknown) => { for (const w of ws.values()) w.reject(err); });
  };
  return {
    join: (name, input) => new Promise<O>((resolve, reject) => {
      inputs.set(name, input);
      waiters.set(name, { resolve, reject });
      maybeRun();
    }),
    leave: () => { remaining -= 1; maybeRun(); },
  };
};
