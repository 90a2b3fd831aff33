// `npm run bench` / `node dist/bench/run.js [NAME [ARGS...]]`: runs one benchmark by name, or all
// of them. Each benchmark is a module exporting a `Bench`; add yours to the table below.
import { dataplaneBench } from './dataplane.js';
import { logGrowthBench } from './log-growth.js';
import { logOpenBench } from './log-open.js';
import { manyBench } from './many.js';
import { memoryBench } from './memory.js';
import { startupBench } from './startup.js';
import { switchBench } from './switch.js';

export interface Bench {
  name: string;
  about: string;
  run(args: string[]): Promise<void>;
}

const benches: Bench[] = [logOpenBench, logGrowthBench, switchBench, memoryBench, dataplaneBench, startupBench, manyBench];

const main = async (argv: string[]): Promise<number> => {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === '--list') {
    process.stdout.write(`usage: node dist/bench/run.js [NAME [ARGS...]]\n\n${benches.map((b) => `  ${b.name.padEnd(10)} ${b.about}`).join('\n')}\n`);
    return 0;
  }
  if (name === undefined) {
    for (const b of benches) await b.run([]);
    return 0;
  }
  const bench = benches.find((b) => b.name === name);
  if (bench === undefined) {
    process.stderr.write(`bench: unknown benchmark '${name}' (known: ${benches.map((b) => b.name).join(', ')})\n`);
    return 2;
  }
  await bench.run(rest);
  return 0;
};

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
