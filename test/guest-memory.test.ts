// Guest memory: a sparse file per domain with a per-page dirty log, and the workload that dirties it.
// The workload rate tests take about 2 s each and hold the configured rate to ±15%.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import zlib from 'node:zlib';
import { after, describe, test } from 'node:test';
import { GuestMemory, PAGE_SIZE, memoryFileFor, offsetOfRealAddress } from '../src/machine/guest-memory.js';
import { Workload } from '../src/guest/workload.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guest-memory-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

let n = 0;
const fresh = (size: number) => GuestMemory.open(path.join(dir, `m${n++}.mem`), size);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** The memory digest computed independently: sha256 over the sha256 of each 8 KiB page. */
const pageTree = (b: Buffer) => {
  const outer = createHash('sha256');
  for (let at = 0; at < b.length; at += 8192) outer.update(createHash('sha256').update(b.subarray(at, at + 8192)).digest());
  return outer.digest('hex');
};
const pattern = (length: number, seed: number) => Buffer.from(Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff));
const pagesOf = (a: Uint32Array) => Array.from(a);

describe('backing file', () => {
  test('memoryFileFor puts a domain under <hostDir>/mem and refuses names that leave it', () => {
    assert.equal(memoryFileFor('/h/x', 'ldg1'), path.join('/h/x', 'mem', 'ldg1.mem'));
    for (const bad of ['', '.', '..', 'a/b', '../primary']) assert.throws(() => memoryFileFor('/h/x', bad));
  });

  test('a new file has the requested size and reads as zeros', () => {
    const file = path.join(dir, 'sub', 'dir', 'new.mem');
    const m = GuestMemory.open(file, 16 * MiB);
    assert.equal(m.size, 16 * MiB);
    assert.equal(m.file, file);
    assert.equal(fs.statSync(file).size, 16 * MiB);
    assert.ok(m.read(0, 3 * PAGE_SIZE).equals(Buffer.alloc(3 * PAGE_SIZE)));
    assert.ok(m.read(16 * MiB - 100, 100).equals(Buffer.alloc(100)));
    m.destroy();
    assert.equal(fs.existsSync(file), false);
  });

  test('sizes that are not whole pages are refused', () => {
    assert.throws(() => fresh(PAGE_SIZE + 1), RangeError);
    assert.throws(() => fresh(-PAGE_SIZE), RangeError);
    const m = fresh(PAGE_SIZE * 4);
    assert.throws(() => m.resize(100), RangeError);
    assert.equal(m.size, PAGE_SIZE * 4);
    m.destroy();
  });

  test('writes read back, also across pages; accesses outside the memory are refused', () => {
    const m = fresh(4 * MiB);
    const data = pattern(3 * PAGE_SIZE + 77, 5);
    m.write(PAGE_SIZE - 13, data);
    assert.ok(m.read(PAGE_SIZE - 13, data.length).equals(data));
    assert.ok(m.read(0, PAGE_SIZE - 13).equals(Buffer.alloc(PAGE_SIZE - 13)));
    m.write(4 * MiB - 4, Buffer.from([1, 2, 3, 4]));
    assert.deepEqual([...m.read(4 * MiB - 4, 4)], [1, 2, 3, 4]);
    assert.throws(() => m.write(4 * MiB - 3, Buffer.alloc(4)), RangeError);
    assert.throws(() => m.read(4 * MiB, 1), RangeError);
    assert.throws(() => m.read(-1, 1), RangeError);
    m.destroy();
  });

  test('growing keeps the content and the new pages read as zeros; shrinking truncates', () => {
    const m = fresh(4 * MiB);
    const data = pattern(PAGE_SIZE, 9);
    m.write(4 * MiB - PAGE_SIZE, data);
    m.resize(12 * MiB);
    assert.equal(m.size, 12 * MiB);
    assert.equal(fs.statSync(m.file).size, 12 * MiB);
    assert.ok(m.read(4 * MiB - PAGE_SIZE, PAGE_SIZE).equals(data));
    assert.ok(m.read(4 * MiB, 8 * MiB).equals(Buffer.alloc(8 * MiB)));
    m.write(8 * MiB, data);
    m.resize(4 * MiB);
    assert.equal(fs.statSync(m.file).size, 4 * MiB);
    assert.throws(() => m.read(8 * MiB, 1), RangeError);
    // What was above the new top is gone: growing again shows zeros there, not the old bytes.
    m.resize(12 * MiB);
    assert.ok(m.read(8 * MiB, PAGE_SIZE).equals(Buffer.alloc(PAGE_SIZE)));
    assert.ok(m.read(4 * MiB - PAGE_SIZE, PAGE_SIZE).equals(data));
    m.destroy();
  });

  test('reopening keeps the bytes; reopening with another size resizes', () => {
    const file = path.join(dir, 'reopen.mem');
    const data = pattern(1000, 3);
    const a = GuestMemory.open(file, 8 * MiB);
    a.write(5 * MiB + 17, data);
    a.flush();
    a.close();
    assert.throws(() => a.read(0, 1), /closed/);
    a.close(); // twice is harmless
    const b = GuestMemory.open(file, 8 * MiB);
    assert.ok(b.read(5 * MiB + 17, 1000).equals(data));
    b.close();
    const c = GuestMemory.open(file, 16 * MiB);
    assert.equal(fs.statSync(file).size, 16 * MiB);
    assert.ok(c.read(5 * MiB + 17, 1000).equals(data));
    c.destroy();
    c.destroy(); // the file is already gone
  });

  test('a 4 GiB domain stays sparse: only written pages take disk blocks', () => {
    const m = fresh(4 * GiB);
    m.write(0, pattern(PAGE_SIZE, 1));
    m.write(3 * GiB + 5 * PAGE_SIZE, pattern(PAGE_SIZE, 2));
    m.write(4 * GiB - PAGE_SIZE, pattern(PAGE_SIZE, 3));
    const st = fs.statSync(m.file);
    assert.equal(st.size, 4 * GiB);
    assert.ok(st.blocks * 512 <= 1 * MiB, `4 GiB memory file uses ${st.blocks * 512} bytes of disk`);
    assert.ok(m.read(3 * GiB + 5 * PAGE_SIZE, PAGE_SIZE).equals(pattern(PAGE_SIZE, 2)));
    assert.ok(m.read(2 * GiB, PAGE_SIZE).equals(Buffer.alloc(PAGE_SIZE)));
    m.destroy();
  });

  test('real addresses map onto the file as the mblocks laid end to end in RA order', () => {
    const mblocks = [
      { ra: 0x4000_0000, pa: 0x9_0000_0000, size: 256 * MiB },
      { ra: 0x800_0000, pa: 0x8_0000_0000, size: 512 * MiB },
    ];
    assert.equal(offsetOfRealAddress(mblocks, 0x800_0000), 0);
    assert.equal(offsetOfRealAddress(mblocks, 0x800_0000 + 512 * MiB - 1), 512 * MiB - 1);
    assert.equal(offsetOfRealAddress(mblocks, 0x4000_0000 + 8192), 512 * MiB + 8192);
    assert.throws(() => offsetOfRealAddress(mblocks, 0), RangeError);
    assert.throws(() => offsetOfRealAddress(mblocks, 0x4000_0000 + 256 * MiB), RangeError);
  });
});

