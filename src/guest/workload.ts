// What a running guest does to its memory: it rewrites whole pages of its working set at its dirty
// rate (both from the OS image's workload). This is the load live migration's pre-copy rounds race
// against, so the rate must hold: each tick writes what real time since start() allows less what
// was written, and a late tick catches up instead of the rate drifting down.

import { performance } from 'node:perf_hooks';
import { PAGE_SIZE, type GuestMemory } from '../machine/guest-memory.js';

/** Bytes of memory the guest touches, and bytes it dirties per second. */
export interface WorkloadSpec {
  workingSet: number;
  dirtyRate: number;
}

export interface WorkloadOptions {
  /** Timer period in milliseconds (default 50). */
  tickMs?: number;
  /** PRNG seed for page choice and content (default 1): the same seed writes the same sequence. */
  seed?: number;
  /** Random page content (default true); false writes mostly-zero pages that compress well. */
  incompressible?: boolean;
}

// A backlog longer than this (the process was stopped, the machine swapped) is forgiven rather than
// written in one burst that would block the machine process for seconds.
const MAX_BACKLOG_SECONDS = 1;

/** xorshift128 (Marsaglia 2003): fast, seedable, and random enough that pages do not compress. */
class XorShift128 {
  private x: number;
  private y = 362436069;
  private z = 521288629;
  private w = 88675123;

  constructor(seed: number) {
    this.x = (seed >>> 0) ^ 123456789 || 1;
    for (let i = 0; i < 16; i++) this.next();
  }

  next(): number {
    const t = this.x ^ (this.x << 11);
    this.x = this.y;
    this.y = this.z;
    this.z = this.w;
    this.w = (this.w ^ (this.w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    return this.w;
  }

  fill(words: Uint32Array): void {
    let x = this.x, y = this.y, z = this.z, w = this.w;
    for (let i = 0; i < words.length; i++) {
      const t = x ^ (x << 11);
      x = y;
      y = z;
      z = w;
      w = (w ^ (w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
      words[i] = w;
    }
    this.x = x;
    this.y = y;
    this.z = z;
    this.w = w;
  }
}

export class Workload {
  running = false;
  private readonly tickMs: number;
  private readonly incompressible: boolean;
  private readonly prng: XorShift128;
  private readonly page = Buffer.alloc(PAGE_SIZE);
  private readonly pageWords = new Uint32Array(this.page.buffer, this.page.byteOffset, PAGE_SIZE / 4);
  private timer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  private stoppedAt = 0;
  private bytesWritten = 0;
  /** Bytes of budget given up after stalls (see MAX_BACKLOG_SECONDS). */
  private forgiven = 0;
  private sequence = 0;

  constructor(
    private readonly mem: GuestMemory,
    private readonly spec: WorkloadSpec,
    opts: WorkloadOptions = {},
  ) {
    if (!(spec.workingSet >= 0) || !(spec.dirtyRate >= 0)) {
      throw new RangeError(`workload needs a working set and dirty rate of at least 0 (got ${spec.workingSet}, ${spec.dirtyRate})`);
    }
    this.tickMs = opts.tickMs ?? 50;
    if (!(this.tickMs > 0)) throw new RangeError(`workload tick must be positive (got ${this.tickMs})`);
    this.incompressible = opts.incompressible ?? true;
    this.prng = new XorShift128(opts.seed ?? 1);
  }

  /** Start (or restart) writing; the statistics start again from zero. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.startedAt = performance.now();
    this.bytesWritten = 0;
    this.forgiven = 0;
    this.timer = setInterval(() => this.tick(), this.tickMs);
    // The guest's activity alone must not keep the machine process alive.
    this.timer.unref();
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.stoppedAt = performance.now();
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Written so far and the rate achieved. */
  stats(): { bytesWritten: number; elapsedMs: number; achievedRate: number } {
    const elapsedMs = this.startedAt === 0 ? 0 : (this.running ? performance.now() : this.stoppedAt) - this.startedAt;
    return {
      bytesWritten: this.bytesWritten,
      elapsedMs,
      achievedRate: elapsedMs > 0 ? this.bytesWritten / (elapsedMs / 1000) : 0,
    };
  }

  private tick(): void {
    // Re-read every tick: memory DR may have shrunk the domain below its working set.
    const pages = Math.floor(Math.min(this.spec.workingSet, this.mem.size) / PAGE_SIZE);
    const elapsed = (performance.now() - this.startedAt) / 1000;
    const budget = this.spec.dirtyRate * elapsed - this.forgiven;
    let due = Math.floor((budget - this.bytesWritten) / PAGE_SIZE);
    const cap = Math.ceil((this.spec.dirtyRate * MAX_BACKLOG_SECONDS) / PAGE_SIZE);
    if (due > cap) {
      this.forgiven += (due - cap) * PAGE_SIZE;
      due = cap;
    }
    if (due <= 0) return;
    if (pages === 0) {
      this.forgiven += due * PAGE_SIZE; // nothing to write to: the guest is not behind
      return;
    }
    for (let i = 0; i < due; i++) {
      // Multiply-shift instead of modulo: no bias toward low pages for any working-set size.
      const index = Math.floor((this.prng.next() / 0x1_0000_0000) * pages);
      this.fillPage(index);
      this.mem.write(index * PAGE_SIZE, this.page);
    }
    this.bytesWritten += due * PAGE_SIZE;
  }

  private fillPage(index: number): void {
    if (this.incompressible) {
      this.prng.fill(this.pageWords);
      return;
    }
    // Mostly zeros with a marker (page index, write sequence, one random word): content that
    // compresses to almost nothing yet still differs on every write, so a copy can be checked.
    this.pageWords.fill(0);
    this.pageWords[0] = 0x4c444f4d; // 'LDOM'
    this.pageWords[1] = index >>> 0;
    this.pageWords[2] = ++this.sequence >>> 0;
    this.pageWords[3] = this.prng.next();
  }
}
