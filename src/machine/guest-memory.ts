// A domain's real memory: a sparse file in the host's state directory, read and written with
// pread/pwrite, never held in the JS heap (domains reach many GiB; the machine running the model has
// far less RAM than the servers it models). The file is the guest's real-address space: the
// domain's mblocks laid end to end in RA order, offset 0 being the first mblock's start.
//
// Beside the bytes, an optional per-page dirty log: the set of pages written since it was last
// taken. Live migration's pre-copy rounds copy everything, then repeatedly take-and-clear the set
// and copy those pages until it is small enough to stop the guest for the last round.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { MBlock } from '../manager/types.js';

/** The sun4v base page (8 KiB): the unit the hypervisor tracks and the guest dirties. */
export const PAGE_SIZE = 8192;

const CHECKSUM_CHUNK = 4 * 1024 * 1024;

/** Where a domain's memory lives on its host: `<hostDir>/mem/<domain>.mem`. */
export function memoryFileFor(hostDir: string, domain: string): string {
  // A domain name becomes a file name: one that could leave the directory is a bug upstream.
  if (domain === '' || domain === '.' || domain === '..' || domain.includes('/') || domain.includes('\0')) {
    throw new Error(`domain name unusable as a memory file name: ${JSON.stringify(domain)}`);
  }
  return path.join(hostDir, 'mem', `${domain}.mem`);
}

/**
 * The file offset of a real address: mblocks are concatenated in RA order, so an address's offset is
 * the size of the mblocks below it plus its distance into its own mblock.
 */
export function offsetOfRealAddress(mblocks: readonly MBlock[], realAddress: number): number {
  let offset = 0;
  for (const mb of [...mblocks].sort((a, b) => a.ra - b.ra)) {
    if (realAddress >= mb.ra && realAddress < mb.ra + mb.size) return offset + (realAddress - mb.ra);
    offset += mb.size;
  }
  throw new RangeError(`real address 0x${realAddress.toString(16)} is in none of the domain's mblocks`);
}

function checkSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0 || size % PAGE_SIZE !== 0) {
    throw new RangeError(`guest memory size ${size} is not a whole number of ${PAGE_SIZE}-byte pages`);
  }
}

/** One bit per page; a count kept beside it so dirtyCount() and takeDirty()'s result size are free. */
class DirtyBitmap {
  words: Uint32Array;
  count = 0;

  constructor(pages: number) {
    this.words = new Uint32Array(Math.ceil(pages / 32));
  }

  markRange(first: number, last: number): void {
    const w = this.words;
    for (let p = first; p <= last; p++) {
      const i = p >>> 5;
      const bit = 1 << (p & 31);
      if ((w[i] & bit) === 0) {
        w[i] |= bit;
        this.count++;
      }
    }
  }

  take(): Uint32Array {
    const out = new Uint32Array(this.count);
    const w = this.words;
    let n = 0;
    for (let i = 0; i < w.length; i++) {
      let v = w[i];
      if (v === 0) continue;
      w[i] = 0;
      const base = i << 5;
      while (v !== 0) {
        const low = v & -v;
        out[n++] = base + 31 - Math.clz32(low);
        v ^= low;
      }
    }
    this.count = 0;
    return out;
  }

  /** Keep the bits of pages that still exist; pages beyond `pages` are gone with the memory. */
  resize(pages: number): void {
    const next = new Uint32Array(Math.ceil(pages / 32));
    next.set(this.words.subarray(0, next.length));
    if (pages % 32 !== 0 && next.length > 0) next[next.length - 1] &= (1 << (pages % 32)) - 1;
    this.words = next;
    let count = 0;
    for (let i = 0; i < next.length; i++) {
      let v = next[i];
      while (v !== 0) {
        v &= v - 1;
        count++;
      }
    }
    this.count = count;
  }
}

const ZERO_PAGE = Buffer.alloc(PAGE_SIZE);
const ZERO_PAGE_DIGEST = createHash('sha256').update(ZERO_PAGE).digest();

/**
 * A memory's digest built page by page, in any order, a page set again replacing its earlier
 * value: sha256 over the 32-byte sha256 of each page in page order. A zero page's digest is a
 * constant, so holes cost a comparison, not a hash.
 */
export class MemoryDigest {
  private readonly digests: Buffer;

  constructor(readonly pages: number) {
    this.digests = Buffer.alloc(pages * 32);
    for (let p = 0; p < pages; p++) ZERO_PAGE_DIGEST.copy(this.digests, p * 32);
  }

  /** Record the content of page `p` (exactly PAGE_SIZE bytes). */
  page(p: number, data: Buffer): void {
    if (data.equals(ZERO_PAGE)) ZERO_PAGE_DIGEST.copy(this.digests, p * 32);
    else createHash('sha256').update(data).digest().copy(this.digests, p * 32);
  }

  /** Page `p` is zeros. */
  zero(p: number): void {
    ZERO_PAGE_DIGEST.copy(this.digests, p * 32);
  }

