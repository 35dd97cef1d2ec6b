// Live migration of a domain's memory between two processes on this machine over TLS on loopback
// (src/migration/precopy.ts): a 4 GiB domain whose 1 GiB working set is written with random bytes
// first (incompressible), migrated while its guest dirties that working set at 0, 16 and 64 MiB/s.
// Total time, throughput, downtime and rounds; and, measured right before each migration in the same
// run, the raw TLS throughput of one loopback stream pumping a buffer, so that every figure is also
// a ratio to what the machine's TLS can do.
//
//   node dist/bench/migrate-memory.js [--repeat N] [--streams N]
//
// Not part of `npm test`. The source (memory, dirty log, workload, sendMemory) is this process; the
// target (receiveMemory) is a child process, as two ldmd would be: each side has its own event loop
// and CPU. About 1.5 minutes with the defaults (2 repeats) on 2 cores.

import { fork, type ChildProcess } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { generate } from 'selfsigned';
import { Workload } from '../src/guest/workload.js';
import { GuestMemory, PAGE_SIZE } from '../src/machine/guest-memory.js';
import { receiveMemory, sendMemory, streamCountFor, type PrecopyStats } from '../src/migration/precopy.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const DOMAIN = 4 * GiB;
const WORKING_SET = 1 * GiB;
const RATES_MIB = [0, 16, 64];
const RAW_BYTES = 1 * GiB;
const HOST = '127.0.0.2';
/** The guest runs this long before the migration starts, so the dirty rate is steady. */
const WARMUP_MS = 500;
/** The primary domain's vCPUs, as the manager benchmarks set it up (docs/benchmarks.md: set-vcpu 8 primary). */
const PRIMARY_VCPUS = 8;

// ---- the target process -------------------------------------------------------------------------

type ToTarget =
  | { op: 'raw' }
  | { op: 'migrate'; file: string; size: number; streams: number }
  | { op: 'quit' };
type FromTarget =
  | { op: 'listening'; port: number }
  | { op: 'raw-done'; bytes: number }
  | { op: 'migrated'; checksum: string; pages: number }
  | { op: 'failed'; message: string };

async function target(key: string, cert: string): Promise<void> {
  const send = (m: FromTarget) => process.send!(m);
  let accept: ((s: tls.TLSSocket) => void) | null = null;
  const server = tls.createServer({ key, cert }, (s) => accept?.(s));
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  send({ op: 'listening', port: (server.address() as AddressInfo).port });
  const take = (n: number) =>
    new Promise<tls.TLSSocket[]>((resolve) => {
      const got: tls.TLSSocket[] = [];
      accept = (s) => {
        got.push(s);
        if (got.length === n) resolve(got);
      };
    });
  process.on('message', async (m: ToTarget) => {
    if (m.op === 'quit') {
      server.close();
      process.disconnect();
      return;
    }
    if (m.op === 'raw') {
      const [s] = await take(1);
      let bytes = 0;
      s.on('data', (d: Buffer) => (bytes += d.length));
      s.on('end', () => {
        s.end();
        send({ op: 'raw-done', bytes });
      });
      return;
    }
    const streams = await take(m.streams);
    const mem = GuestMemory.open(m.file, m.size);
    try {
      const r = await receiveMemory(mem, streams);
      send({ op: 'migrated', checksum: r.checksum, pages: r.pages });
    } catch (e) {
      send({ op: 'failed', message: (e as Error).message });
    } finally {
      mem.destroy();
    }
  });
}

// ---- the source process -------------------------------------------------------------------------

class TargetProcess {
  private readonly inbox: FromTarget[] = [];
  private wake: (() => void) | null = null;
  port = 0;

  constructor(readonly child: ChildProcess) {
    child.on('message', (m: FromTarget) => {
      this.inbox.push(m);
      this.wake?.();
    });
  }

  async next(): Promise<FromTarget> {
    while (this.inbox.length === 0) await new Promise<void>((resolve) => (this.wake = resolve));
    return this.inbox.shift()!;
  }

