// Runs the benchmarks one after the other and prints one report (progress goes to stderr).
//
//   node dist/bench/run.js [list|bind|dirty|xml|migrate ...] [--rounds N] [--warmup N] [--repeat N]
//
// Not part of `npm test`: the figures depend on the machine; read the ratios (docs/benchmarks.md).

import os from 'node:os';
import { runBindBenchmark } from './bind-unbind.js';
import { runListBenchmark } from './ldm-list.js';
import { runDirtyBenchmark } from './dirty.js';
import { runXmlBenchmark } from './xml.js';
import { runMigrateDomainBenchmark } from './migrate-domain.js';

interface Args {
  only: string[];
  rounds: number;
  warmup: number;
  /** Migrations per dirty rate in `migrate`. */
  repeat: number;
}

function parse(argv: string[]): Args {
  const args: Args = { only: [], rounds: 40, warmup: 5, repeat: 2 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--rounds' || a === '--warmup') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < (a === '--rounds' ? 1 : 0)) throw new Error(`${a} needs a whole number`);
      if (a === '--rounds') args.rounds = n;
      else args.warmup = n;
    } else if (a === '--repeat') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${a} needs a whole number of at least 1`);
      args.repeat = n;
    } else if (a === 'list' || a === 'bind' || a === 'dirty' || a === 'xml' || a === 'migrate') args.only.push(a);
    else throw new Error(`unknown argument ${a} (usage: run.js [list|bind|dirty|xml|migrate ...] [--rounds N] [--warmup N] [--repeat N])`);
  }
  return args;
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  const want = (b: string) => args.only.length === 0 || args.only.includes(b);
  const log = (t: string) => process.stderr.write(`[bench] ${t}\n`);
  const started = Date.now();
  const cpus = os.cpus();
  const out: string[] = [
    `ldoms benchmarks — ${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${os.platform()} ${os.release()}`,
    `temporary homes under ${os.tmpdir()}`,
  ];
  if (want('list')) out.push('', await runListBenchmark({ rounds: args.rounds, warmup: args.warmup, log }));
  if (want('bind')) out.push('', await runBindBenchmark({ rounds: args.rounds, warmup: args.warmup, log }));
  if (want('dirty')) out.push('', await runDirtyBenchmark({ seconds: 3, rounds: 5, log }));
  if (want('xml')) out.push('', await runXmlBenchmark({ log }));
  if (want('migrate')) out.push('', await runMigrateDomainBenchmark({ repeat: args.repeat, log }));
  out.push('', `total ${((Date.now() - started) / 1000).toFixed(0)} s`);
  process.stdout.write(out.join('\n') + '\n');
}

main().catch((e) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 1;
});
