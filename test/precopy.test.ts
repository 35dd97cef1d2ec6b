// The live-migration memory engine (src/migration/precopy.ts): real guest-memory files in a temp
// directory, moved over in-process stream pairs and over real TLS sockets on 127.0.0.2, idle and
// under a running workload, with 1, 2 and 4 streams; cancellation; garbage and truncated streams.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { generate } from 'selfsigned';
import { Workload } from '../src/guest/workload.js';
import { GuestMemory, PAGE_SIZE } from '../src/machine/guest-memory.js';
import {
  HEADER_SIZE,
  MigrationCancelledError,
  MigrationStreamError,
  Rec,
  Reply,
  convergence,
  receiveMemory,
  sendMemory,
  streamCountFor,
  type PrecopyOptions,
} from '../src/migration/precopy.js';

const MiB = 1024 * 1024;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'precopy-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

let fileNo = 0;
const fresh = (size: number) => GuestMemory.open(path.join(dir, `m${fileNo++}.mem`), size);
const OPTS: PrecopyOptions = { downtimeTargetMs: 300, maxRounds: 30, compress: 'auto' };
const noSuspend = async () => {};

// ---- transports ---------------------------------------------------------------------------------

/**
 * Two connected in-process ends, with backpressure: a write is held while the peer's readable side
 * is full. `tamper` rewrites chunks going from the first end to the second (a corrupting link).
 */
function duplexPair(tamper?: (chunk: Buffer) => Buffer): [Duplex, Duplex] {
  class End extends Duplex {
    peer!: End;
    held: (() => void) | null = null;
    constructor(private readonly rewrite?: (chunk: Buffer) => Buffer) {
      super({ highWaterMark: 64 * 1024 });
    }
    override _read(): void {
      const cb = this.peer.held;
      this.peer.held = null;
      cb?.();
    }
    override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
      if (this.peer.destroyed) return cb(new Error('peer closed'));
      if (this.peer.push(this.rewrite ? this.rewrite(chunk) : chunk)) cb();
      else this.held = cb;
    }
    override _final(cb: (e?: Error | null) => void): void {
      this.peer.push(null);
      cb();
    }
    override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
      // A closed connection: the other end closes too, without an orderly end.
      if (!this.peer.destroyed) this.peer.destroy();
      cb(err);
    }
  }
  const a = new End(tamper);
  const b = new End();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

function pairs(n: number, tamper?: (chunk: Buffer) => Buffer): { src: Duplex[]; dst: Duplex[] } {
  const src: Duplex[] = [];
  const dst: Duplex[] = [];
  for (let i = 0; i < n; i++) {
    const [a, b] = duplexPair(tamper);
    src.push(a);
    dst.push(b);
  }
  return { src, dst };
}

