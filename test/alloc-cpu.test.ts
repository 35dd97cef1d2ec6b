import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PlatformSpec } from '../src/platform/types.js';
import { allocateStrands, checkWholeCoreCount, coresOf, releaseStrands } from '../src/manager/alloc/cpu.js';

function platform(chips: number, coresPerChip: number, strandsPerCore: number): PlatformSpec {
  return {
    id: 'test',
    model: 'test',
    rootNode: 'test',
    cpu: { type: 'UltraSPARC-T2+', chips, coresPerChip, strandsPerCore, clockMHz: 1165, stickFrequencyHz: 1165000000, cryptoUnitsPerCore: 1 },
    memory: { banks: [], reserved: [] },
    primaryConsole: 'SP',
    io: [],
    netDevices: [],
    systemMac: '00:21:28:57:cd:16',
    firmware: { sysfw: '7.3.0', hypervisor: '1.9.0', openboot: '4.32.0' },
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function value<T>(r: { ok: true; value: T } | { ok: false; message: string }): T {
  if (!r.ok) assert.fail(`unexpected failure: ${r.message}`);
  return r.value;
}

// 2 chips x 4 cores x 8 strands: cores 0..7, strands 0..63.
const p = platform(2, 4, 8);

test('coresOf lists distinct cores in ascending order', () => {
  assert.deepEqual(coresOf(p, [17, 3, 9, 16, 2]), [0, 1, 2]);
  assert.deepEqual(coresOf(p, []), []);
  assert.deepEqual(coresOf(platform(1, 8, 4), [4, 5, 31]), [1, 7]);
});

test('affinity: guests fill free cores in turn, the second guest skips the half-used core', () => {
  const taken = new Set(range(0, 7)); // primary owns core 0
  const a = value(allocateStrands(p, taken, 4));
  assert.deepEqual(a, [8, 9, 10, 11]);
  a.forEach((s) => taken.add(s));
  const b = value(allocateStrands(p, taken, 8));
  assert.deepEqual(b, range(16, 23)); // not 12..19
  b.forEach((s) => taken.add(s));
  const c = value(allocateStrands(p, taken, 4));
  assert.deepEqual(c, [24, 25, 26, 27]);
  c.forEach((s) => taken.add(s));

  // Growing a domain first fills its own cores, then free cores.
  const a2 = value(allocateStrands(p, taken, 2, { current: a }));
  assert.deepEqual(a2, [8, 9, 10, 11, 12, 13]);
  a2.forEach((s) => taken.add(s));
  const a3 = value(allocateStrands(p, taken, 6, { current: a2 }));
  assert.deepEqual(a3, [8, 9, 10, 11, 12, 13, 14, 15, 32, 33, 34, 35]);
});

test('affinity: a request larger than a core takes whole free cores then the rest', () => {
  const taken = new Set(range(0, 7));
  assert.deepEqual(value(allocateStrands(p, taken, 20)), range(8, 27));
});

test('affinity: partly used cores are taken by most free strands, then lowest core ID', () => {
  // Cores 0, 3..7 full; core 1 has 2 free (14, 15); core 2 has 4 free (20..23).
  const taken = new Set([...range(0, 13), ...range(16, 19), ...range(24, 63)]);
  assert.deepEqual(value(allocateStrands(p, taken, 3)), [20, 21, 22]);
  assert.deepEqual(value(allocateStrands(p, taken, 5)), [20, 21, 22, 23, 14]);
  // Tie on free strands: core 1 (2 free) before core 3 (2 free).
  const tie = new Set([...range(0, 13), ...range(16, 29), ...range(32, 63)]);
  assert.deepEqual(value(allocateStrands(p, tie, 3)), [14, 15, 30]);
});

test('affinity: the domain\'s own cores come before an entirely free core', () => {
  const taken = new Set([...range(0, 7), 8]); // the domain holds strand 8 of core 1
  assert.deepEqual(value(allocateStrands(p, taken, 3, { current: [8] })), [8, 9, 10, 11]);
});

test('not enough strands: the failure counts the free, unreserved strands', () => {
  const taken = new Set([...range(0, 7), ...range(8, 11), ...range(16, 23), ...range(24, 27), 12, 13]);
  const r = allocateStrands(p, taken, 40);
  assert.deepEqual(r, { ok: false, message: 'Not enough free CPU threads: 40 requested, 38 available' });
  assert.deepEqual(allocateStrands(p, new Set(range(0, 63)), 1), {
    ok: false,
    message: 'Not enough free CPU threads: 1 requested, 0 available',
  });
  assert.equal(value(allocateStrands(p, taken, 38)).length, 38);
});

test('reserved strands are given to nobody and spoil the core for whole-core', () => {
  const taken = new Set(range(0, 7));
  const reserved = new Set([9, 10, 11, 12, 13, 14, 15]); // core 1: strand 8 migrated, rest idle
  const r = value(allocateStrands(p, taken, 4, { reserved }));
  assert.deepEqual(r, [16, 17, 18, 19]);
  // 64 strands - 8 taken - 7 reserved.
  assert.equal(value(allocateStrands(p, taken, 49, { reserved })).length, 49);
  assert.deepEqual(allocateStrands(p, taken, 50, { reserved }), {
    ok: false,
    message: 'Not enough free CPU threads: 50 requested, 49 available',
  });
  assert.deepEqual(value(allocateStrands(p, taken, 8, { wholeCore: true, reserved: new Set([8]) })), range(16, 23));
});

test('whole-core: only entirely free cores, lowest first', () => {
  const taken = new Set([...range(0, 7), 17]); // core 2 partly used
  assert.deepEqual(value(allocateStrands(p, taken, 16, { wholeCore: true })), [...range(8, 15), ...range(24, 31)]);
  assert.deepEqual(allocateStrands(p, taken, 56, { wholeCore: true }), {
    ok: false,
    message: 'Not enough free cores: 7 requested, 6 available',
  });
  assert.deepEqual(allocateStrands(p, taken, 12, { wholeCore: true }), {
    ok: false,
    message: 'The number of virtual CPUs (12) is not a multiple of the 8 strands per core required by the whole-core constraint',
  });
});

test('whole-core growth keeps the current cores first', () => {
  const taken = new Set([...range(0, 7), ...range(24, 31)]);
  const r = value(allocateStrands(p, taken, 8, { wholeCore: true, current: range(24, 31) }));
  assert.deepEqual(r, [...range(24, 31), ...range(8, 15)]);
});

test('checkWholeCoreCount', () => {
  assert.deepEqual(checkWholeCoreCount(p, 24), { ok: true, value: 3 });
  assert.deepEqual(checkWholeCoreCount(platform(1, 8, 4), 6), {
    ok: false,
    message: 'The number of virtual CPUs (6) is not a multiple of the 4 strands per core required by the whole-core constraint',
  });
});

test('allocateStrands: zero, determinism, no mutation, current never handed out again', () => {
  const current = Object.freeze([8, 9]);
  const taken = new Set(range(0, 7)); // the domain's own strands are not in `taken` here
  const before = [...taken];
  assert.deepEqual(value(allocateStrands(p, taken, 0, { current })), [8, 9]);
  const r1 = value(allocateStrands(p, taken, 7, { current }));
  const r2 = value(allocateStrands(p, taken, 7, { current }));
  assert.deepEqual(r1, r2);
  assert.deepEqual(r1, range(8, 16));
  assert.equal(new Set(r1).size, r1.length);
  assert.deepEqual([...taken], before);
  assert.deepEqual(current, [8, 9]);
  assert.throws(() => allocateStrands(p, taken, -1), RangeError);
});

test('releaseStrands: fewest-strand core first, highest IDs first', () => {
  const current = [...range(0, 7), 8, 9];
  assert.deepEqual(releaseStrands(p, current, 8), range(0, 7));
  assert.deepEqual(releaseStrands(p, current, 5), [0, 1, 2, 3, 4]);
  // Tie between cores: the highest core ID gives first.
  assert.deepEqual(releaseStrands(p, [0, 1, 8, 9], 3), [0, 1, 8]);
  assert.deepEqual(releaseStrands(p, [0, 1, 8], 2), [0, 1]);
});

test('releaseStrands keeps VID 0 and the VID order', () => {
  // VID 0 (strand 13) is alone on core 1: it stays, core 0 gives instead.
  assert.deepEqual(releaseStrands(p, [13, 0, 1, 2], 3), [13, 0, 1]);
  assert.deepEqual(releaseStrands(p, [8, 0, 9, 1], 2), [8, 0]);
  assert.deepEqual(releaseStrands(p, [8, 0, 9, 1], 1), [8]);
  assert.deepEqual(releaseStrands(p, [8, 0, 9, 1], 0), []);
  assert.deepEqual(releaseStrands(p, [8, 0, 9, 1], 4), [8, 0, 9, 1]);
  assert.deepEqual(releaseStrands(p, [8, 0, 9, 1], 9), [8, 0, 9, 1]);
});

test('releaseStrands whole-core removes whole cores, never the core of VID 0', () => {
  assert.deepEqual(releaseStrands(p, range(0, 23), 8, { wholeCore: true }), range(0, 7));
  assert.deepEqual(releaseStrands(p, [...range(16, 23), ...range(0, 15)], 8, { wholeCore: true }), range(16, 23));
  assert.deepEqual(releaseStrands(p, range(0, 23), 16, { wholeCore: true }), range(0, 15));
  assert.throws(() => releaseStrands(p, range(0, 23), 12, { wholeCore: true }), RangeError);
});

test('releaseStrands does not mutate its input', () => {
  const current = Object.freeze([...range(0, 7), 8, 9]);
  releaseStrands(p, current, 3);
  releaseStrands(p, current, 8, { wholeCore: true });
  assert.deepEqual(current, [...range(0, 7), 8, 9]);
});