  tell(m: ToTarget): void {
    this.child.send(m);
  }

  connect(n: number, ca: string): Promise<tls.TLSSocket[]> {
    return Promise.all(
      Array.from(
        { length: n },
        () =>
          new Promise<tls.TLSSocket>((resolve, reject) => {
            const s = tls.connect({ host: HOST, port: this.port, ca }, () => resolve(s));
            s.once('error', reject);
          }),
      ),
    );
  }
}

/** One TLS stream pumping a random 2 MiB buffer: bytes per second as the target counts them. */
async function rawTls(t: TargetProcess, ca: string): Promise<number> {
  t.tell({ op: 'raw' });
  const [s] = await t.connect(1, ca);
  const buf = randomFillSync(Buffer.alloc(2 * MiB));
  const t0 = performance.now();
  for (let sent = 0; sent < RAW_BYTES; sent += buf.length) {
    if (!s.write(buf)) await new Promise((resolve) => s.once('drain', resolve));
  }
  s.end();
  s.resume();
  const m = await t.next();
  const seconds = (performance.now() - t0) / 1000;
  s.destroy();
  if (m.op !== 'raw-done' || m.bytes !== RAW_BYTES) throw new Error(`raw TLS run: ${JSON.stringify(m)}`);
  return RAW_BYTES / seconds;
}

interface Row {
  rateMiB: number;
  streams: number;
  raw: number;
  stats: PrecopyStats;
  achievedMiB: number;
}

async function migrateOnce(t: TargetProcess, ca: string, src: GuestMemory, dir: string, rateMiB: number, streams: number, seed: number): Promise<Omit<Row, 'raw'>> {
  const w = new Workload(src, { workingSet: WORKING_SET, dirtyRate: rateMiB * MiB }, { seed });
  w.start();
  await sleep(WARMUP_MS);
  const file = path.join(dir, `target-${seed}.mem`);
  t.tell({ op: 'migrate', file, size: DOMAIN, streams });
  const sockets = await t.connect(streams, ca);
  const stats = await sendMemory(src, sockets, {
    downtimeTargetMs: 300,
    maxRounds: 30,
    compress: 'auto',
    suspend: async () => w.stop(),
  });
  const m = await t.next();
  for (const s of sockets) s.destroy();
  if (m.op !== 'migrated') throw new Error(`target: ${JSON.stringify(m)}`);
  if (m.checksum !== stats.checksumAtSuspend) throw new Error(`checksums differ: target ${m.checksum}, source ${stats.checksumAtSuspend}`);
  return { rateMiB, streams, stats, achievedMiB: w.stats().achievedRate / MiB };
}

function render(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd()).join('\n');
}

