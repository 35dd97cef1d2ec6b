import { test } from 'node:test';
import assert from 'node:assert/strict';
import { G, M, formatHostid } from '../src/format/units.js';
import type { MBlock } from '../src/manager/types.js';
import type { PlatformSpec } from '../src/platform/types.js';
import { allocateConsolePort } from '../src/manager/alloc/console.js';
import { allocateStrands, coresOf, releaseStrands } from '../src/manager/alloc/cpu.js';
import { allocateCrypto, checkCryptoCores, releaseCrypto } from '../src/manager/alloc/crypto.js';
import {
  AUTO_MAC_FIRST,
  AUTO_MAC_LAST,
  allocateMac,
  checkManualMac,
  formatMac,
  hostidFromMac,
  isAutoMac,
  macToNumber,
  parseHostid,
  parseMac,
} from '../src/manager/alloc/mac.js';
import {
  BIND_ALIGN,
  DR_ALIGN,
  GUEST_RA_BASE,
  allocateMemory,
  growMemory,
  removableMemory,
  shrinkMemory,
  withoutRanges,
} from '../src/manager/alloc/memory.js';

function platform(chips: number, coresPerChip: number, strandsPerCore: number, cryptoUnitsPerCore: 0 | 1): PlatformSpec {
  return {
    id: 'test',
    model: 'test',
    rootNode: 'test',
    cpu: { type: 'UltraSPARC-T2', chips, coresPerChip, strandsPerCore, clockMHz: 1165, stickFrequencyHz: 1165000000, cryptoUnitsPerCore },
    memory: { banks: [{ pa: 0, size: 16 * G }], reserved: [{ pa: 0, size: 0xe000000 }] },
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

/** mulberry32: a small seeded PRNG so the randomized tests replay exactly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// Crypto

const t2 = platform(1, 8, 8, 1);

test('allocateCrypto gives units of the domain\'s own cores, lowest first', () => {
  const taken = new Set([0]); // primary keeps MAU 0
  assert.deepEqual(value(allocateCrypto(t2, taken, [8, 9, 10, 11], 1)), [1]);
  assert.deepEqual(value(allocateCrypto(t2, taken, [16, 8, 9], 2)), [1, 2]);
  assert.deepEqual(value(allocateCrypto(t2, taken, [16, 8, 9], 1, [1])), [1, 2]);
  assert.deepEqual(value(allocateCrypto(t2, taken, [8], 0, [1])), [1]);
});

test('allocateCrypto failures', () => {
  assert.deepEqual(allocateCrypto(t2, new Set([0]), [8, 9, 10, 11], 2), {
    ok: false,
    message: 'Not enough free crypto units on the cores of the domain: 2 requested, 1 available',
  });
  assert.deepEqual(allocateCrypto(t2, new Set([1]), [8, 9], 1), {
    ok: false,
    message: 'Not enough free crypto units on the cores of the domain: 1 requested, 0 available',
  });
  // The domain's own unit is not counted again.
  assert.deepEqual(allocateCrypto(t2, new Set(), [8, 9], 1, [1]), {
    ok: false,
    message: 'Not enough free crypto units on the cores of the domain: 1 requested, 0 available',
  });
  const t4 = platform(1, 8, 8, 0);
  assert.deepEqual(allocateCrypto(t4, new Set(), [0, 1], 1), { ok: false, message: 'This system has no crypto units' });
  assert.deepEqual(value(allocateCrypto(t4, new Set(), [0, 1], 0)), []);
  assert.throws(() => allocateCrypto(t2, new Set(), [0], -1), RangeError);
});

test('releaseCrypto gives back the highest units and keeps the order', () => {
  assert.deepEqual(releaseCrypto([3, 1, 2], 2), [1, 2]);
  assert.deepEqual(releaseCrypto([3, 1, 2], 1), [1]);
  assert.deepEqual(releaseCrypto([3, 1, 2], 0), []);
  assert.deepEqual(releaseCrypto([3, 1, 2], 5), [3, 1, 2]);
  const frozen = Object.freeze([3, 1, 2]);
  releaseCrypto(frozen, 1);
  assert.deepEqual(frozen, [3, 1, 2]);
});

test('checkCryptoCores: a core with a bound crypto unit cannot go', () => {
  assert.deepEqual(checkCryptoCores(t2, [0, 1], range(0, 7)), {
    ok: false,
    message: 'Core 1 cannot be removed while its crypto unit is bound to the domain',
  });
  assert.deepEqual(checkCryptoCores(t2, [0, 1], [0, 9]), { ok: true, value: undefined });
  assert.deepEqual(checkCryptoCores(t2, [], []), { ok: true, value: undefined });
});

test('the 2.0 capture: set-mau 1 then set-vcpu 8 on the factory-default primary', () => {
  const crypto = releaseCrypto(range(0, 7), 1);
  assert.deepEqual(crypto, [0]);
  const strands = releaseStrands(t2, range(0, 63), 8);
  assert.deepEqual(strands, range(0, 7));
  assert.equal(checkCryptoCores(t2, crypto, strands).ok, true);
  // In the other order the vCPU removal would strand MAUs 1..7.
  assert.equal(checkCryptoCores(t2, range(0, 7), strands).ok, false);
});

// ---------------------------------------------------------------------------------------------
// MAC addresses and host IDs

test('parseMac accepts any case and one-digit octets, returns the canonical form', () => {
  assert.equal(parseMac('00:14:4F:FC:00:01'), '00:14:4f:fc:00:01');
  assert.equal(parseMac('0:14:4f:fc:0:1'), '00:14:4f:fc:00:01');
  assert.equal(parseMac(' 00:21:28:57:cd:16 '), '00:21:28:57:cd:16');
  for (const bad of ['', '00:14:4f:fc:00', '00:14:4f:fc:00:01:02', '00-14-4f-fc-00-01', 'zz:14:4f:fc:00:01', '000:14:4f:fc:00:01', '00:14:4f:fc::01']) {
    assert.equal(parseMac(bad), null, bad);
  }
  assert.equal(macToNumber('00:14:4f:f8:00:00'), AUTO_MAC_FIRST);
  assert.equal(formatMac(AUTO_MAC_LAST), '00:14:4f:fb:ff:ff');
  assert.equal(isAutoMac('00:14:4F:FA:ED:88'), true);
  assert.equal(isAutoMac('00:14:4f:fc:00:00'), false);
  assert.equal(isAutoMac('00:14:4f:f7:ff:ff'), false);
});

test('allocateMac: random start in the automatic range, then the next free address', () => {
  assert.deepEqual(allocateMac(new Set(), () => 0), { ok: true, value: '00:14:4f:f8:00:00' });
  assert.deepEqual(allocateMac(new Set(['00:14:4F:F8:00:00']), () => 0), { ok: true, value: '00:14:4f:f8:00:01' });
  assert.deepEqual(allocateMac(new Set(), () => 0.5), { ok: true, value: '00:14:4f:fa:00:00' });
  assert.deepEqual(allocateMac(new Set(), () => 0.9999999999), { ok: true, value: '00:14:4f:fb:ff:ff' });
  // Wraps from the top of the range to its bottom.
  assert.deepEqual(allocateMac(new Set(['00:14:4f:fb:ff:ff']), () => 0.9999999999), { ok: true, value: '00:14:4f:f8:00:00' });
  // A generator that strays to 1 still lands inside the range.
  assert.deepEqual(allocateMac(new Set(), () => 1), { ok: true, value: '00:14:4f:fb:ff:ff' });
  const a = allocateMac(new Set(), prng(7));
  const b = allocateMac(new Set(), prng(7));
  assert.deepEqual(a, b);
  assert.ok(isAutoMac(value(a)));
});

test('allocateMac fails when the automatic range is used up', () => {
  const used = new Set<string>();
  for (let n = AUTO_MAC_FIRST; n <= AUTO_MAC_LAST; n++) used.add(formatMac(n));
  assert.deepEqual(allocateMac(used, () => 0.3), {
    ok: false,
    message: 'No free MAC address is left in the automatic range 00:14:4f:f8:00:00 - 00:14:4f:fb:ff:ff',
  });
});

test('checkManualMac', () => {
  assert.deepEqual(checkManualMac('00:14:4F:FC:00:01', new Set()), { ok: true, value: '00:14:4f:fc:00:01' });
  assert.deepEqual(checkManualMac('08:00:20:aa:bb:e0', new Set()), { ok: true, value: '08:00:20:aa:bb:e0' });
  assert.deepEqual(checkManualMac('00:14:4f:f9:12:34', new Set()), {
    ok: false,
    message: 'MAC address 00:14:4f:f9:12:34 is in the range reserved for automatic allocation (00:14:4f:f8:00:00 - 00:14:4f:fb:ff:ff)',
  });
  assert.deepEqual(checkManualMac('00:14:4f:fc:00:01', new Set(['00:14:4F:FC:00:01'])), {
    ok: false,
    message: 'MAC address 00:14:4f:fc:00:01 is already in use',
  });
  assert.deepEqual(checkManualMac('00:14:4F:FC:00:01', new Map([['00:14:4f:fc:00:01', 'vnet0@ldg1']])), {
    ok: false,
    message: 'MAC address 00:14:4f:fc:00:01 is already in use by vnet0@ldg1',
  });
  for (const bad of ['00:14:4f', 'hello', '01:00:5e:00:00:01', 'ff:ff:ff:ff:ff:ff', '00:00:00:00:00:00']) {
    assert.deepEqual(checkManualMac(bad, new Set()), { ok: false, message: `Invalid MAC address: ${bad}` });
  }
});

test('hostidFromMac: OUI prefix byte plus the low three octets (both verified pairs)', () => {
  assert.equal(hostidFromMac('00:14:4f:fa:ed:88'), 0x84faed88);
  assert.equal(hostidFromMac('00:21:28:57:cd:16'), 0x8557cd16);
  assert.equal(formatHostid(hostidFromMac('00:14:4f:fa:ed:88')), '0x84faed88');
  assert.equal(formatHostid(hostidFromMac('00:21:28:57:CD:16')), '0x8557cd16');
  assert.equal(hostidFromMac('00:03:ba:12:34:56'), 0x83123456);
  assert.equal(hostidFromMac('08:00:20:aa:bb:e0'), 0x84aabbe0);
  assert.equal(formatHostid(hostidFromMac('00:14:4f:f8:00:01')), '0x84f80001');
  assert.throws(() => hostidFromMac('nonsense'), RangeError);
});

test('parseHostid', () => {
  assert.equal(parseHostid('0x84faed88'), 0x84faed88);
  assert.equal(parseHostid('0X8557CD16'), 0x8557cd16);
  assert.equal(parseHostid('84faed88'), 0x84faed88);
  assert.equal(parseHostid('0x1'), 1);
  for (const bad of ['', '0x', '0x123456789', 'hostid', '0xfg', '-0x1']) assert.equal(parseHostid(bad), null, bad);
});

// ---------------------------------------------------------------------------------------------
// Console ports

test('allocateConsolePort: guests get the lowest free port in order', () => {
  const vcc = { portMin: 5000, portMax: 5100 };
  const used = new Set<number>();
  for (const expected of [5000, 5001, 5002]) {
    const port = value(allocateConsolePort(vcc, used));
    assert.equal(port, expected);
    used.add(port);
  }
  used.delete(5001);
  assert.deepEqual(allocateConsolePort(vcc, used), { ok: true, value: 5001 });
});

test('allocateConsolePort: a wanted port must be in the range and free', () => {
  const vcc = { portMin: 5000, portMax: 5100 };
  assert.deepEqual(allocateConsolePort(vcc, new Set([5000]), 5050), { ok: true, value: 5050 });
  assert.deepEqual(allocateConsolePort(vcc, new Set(), 5100), { ok: true, value: 5100 });
  assert.deepEqual(allocateConsolePort(vcc, new Set([5001]), 5001), { ok: false, message: 'Console port 5001 is already in use' });
  assert.deepEqual(allocateConsolePort(vcc, new Set(), 6000), {
    ok: false,
    message: 'Console port 6000 is outside the port range 5000-5100',
  });
  assert.deepEqual(allocateConsolePort(vcc, new Set(), 4999), {
    ok: false,
    message: 'Console port 4999 is outside the port range 5000-5100',
  });
  assert.deepEqual(allocateConsolePort({ portMin: 5000, portMax: 5002 }, new Set([5000, 5001, 5002])), {
    ok: false,
    message: 'No free console port is left in the port range 5000-5002',
  });
});

// ---------------------------------------------------------------------------------------------
// Randomized: whatever the sequence, nothing is ever handed out twice.

interface Slot {
  strands: number[];
  crypto: number[];
  mblocks: MBlock[];
  macs: string[];
  ports: number[];
}

test('randomized allocate/release never hands out a strand, unit, byte, MAC or port twice', () => {
  // A small memory bank so that binds and growth do run out.
  const p: PlatformSpec = { ...platform(2, 4, 8, 1), memory: { banks: [{ pa: 0, size: 6 * G }], reserved: [{ pa: 0, size: 0xe000000 }] } };
  const bankEnd = 6 * G;
  const perCore = p.cpu.strandsPerCore;
  const nStrands = 64;
  const reserved = new Set([60, 61]); // idle half of a migrated domain's core
  const vcc = { portMin: 5000, portMax: 5015 };
  const rnd = prng(20110101);
  const int = (n: number) => Math.floor(rnd() * n);
  const slots: Slot[] = Array.from({ length: 6 }, () => ({ strands: [], crypto: [], mblocks: [], macs: [], ports: [] }));
  const counts = { cpuOk: 0, cpuFail: 0, memOk: 0, memFail: 0, shrink: 0, mac: 0, port: 0, portFail: 0 };

  const allStrands = () => new Set(slots.flatMap((s) => s.strands));
  const freeMemory = () =>
    withoutRanges(p.memory.banks, [...p.memory.reserved, ...slots.flatMap((s) => s.mblocks.map(({ pa, size }) => ({ pa, size })))]);
  const usableAt = (align: number) =>
    freeMemory().reduce((n, r) => {
      const start = Math.ceil(r.pa / align) * align;
      return n + Math.max(0, Math.floor((r.pa + r.size - start) / align) * align);
    }, 0);
  const bytes = (blocks: readonly MBlock[]) => blocks.reduce((n, b) => n + b.size, 0);

  function checkInvariants(step: number) {
    const where = `step ${step}`;
    const strands = slots.flatMap((s) => s.strands);
    assert.equal(new Set(strands).size, strands.length, `${where}: strand twice`);
    assert.ok(strands.every((s) => s >= 0 && s < nStrands && !reserved.has(s)), `${where}: bad strand`);
    const crypto = slots.flatMap((s) => s.crypto);
    assert.equal(new Set(crypto).size, crypto.length, `${where}: crypto unit twice`);
    for (const s of slots) {
      const cores = new Set(coresOf(p, s.strands));
      assert.ok(s.crypto.every((u) => cores.has(u)), `${where}: crypto unit off the domain's cores`);
      const ras = [...s.mblocks].sort((a, b) => a.ra - b.ra);
      for (let i = 1; i < ras.length; i++) assert.ok(ras[i - 1].ra + ras[i - 1].size <= ras[i].ra, `${where}: RA overlap`);
    }
    const pas = [...p.memory.reserved.map((r) => ({ ...r, ra: 0 })), ...slots.flatMap((s) => s.mblocks)].sort((a, b) => a.pa - b.pa);
    for (let i = 0; i < pas.length; i++) {
      assert.ok(pas[i].size > 0 && pas[i].pa + pas[i].size <= bankEnd, `${where}: block outside the bank`);
      if (i > 0) assert.ok(pas[i - 1].pa + pas[i - 1].size <= pas[i].pa, `${where}: memory byte twice`);
    }
    const macs = slots.flatMap((s) => s.macs);
    assert.equal(new Set(macs).size, macs.length, `${where}: MAC twice`);
    const ports = slots.flatMap((s) => s.ports);
    assert.equal(new Set(ports).size, ports.length, `${where}: port twice`);
  }

  for (let step = 0; step < 4000; step++) {
    const s = slots[int(slots.length)];
    switch (int(9)) {
      case 0: {
        // Grow vCPUs (whole cores now and then, when the domain is on whole cores already).
        const wholeCore = s.strands.length % perCore === 0 && rnd() < 0.3;
        const count = wholeCore ? perCore * (1 + int(2)) : 1 + int(12);
        const taken = allStrands();
        const r = allocateStrands(p, taken, count, { current: s.strands, wholeCore, reserved });
        if (r.ok) {
          counts.cpuOk++;
          assert.deepEqual(r.value.slice(0, s.strands.length), s.strands);
          assert.equal(r.value.length, s.strands.length + count);
          s.strands = r.value;
        } else {
          counts.cpuFail++;
          const free = range(0, nStrands - 1).filter((x) => !taken.has(x) && !reserved.has(x));
          if (wholeCore) {
            const freeCores = range(0, 7).filter((c) => range(c * perCore, c * perCore + perCore - 1).every((x) => free.includes(x)));
            assert.ok(freeCores.length < count / perCore, r.message);
          } else {
            assert.ok(free.length < count, r.message);
          }
        }
        break;
      }
      case 1: {
        // Shrink vCPUs, refused while a crypto unit would be left on a core the domain leaves.
        if (s.strands.length === 0) break;
        const kept = releaseStrands(p, s.strands, int(s.strands.length));
        assert.ok(kept.every((x) => s.strands.includes(x)));
        if (kept.length > 0) assert.equal(kept[0], s.strands[0]);
        if (checkCryptoCores(p, s.crypto, kept).ok) s.strands = kept;
        break;
      }
      case 2: {
        const r = allocateCrypto(p, new Set(slots.flatMap((x) => x.crypto)), s.strands, 1 + int(2), s.crypto);
        if (r.ok) s.crypto = r.value;
        break;
      }
      case 3:
        s.crypto = releaseCrypto(s.crypto, int(s.crypto.length + 1));
        break;
      case 4: {
        // Bind, grow or unbind memory.
        if (s.mblocks.length === 0) {
          const size = (1 + int(512)) * 4 * M;
          const r = allocateMemory(freeMemory(), size, { raBase: GUEST_RA_BASE, align: BIND_ALIGN });
          assert.equal(r.ok, usableAt(BIND_ALIGN) >= size, 'bind fails exactly when aligned free memory is short');
          if (r.ok) {
            counts.memOk++;
            assert.equal(bytes(r.value), size);
            s.mblocks = r.value;
          } else {
            counts.memFail++;
          }
        } else if (rnd() < 0.15) {
          s.mblocks = [];
        } else {
          const align = rnd() < 0.5 ? BIND_ALIGN : DR_ALIGN;
          const delta = (1 + int(4)) * align;
          const before = bytes(s.mblocks);
          const r = growMemory(s.mblocks, freeMemory(), delta, { align, raMode: 'contiguous' });
          assert.equal(r.ok, usableAt(align) >= delta, 'growth fails exactly when aligned free memory is short');
          if (r.ok) {
            counts.memOk++;
            assert.equal(bytes(r.value), before + delta);
            s.mblocks = r.value;
          } else {
            counts.memFail++;
          }
        }
        break;
      }
      case 5: {
        // Shrink memory: the result lies inside the old blocks with the same RA-PA offsets.
        if (s.mblocks.length === 0) break;
        const align = rnd() < 0.5 ? BIND_ALIGN : DR_ALIGN;
        const units = removableMemory(s.mblocks, align) / align;
        if (units === 0) break;
        const delta = (1 + int(units)) * align;
        const after = shrinkMemory(s.mblocks, delta, align);
        assert.equal(bytes(after), bytes(s.mblocks) - delta);
        for (const b of after) {
          assert.ok(
            s.mblocks.some((o) => o.ra - o.pa === b.ra - b.pa && o.pa <= b.pa && b.pa + b.size <= o.pa + o.size),
            'shrunk block outside the old ones',
          );
        }
        counts.shrink++;
        s.mblocks = after;
        break;
      }
      case 6: {
        const used = new Set(slots.flatMap((x) => x.macs));
        if (rnd() < 0.7) {
          const mac = value(allocateMac(used, rnd));
          assert.ok(isAutoMac(mac) && !used.has(mac));
          s.macs.push(mac);
          counts.mac++;
        } else {
          // Manual addresses from a small pool so that collisions happen.
          const wanted = formatMac(0x00144ffc0000 + int(16));
          const r = checkManualMac(wanted, used);
          assert.equal(r.ok, !used.has(wanted));
          if (r.ok) s.macs.push(r.value);
        }
        break;
      }
      case 7: {
        if (s.macs.length > 0 && rnd() < 0.5) s.macs.splice(int(s.macs.length), 1);
        if (s.ports.length > 0 && rnd() < 0.5) s.ports.splice(int(s.ports.length), 1);
        break;
      }
      case 8: {
        const used = new Set(slots.flatMap((x) => x.ports));
        const wanted = rnd() < 0.3 ? 4998 + int(20) : undefined;
        const r = allocateConsolePort(vcc, used, wanted);
        if (r.ok) {
          counts.port++;
          s.ports.push(r.value);
        } else {
          counts.portFail++;
          assert.ok(wanted !== undefined || used.size === 16, r.message);
        }
        break;
      }
    }
    checkInvariants(step);
  }
  // The run must have exercised both outcomes, or it proves little.
  for (const [k, n] of Object.entries(counts)) assert.ok(n > 0, `${k} never happened`);
});