describe('dirty log', () => {
  test('with logging off a write marks nothing', () => {
    const m = fresh(4 * MiB);
    m.write(0, Buffer.alloc(3 * PAGE_SIZE, 1));
    assert.equal(m.dirtyCount(), 0);
    assert.deepEqual(pagesOf(m.takeDirty()), []);
    m.setDirtyLogging(true);
    m.setDirtyLogging(false);
    m.write(PAGE_SIZE * 7, Buffer.alloc(10, 1));
    assert.equal(m.dirtyCount(), 0);
    assert.deepEqual(pagesOf(m.takeDirty()), []);
    m.destroy();
  });

  test('marks exactly the pages a write touches, and takeDirty clears them', () => {
    const m = fresh(4 * MiB); // 512 pages: 16 bitmap words
    m.write(0, Buffer.alloc(PAGE_SIZE, 1)); // before logging: not in the set
    m.setDirtyLogging(true);
    assert.equal(m.dirtyCount(), 0);
    m.write(PAGE_SIZE - 1, Buffer.alloc(2, 1)); // crosses 0|1
    m.write(5 * PAGE_SIZE, Buffer.alloc(3 * PAGE_SIZE, 1)); // exactly 5, 6, 7
    m.write(10 * PAGE_SIZE + PAGE_SIZE - 1, Buffer.alloc(1, 1)); // last byte of 10 only
    m.write(31 * PAGE_SIZE + 100, Buffer.alloc(PAGE_SIZE, 1)); // 31|32: a bitmap word boundary
    m.write(63 * PAGE_SIZE, Buffer.alloc(PAGE_SIZE + 1, 1)); // 63, 64
    m.write(511 * PAGE_SIZE, Buffer.alloc(PAGE_SIZE, 1)); // the last page
    m.write(6 * PAGE_SIZE, Buffer.alloc(10, 2)); // again: counted once
    m.write(300 * PAGE_SIZE, Buffer.alloc(0)); // empty write touches nothing
    const want = [0, 1, 5, 6, 7, 10, 31, 32, 63, 64, 511];
    assert.equal(m.dirtyCount(), want.length);
    assert.deepEqual(pagesOf(m.takeDirty()), want);
    assert.equal(m.dirtyCount(), 0);
    assert.deepEqual(pagesOf(m.takeDirty()), []);
    m.write(200 * PAGE_SIZE + 5, Buffer.alloc(5, 1));
    assert.deepEqual(pagesOf(m.takeDirty()), [200]);
    m.destroy();
  });

  test('turning logging on starts from an empty set', () => {
    const m = fresh(4 * MiB);
    m.setDirtyLogging(true);
    m.write(3 * PAGE_SIZE, Buffer.alloc(1));
    m.setDirtyLogging(true);
    assert.equal(m.dirtyCount(), 0);
    m.write(4 * PAGE_SIZE, Buffer.alloc(1));
    assert.deepEqual(pagesOf(m.takeDirty()), [4]);
    m.destroy();
  });

  test('resizing keeps the marks of pages that remain and logs writes to new pages', () => {
    const m = fresh(4 * MiB); // 512 pages
    m.setDirtyLogging(true);
    m.write(2 * PAGE_SIZE, Buffer.alloc(1));
    m.write(40 * PAGE_SIZE, Buffer.alloc(1));
    m.write(500 * PAGE_SIZE, Buffer.alloc(1));
    m.resize(41 * PAGE_SIZE); // drops page 500; 41 is not a multiple of 32
    assert.equal(m.dirtyCount(), 2);
    m.resize(8 * MiB);
    m.write(1000 * PAGE_SIZE, Buffer.alloc(PAGE_SIZE));
    assert.deepEqual(pagesOf(m.takeDirty()), [2, 40, 1000]);
    m.destroy();
  });

  test('a whole 4 GiB domain dirtied shows every page once, in order', () => {
    const m = fresh(4 * GiB);
    m.setDirtyLogging(true);
    // One byte per page in a few big runs would write gigabytes; one-byte writes mark pages cheaply.
    const pages = (4 * GiB) / PAGE_SIZE;
    const one = Buffer.alloc(1);
    for (let p = 0; p < pages; p += 97) m.write(p * PAGE_SIZE + 9, one);
    const got = m.takeDirty();
    assert.equal(got.length, Math.ceil(pages / 97));
    for (let i = 0; i < got.length; i++) if (got[i] !== i * 97) assert.fail(`entry ${i} is ${got[i]}, not ${i * 97}`);
    m.destroy();
  });
});