let pems: { key: string; cert: string };
before(async () => {
  const p = await generate([{ name: 'commonName', value: 'precopy-test' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.2' }] }],
  });
  pems = { key: p.private, cert: p.cert };
});

/** `n` TLS connections to a server on 127.0.0.2; the target's ends are in accept order, not connect order. */
async function tlsPairs(n: number): Promise<{ src: Duplex[]; dst: Duplex[]; close: () => void }> {
  const dst: tls.TLSSocket[] = [];
  const server = tls.createServer({ key: pems.key, cert: pems.cert }, (s) => dst.push(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  const { port } = server.address() as AddressInfo;
  const src = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<tls.TLSSocket>((resolve, reject) => {
          const s = tls.connect({ host: '127.0.0.2', port, ca: pems.cert }, () => resolve(s));
          s.once('error', reject);
        }),
    ),
  );
  while (dst.length < n) await sleep(5);
  return { src, dst: [...dst].reverse(), close: () => server.close() };
}

// ---- content ------------------------------------------------------------------------------------

/** A page that compresses to almost nothing (the workload's compressible form). */
function markerPage(seed: number): Buffer {
  const b = Buffer.alloc(PAGE_SIZE);
  b.writeUInt32BE(0x4c444f4d, 0);
  b.writeUInt32BE(seed, 4);
  return b;
}

/** Scattered pages of three kinds over a sparse domain: random, marker, text. */
function writeSample(mem: GuestMemory, count: number, seed = 1): void {
  const pages = mem.size / PAGE_SIZE;
  for (let i = 0; i < count; i++) {
    const page = (i * 7919 + seed * 104729) % pages;
    const kind = i % 3;
    const data = kind === 0 ? randomBytes(PAGE_SIZE) : kind === 1 ? markerPage(i) : Buffer.from(`page ${page} of the guest `.repeat(400)).subarray(0, PAGE_SIZE);
    mem.write(page * PAGE_SIZE, data);
  }
}

async function migrate(
  src: GuestMemory,
  dst: GuestMemory,
  streams: { src: Duplex[]; dst: Duplex[] },
  opts: Partial<PrecopyOptions> & { suspend?: () => Promise<void> } = {},
) {
  const received = receiveMemory(dst, streams.dst);
  const sent = sendMemory(src, streams.src, { ...OPTS, suspend: noSuspend, ...opts });
  const [stats, got] = await Promise.all([sent, received]);
  return { stats, got };
}

// ---- tests --------------------------------------------------------------------------------------

describe('wire format', () => {
  test('every stream opens with a HELLO: [u8 type][u32 page][u32 len] big-endian, magic, version, streams, pages', async () => {
    const src = fresh(4 * MiB);
    const [a, b] = duplexPair();
    const first = new Promise<Buffer>((resolve) => b.once('data', resolve));
    const sending = sendMemory(src, [a], { ...OPTS, suspend: noSuspend });
    const hello = await first;
    assert.equal(hello.subarray(0, 25).toString('hex'), '01' + '00000000' + '00000010' + '4c444d4d' + '00000001' + '00000001' + '00000200');
    b.destroy();
    await assert.rejects(sending, /closed by the target/);
    src.destroy();
  });

  test('backpressure: a target that does not read stops the source after one batch', async () => {
    const src = fresh(64 * MiB);
    const dst = fresh(64 * MiB);
    for (let at = 0; at < 32 * MiB; at += 4 * MiB) src.write(at, randomBytes(4 * MiB));
    const t = pairs(1);
    const sent = sendMemory(src, t.src, { ...OPTS, suspend: noSuspend });
    await sleep(200);
    // One 2 MiB span with its headers, beyond what the peer's 64 KiB buffer took: not 32 MiB.
    assert.ok(t.src[0].writableLength <= 2 * MiB + 256 * HEADER_SIZE, `${t.src[0].writableLength} bytes queued`);
    assert.ok(t.src[0].writableLength > 0);
    const received = receiveMemory(dst, t.dst);
    const [stats, got] = await Promise.all([sent, received]);
    assert.equal(got.checksum, stats.checksumAtSuspend);
    src.destroy();
    dst.destroy();
  });

  test('raw pages leave as views of the span read, not copies', async () => {
    const src = fresh(4 * MiB);
    const dst = fresh(4 * MiB);
    src.write(0, randomBytes(2 * MiB));
    const payloads: Buffer[] = [];
    const t = pairs(1, (chunk) => {
      if (chunk.length === PAGE_SIZE) payloads.push(chunk);
      return chunk;
    });
    await Promise.all([sendMemory(src, t.src, { ...OPTS, suspend: noSuspend }), receiveMemory(dst, t.dst)]);
    assert.equal(payloads.length, 256);
    for (const [i, p] of payloads.entries()) {
      assert.equal(p.buffer.byteLength >= 256 * PAGE_SIZE, true, 'a view into the 2 MiB read');
      assert.equal(p.byteOffset - payloads[0].byteOffset, i * PAGE_SIZE);
    }
    src.destroy();
    dst.destroy();
  });

  test('streamCountFor: one stream per primary vCPU, within the CPUs the machine has, at most 16', () => {
    assert.equal(streamCountFor(8, 2), 2);
    assert.equal(streamCountFor(1, 64), 1);
    assert.equal(streamCountFor(4, 64), 4);
    assert.equal(streamCountFor(64, 64), 16);
    assert.equal(streamCountFor(0, 4), 1);
  });

  test('convergence: fits the downtime target, bounded rounds, stops when the dirty set stops shrinking', () => {
    const base = { round: 3, maxRounds: 30, lastRoundPages: 1000, throughputBytesPerSec: 100 * MiB, downtimeTargetMs: 300 };
    // 100 MiB/s moves ~3800 raw pages in 300 ms
    assert.equal(convergence({ ...base, dirtyPages: 3000 }), 'fits');
    assert.equal(convergence({ ...base, dirtyPages: 5000, lastRoundPages: 8000 }), null);
    assert.equal(convergence({ ...base, dirtyPages: 5000, lastRoundPages: 5000 }), 'not-shrinking');
    assert.equal(convergence({ ...base, round: 1, dirtyPages: 5000, lastRoundPages: 10 }), null, 'round 1 copied everything');
    assert.equal(convergence({ ...base, round: 29, dirtyPages: 5000, lastRoundPages: 8000 }), 'max-rounds');
    assert.equal(convergence({ ...base, dirtyPages: 0, downtimeTargetMs: 0 }), 'fits');
  });
});

describe('idle domain', () => {
  test('256 MiB with written data: target checksum equals source, zero pages elided, one pre-copy round', async () => {
    const src = fresh(256 * MiB);
    const dst = fresh(256 * MiB);
    writeSample(src, 300);
    const before = await src.checksum();
    const { stats, got } = await migrate(src, dst, pairs(1));
    assert.equal(stats.checksumAtSuspend, before);
    assert.equal(got.checksum, before);
    assert.equal(await dst.checksum(), before);
    assert.equal(stats.rounds, 2, 'the full copy, then an empty stop-and-copy round');
    assert.equal(stats.stopReason, 'fits');
    assert.equal(stats.pagesSent, 32768);
    assert.equal(got.pages, 32768);
    assert.equal(stats.zeroPages, 32768 - 300);
    assert.equal(stats.finalPages, 0);
    // 32468 zero pages cost a header each; 100 random pages go raw, 200 compress.
    assert.ok(stats.bytesOnWire < 1.5 * MiB, `${stats.bytesOnWire} bytes on the wire for a sparse 256 MiB domain`);
    // The target stays sparse: zero pages are not written over holes.
    assert.ok(fs.statSync(dst.file).blocks * 512 < 8 * MiB, `target file uses ${fs.statSync(dst.file).blocks * 512} bytes`);
    assert.equal(src.dirtyLogging, false, 'dirty logging ends with the migration');
    src.destroy();
    dst.destroy();
  });

  test('a target holding stale bytes ends equal to the source: zero pages overwrite them', async () => {
    const src = fresh(8 * MiB);
    const dst = fresh(8 * MiB);
    writeSample(src, 20);
    writeSample(dst, 50, 7);
    const { stats, got } = await migrate(src, dst, pairs(2));
    assert.equal(got.checksum, stats.checksumAtSuspend);
    assert.equal(await dst.checksum(), await src.checksum());
    src.destroy();
    dst.destroy();
  });

  test("compress 'auto' deflates compressible pages, never incompressible ones, and keeps only what saves 1/8", async () => {
    const src = fresh(16 * MiB);
    for (let i = 0; i < 40; i++) src.write(i * 2 * PAGE_SIZE, markerPage(i)); // compressible
    for (let i = 0; i < 30; i++) src.write((200 + i) * PAGE_SIZE, randomBytes(PAGE_SIZE)); // incompressible
    // 7-bit random bytes: they look compressible but deflate saves less than 1/8
    const sevenBit = Buffer.from(randomBytes(PAGE_SIZE).map((b) => b & 0x7f));
    assert.ok(zlib.deflateRawSync(sevenBit, { level: 1 }).length >= (PAGE_SIZE * 7) / 8);
    for (let i = 0; i < 10; i++) src.write((400 + i) * PAGE_SIZE, sevenBit);
    const want = await src.checksum();

    const auto = fresh(16 * MiB);
    const a = await migrate(src, auto, pairs(1));
    assert.equal(a.got.checksum, want);
    assert.equal(a.stats.compressedPages, 40);
    assert.equal(a.stats.zeroPages, 2048 - 80);

    const off = fresh(16 * MiB);
    const o = await migrate(src, off, pairs(1), { compress: 'off' });
    assert.equal(o.got.checksum, want);
    assert.equal(o.stats.compressedPages, 0);
    // 40 marker pages: raw they cost a page each, deflated a few dozen bytes
    assert.ok(o.stats.bytesOnWire - a.stats.bytesOnWire > 39 * PAGE_SIZE, `${o.stats.bytesOnWire} vs ${a.stats.bytesOnWire}`);
    for (const m of [src, auto, off]) m.destroy();
  });

  test('maxRounds 1 is a warm migration: suspend first, then one copy of everything', async () => {
    const src = fresh(8 * MiB);
    const dst = fresh(8 * MiB);
    writeSample(src, 30);
    const events: string[] = [];
    const { stats, got } = await migrate(src, dst, pairs(2), {
      maxRounds: 1,
      suspend: async () => void events.push('suspend'),
      progress: (p) => events.push(p.phase),
    });
    assert.equal(events[0], 'suspend');
    assert.ok(events.slice(1).every((e) => e === 'stop-and-copy'));
    assert.equal(stats.rounds, 1);
    assert.equal(stats.finalPages, 1024);
    assert.equal(got.checksum, await src.checksum());
    src.destroy();
    dst.destroy();
  });
});

describe('running guest', () => {
  const SIZE = 256 * MiB;

  async function underLoad(streams: { src: Duplex[]; dst: Duplex[] }, opts: Partial<PrecopyOptions> = {}) {
    const src = fresh(SIZE);
    const dst = fresh(SIZE);
    // A written working set first, so the copy takes long enough for the guest to dirty pages.
    for (let at = 0; at < 64 * MiB; at += 4 * MiB) src.write(at, randomBytes(4 * MiB));
    const w = new Workload(src, { workingSet: 64 * MiB, dirtyRate: 16 * MiB }, { tickMs: 10, seed: 3 });
    w.start();
    await sleep(50);
    let suspended = false;
    const progress: number[] = [];
    const { stats, got } = await migrate(src, dst, streams, {
      ...opts,
      progress: (p) => progress.push(p.percent),
      suspend: async () => {
        w.stop();
        suspended = true;
      },
    });
    assert.ok(suspended);
    const written = w.stats().bytesWritten;
    assert.ok(written > 0, 'the guest dirtied memory during the copy');
    assert.equal(stats.checksumAtSuspend, await src.checksum(), 'nothing changes the source after suspension');
    assert.equal(got.checksum, stats.checksumAtSuspend);
    assert.equal(await dst.checksum(), stats.checksumAtSuspend);
    assert.ok(stats.pagesSent > SIZE / PAGE_SIZE, 'pages dirtied during the copy were sent again');
    assert.ok(stats.rounds >= 2 && stats.rounds <= (opts.maxRounds ?? OPTS.maxRounds), `${stats.rounds} rounds`);
    assert.deepEqual(progress, [...progress].sort((x, y) => x - y), 'progress never goes back');
    assert.equal(progress.at(-1), 100);
    src.destroy();
    dst.destroy();
    return stats;
  }

  for (const n of [1, 2, 4]) {
    test(`16 MiB/s workload, ${n} in-process stream(s): converges, checksums equal`, async () => {
      const stats = await underLoad(pairs(n));
      // Converged by the rule (the set fit, or on a starved machine stopped shrinking), not cut off.
      assert.notEqual(stats.stopReason, 'max-rounds');
      assert.ok(stats.downtimeMs < 2000, `downtime ${stats.downtimeMs} ms`);
    });
  }

  for (const n of [1, 2, 4]) {
    test(`16 MiB/s workload over ${n} TLS connection(s) on 127.0.0.2, accepted in any order`, async () => {
      const t = await tlsPairs(n);
      try {
        await underLoad(t);
      } finally {
        t.close();
      }
    });
  }

  test('a downtime target nothing fits still ends: bounded by maxRounds or by the set no longer shrinking', async () => {
    const stats = await underLoad(pairs(2), { downtimeTargetMs: 0, maxRounds: 4 });
    // 'fits' only when the guest dirtied nothing at all during the last round (0 pages fit 0 ms).
    assert.ok(stats.stopReason !== 'fits' || stats.finalPages === 0, `${stats.stopReason} with ${stats.finalPages} pages left`);
    assert.ok(stats.rounds <= 4);
  });
});

describe('cancellation', () => {
  test('abort on the source: source untouched, both sides reject, target told', async () => {
    const src = fresh(64 * MiB);
    const dst = fresh(64 * MiB);
    writeSample(src, 2000);
    const before = await src.checksum();
    const ac = new AbortController();
    const t = pairs(2);
    const received = receiveMemory(dst, t.dst);
    const sent = sendMemory(src, t.src, {
      ...OPTS,
      signal: ac.signal,
      suspend: async () => assert.fail('never suspended'),
      progress: (p) => {
        if (p.sentBytes > 64 * 1024) ac.abort();
      },
    });
    await assert.rejects(sent, (e: Error) => e instanceof MigrationCancelledError && /cancelled on the source/.test(e.message));
    await assert.rejects(received, (e: Error) => e instanceof MigrationCancelledError && /cancelled by the source/.test(e.message));
    assert.equal(await src.checksum(), before);
    assert.equal(src.dirtyLogging, false);
    assert.ok(fs.existsSync(src.file));
    src.destroy();
    dst.destroy();
  });

  test('abort while the guest is being suspended: still cancelled, nothing sent after suspension', async () => {
    const src = fresh(8 * MiB);
    const dst = fresh(8 * MiB);
    writeSample(src, 50);
    const ac = new AbortController();
    const t = pairs(1);
    const received = receiveMemory(dst, t.dst);
    let finalRound = false;
    const sent = sendMemory(src, t.src, {
      ...OPTS,
      signal: ac.signal,
      suspend: async () => ac.abort(),
      progress: (p) => (finalRound ||= p.phase === 'stop-and-copy'),
    });
    await assert.rejects(sent, MigrationCancelledError);
    await assert.rejects(received, /cancelled by the source/);
    assert.equal(finalRound, false);
    src.destroy();
    dst.destroy();
  });

  test('abort on the target: the target rejects and the source learns why', async () => {
    const src = fresh(64 * MiB);
    const dst = fresh(64 * MiB);
    writeSample(src, 2000);
    const ac = new AbortController();
    const t = pairs(1);
    const received = receiveMemory(dst, t.dst, { signal: ac.signal });
    const sent = sendMemory(src, t.src, { ...OPTS, suspend: noSuspend });
    setImmediate(() => ac.abort());
    await assert.rejects(received, /cancelled on the target/);
    await assert.rejects(sent, (e: Error) => e instanceof MigrationStreamError && /target refused the memory.*cancelled on the target/.test(e.message));
    src.destroy();
    dst.destroy();
  });
});

describe('garbage and truncation', () => {
  /** Feed raw bytes to a receiver; return its rejection and what it replied. */
  async function feed(bytes: Buffer[], opts: { end?: boolean; pages?: number; streams?: number } = {}) {
    const dst = fresh((opts.pages ?? 16) * PAGE_SIZE);
    const t = pairs(opts.streams ?? 1);
    const received = receiveMemory(dst, t.dst);
    const replies: Buffer[] = [];
    t.src[0].on('data', (d: Buffer) => replies.push(d));
    t.src[0].on('error', () => {});
    for (const b of bytes) t.src[0].write(b);
    if (opts.end !== false) t.src[0].end();
    const err = await received.then(
      () => assert.fail('the receiver accepted it'),
      (e: Error) => e,
    );
    await sleep(20);
    dst.destroy();
    return { err, reply: Buffer.concat(replies) };
  }

  const rec = (type: number, page: number, payload: Buffer = Buffer.alloc(0)) => {
    const h = Buffer.alloc(HEADER_SIZE);
    h[0] = type;
    h.writeUInt32BE(page, 1);
    h.writeUInt32BE(payload.length, 5);
    return Buffer.concat([h, payload]);
  };
  const hello = (index = 0, streams = 1, pages = 16) => {
    const p = Buffer.alloc(16);
    p.writeUInt32BE(0x4c444d4d, 0);
    p.writeUInt32BE(1, 4);
    p.writeUInt32BE(streams, 8);
    p.writeUInt32BE(pages, 12);
    return rec(Rec.HELLO, index, p);
  };
  const failReason = (reply: Buffer): string => {
    // replies: any ACKs, then one FAIL
    let at = 0;
    while (at + HEADER_SIZE <= reply.length) {
      const len = reply.readUInt32BE(at + 5);
      if (reply[at] === Reply.FAIL) return reply.subarray(at + HEADER_SIZE, at + HEADER_SIZE + len).toString('utf8');
      at += HEADER_SIZE + len;
    }
    return '';
  };

  test('random bytes: a clear error on the target, and FAIL sent back to the sender', async () => {
    const { err, reply } = await feed([Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]);
    assert.ok(err instanceof MigrationStreamError);
    assert.match(err.message, /unknown record type 0x47 \(not a migration stream/);
    assert.match(failReason(reply), /unknown record type/);
  });

  test('a wrong magic, version, stream count or memory size in HELLO is refused', async () => {
    const bad = hello();
    bad.writeUInt32BE(0xdeadbeef, 9);
    assert.match((await feed([bad])).err.message, /bad magic 0xdeadbeef/);
    const v2 = hello();
    v2.writeUInt32BE(2, 13);
    assert.match((await feed([v2])).err.message, /wire version 2/);
    assert.match((await feed([hello(0, 2)])).err.message, /source uses 2 streams, target has 1/);
    assert.match((await feed([hello(0, 1, 32)])).err.message, /source memory is 32 pages, target memory 16 pages/);
  });

  test('an oversize length is refused at its header, before anything is allocated', async () => {
    const h = Buffer.alloc(HEADER_SIZE);
    h[0] = Rec.PAGE_RAW;
    h.writeUInt32BE(0xffffffff, 5);
    const { err } = await feed([hello(), h], { end: false });
    assert.match(err.message, /PAGE_RAW record of 4294967295 bytes \(expected 8192\)/);
    const long = rec(Rec.PAGE_DEFLATE, 0, Buffer.alloc(PAGE_SIZE));
    assert.match((await feed([hello(), long], { end: false })).err.message, /PAGE_DEFLATE record of 8192 bytes \(expected 1\.\.8191\)/);
  });

  test('a truncated stream: ended inside a record, or before the end marker', async () => {
    const page = rec(Rec.PAGE_RAW, 3, randomBytes(PAGE_SIZE));
    const cut = await feed([hello(), page.subarray(0, 5000)]);
    assert.match(cut.err.message, /truncated: it ended inside a record \(5000 bytes of it received\)/);
    const early = await feed([hello(), page]);
    assert.match(early.err.message, /ended before the end marker/);
  });

  test('pages that break the rules: beyond the memory, on the wrong stream, bad deflate, before HELLO, after the final round', async () => {
    assert.match((await feed([hello(), rec(Rec.PAGE_ZERO, 16)])).err.message, /page 16 beyond the domain's 16 pages/);
    // Stripes of STRIPE_PAGES pages are dealt to the streams in turn: page 2 is in stripe 0.
    const two = await feed([hello(1, 2), rec(Rec.PAGE_ZERO, 2)], { streams: 2 });
    assert.match(two.err.message, /page 2 belongs on stream 0/);
    assert.match((await feed([hello(), rec(Rec.PAGE_DEFLATE, 1, Buffer.from('not deflate at all'))])).err.message, /page 1 does not inflate/);
    const short = zlib.deflateRawSync(Buffer.alloc(100, 1));
    assert.match((await feed([hello(), rec(Rec.PAGE_DEFLATE, 1, short)])).err.message, /inflates to 100 bytes, not 8192/);
    assert.match((await feed([rec(Rec.PAGE_ZERO, 0)])).err.message, /PAGE_ZERO before HELLO/);
    const finalRound = rec(Rec.ROUND_END, 1, Buffer.from([1]));
    assert.match((await feed([hello(), finalRound, rec(Rec.PAGE_ZERO, 0)])).err.message, /page 0 after the stop-and-copy round/);
    assert.match((await feed([hello(), rec(Rec.ROUND_END, 2, Buffer.from([0]))])).err.message, /end of round 2, expected round 1/);
    assert.match((await feed([hello(), rec(Rec.END, 0, Buffer.alloc(64, 0x61))])).err.message, /end marker before the stop-and-copy round/);
  });

  test('an end marker whose checksum differs from the target memory: refused loudly', async () => {
    const { err, reply } = await feed([hello(), rec(Rec.ROUND_END, 1, Buffer.from([1])), rec(Rec.END, 0, Buffer.alloc(64, 0x61))]);
    assert.match(err.message, /memory checksum mismatch after migration: target [0-9a-f]{64}, source at suspension a{64}/);
    assert.match(failReason(reply), /checksum mismatch/);
  });

  test('a page corrupted on the way: both sides fail on the checksum', async () => {
    const src = fresh(8 * MiB);
    const dst = fresh(8 * MiB);
    for (let i = 0; i < 8; i++) src.write(i * 64 * PAGE_SIZE, randomBytes(PAGE_SIZE));
    let corrupted = false;
    const t = pairs(1, (chunk) => {
      if (corrupted || chunk.length !== PAGE_SIZE) return chunk;
      corrupted = true;
      const c = Buffer.from(chunk);
      c[100] ^= 0xff;
      return c;
    });
    const received = receiveMemory(dst, t.dst);
    const sent = sendMemory(src, t.src, { ...OPTS, suspend: noSuspend });
    await assert.rejects(received, /checksum mismatch/);
    await assert.rejects(sent, /target refused the memory \(stream 0\): memory checksum mismatch/);
    assert.ok(corrupted);
    src.destroy();
    dst.destroy();
  });

  test('garbage or a cut connection from the target: a clear error on the source', async () => {
    const src = fresh(8 * MiB);
    const [a, b] = duplexPair();
    b.on('data', () => {});
    const sent = sendMemory(src, [a], { ...OPTS, suspend: noSuspend });
    b.write(Buffer.from([0x81, 0, 0, 0, 7, 0, 0, 0, 0]));
    await assert.rejects(sent, /target acknowledged round 7, expected 1/);

    const [c, d] = duplexPair();
    d.on('data', () => {});
    const sent2 = sendMemory(src, [c], { ...OPTS, suspend: noSuspend });
    d.write(Buffer.from('\x99garbage!', 'latin1'));
    await assert.rejects(sent2, /unknown record type 0x99/);

    const [e, f] = duplexPair();
    f.once('data', () => f.destroy());
    await assert.rejects(sendMemory(src, [e], { ...OPTS, suspend: noSuspend }), /closed by the target before the copy was verified/);
    assert.equal(src.dirtyLogging, false);
    src.destroy();
  });

  test('a TLS connection cut mid-stream: both sides reject, nothing crashes', async () => {
    const src = fresh(64 * MiB);
    const dst = fresh(64 * MiB);
    for (let at = 0; at < 16 * MiB; at += 4 * MiB) src.write(at, randomBytes(4 * MiB));
    const t = await tlsPairs(2);
    const received = receiveMemory(dst, t.dst);
    const sent = sendMemory(src, t.src, {
      ...OPTS,
      suspend: noSuspend,
      progress: (p) => {
        if (p.sentBytes > 2 * MiB) t.dst[0].destroy();
      },
    });
    await assert.rejects(sent, MigrationStreamError);
    await assert.rejects(received, MigrationStreamError);
    t.close();
    src.destroy();
    dst.destroy();
  });
});
