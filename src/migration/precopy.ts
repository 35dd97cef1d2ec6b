// Phase 3 and 4 of a live migration (migration.md §3.2): a domain's memory moves to the target while
// the guest runs (pre-copy rounds driven by the dirty log), then the guest is suspended and what it
// dirtied since is copied (stop-and-copy). Transport-agnostic: any ordered byte streams (TLS sockets
// between two ldmd, in-process pairs in tests). Wire format, convergence rule and the ordering proof
// are in docs/migration-engine.md.
//
// Several streams move pages in parallel, a page always on the stream of its stripe (`streamOf`: runs
// of STRIPE_PAGES consecutive pages, dealt to the streams in turn), so each stream alone
// orders every copy of its pages: the last copy applied is the last one sent (the seed's note on
// speeding migration up: parallelism sized by the primary domains' vCPUs, streamCountFor()).

import fs from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import zlib from 'node:zlib';
import { MemoryDigest, PAGE_SIZE, type GuestMemory } from '../machine/guest-memory.js';

// ---- wire format --------------------------------------------------------------------------------

/** Source → target records: `[u8 type][u32 page][u32 len][len bytes]`, big-endian. */
export const Rec = {
  /** page = stream index; payload = u32 magic, u32 version, u32 stream count, u32 page count. */
  HELLO: 0x01,
  /** payload = the page, PAGE_SIZE bytes. */
  PAGE_RAW: 0x02,
  /** A page of zeros: no payload. */
  PAGE_ZERO: 0x03,
  /** payload = the page as raw deflate (RFC 1951), shorter than the page. */
  PAGE_DEFLATE: 0x04,
  /** page = round number (from 1); payload = 1 byte, 0 pre-copy round, 1 stop-and-copy round. */
  ROUND_END: 0x05,
  /** page = 0; payload = the source's memory checksum at suspension, 64 hex digits. */
  END: 0x06,
  /** The source gave up (cancel or failure): no payload. */
  CANCEL: 0x07,
} as const;

/** Target → source replies, same framing. */
export const Reply = {
  /** page = the round applied in full on this stream. */
  ACK: 0x81,
  /** The target's checksum equals the source's: the copy is complete. */
  VERIFIED: 0x82,
  /** payload = the reason (UTF-8, at most FAIL_MAX bytes); the target gave up. */
  FAIL: 0x83,
} as const;

export const HEADER_SIZE = 9;
export const WIRE_MAGIC = 0x4c444d4d; // 'LDMM'
export const WIRE_VERSION = 1;
const HELLO_SIZE = 16;
const CHECKSUM_HEX = 64;
const FAIL_MAX = 1024;
const PHASE_PRECOPY = 0;
const PHASE_FINAL = 1;

/** Accepted payload lengths per record type: a length outside its bounds is refused before any allocation. */
const FORWARD_LENGTHS: ReadonlyMap<number, readonly [number, number]> = new Map([
  [Rec.HELLO, [HELLO_SIZE, HELLO_SIZE]],
  [Rec.PAGE_RAW, [PAGE_SIZE, PAGE_SIZE]],
  [Rec.PAGE_ZERO, [0, 0]],
  [Rec.PAGE_DEFLATE, [1, PAGE_SIZE - 1]],
  [Rec.ROUND_END, [1, 1]],
  [Rec.END, [CHECKSUM_HEX, CHECKSUM_HEX]],
  [Rec.CANCEL, [0, 0]],
]);
const REPLY_LENGTHS: ReadonlyMap<number, readonly [number, number]> = new Map([
  [Reply.ACK, [0, 0]],
  [Reply.VERIFIED, [0, 0]],
  [Reply.FAIL, [0, FAIL_MAX]],
]);

/** Pages read with one `read` (2 MiB): big enough to amortise the syscall, small enough to keep buffers short. */
const BATCH_PAGES = 256;
/** Dirty pages this close together are read as one span (the few clean pages between are read and skipped). */
const MAX_GAP = 4;
/** 'auto' keeps a deflated page only below 7/8 of the page: less saves too little wire to pay for inflating. */
const KEEP_BELOW = (PAGE_SIZE * 7) / 8;
/** Progress callbacks at most this often, besides round boundaries. */
const PROGRESS_EVERY_MS = 200;
/** A round moving less than this measures latency, not bandwidth: the previous estimate is kept. */
const MIN_MEASURED_BYTES = 1024 * 1024;
/** One process encrypts on one thread per stream; beyond this, more streams only add buffers. */
const MAX_STREAMS = 16;
/**
 * The engine shares its process's event loop with the guest (the workload's timer), the console and
 * the manager's requests: it yields at least this often even when its streams never push back.
 */