describe('checksum', () => {
  test('equals an independent hash of the content read back, and is stable across close and reopen', async () => {
    const file = path.join(dir, 'sum.mem');
    const m = GuestMemory.open(file, 12 * MiB); // three checksum chunks
    m.write(7, pattern(5000, 1));
    m.write(4 * MiB - 10, pattern(20, 2)); // straddles a chunk boundary
    m.write(12 * MiB - PAGE_SIZE, pattern(PAGE_SIZE, 3));
    const sum = await m.checksum();
    assert.equal(sum, pageTree(m.read(0, m.size)));
    m.close();
    const again = GuestMemory.open(file, 12 * MiB);
    assert.equal(await again.checksum(), sum);
    again.write(6 * MiB, Buffer.from([1]));
    const changed = await again.checksum();
    assert.notEqual(changed, sum);
    assert.equal(changed, pageTree(again.read(0, again.size)));
    again.destroy();
  });

  test('a never-written 64 MiB memory sums as 64 MiB of zeros', async () => {
    const m = fresh(64 * MiB);
    assert.equal(await m.checksum(), pageTree(Buffer.alloc(64 * MiB)));
    m.destroy();
  });

  test('an empty memory sums as the empty string', async () => {
    const m = fresh(0);
    assert.equal(await m.checksum(), sha256(Buffer.alloc(0)));
    m.destroy();
  });
});