export async function runMigrateMemoryBenchmark(opts: { repeat: number; streams: number; log: (s: string) => void }): Promise<string> {
  const t00 = performance.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrate-memory-'));
  const pems = await generate([{ name: 'commonName', value: 'migrate-memory-bench' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: HOST }] }],
  });
  const child = fork(fileURLToPath(import.meta.url), ['--target'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  child.send({ key: pems.private, cert: pems.cert });
  const t = new TargetProcess(child);
  const src = GuestMemory.open(path.join(dir, 'source.mem'), DOMAIN);
  try {
    const hello = await t.next();
    if (hello.op !== 'listening') throw new Error(`target: ${JSON.stringify(hello)}`);
    t.port = hello.port;

    opts.log(`writing the 1 GiB working set of a 4 GiB domain with random bytes`);
    const chunk = Buffer.alloc(8 * MiB);
    for (let at = 0; at < WORKING_SET; at += chunk.length) src.write(at, randomFillSync(chunk));
    // A running guest's memory is resident: read it all once so the page cache holds it (holes
    // included), as the first migration would otherwise pay what the next ones do not.
    opts.log('reading the domain once (page cache warm)');
    src.flush();
    await src.checksum();

    const rows: Row[] = [];
    let seed = 1;
    for (let r = 0; r < opts.repeat; r++) {
      for (const rateMiB of RATES_MIB) {
        opts.log(`run ${r + 1}/${opts.repeat}: raw TLS, then migration at ${rateMiB} MiB/s over ${opts.streams} stream(s)`);
        const raw = await rawTls(t, pems.cert);
        const row = await migrateOnce(t, pems.cert, src, dir, rateMiB, opts.streams, seed++);
        rows.push({ ...row, raw });
      }
      if (opts.streams !== 1) {
        opts.log(`run ${r + 1}/${opts.repeat}: raw TLS, then migration at 0 MiB/s over 1 stream`);
        const raw = await rawTls(t, pems.cert);
        rows.push({ ...(await migrateOnce(t, pems.cert, src, dir, 0, 1, seed++)), raw });
      }
    }

    const f1 = (v: number) => v.toFixed(1);
    const f2 = (v: number) => v.toFixed(2);
    const table = [
      [
        'dirty MiB/s (achieved)',
        'streams',
        'raw TLS MiB/s',
        'total s',
        '× raw',
        'throughput MiB/s',
        '÷ raw',
        'memory MiB/s',
        'downtime ms',
        '× raw',
        'rounds',
        'stop',
        'final MiB',
        'sent GiB',
        'verify s',
      ],
    ];
    for (const r of rows) {
      const s = r.stats;
      const rawSeconds = WORKING_SET / r.raw;
      table.push([
        `${r.rateMiB} (${f1(r.achievedMiB)})`,
        String(r.streams),
        f1(r.raw / MiB),
        f2(s.totalMs / 1000),
        f2(s.totalMs / 1000 / rawSeconds) + '×',
        f1(s.throughputBytesPerSec / MiB),
        f2(s.throughputBytesPerSec / r.raw),
        f1((s.pagesSent * PAGE_SIZE) / MiB / (s.totalMs / 1000)),
        f1(s.downtimeMs),
        // Below 1 MiB the downtime is a round trip and an acknowledgement, not a transfer.
        s.finalBytes >= MiB ? f2(s.downtimeMs / 1000 / (s.finalBytes / r.raw)) + '×' : '—',
        String(s.rounds),
        s.stopReason,
        f1(s.finalBytes / MiB),
        f2(s.bytesOnWire / GiB),
        f2(s.verifyMs / 1000),
      ]);
    }
    return [
      `Memory migration: ${DOMAIN / GiB} GiB domain, ${WORKING_SET / GiB} GiB incompressible working set, TLS on ${HOST}, target in a child process`,
      `(${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, Node ${process.version}; streamCountFor(${PRIMARY_VCPUS} primary vCPUs) = ${streamCountFor(PRIMARY_VCPUS)}; downtime target 300 ms)`,
      '',
      render(table),
      '',
      `total × raw: total time over the time one raw TLS stream takes to move the ${WORKING_SET / GiB} GiB working set.`,
      'throughput ÷ raw: bytes on the wire per second of total time over the raw TLS rate measured just before.',
      'memory MiB/s: pages sent (zero pages included) × 8 KiB per second of total time.',
      'downtime × raw: downtime over the time raw TLS takes to move the stop-and-copy bytes (— below 1 MiB).',
      `run time ${((performance.now() - t00) / 1000).toFixed(0)} s`,
    ].join('\n');
  } finally {
    src.destroy();
    t.tell({ op: 'quit' });
    await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] === self) {
  if (process.argv.includes('--target')) {
    process.once('message', (m: { key: string; cert: string }) => void target(m.key, m.cert));
  } else {
    const args = process.argv.slice(2);
    const num = (flag: string, dflt: number) => {
      const i = args.indexOf(flag);
      return i >= 0 ? Number(args[i + 1]) : dflt;
    };
    runMigrateMemoryBenchmark({
      repeat: num('--repeat', 2),
      streams: num('--streams', streamCountFor(PRIMARY_VCPUS)),
      log: (s) => process.stderr.write(s + '\n'),
    }).then(
      (out) => console.log(out),
      (e) => {
        console.error(e);
        process.exitCode = 1;
      },
    );
  }
}
