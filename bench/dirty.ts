// Guest memory under load: (a) does the workload hold its configured dirty rate, and at what CPU
// cost; (b) what the dirty log costs on a 4 GiB domain — write throughput with the log off and on,
// and takeDirty() on a 4 GiB bitmap at 1%, 10% and 100% of its pages dirty.
//
//   node dist/bench/dirty.js [--seconds N] [--rounds N]
//
// Not part of `npm test`. Shared machines are noisy, so every figure in (b) is paired with a
// baseline measured in the same run, right before it: the write loop with the log off, takeDirty()
// on an empty bitmap, and reading the dirty pages (the copy a pre-copy round does after taking them).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomFillSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { Workload } from '../src/guest/workload.js';
import { GuestMemory, PAGE_SIZE } from '../src/machine/guest-memory.js';
import { median, p90 } from './harness.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const DOMAIN = 4 * GiB;
const PAGES = DOMAIN / PAGE_SIZE;

export interface DirtyOptions {
  /** Seconds each workload rate runs in (a). */
  seconds: number;
  /** Paired rounds in (b). */
  rounds: number;
  log: (text: string) => void;
}

function render(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd()).join('\n');
}

const x = (v: number) => v.toFixed(3) + '×';
const mibs = (bytesPerSecond: number) => (bytesPerSecond / MiB).toFixed(2);
const us = (ms: number) => (ms * 1000).toFixed(0) + ' µs';

/** CPU time (user + system) of this process in ms. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

// ---- (a) achieved vs configured rate ----------------------------------------------------------------

async function rates(dir: string, opts: DirtyOptions): Promise<string> {
  const rows = [['configured MiB/s', 'achieved MiB/s', 'achieved/configured', 'written MiB', 'CPU % of one core']];
  for (const rateMiB of [0, 16, 64, 256]) {
    opts.log(`rate ${rateMiB} MiB/s for ${opts.seconds} s`);
    const mem = GuestMemory.open(path.join(dir, `rate-${rateMiB}.mem`), DOMAIN);
    const w = new Workload(mem, { workingSet: 1 * GiB, dirtyRate: rateMiB * MiB }, { seed: rateMiB + 1 });
    const cpu0 = cpuMs();
    w.start();
    await sleep(opts.seconds * 1000);
    w.stop();
    const cpu = cpuMs() - cpu0;
    const s = w.stats();
    mem.destroy();
    rows.push([
      String(rateMiB) + (rateMiB > 64 ? ' (beyond spec)' : ''),
      mibs(s.achievedRate),
      rateMiB === 0 ? (s.bytesWritten === 0 ? 'nothing written' : `${s.bytesWritten} B written`) : x(s.achievedRate / (rateMiB * MiB)),
      (s.bytesWritten / MiB).toFixed(1),
      ((cpu / s.elapsedMs) * 100).toFixed(1),
    ]);
  }
  return render(rows);
}

// ---- (b) the dirty log ------------------------------------------------------------------------------

/** Random whole-page writes for `ms`: pages per second. Content from a pool, so only the write path counts. */
function writeLoop(mem: GuestMemory, pool: Buffer[], ms: number): number {
  let seed = 0x9e3779b9;
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let i = 0; i < 64; i++, n++) {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      const page = (seed >>> 0) % PAGES;
      mem.write(page * PAGE_SIZE, pool[n & (pool.length - 1)]);
    }
    t = performance.now();
  }
  return n / ((t - t0) / 1000);
}

function throughput(dir: string, opts: DirtyOptions): string {
  const mem = GuestMemory.open(path.join(dir, 'throughput.mem'), DOMAIN);
  const pool = Array.from({ length: 64 }, () => randomFillSync(Buffer.alloc(PAGE_SIZE)));
  const BURST = 300;
  const off: number[] = [];
  const on: number[] = [];
  opts.log(`write throughput, log off vs on: ${opts.rounds} paired bursts of ${BURST} ms`);
  writeLoop(mem, pool, BURST); // warm-up
  for (let r = 0; r < opts.rounds; r++) {
    mem.setDirtyLogging(false);
    off.push(writeLoop(mem, pool, BURST));
    mem.setDirtyLogging(true);
    on.push(writeLoop(mem, pool, BURST));
  }
  mem.destroy();
  const ratio = on.map((v, i) => v / off[i]);
  const rows = [
    ['4 GiB domain, random 8 KiB page writes', 'median MiB/s', 'p90 MiB/s', '× log off (median)', 'p90 ×'],
    ['dirty log off (baseline)', mibs(median(off) * PAGE_SIZE), mibs(p90(off) * PAGE_SIZE), x(1), ''],
    ['dirty log on', mibs(median(on) * PAGE_SIZE), mibs(p90(on) * PAGE_SIZE), x(median(ratio)), x(p90(ratio))],
  ];
  return render(rows);
}

/** The workload at 64 MiB/s with the log off and on: CPU per second of guest activity. */
async function workloadCpu(dir: string, opts: DirtyOptions): Promise<string> {
  const mem = GuestMemory.open(path.join(dir, 'wl.mem'), DOMAIN);
  const off: number[] = [];
  const on: number[] = [];
  const rounds = Math.max(3, Math.ceil(opts.rounds / 4));
  opts.log(`workload CPU at 64 MiB/s, log off vs on: ${rounds} paired runs of 1 s`);
  const run = async (logging: boolean): Promise<number> => {
    mem.setDirtyLogging(logging);
    const w = new Workload(mem, { workingSet: DOMAIN, dirtyRate: 64 * MiB });
    const c0 = cpuMs();
    w.start();
    await sleep(1000);
    w.stop();
    return (cpuMs() - c0) / w.stats().elapsedMs;
  };
  for (let r = 0; r < rounds; r++) {
    off.push(await run(false));
    on.push(await run(true));
  }
  mem.destroy();
  const ratio = on.map((v, i) => v / off[i]);
  return render([
    ['workload 64 MiB/s, 4 GiB working set', 'median CPU %', '× log off (median)'],
    ['dirty log off (baseline)', (median(off) * 100).toFixed(1), x(1)],
    ['dirty log on', (median(on) * 100).toFixed(1), x(median(ratio))],
  ]);
}