describe('workload', () => {
  for (const rateMiB of [4, 16, 64]) {
    test(`holds ${rateMiB} MiB/s to within 15% over 2 s`, async () => {
      const m = fresh(256 * MiB);
      const rate = rateMiB * MiB;
      const w = new Workload(m, { workingSet: 256 * MiB, dirtyRate: rate });
      w.start();
      assert.equal(w.running, true);
      await sleep(2000);
      w.stop();
      const s = w.stats();
      assert.ok(s.elapsedMs >= 1990 && s.elapsedMs < 3000, `elapsed ${s.elapsedMs} ms`);
      assert.ok(Math.abs(s.achievedRate / rate - 1) <= 0.15, `achieved ${(s.achievedRate / MiB).toFixed(2)} MiB/s of ${rateMiB}`);
      assert.equal(s.bytesWritten % PAGE_SIZE, 0);
      m.destroy();
    });
  }

  test('writes only inside the working set, clamped to the memory size', async () => {
    const m = fresh(64 * MiB);
    m.setDirtyLogging(true);
    const w = new Workload(m, { workingSet: 8 * MiB, dirtyRate: 32 * MiB }, { tickMs: 10 });
    w.start();
    await sleep(500);
    w.stop();
    const dirty = m.takeDirty();
    const wsPages = (8 * MiB) / PAGE_SIZE;
    assert.ok(dirty.length > wsPages / 2, `only ${dirty.length} pages dirtied`);
    assert.ok(dirty.every((p) => p < wsPages), `a page at or above ${wsPages} was written`);
    assert.ok(m.read(8 * MiB, 56 * MiB).equals(Buffer.alloc(56 * MiB)));

    const big = new Workload(m, { workingSet: 1 * GiB, dirtyRate: 16 * MiB });
    big.start();
    await sleep(300);
    big.stop();
    const all = m.takeDirty();
    assert.ok(all.length > 0 && all[all.length - 1] < (64 * MiB) / PAGE_SIZE);
    m.destroy();
  });

  test('follows memory DR: after a shrink it writes below the new size', async () => {
    const m = fresh(64 * MiB);
    const w = new Workload(m, { workingSet: 64 * MiB, dirtyRate: 32 * MiB }, { tickMs: 10 });
    w.start();
    await sleep(100);
    m.resize(4 * MiB);
    m.setDirtyLogging(true);
    await sleep(300);
    w.stop();
    const dirty = m.takeDirty();
    assert.ok(dirty.length > 0);
    assert.ok(dirty.every((p) => p < (4 * MiB) / PAGE_SIZE));
    m.destroy();
  });

  test('stop stops: no write after it, and the statistics stay put', async () => {
    const m = fresh(16 * MiB);
    m.setDirtyLogging(true);
    const w = new Workload(m, { workingSet: 16 * MiB, dirtyRate: 16 * MiB }, { tickMs: 10 });
    w.start();
    await sleep(200);
    w.stop();
    assert.equal(w.running, false);
    const before = w.stats();
    assert.ok(before.bytesWritten > 0);
    m.takeDirty();
    await sleep(200);
    assert.equal(m.dirtyCount(), 0);
    assert.deepEqual(w.stats(), before);
    m.destroy();
  });

  test('a zero rate writes nothing', async () => {
    const m = fresh(4 * MiB);
    m.setDirtyLogging(true);
    const w = new Workload(m, { workingSet: 4 * MiB, dirtyRate: 0 }, { tickMs: 10 });
    w.start();
    await sleep(100);
    w.stop();
    assert.equal(w.stats().bytesWritten, 0);
    assert.equal(m.dirtyCount(), 0);
    m.destroy();
  });

  test('content is incompressible by default and compressible on request', async () => {
    const sample = async (incompressible: boolean): Promise<Buffer> => {
      const m = fresh(1 * MiB);
      m.setDirtyLogging(true);
      const w = new Workload(m, { workingSet: 1 * MiB, dirtyRate: 8 * MiB }, { tickMs: 10, incompressible, seed: 7 });
      w.start();
      await sleep(100);
      w.stop();
      const [page] = m.takeDirty();
      assert.ok(page !== undefined, 'nothing written');
      const bytes = m.read(page * PAGE_SIZE, PAGE_SIZE);
      m.destroy();
      return bytes;
    };
    const random = await sample(true);
    assert.ok(zlib.deflateSync(random).length >= PAGE_SIZE, 'random page compressed');
    const sparse = await sample(false);
    assert.ok(zlib.deflateSync(sparse).length < PAGE_SIZE / 20, 'marker page did not compress');
    assert.ok(!sparse.equals(Buffer.alloc(PAGE_SIZE)), 'marker page is all zeros');
  });

  test('the same seed writes the same pages with the same bytes', async () => {
    const run = async (): Promise<GuestMemory> => {
      const m = fresh(4 * MiB);
      // 1.5 pages/s and one tick after 1 s: exactly one page unless the tick is a third of a second late.
      const w = new Workload(m, { workingSet: 4 * MiB, dirtyRate: 1.5 * PAGE_SIZE }, { seed: 42, tickMs: 1000 });
      w.start();
      await sleep(1150);
      w.stop();
      assert.equal(w.stats().bytesWritten, PAGE_SIZE);
      return m;
    };
    const a = await run();
    const b = await run();
    const sum = await a.checksum();
    assert.equal(await b.checksum(), sum);
    assert.notEqual(sum, pageTree(Buffer.alloc(4 * MiB)));
    a.destroy();
    b.destroy();
  });
});