const YIELD_EVERY_MS = 10;

const ZERO_PAGE = Buffer.alloc(PAGE_SIZE);

/** Pages per stripe: a stream carries runs of consecutive pages, which the target writes at once. */
export const STRIPE_PAGES = 64;

/** The stream that carries `page` of `n`: every copy of a page on the same one (the ordering proof). */
export function streamOf(page: number, n: number): number {
  return Math.floor(page / STRIPE_PAGES) % n;
}

/** A malformed, truncated or refused migration stream. */
export class MigrationStreamError extends Error {
  override name = 'MigrationStreamError';
}

/** The migration was cancelled (AbortSignal on either side, or CANCEL from the source). */
export class MigrationCancelledError extends Error {
  override name = 'AbortError';
}

function header(type: number, page: number, len: number): Buffer {
  const h = Buffer.allocUnsafe(HEADER_SIZE);
  h[0] = type;
  h.writeUInt32BE(page >>> 0, 1);
  h.writeUInt32BE(len, 5);
  return h;
}

function typeName(type: number): string {
  for (const [k, v] of [...Object.entries(Rec), ...Object.entries(Reply)]) if (v === type) return k;
  return `0x${type.toString(16).padStart(2, '0')}`;
}

/**
 * Splits a byte stream into records. Lengths are checked against the type's bounds as soon as the
 * header is in, so garbage fails at its first 9 bytes and nothing is ever sized from an unchecked
 * length. A payload inside one chunk is a view of it; only one straddling chunks is copied.
 */
class RecordReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private pending: { type: number; page: number; len: number } | null = null;

  constructor(
    private readonly lengths: ReadonlyMap<number, readonly [number, number]>,
    private readonly where: string,
  ) {}

  /** Bytes of an unfinished record. */
  get partial(): number {
    return this.buffered + (this.pending === null ? 0 : HEADER_SIZE);
  }

  push(chunk: Buffer, onRecord: (type: number, page: number, payload: Buffer) => void): void {
    if (!Buffer.isBuffer(chunk)) throw new MigrationStreamError(`${this.where}: stream delivers text, not bytes`);
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.pending === null) {
        if (this.buffered < HEADER_SIZE) return;
        const h = this.take(HEADER_SIZE);
        const type = h[0];
        const page = h.readUInt32BE(1);
        const len = h.readUInt32BE(5);
        const bounds = this.lengths.get(type);
        if (bounds === undefined) {
          throw new MigrationStreamError(`${this.where}: unknown record type ${typeName(type)} (not a migration stream, or corrupted)`);
        }
        if (len < bounds[0] || len > bounds[1]) {
          const want = bounds[0] === bounds[1] ? `${bounds[0]}` : `${bounds[0]}..${bounds[1]}`;
          throw new MigrationStreamError(`${this.where}: ${typeName(type)} record of ${len} bytes (expected ${want})`);
        }
        this.pending = { type, page, len };
      }
      if (this.buffered < this.pending.len) return;
      const { type, page, len } = this.pending;
      this.pending = null;
      onRecord(type, page, this.take(len));
    }
  }

  private take(n: number): Buffer {
    const first = this.chunks[0];
    this.buffered -= n;
    if (n === 0) return ZERO_PAGE.subarray(0, 0);
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const c = this.chunks[0];
      const k = Math.min(c.length, n - at);
      c.copy(out, at, 0, k);
      at += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}

/**
 * A promise that rejects with the first failure of the transfer, raced against every wait, so a
 * dead stream, a refusal from the peer or a cancel ends the transfer wherever it is waiting.
 */
class Failure {
  error: Error | null = null;
  readonly promise: Promise<never>;
  private rejectWith!: (e: Error) => void;

  constructor() {
    this.promise = new Promise<never>((_, reject) => (this.rejectWith = reject));
    this.promise.catch(() => {});
  }

  fail(e: Error): void {
    if (this.error !== null) return;
    this.error = e;
    this.rejectWith(e);
  }

  /** Also fails when the failure came while `p` was settling (a cancel from inside suspend()). */
  async race<T>(p: Promise<T>): Promise<T> {
    const value = await Promise.race([p, this.promise]);
    this.check();
    return value;
  }

  check(): void {
    if (this.error !== null) throw this.error;
  }
}

function cancelledError(signal: AbortSignal, side: string): Error {
  const reason = signal.reason instanceof Error && signal.reason.name !== 'AbortError' ? `: ${signal.reason.message}` : '';
  return new MigrationCancelledError(`memory migration cancelled on the ${side}${reason}`, { cause: signal.reason });
}