/** Pages chosen at random with the given fraction (exactly round(fraction × PAGES) of them). */
function choosePages(fraction: number): Uint32Array {
  if (fraction >= 1) return Uint32Array.from({ length: PAGES }, (_, i) => i);
  const want = Math.round(fraction * PAGES);
  const picked = new Uint8Array(PAGES);
  const out = new Uint32Array(want);
  let seed = 12345;
  for (let n = 0; n < want; ) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const p = Math.floor((seed / 0x1_0000_0000) * PAGES);
    if (!picked[p]) {
      picked[p] = 1;
      out[n++] = p;
    }
  }
  return out.sort();
}

function takeDirtyCost(dir: string, opts: DirtyOptions): string {
  const mem = GuestMemory.open(path.join(dir, 'take.mem'), DOMAIN);
  const one = Buffer.alloc(1);
  mem.setDirtyLogging(true);
  // One-byte writes mark a page without writing 8 KiB of it: 100% dirty costs 2 GiB of disk, not 4.
  const dirty = (pages: Uint32Array) => {
    for (const p of pages) mem.write(p * PAGE_SIZE, one);
  };
  const timeTake = (): { ms: number; n: number } => {
    const t0 = performance.now();
    const got = mem.takeDirty();
    return { ms: performance.now() - t0, n: got.length };
  };
  const rows = [['4 GiB bitmap (524288 pages)', 'pages', 'median', 'p90', '× empty scan', 'read those pages', 'take / read']];
  const empty: number[] = [];
  for (let r = 0; r < opts.rounds; r++) empty.push(timeTake().ms);
  rows.push(['empty (baseline)', '0', us(median(empty)), us(p90(empty)), x(1), '', '']);
  for (const fraction of [0.01, 0.1, 1]) {
    const pages = choosePages(fraction);
    const rounds = fraction >= 1 ? Math.max(3, Math.ceil(opts.rounds / 4)) : opts.rounds;
    opts.log(`takeDirty at ${fraction * 100}% dirty: ${rounds} rounds`);
    const ms: number[] = [];
    const base: number[] = [];
    for (let r = 0; r < rounds; r++) {
      base.push(timeTake().ms); // the empty scan, paired
      dirty(pages);
      const t = timeTake();
      if (t.n !== pages.length) throw new Error(`takeDirty returned ${t.n} pages, ${pages.length} were dirtied`);
      ms.push(t.ms);
    }
    // The copy a pre-copy round makes of the pages it took: one 8 KiB pread each (page cache warm).
    const buf = Buffer.alloc(PAGE_SIZE);
    const fd = fs.openSync(mem.file, 'r');
    const t0 = performance.now();
    for (const p of pages) fs.readSync(fd, buf, 0, PAGE_SIZE, p * PAGE_SIZE);
    const readMs = performance.now() - t0;
    fs.closeSync(fd);
    const ratio = ms.map((v, i) => v / base[i]);
    rows.push([
      `${fraction * 100}% dirty`,
      String(pages.length),
      us(median(ms)),
      us(p90(ms)),
      x(median(ratio)),
      readMs >= 1000 ? (readMs / 1000).toFixed(2) + ' s' : readMs.toFixed(1) + ' ms',
      ((median(ms) / readMs) * 100).toFixed(2) + '%',
    ]);
  }
  mem.destroy();
  return render(rows);
}

export async function runDirtyBenchmark(opts: DirtyOptions): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ldoms-dirty-'));
  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  const onSignal = () => {
    cleanup();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return [
      `## Guest memory: dirty rate and dirty log (4 GiB domains, ${PAGE_SIZE}-byte pages, files under ${os.tmpdir()})`,
      '',
      `(a) workload, 1 GiB working set, ${opts.seconds} s per rate, 50 ms ticks`,
      await rates(dir, opts),
      '',
      `(b) dirty log cost: write loop, ${opts.rounds} paired bursts`,
      throughput(dir, opts),
      '',
      await workloadCpu(dir, opts),
      '',
      `takeDirty(), ${opts.rounds} rounds (100%: fewer), each paired with an empty scan`,
      takeDirtyCost(dir, opts),
    ].join('\n');
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    cleanup();
  }
}

function parse(argv: string[]): { seconds: number; rounds: number } {
  const args = { seconds: 3, rounds: 20 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = Number(argv[++i]);
    if (a === '--seconds' && v > 0) args.seconds = v;
    else if (a === '--rounds' && Number.isInteger(v) && v > 0) args.rounds = v;
    else throw new Error(`bad argument ${a} ${argv[i] ?? ''} (usage: dirty.js [--seconds N] [--rounds N])`);
  }
  return args;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const cpus = os.cpus();
  const log = (t: string) => process.stderr.write(`[bench] ${t}\n`);
  const started = Date.now();
  runDirtyBenchmark({ ...parse(process.argv.slice(2)), log })
    .then((report) => {
      process.stdout.write(
        `ldoms dirty-log benchmark — ${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${os.platform()} ${os.release()}\n\n` +
          report +
          `\n\ntotal ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
      );
    })
    .catch((e) => {
      process.stderr.write(`bench: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
      process.exitCode = 1;
    });
}