  hex(): string {
    return createHash('sha256').update(this.digests).digest('hex');
  }
}

export class GuestMemory {
  readonly file: string;
  private fd: number | null;
  private _size: number;
  private dirty: DirtyBitmap | null = null;

  private constructor(file: string, fd: number, size: number) {
    this.file = file;
    this.fd = fd;
    this._size = size;
  }

  /** Create the file (sparse: no blocks until written) or open an existing one, sized to `size`. */
  static open(file: string, size: number): GuestMemory {
    checkSize(size);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    try {
      if (fs.fstatSync(fd).size !== size) fs.ftruncateSync(fd, size);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
    return new GuestMemory(file, fd, size);
  }

  get size(): number {
    return this._size;
  }

  private handle(): number {
    if (this.fd === null) throw new Error(`guest memory ${this.file} is closed`);
    return this.fd;
  }

  private checkRange(offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || length < 0 || offset + length > this._size) {
      throw new RangeError(`guest memory access [${offset}, +${length}) outside 0..${this._size}`);
    }
  }

  /** Memory DR: growing adds pages that read as zeros (a hole); shrinking drops the top of the space. */
  resize(size: number): void {
    checkSize(size);
    fs.ftruncateSync(this.handle(), size);
    this._size = size;
    this.dirty?.resize(size / PAGE_SIZE);
  }

  write(offset: number, data: Buffer): void {
    this.checkRange(offset, data.length);
    const fd = this.handle();
    let done = 0;
    while (done < data.length) {
      done += fs.writeSync(fd, data, done, data.length - done, offset + done);
    }
    if (this.dirty !== null && data.length > 0) {
      this.dirty.markRange(Math.floor(offset / PAGE_SIZE), Math.floor((offset + data.length - 1) / PAGE_SIZE));
    }
  }

  read(offset: number, length: number): Buffer {
    this.checkRange(offset, length);
    const fd = this.handle();
    const buf = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(fd, buf, done, length - done, offset + done);
      if (n === 0) break; // cannot happen while the file is `size` long; the rest stays zero
      done += n;
    }
    return buf;
  }

  setDirtyLogging(on: boolean): void {
    this.handle();
    // A bitmap only while logging: 64 KiB per 4 GiB of memory, nothing for domains not migrating.
    this.dirty = on ? new DirtyBitmap(this._size / PAGE_SIZE) : null;
  }

  get dirtyLogging(): boolean {
    return this.dirty !== null;
  }

  /** Return the page numbers dirtied since the last call (or since logging began) and clear them. */
  takeDirty(): Uint32Array {
    return this.dirty === null ? new Uint32Array(0) : this.dirty.take();
  }

  dirtyCount(): number {
    return this.dirty?.count ?? 0;
  }

  /**
   * The memory's digest (`memoryDigest`): sha256 over the sha256 of every 8 KiB page in order, holes
   * read as zeros. Page by page so that a migration can build the same value from the pages as it
   * sends or applies them, without reading the whole memory again while the guest waits.
   */
  async checksum(): Promise<string> {
    this.handle();
    const size = this._size;
    // Its own descriptor: a close() or destroy() meanwhile cannot hand our fd number to another file.
    const fh = await fs.promises.open(this.file, 'r');
    try {
      const digest = new MemoryDigest(size / PAGE_SIZE);
      const bufs = [Buffer.alloc(CHECKSUM_CHUNK), Buffer.alloc(CHECKSUM_CHUNK)];
      const readChunk = async (buf: Buffer, at: number): Promise<Buffer> => {
        const len = Math.min(CHECKSUM_CHUNK, size - at);
        let done = 0;
        while (done < len) {
          const { bytesRead } = await fh.read(buf, done, len - done, at + done);
          if (bytesRead === 0) break; // shrunk meanwhile: the missing tail counts as zeros
          done += bytesRead;
        }
        buf.fill(0, done, len);
        return buf.subarray(0, len);
      };
      // Double-buffered: the next chunk is read (thread pool) while this one is hashed.
      let next = size > 0 ? readChunk(bufs[0], 0) : null;
      for (let at = 0, i = 0; next !== null; at += CHECKSUM_CHUNK, i ^= 1) {
        const chunk = await next;
        const following = at + CHECKSUM_CHUNK;
        next = following < size ? readChunk(bufs[i ^ 1], following) : null;
        const first = at / PAGE_SIZE;
        for (let off = 0; off < chunk.length; off += PAGE_SIZE) digest.page(first + off / PAGE_SIZE, chunk.subarray(off, off + PAGE_SIZE));
      }
      return digest.hex();
    } finally {
      await fh.close();
    }
  }

  flush(): void {
    fs.fdatasyncSync(this.handle());
  }

  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    this.dirty = null;
    fs.closeSync(fd);
  }

  /** Delete the backing file (domain unbound). */
  destroy(): void {
    this.close();
    fs.rmSync(this.file, { force: true });
  }
}