function errorOf(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

function waitDrain(stream: Duplex, failure: Failure): Promise<void> {
  if (!stream.writableNeedDrain) return Promise.resolve();
  return failure.race(new Promise<void>((resolve) => stream.once('drain', resolve)));
}

/** Close our side once everything queued is written; a stream that cannot flush is destroyed later. */
/**
 * Feed what a stream delivers to its record reader, and turn its errors and its end into failures.
 * The listeners stay after the end: a late 'error' from the caller's stream (a reset after our end)
 * must not become an unhandled 'error' event, and late data — after a failure too — is read and
 * dropped, so a peer blocked on backpressure gets to read the FAIL or CANCEL.
 */
function listenTo(
  stream: Duplex,
  reader: RecordReader,
  o: { handle: (type: number, page: number, payload: Buffer) => void; failure: Failure; done: () => boolean; where: () => string; gone: () => void },
): void {
  stream.on('data', (chunk: Buffer) => {
    if (o.done() || o.failure.error !== null) return;
    try {
      reader.push(chunk, o.handle);
    } catch (e) {
      o.failure.fail(errorOf(e));
    }
  });
  stream.on('error', (e: Error) => {
    if (!o.done()) o.failure.fail(new MigrationStreamError(`${o.where()}: ${e.message}`, { cause: e }));
  });
  stream.on('end', o.gone);
  stream.on('close', o.gone);
}

function finish(stream: Duplex, last?: Buffer): void {
  if (!stream.destroyed && !stream.writableEnded) {
    try {
      stream.end(last);
    } catch {
      // already failing: destroyed below
    }
  }
  setTimeout(() => stream.destroy(), 2000).unref();
}

/**
 * Parallel streams for a migration: one per vCPU of the primary domains (the smaller of the two
 * sides'), within the CPUs this machine really has (os.availableParallelism) and at most 16.
 */
export function streamCountFor(primaryVcpus: number, hostCpus = os.availableParallelism()): number {
  return Math.max(1, Math.min(Math.floor(primaryVcpus) || 1, Math.floor(hostCpus) || 1, MAX_STREAMS));
}

// ---- source -------------------------------------------------------------------------------------

export interface PrecopyProgress {
  round: number;
  sentBytes: number;
  remainingPages: number;
  percent: number;
  phase: 'precopy' | 'stop-and-copy';
}

export interface PrecopyOptions {
  /** Stop iterating once the dirty set fits in this downtime at the measured throughput. */
  downtimeTargetMs: number;
  /** Rounds in all, the stop-and-copy round included; 1 suspends first and copies once (warm migration). */
  maxRounds: number;
  /** 'auto' deflates (level 1) a page that looks compressible and keeps it below 7/8 of the page; 'off' never. Zero pages are always elided. */
  compress: 'auto' | 'off';
  progress?: (p: PrecopyProgress) => void;
  /** Cancel: stop, tell the target, leave the source intact. */
  signal?: AbortSignal;
  /** Fault injection (tests): wait this long after each pre-copy round, the guest still running. */
  pauseAfterRoundMs?: number;
}

/** Why pre-copy stopped and the guest was suspended. */
export type StopReason = 'fits' | 'max-rounds' | 'not-shrinking';

export interface PrecopyStats {
  /** Start to the last stop-and-copy page applied on the target (verification excluded). */
  totalMs: number;
  /** suspend() resolved to the target's acknowledgement of the stop-and-copy round on every stream. */
  downtimeMs: number;
  /** Rounds in all, the stop-and-copy round included. */
  rounds: number;
  pagesSent: number;
  /** Record headers and payloads (what TLS then encrypts). */
  bytesOnWire: number;
  zeroPages: number;
  compressedPages: number;
  /** bytesOnWire over totalMs. */
  throughputBytesPerSec: number;
  /** The final acknowledgement to the target's VERIFIED: both sides' checksums. */
  verifyMs: number;
  stopReason: StopReason;
  /** The stop-and-copy round: pages and bytes moved while the guest was suspended. */
  finalPages: number;
  finalBytes: number;
}

/**
 * After pre-copy round `round`: stop (and why) or go on. The dirty set, sent raw at the throughput
 * measured so far, fits the downtime target; or the next round would be the stop-and-copy round
 * anyway; or the set did not shrink (the guest dirties as fast as we copy, Oracle's "until the
 * changed-page set stops shrinking", migration.md §7). Round 1 copied everything, so shrinking
 * counts from round 2.
 */
export function convergence(s: {
  round: number;
  maxRounds: number;
  dirtyPages: number;
  lastRoundPages: number;
  throughputBytesPerSec: number;
  downtimeTargetMs: number;
}): StopReason | null {
  const estimateMs = s.throughputBytesPerSec > 0 ? ((s.dirtyPages * (HEADER_SIZE + PAGE_SIZE)) / s.throughputBytesPerSec) * 1000 : Infinity;
  if (estimateMs <= s.downtimeTargetMs || s.dirtyPages === 0) return 'fits';
  if (s.round + 1 >= s.maxRounds) return 'max-rounds';
  if (s.round > 1 && s.dirtyPages >= s.lastRoundPages) return 'not-shrinking';
  return null;
}

interface SourceLink {
  stream: Duplex;
  index: number;
  reader: RecordReader;
  acked: number;
  verified: boolean;
}

/**
 * Whether deflate is worth trying on a page: 265 bytes sampled at a prime stride; random bytes show
 * ~160 distinct values among them, text and structures far fewer. Deflating a random page costs
 * ~90 µs (~90 MB/s on the build machine), far more than sending it.
 */
function looksCompressible(page: Buffer): boolean {
  const seen = new Uint8Array(256);
  let distinct = 0;
  for (let i = 0; i < PAGE_SIZE; i += 31) {
    const b = page[i];
    if (seen[b] === 0) {
      seen[b] = 1;
      distinct++;
    }
  }
  return distinct <= 128;
}

/** Source side: full copy, then rounds of dirty pages, then `suspend()` (the caller stops the guest) and the final copy. */
export async function sendMemory(
  mem: GuestMemory,
  streams: Duplex[],
  opts: PrecopyOptions & { suspend: () => Promise<void> },
): Promise<PrecopyStats & { checksumAtSuspend: string }> {
  if (streams.length < 1 || streams.length > MAX_STREAMS) throw new RangeError(`memory migration needs 1..${MAX_STREAMS} streams (got ${streams.length})`);
  if (!(opts.maxRounds >= 1)) throw new RangeError(`maxRounds must be at least 1 (got ${opts.maxRounds})`);
  if (!(opts.downtimeTargetMs >= 0)) throw new RangeError(`downtimeTargetMs must be at least 0 (got ${opts.downtimeTargetMs})`);
  const { signal } = opts;
  if (signal?.aborted) throw cancelledError(signal, 'source');

  const pageCount = mem.size / PAGE_SIZE;
  const n = streams.length;
  const failure = new Failure();
  const t0 = performance.now();
  const stats = { pagesSent: 0, bytesOnWire: 0, zeroPages: 0, compressedPages: 0 };
  let ackWaiters: Array<() => void> = [];
  let verifiedWaiter: (() => void) | null = null;
  let done = false;

  const links: SourceLink[] = streams.map((stream, index) => ({
    stream,
    index,
    reader: new RecordReader(REPLY_LENGTHS, `migration stream ${index} (replies from the target)`),
    acked: 0,
    verified: false,
  }));

  const onReply = (link: SourceLink) => (type: number, page: number, payload: Buffer) => {
    if (type === Reply.FAIL) {
      throw new MigrationStreamError(`target refused the memory (stream ${link.index}): ${payload.toString('utf8') || 'no reason given'}`);
    }
    if (type === Reply.ACK) {
      if (page !== link.acked + 1) throw new MigrationStreamError(`migration stream ${link.index}: target acknowledged round ${page}, expected ${link.acked + 1}`);
      link.acked = page;
      const waiters = ackWaiters;
      ackWaiters = [];
      for (const w of waiters) w();
      return;
    }
    // VERIFIED: the only other reply the reader lets through.
    link.verified = true;
    if (links.every((l) => l.verified)) verifiedWaiter?.();
  };

  for (const link of links) {
    listenTo(link.stream, link.reader, {
      handle: onReply(link),
      failure,
      done: () => done,
      where: () => `migration stream ${link.index}`,
      gone: () => {
        if (!done && !link.verified) failure.fail(new MigrationStreamError(`migration stream ${link.index} closed by the target before the copy was verified`));
      },
    });
  }
  const onAbort = () => failure.fail(cancelledError(signal!, 'source'));
  signal?.addEventListener('abort', onAbort, { once: true });

  const acksOf = (round: number): Promise<void> =>
    failure.race(
      new Promise<void>((resolve) => {
        const check = () => (links.every((l) => l.acked >= round) ? resolve() : ackWaiters.push(check));
        check();
      }),
    );

  // progress: the share of pages sent among those sent and still to send, never going back
  let round = 0;
  let phase: PrecopyProgress['phase'] = 'precopy';
  let lastProgress = 0;
  let percent = 0;
  const report = (remainingInRound: number, force: boolean) => {
    if (opts.progress === undefined) return;
    const now = performance.now();
    if (!force && now - lastProgress < PROGRESS_EVERY_MS) return;
    lastProgress = now;
    const remainingPages = remainingInRound + mem.dirtyCount();
    const share = stats.pagesSent + remainingPages === 0 ? 99 : Math.floor((100 * stats.pagesSent) / (stats.pagesSent + remainingPages));
    percent = Math.max(percent, Math.min(99, share));
    opts.progress({ round, sentBytes: stats.bytesOnWire, remainingPages, percent, phase });
  };

  let lastYield = performance.now();
  /** One round: the pages of `set` (ascending) read in spans and written to their streams. */
  const sendRound = async (set: Uint32Array, final: boolean): Promise<number> => {
    round++;
    const before = stats.bytesOnWire;
    for (let i = 0; i < set.length; ) {
      failure.check();
      const first = set[i];
      let j = i + 1;
      while (j < set.length && set[j] - set[j - 1] <= MAX_GAP && set[j] - first < BATCH_PAGES) j++;
      const span = mem.read(first * PAGE_SIZE, (set[j - 1] - first + 1) * PAGE_SIZE);
      for (const l of links) l.stream.cork();
      for (let k = i; k < j; k++) sendPage(set[k], span.subarray((set[k] - first) * PAGE_SIZE, (set[k] - first + 1) * PAGE_SIZE));
      for (const l of links) l.stream.uncork();
      i = j;
      report(set.length - i, false);
      // Backpressure: nothing more is read while a stream holds more than its high-water mark.
      for (const l of links) await waitDrain(l.stream, failure);
      if (performance.now() - lastYield >= YIELD_EVERY_MS) {
        await failure.race(new Promise<void>((resolve) => setImmediate(resolve)));
        lastYield = performance.now();
      }
    }
    const end = Buffer.concat([header(Rec.ROUND_END, round, 1), Buffer.from([final ? PHASE_FINAL : PHASE_PRECOPY])]);
    for (const l of links) l.stream.write(end);
    stats.bytesOnWire += end.length * n;
    report(0, true);
    return stats.bytesOnWire - before;
  };

  // What the target will hold, page by page: its digest is the memory's at suspension once the
  // final round is sent (the dirty-log argument below), and costs nothing more to finish.
  const sent = new MemoryDigest(pageCount);
  const sendPage = (page: number, data: Buffer): void => {
    const stream = links[streamOf(page, n)].stream;
    stats.pagesSent++;
    sent.page(page, data);
    if (data.equals(ZERO_PAGE)) {
      stream.write(header(Rec.PAGE_ZERO, page, 0));
      stats.zeroPages++;
      stats.bytesOnWire += HEADER_SIZE;
      return;
    }
    if (opts.compress === 'auto' && looksCompressible(data)) {
      const z = zlib.deflateRawSync(data, { level: 1 });
      if (z.length < KEEP_BELOW) {
        stream.write(header(Rec.PAGE_DEFLATE, page, z.length));
        stream.write(z);
        stats.compressedPages++;
        stats.bytesOnWire += HEADER_SIZE + z.length;
        return;
      }
    }
    // Straight from the span read: a view, not a copy.
    stream.write(header(Rec.PAGE_RAW, page, PAGE_SIZE));
    stream.write(data);
    stats.bytesOnWire += HEADER_SIZE + PAGE_SIZE;
  };

  let loggingOn = false;
  try {
    for (const l of links) {
      const hello = Buffer.allocUnsafe(HEADER_SIZE + HELLO_SIZE);
      header(Rec.HELLO, l.index, HELLO_SIZE).copy(hello);
      hello.writeUInt32BE(WIRE_MAGIC, 9);
      hello.writeUInt32BE(WIRE_VERSION, 13);
      hello.writeUInt32BE(n, 17);
      hello.writeUInt32BE(pageCount, 21);
      l.stream.write(hello);
      stats.bytesOnWire += hello.length;
    }

    // Logging starts before the first page is read: a write after a page's read is then always
    // followed by another copy of that page (docs/migration-engine.md, "Why the copy is exact").
    mem.setDirtyLogging(true);
    loggingOn = true;
    const allPages = new Uint32Array(pageCount);
    for (let p = 0; p < pageCount; p++) allPages[p] = p;

    let throughput = 0;
    let stopReason: StopReason = 'max-rounds';
    while (round < opts.maxRounds - 1) {
      const set = round === 0 ? allPages : mem.takeDirty();
      const started = performance.now();
      const bytes = await sendRound(set, false);
      await acksOf(round);
      const seconds = (performance.now() - started) / 1000;
      if (throughput === 0 || bytes >= MIN_MEASURED_BYTES) throughput = bytes / Math.max(seconds, 1e-6);
      if (opts.pauseAfterRoundMs) await failure.race(new Promise<void>((resolve) => setTimeout(resolve, opts.pauseAfterRoundMs)));
      const stop = convergence({
        round,
        maxRounds: opts.maxRounds,
        dirtyPages: mem.dirtyCount(),
        lastRoundPages: set.length,
        throughputBytesPerSec: throughput,
        downtimeTargetMs: opts.downtimeTargetMs,
      });
      if (stop !== null) {
        stopReason = stop;
        break;
      }
    }

    failure.check();
    await failure.race(opts.suspend());
    const suspendedAt = performance.now();
    phase = 'stop-and-copy';
    // Warm migration (maxRounds 1): nothing was copied yet, so everything goes now.
    const finalSet = round === 0 ? allPages : mem.takeDirty();
    const finalBytes = await sendRound(finalSet, true);
    await acksOf(round);
    const appliedAt = performance.now();
    mem.setDirtyLogging(false);
    loggingOn = false;

    const checksumAtSuspend = sent.hex();
    const end = Buffer.concat([header(Rec.END, 0, CHECKSUM_HEX), Buffer.from(checksumAtSuspend, 'ascii')]);
    const verified = new Promise<void>((resolve) => (verifiedWaiter = resolve));
    if (links.every((l) => l.verified)) verifiedWaiter!();
    for (const l of links) l.stream.write(end);
    stats.bytesOnWire += end.length * n;
    await failure.race(verified);
    const verifiedAt = performance.now();
    done = true;
    for (const l of links) finish(l.stream);
    percent = 100;
    opts.progress?.({ round, sentBytes: stats.bytesOnWire, remainingPages: 0, percent, phase });

    const totalMs = appliedAt - t0;
    return {
      totalMs,
      downtimeMs: appliedAt - suspendedAt,
      rounds: round,
      ...stats,
      throughputBytesPerSec: totalMs > 0 ? stats.bytesOnWire / (totalMs / 1000) : 0,
      verifyMs: verifiedAt - appliedAt,
      stopReason,
      finalPages: finalSet.length,
      finalBytes,
      checksumAtSuspend,
    };
  } catch (e) {
    const err = failure.error ?? errorOf(e);
    failure.fail(err);
    done = true;
    // The target is told (CANCEL) when the stream still takes bytes; the source memory is untouched.
    for (const l of links) finish(l.stream, header(Rec.CANCEL, 0, 0));
    throw err;
  } finally {
    if (loggingOn) mem.setDirtyLogging(false);
    signal?.removeEventListener('abort', onAbort);
  }
}

// ---- target -------------------------------------------------------------------------------------

interface TargetLink {
  stream: Duplex;
  /** Its place in the array we were given, for messages until HELLO says its index. */
  position: number;
  reader: RecordReader;
  /** The stream index the source gave it (HELLO): its pages are those with page % count === index. */
  index: number;
  round: number;
  final: boolean;
  ended: boolean;
  /** Zero pages waiting to be checked against the target's bytes (see flushZeros). */
  zeros: number[];
  /** Consecutive pages applied but not yet written: one write per run instead of one per page. */
  run: { first: number; count: number; buf: Buffer | null };
}

/** Target side: write what arrives into `mem` (already sized); resolves at the end marker with the source's checksum verified. */
export async function receiveMemory(
  mem: GuestMemory,
  streams: Duplex[],
  opts: { signal?: AbortSignal } = {},
): Promise<{ pages: number; checksum: string }> {
  if (streams.length < 1 || streams.length > MAX_STREAMS) throw new RangeError(`memory migration needs 1..${MAX_STREAMS} streams (got ${streams.length})`);
  const { signal } = opts;
  if (signal?.aborted) throw cancelledError(signal, 'target');

  const pageCount = mem.size / PAGE_SIZE;
  const n = streams.length;
  const failure = new Failure();
  const indexes = new Set<number>();
  let pages = 0;
  let sourceChecksum: string | null = null;
  let ownChecksum: Promise<string> | null = null;
  let settle!: () => void;
  const allEnded = new Promise<void>((resolve) => (settle = resolve));
  let done = false;

  const links: TargetLink[] = streams.map((stream, position) => ({
    stream,
    position,
    reader: new RecordReader(FORWARD_LENGTHS, `migration stream ${position}`),
    index: -1,
    round: 0,
    final: false,
    ended: false,
    zeros: [],
    run: { first: 0, count: 0, buf: null },
  }));

  const flushRun = (link: TargetLink) => {
    const r = link.run;
    if (r.count === 0) return;
    mem.write(r.first * PAGE_SIZE, r.buf!.subarray(0, r.count * PAGE_SIZE));
    r.count = 0;
  };

  // A zero page is written only where the target may hold something else: a fresh target is a hole
  // and must stay one (a 4 GiB domain is mostly zeros). A file with no blocks at all reads as zeros
  // everywhere, so its pages are known zero until a page arrives for them; elsewhere a run of zero
  // pages is checked with one read. Reading a hole is not free (the kernel fills page cache with
  // zeros, ~2 GB/s here), hence the bitmap rather than reading every zero page.
  const knownZero = new Uint32Array(Math.ceil(pageCount / 32));
  // The digest of what was written, page by page as it is applied (GuestMemory.checksum()'s value
  // for this memory once every page arrived): nothing is read back while the guest waits.
  const applied = new MemoryDigest(pageCount);
  if (fs.statSync(mem.file).blocks === 0) knownZero.fill(0xffffffff);
  const isKnownZero = (p: number) => (knownZero[p >>> 5] & (1 << (p & 31))) !== 0;
  const setKnownZero = (p: number, zero: boolean) => {
    if (zero) knownZero[p >>> 5] |= 1 << (p & 31);
    else knownZero[p >>> 5] &= ~(1 << (p & 31));
  };

  const flushZeros = (link: TargetLink) => {
    const z = link.zeros;
    if (z.length === 0) return;
    const first = z[0];
    const span = mem.read(first * PAGE_SIZE, (z[z.length - 1] - first + 1) * PAGE_SIZE);
    for (const p of z) {
      const at = (p - first) * PAGE_SIZE;
      if (!span.subarray(at, at + PAGE_SIZE).equals(ZERO_PAGE)) mem.write(p * PAGE_SIZE, ZERO_PAGE);
    }
    link.zeros = [];
  };

  const applyPage = (link: TargetLink, type: number, page: number, payload: Buffer) => {
    const where = `migration stream ${link.index}`;
    if (link.index < 0) throw new MigrationStreamError(`migration stream ${link.position}: ${typeName(type)} before HELLO`);
    if (page >= pageCount) throw new MigrationStreamError(`${where}: page ${page} beyond the domain's ${pageCount} pages`);
    // The ordering proof rests on this: every copy of a page travels on the same stream.
    if (streamOf(page, n) !== link.index) throw new MigrationStreamError(`${where}: page ${page} belongs on stream ${streamOf(page, n)}`);
    pages++;
    if (type === Rec.PAGE_ZERO) {
      applied.zero(page);
      if (isKnownZero(page)) return;
      setKnownZero(page, true); // once flushZeros has run, below
      const z = link.zeros;
      if (z.length > 0 && (page <= z[z.length - 1] || page - z[0] >= BATCH_PAGES)) flushZeros(link);
      z.push(page);
      return;
    }
    let data = payload;
    if (type === Rec.PAGE_DEFLATE) {
      try {
        data = zlib.inflateRawSync(payload, { maxOutputLength: PAGE_SIZE });
      } catch (e) {
        throw new MigrationStreamError(`${where}: page ${page} does not inflate: ${errorOf(e).message}`);
      }
      if (data.length !== PAGE_SIZE) throw new MigrationStreamError(`${where}: page ${page} inflates to ${data.length} bytes, not ${PAGE_SIZE}`);
    }
    const r = link.run;
    if (r.count > 0 && (page !== r.first + r.count || r.count === STRIPE_PAGES)) flushRun(link);
    if (r.count === 0) {
      r.first = page;
      r.buf ??= Buffer.allocUnsafe(STRIPE_PAGES * PAGE_SIZE);
    }
    data.copy(r.buf!, r.count * PAGE_SIZE);
    r.count++;
    applied.page(page, data);
    setKnownZero(page, false);
  };

  const onRecord = (link: TargetLink) => (type: number, page: number, payload: Buffer) => {
    const where = `migration stream ${link.index < 0 ? link.position : link.index}`;
    if (type === Rec.CANCEL) throw new MigrationCancelledError('memory migration cancelled by the source');
    if (link.ended) throw new MigrationStreamError(`${where}: ${typeName(type)} after the end marker`);
    switch (type) {
      case Rec.HELLO: {
        if (link.index >= 0) throw new MigrationStreamError(`${where}: second HELLO`);
        const magic = payload.readUInt32BE(0);
        const version = payload.readUInt32BE(4);
        const count = payload.readUInt32BE(8);
        const sourcePages = payload.readUInt32BE(12);
        if (magic !== WIRE_MAGIC) throw new MigrationStreamError(`${where}: not a memory migration stream (bad magic 0x${magic.toString(16)})`);
        if (version !== WIRE_VERSION) throw new MigrationStreamError(`${where}: wire version ${version}, this target speaks ${WIRE_VERSION}`);
        if (count !== n) throw new MigrationStreamError(`${where}: source uses ${count} streams, target has ${n}`);
        if (page >= n || indexes.has(page)) throw new MigrationStreamError(`${where}: stream index ${page} out of range or repeated`);
        if (sourcePages !== pageCount) {
          throw new MigrationStreamError(`${where}: source memory is ${sourcePages} pages, target memory ${pageCount} pages`);
        }
        indexes.add(page);
        link.index = page;
        return;
      }
      case Rec.PAGE_RAW:
      case Rec.PAGE_ZERO:
      case Rec.PAGE_DEFLATE:
        if (link.final) throw new MigrationStreamError(`${where}: page ${page} after the stop-and-copy round`);
        applyPage(link, type, page, payload);
        return;
      case Rec.ROUND_END: {
        if (link.index < 0) throw new MigrationStreamError(`${where}: ROUND_END before HELLO`);
        if (link.final) throw new MigrationStreamError(`${where}: round ${page} after the stop-and-copy round`);
        if (page !== link.round + 1) throw new MigrationStreamError(`${where}: end of round ${page}, expected round ${link.round + 1}`);
        if (payload[0] !== PHASE_PRECOPY && payload[0] !== PHASE_FINAL) throw new MigrationStreamError(`${where}: round ${page} has unknown phase ${payload[0]}`);
        flushRun(link);
        flushZeros(link);
        link.round = page;
        link.final = payload[0] === PHASE_FINAL;
        link.stream.write(header(Reply.ACK, page, 0));
        // Everything is in once every stream has applied its stop-and-copy round: the target's
        // digest is complete then (zero runs are flushed above).
        if (link.final && links.every((l) => l.final)) {
          if (new Set(links.map((l) => l.round)).size !== 1) throw new MigrationStreamError('migration streams disagree on the number of rounds');
          ownChecksum = Promise.resolve(applied.hex());
        }
        return;
      }
      case Rec.END: {
        if (!link.final) throw new MigrationStreamError(`${where}: end marker before the stop-and-copy round`);
        const sum = payload.toString('latin1');
        if (!/^[0-9a-f]{64}$/.test(sum)) throw new MigrationStreamError(`${where}: end marker without a checksum`);
        if (sourceChecksum !== null && sum !== sourceChecksum) throw new MigrationStreamError(`${where}: end markers disagree on the checksum`);
        sourceChecksum = sum;
        link.ended = true;
        if (links.every((l) => l.ended)) settle();
        return;
      }
    }
  };

  for (const link of links) {
    const where = () => `migration stream ${link.index < 0 ? link.position : link.index}`;
    listenTo(link.stream, link.reader, {
      handle: onRecord(link),
      failure,
      done: () => done,
      where,
      gone: () => {
        if (done || link.ended) return;
        const partial = link.reader.partial;
        failure.fail(
          new MigrationStreamError(
            partial > 0
              ? `${where()} truncated: it ended inside a record (${partial} bytes of it received)`
              : `${where()} ended before the end marker (source gone or cut off, round ${link.round})`,
          ),
        );
      },
    });
  }
  const onAbort = () => failure.fail(cancelledError(signal!, 'target'));
  signal?.addEventListener('abort', onAbort, { once: true });

  try {
    await failure.race(allEnded);
    const checksum = await failure.race(ownChecksum!);
    if (checksum !== sourceChecksum) {
      throw new MigrationStreamError(`memory checksum mismatch after migration: target ${checksum}, source at suspension ${sourceChecksum}`);
    }
    done = true;
    for (const l of links) finish(l.stream, header(Reply.VERIFIED, 0, 0));
    return { pages, checksum };
  } catch (e) {
    const err = failure.error ?? errorOf(e);
    failure.fail(err);
    done = true;
    const reason = Buffer.from(err.message, 'utf8').subarray(0, FAIL_MAX);
    const fail = Buffer.concat([header(Reply.FAIL, 0, reason.length), reason]);
    for (const l of links) finish(l.stream, fail);
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
