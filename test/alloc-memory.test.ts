import { test } from 'node:test';
import assert from 'node:assert/strict';
import { G, M } from '../src/format/units.js';
import {
  BIND_ALIGN,
  DR_ALIGN,
  GUEST_RA_BASE,
  allocateMemory,
  bindMblocksAtRa,
  growMemory,
  memoryRule,
  planMemoryChange,
  removableMemory,
  shrinkMemory,
  withoutRanges,
  type MemoryChangeRequest,
} from '../src/manager/alloc/memory.js';

function value<T>(r: { ok: true; value: T } | { ok: false; message: string }): T {
  if (!r.ok) assert.fail(`unexpected failure: ${r.message}`);
  return r.value;
}

function plan(req: Partial<MemoryChangeRequest> & Pick<MemoryChangeRequest, 'op' | 'amount' | 'state' | 'current'>) {
  return planMemoryChange({ domain: 'ldg1', autoAdj: false, ...req });
}

// The factory-default control domain of the 2.0 capture (ldm-cli.md §4.3/§4.5).
const FACTORY_PRIMARY = [{ ra: 0xe000000, pa: 0xe000000, size: 32544 * M }];

// ---------------------------------------------------------------------------------------------
// Rules and plans

test('memoryRule per state', () => {
  assert.deepEqual(memoryRule('inactive', false), { sizeAlign: 1, addAlign: 1, removeAlign: 1, misaligned: 'adjust', growAlign: 4 * M, shrinkAlign: 4 * M });
  assert.equal(memoryRule('inactive', true).sizeAlign, 256 * M);
  assert.deepEqual(memoryRule('bound', false), { sizeAlign: 4 * M, addAlign: 1, removeAlign: 1, misaligned: 'adjust', growAlign: 4 * M, shrinkAlign: 4 * M });
  assert.equal(memoryRule('bound', true).sizeAlign, 256 * M);
  assert.deepEqual(memoryRule('active', false), { sizeAlign: 1, addAlign: 256 * M, removeAlign: 256 * M, misaligned: 'reject', growAlign: 256 * M, shrinkAlign: 256 * M });
  assert.equal(memoryRule('active', true).misaligned, 'adjust');
  assert.deepEqual(memoryRule('delayed', false), { sizeAlign: 4 * M, addAlign: 1, removeAlign: 256 * M, misaligned: 'reject', growAlign: 4 * M, shrinkAlign: 256 * M });
  assert.equal(memoryRule('delayed', true).misaligned, 'adjust');
  assert.equal(BIND_ALIGN, 4 * M);
  assert.equal(DR_ALIGN, 256 * M);
  assert.equal(GUEST_RA_BASE, 0x8000000);
});

test('golden: 2.0 refuses a non-aligned shrink of the control domain and suggests a size', () => {
  const r = planMemoryChange({ domain: 'primary', op: 'set', amount: 4 * G, state: 'delayed', autoAdj: false, current: 32544 * M });
  assert.deepEqual(r, {
    ok: false,
    message:
      'A ldm set-mem 4G command would remove 28448MB, which is not a\n' +
      'multiple of 256MB. Instead, run ldm set-mem 4128M primary\n' +
      'to ensure a 256MB alignment.',
  });
});

test('delayed reconfiguration: aligned shrinks, 4 MB rounding, other suggestions', () => {
  const base = { domain: 'primary', state: 'delayed' as const, autoAdj: false, current: 32544 * M };
  assert.deepEqual(value(planMemoryChange({ ...base, op: 'set', amount: 3872 * M })), {
    constraint: 3872 * M,
    size: 3872 * M,
    delta: -28672 * M,
    align: 256 * M,
    notices: [],
  });
  // The request is rounded up to 4 MB before the removal is measured.
  assert.deepEqual(planMemoryChange({ ...base, op: 'set', amount: 4001 * M }), {
    ok: false,
    message:
      'A ldm set-mem 4001M command would remove 28540MB, which is not a\n' +
      'multiple of 256MB. Instead, run ldm set-mem 4128M primary\n' +
      'to ensure a 256MB alignment.',
  });
  assert.deepEqual(planMemoryChange({ ...base, op: 'remove', amount: 300 * M }), {
    ok: false,
    message:
      'A ldm rm-mem 300M command would remove 300MB, which is not a\n' +
      'multiple of 256MB. Instead, run ldm rm-mem 256M primary\n' +
      'to ensure a 256MB alignment.',
  });
  // Less than 256 MB removed: the suggestion is the smallest aligned removal.
  assert.deepEqual(planMemoryChange({ ...base, op: 'remove', amount: 100 * M }), {
    ok: false,
    message:
      'A ldm rm-mem 100M command would remove 100MB, which is not a\n' +
      'multiple of 256MB. Instead, run ldm rm-mem 256M primary\n' +
      'to ensure a 256MB alignment.',
  });
  assert.deepEqual(planMemoryChange({ ...base, op: 'set', amount: 32500 * M }), {
    ok: false,
    message:
      'A ldm set-mem 32500M command would remove 44MB, which is not a\n' +
      'multiple of 256MB. Instead, run ldm set-mem 32288M primary\n' +
      'to ensure a 256MB alignment.',
  });
  assert.deepEqual(value(planMemoryChange({ ...base, op: 'remove', amount: 512 * M })), {
    constraint: 32032 * M,
    size: 32032 * M,
    delta: -512 * M,
    align: 256 * M,
    notices: [],
  });
  // Growth only rounds up to 4 MB; the constraint keeps the request.
  assert.deepEqual(value(planMemoryChange({ ...base, op: 'add', amount: 102 * M })), {
    constraint: 32646 * M,
    size: 32648 * M,
    delta: 104 * M,
    align: 4 * M,
    notices: [],
  });
});

test('delayed reconfiguration with --auto-adj takes the aligned removal', () => {
  const r = planMemoryChange({ domain: 'primary', op: 'set', amount: 4 * G, state: 'delayed', autoAdj: true, current: 32544 * M });
  assert.deepEqual(value(r), {
    constraint: 4128 * M,
    size: 4128 * M,
    delta: -28416 * M,
    align: 256 * M,
    notices: [
      'Adjusting request size to 4128M.',
      'The primary domain has been allocated 32M more memory',
      'than requested because of memory alignment constraints.',
    ],
  });
  const small = planMemoryChange({ domain: 'primary', op: 'remove', amount: 100 * M, state: 'delayed', autoAdj: true, current: 32544 * M });
  assert.deepEqual(small, { ok: false, message: 'The size of memory must be a multiple of 256MB.' });
});

test('active (memory DR): non-aligned requests are refused', () => {
  assert.deepEqual(plan({ op: 'add', amount: 200 * M, state: 'active', current: 1 * G }), {
    ok: false,
    message: 'The size of memory must be a multiple of 256MB.',
  });
  assert.deepEqual(plan({ op: 'remove', amount: 300 * M, state: 'active', current: 2 * G }), {
    ok: false,
    message: 'The size of memory must be a multiple of 256MB.',
  });
  assert.deepEqual(plan({ op: 'set', amount: 1500 * M, state: 'active', current: 1 * G }), {
    ok: false,
    message: 'The size of memory must be a multiple of 256MB.',
  });
  // The delta is what must be aligned, not the size: 32544M + 256M is fine.
  assert.deepEqual(value(plan({ op: 'add', amount: 256 * M, state: 'active', current: 32544 * M })), {
    constraint: 32800 * M,
    size: 32800 * M,
    delta: 256 * M,
    align: 256 * M,
    notices: [],
  });
  assert.deepEqual(value(plan({ op: 'set', amount: 512 * M, state: 'active', current: 1 * G })), {
    constraint: 512 * M,
    size: 512 * M,
    delta: -512 * M,
    align: 256 * M,
    notices: [],
  });
  assert.deepEqual(value(plan({ op: 'set', amount: 1 * G, state: 'active', current: 1 * G })).delta, 0);
});

test('golden: --auto-adj on an active domain rounds the addition up and says so', () => {
  const r = planMemoryChange({ domain: 'ldom1', op: 'add', amount: 200 * M, state: 'active', autoAdj: true, current: 1 * G });
  assert.deepEqual(value(r), {
    constraint: 1280 * M,
    size: 1280 * M,
    delta: 256 * M,
    align: 256 * M,
    notices: [
      'Adjusting request size to 256M.',
      'The ldom1 domain has been allocated 56M more memory',
      'than requested because of memory alignment constraints.',
    ],
  });
});

test('--auto-adj on an active domain: removals round down, set rounds its delta', () => {
  assert.deepEqual(value(plan({ op: 'remove', amount: 300 * M, state: 'active', autoAdj: true, current: 2 * G })).notices, [
    'Adjusting request size to 256M.',
    'The ldg1 domain has been allocated 44M more memory',
    'than requested because of memory alignment constraints.',
  ]);
  assert.equal(value(plan({ op: 'remove', amount: 300 * M, state: 'active', autoAdj: true, current: 2 * G })).size, 1792 * M);
  const set = value(plan({ op: 'set', amount: 1500 * M, state: 'active', autoAdj: true, current: 1 * G }));
  assert.equal(set.size, 1536 * M);
  assert.deepEqual(set.notices, [
    'Adjusting request size to 1536M.',
    'The ldg1 domain has been allocated 36M more memory',
    'than requested because of memory alignment constraints.',
  ]);
  // Below the 256 MB minimum operation once rounded down.
  assert.deepEqual(plan({ op: 'remove', amount: 100 * M, state: 'active', autoAdj: true, current: 2 * G }), {
    ok: false,
    message: 'The size of memory must be a multiple of 256MB.',
  });
});

test('removing all the memory or more is refused', () => {
  assert.deepEqual(plan({ op: 'remove', amount: 1 * G, state: 'active', current: 1 * G }), {
    ok: false,
    message: 'Unable to remove 1G of memory: domain ldg1 must keep some memory',
  });
  assert.deepEqual(plan({ op: 'remove', amount: 2 * G, state: 'inactive', current: 1 * G }), {
    ok: false,
    message: 'Unable to remove 2G of memory: domain ldg1 has only 1G',
  });
  assert.deepEqual(plan({ op: 'set', amount: 0, state: 'bound', current: 1 * G }), {
    ok: false,
    message: 'The memory size of a domain must be greater than 0',
  });
  assert.deepEqual(planMemoryChange({ domain: 'primary', op: 'remove', amount: 40 * G, state: 'delayed', autoAdj: false, current: 32544 * M }), {
    ok: false,
    message: 'Unable to remove 40G of memory: domain primary has only 32544M',
  });
});

test('bound: sizes round up to 4 MB, the constraint keeps the request', () => {
  assert.deepEqual(value(plan({ op: 'set', amount: 1965 * M, state: 'bound', current: 1 * G })), {
    constraint: 1965 * M,
    size: 1968 * M,
    delta: 944 * M,
    align: 4 * M,
    notices: [],
  });
  // Growing from a rounded binding counts from the constraint.
  assert.deepEqual(value(plan({ op: 'add', amount: 100 * M, state: 'bound', current: 1968 * M, constraint: 1965 * M })), {
    constraint: 2065 * M,
    size: 2068 * M,
    delta: 100 * M,
    align: 4 * M,
    notices: [],
  });
  assert.deepEqual(value(plan({ op: 'remove', amount: 968 * M, state: 'bound', current: 1968 * M, constraint: 1965 * M })), {
    constraint: 997 * M,
    size: 1000 * M,
    delta: -968 * M,
    align: 4 * M,
    notices: [],
  });
});

test('bound and inactive with --auto-adj round the resulting size up to 256 MB', () => {
  assert.deepEqual(value(plan({ domain: 'ldom1', op: 'add', amount: 200 * M, state: 'bound', autoAdj: true, current: 1 * G })), {
    constraint: 1280 * M,
    size: 1280 * M,
    delta: 256 * M,
    align: 4 * M,
    notices: [
      'Adjusting request size to 256M.',
      'The ldom1 domain has been allocated 56M more memory',
      'than requested because of memory alignment constraints.',
    ],
  });
  // Nothing is allocated to an inactive domain: only the first line.
  assert.deepEqual(value(plan({ op: 'add', amount: 200 * M, state: 'inactive', autoAdj: true, current: 1 * G })), {
    constraint: 1280 * M,
    size: 1280 * M,
    delta: 256 * M,
    align: 4 * M,
    notices: ['Adjusting request size to 256M.'],
  });
  assert.deepEqual(value(plan({ op: 'set', amount: 1965 * M, state: 'inactive', autoAdj: true, current: 1 * G })).notices, [
    'Adjusting request size to 2G.',
  ]);
  assert.deepEqual(value(plan({ op: 'set', amount: 2 * G, state: 'inactive', autoAdj: true, current: 1 * G })).notices, []);
  // A removal that rounding would cancel is refused rather than turned into nothing.
  assert.deepEqual(plan({ op: 'remove', amount: 100 * M, state: 'bound', autoAdj: true, current: 1 * G }), {
    ok: false,
    message: 'The size of memory must be a multiple of 256MB.',
  });
});

test('inactive: no alignment at all', () => {
  assert.deepEqual(value(plan({ op: 'set', amount: 1965 * M, state: 'inactive', current: 1 * G })), {
    constraint: 1965 * M,
    size: 1965 * M,
    delta: 941 * M,
    align: 4 * M,
    notices: [],
  });
  assert.equal(value(plan({ op: 'remove', amount: 1, state: 'inactive', current: 1 * G })).constraint, 1 * G - 1);
});

// ---------------------------------------------------------------------------------------------
// Placement

test('allocateMemory: one block at the lowest address that holds it', () => {
  const free = [{ pa: 0x10000000, size: 28 * G }];
  assert.deepEqual(value(allocateMemory(free, 2 * G, { raBase: GUEST_RA_BASE, align: BIND_ALIGN })), [
    { ra: 0x8000000, pa: 0x10000000, size: 2 * G },
  ]);
  const three = [
    { pa: 0x100000000, size: 512 * M },
    { pa: 0x200000000, size: 4 * G },
    { pa: 0x400000000, size: 8 * G },
  ];
  assert.deepEqual(value(allocateMemory(three, 2 * G, { raBase: GUEST_RA_BASE, align: BIND_ALIGN })), [
    { ra: 0x8000000, pa: 0x200000000, size: 2 * G },
  ]);
});

test('allocateMemory: aligned start, size rounded up to the alignment', () => {
  const free = [
    { pa: 0x10100000, size: 5 * M }, // holds 4M only from 0x10400000 on: too small
    { pa: 0x20100000, size: 4 * G },
  ];
  assert.deepEqual(value(allocateMemory(free, 1965 * M, { raBase: GUEST_RA_BASE, align: BIND_ALIGN })), [
    { ra: 0x8000000, pa: 0x20400000, size: 1968 * M },
  ]);
  assert.deepEqual(value(allocateMemory(free, 0, { raBase: GUEST_RA_BASE, align: BIND_ALIGN })), []);
});

test('allocateMemory: several blocks from the largest ranges, RAs contiguous in PA order', () => {
  const free = [
    { pa: 0x100000000, size: 1 * G },
    { pa: 0x200000000, size: 3 * G },
    { pa: 0x400000000, size: 512 * M },
  ];
  assert.deepEqual(value(allocateMemory(free, 4 * G, { raBase: GUEST_RA_BASE, align: BIND_ALIGN })), [
    { ra: 0x8000000, pa: 0x100000000, size: 1 * G },
    { ra: 0x48000000, pa: 0x200000000, size: 3 * G },
  ]);
  assert.deepEqual(value(allocateMemory(free, 4352 * M, { raBase: GUEST_RA_BASE, align: BIND_ALIGN })), [
    { ra: 0x8000000, pa: 0x100000000, size: 1 * G },
    { ra: 0x48000000, pa: 0x200000000, size: 3 * G },
    { ra: 0x108000000, pa: 0x400000000, size: 256 * M },
  ]);
  assert.deepEqual(allocateMemory(free, 8 * G, { raBase: GUEST_RA_BASE, align: BIND_ALIGN }), {
    ok: false,
    message: 'Not enough free memory: 8G requested, 4608M available',
  });
  assert.deepEqual(value(allocateMemory(free, 4 * G, { raBase: 'identity', align: BIND_ALIGN })), [
    { ra: 0x100000000, pa: 0x100000000, size: 1 * G },
    { ra: 0x200000000, pa: 0x200000000, size: 3 * G },
  ]);
});

test('allocateMemory does not mutate the free list', () => {
  const free = [Object.freeze({ pa: 0x200000000, size: 3 * G }), Object.freeze({ pa: 0x100000000, size: 1 * G })];
  const copy = free.map((r) => ({ ...r }));
  allocateMemory(Object.freeze(free), 4 * G, { raBase: GUEST_RA_BASE, align: BIND_ALIGN });
  assert.deepEqual(free, copy);
});

test('growMemory: a guest block grows in place when the next PA is free', () => {
  const current = [{ ra: 0x8000000, pa: 0x10000000, size: 1 * G }];
  const free = [{ pa: 0x50000000, size: 27 * G }];
  assert.deepEqual(value(growMemory(current, free, 1 * G, { align: BIND_ALIGN, raMode: 'contiguous' })), [
    { ra: 0x8000000, pa: 0x10000000, size: 2 * G },
  ]);
  assert.deepEqual(current, [{ ra: 0x8000000, pa: 0x10000000, size: 1 * G }]);
});

test('growMemory: the shrunk control domain grows back into its hole (RA == PA)', () => {
  const shrunk = [
    { ra: 0xe000000, pa: 0xe000000, size: 32 * M },
    { ra: 0x710000000, pa: 0x710000000, size: 3840 * M },
  ];
  const free = [{ pa: 0x10000000, size: 28 * G }];
  assert.deepEqual(value(growMemory(shrunk, free, 512 * M, { align: DR_ALIGN, raMode: 'identity' })), [
    { ra: 0xe000000, pa: 0xe000000, size: 544 * M },
    { ra: 0x710000000, pa: 0x710000000, size: 3840 * M },
  ]);
  // Growing by the whole hole joins the blocks again: the factory-default layout.
  assert.deepEqual(value(growMemory(shrunk, free, 28 * G, { align: DR_ALIGN, raMode: 'identity' })), FACTORY_PRIMARY);
});

test('growMemory: new blocks go after the highest RA; RA neighbours block growth in place', () => {
  const current = [
    { ra: 0x8000000, pa: 0x10000000, size: 1 * G },
    { ra: 0x48000000, pa: 0x80000000, size: 1 * G },
  ];
  const free = [{ pa: 0x50000000, size: 512 * M }];
  assert.deepEqual(value(growMemory(current, free, 256 * M, { align: BIND_ALIGN, raMode: 'contiguous' })), [
    ...current,
    { ra: 0x88000000, pa: 0x50000000, size: 256 * M },
  ]);
  // RA == PA: the same free range simply extends the first block.
  const identity = current.map((b) => ({ ...b, ra: b.pa }));
  assert.deepEqual(value(growMemory(identity, free, 256 * M, { align: BIND_ALIGN, raMode: 'identity' })), [
    { ra: 0x10000000, pa: 0x10000000, size: 1280 * M },
    { ra: 0x80000000, pa: 0x80000000, size: 1 * G },
  ]);
});

test('growMemory: memory DR only adds aligned pieces', () => {
  const current = [{ ra: 0x8000000, pa: 0x10000000, size: 1152 * M }]; // ends at 0x58000000
  const free = [{ pa: 0x58000000, size: 2 * G }];
  assert.deepEqual(value(growMemory(current, free, 256 * M, { align: DR_ALIGN, raMode: 'contiguous' })), [
    { ra: 0x8000000, pa: 0x10000000, size: 1152 * M },
    { ra: 0x50000000, pa: 0x60000000, size: 256 * M },
  ]);
});

test('growMemory: failure counts what growth in place and new blocks could give', () => {
  const current = [{ ra: 0x8000000, pa: 0x10000000, size: 1 * G }];
  const free = [
    { pa: 0x50000000, size: 256 * M },
    { pa: 0x100000000, size: 256 * M },
  ];
  assert.deepEqual(growMemory(current, free, 1 * G, { align: BIND_ALIGN, raMode: 'contiguous' }), {
    ok: false,
    message: 'Not enough free memory: 1G requested, 512M available',
  });
  assert.deepEqual(value(growMemory(current, free, 512 * M, { align: BIND_ALIGN, raMode: 'contiguous' })), [
    { ra: 0x8000000, pa: 0x10000000, size: 1280 * M },
    { ra: 0x58000000, pa: 0x100000000, size: 256 * M },
  ]);
});

test('golden: shrinking the factory-default control domain by 28672M at 256 MB alignment', () => {
  assert.deepEqual(shrinkMemory(FACTORY_PRIMARY, 28672 * M, DR_ALIGN), [
    { ra: 0xe000000, pa: 0xe000000, size: 32 * M },
    { ra: 0x710000000, pa: 0x710000000, size: 3840 * M },
  ]);
  assert.deepEqual(FACTORY_PRIMARY, [{ ra: 0xe000000, pa: 0xe000000, size: 32544 * M }]);
  // The free range the 2.0 capture lists between the two blocks.
  const bank = [{ pa: 0, size: 32 * G }];
  const used = [
    { pa: 0x0, size: 0xe000000 },
    { pa: 0xe000000, size: 32 * M },
    { pa: 0x710000000, size: 3840 * M },
  ];
  assert.deepEqual(withoutRanges(bank, used), [{ pa: 0x10000000, size: 28 * G }]);
});

test('shrinkMemory keeps the first aligned unit of an aligned first block', () => {
  const guest = [{ ra: 0x8000000, pa: 0x10000000, size: 2 * G }];
  assert.deepEqual(shrinkMemory(guest, 1 * G, BIND_ALIGN), [
    { ra: 0x8000000, pa: 0x10000000, size: 4 * M },
    { ra: 0x8000000 + 4 * M + 1 * G, pa: 0x10000000 + 4 * M + 1 * G, size: 1 * G - 4 * M },
  ]);
  assert.equal(removableMemory(guest, BIND_ALIGN), 2 * G - 4 * M);
  assert.deepEqual(shrinkMemory(guest, 2 * G - 4 * M, BIND_ALIGN), [{ ra: 0x8000000, pa: 0x10000000, size: 4 * M }]);
});

test('shrinkMemory moves on block by block in RA order', () => {
  const current = [
    { ra: 0x28000000, pa: 0x80000000, size: 1 * G },
    { ra: 0x8000000, pa: 0x10000000, size: 512 * M },
  ];
  assert.deepEqual(shrinkMemory(current, 768 * M, DR_ALIGN), [
    { ra: 0x8000000, pa: 0x10000000, size: 256 * M },
    { ra: 0x48000000, pa: 0xa0000000, size: 512 * M },
  ]);
  assert.deepEqual(shrinkMemory(current, 0, DR_ALIGN), [
    { ra: 0x8000000, pa: 0x10000000, size: 512 * M },
    { ra: 0x28000000, pa: 0x80000000, size: 1 * G },
  ]);
});

test('shrinkMemory preconditions', () => {
  assert.equal(removableMemory(FACTORY_PRIMARY, DR_ALIGN), 32512 * M);
  assert.equal(removableMemory(FACTORY_PRIMARY, BIND_ALIGN), 32540 * M);
  assert.throws(() => shrinkMemory(FACTORY_PRIMARY, 28448 * M, DR_ALIGN), RangeError);
  assert.throws(() => shrinkMemory(FACTORY_PRIMARY, 32768 * M, DR_ALIGN), RangeError);
  assert.equal(shrinkMemory(FACTORY_PRIMARY, 32512 * M, DR_ALIGN).reduce((n, b) => n + b.size, 0), 32 * M);
});

test('golden: migration cannot build one 2G block from two 1G free ranges', () => {
  const free = [
    { pa: 0x108000000, size: 1 * G },
    { pa: 0x188000000, size: 1 * G },
  ];
  assert.deepEqual(bindMblocksAtRa(free, [{ ra: 0x8000000, size: 2 * G }]), {
    ok: false,
    message: 'Unable to bind 2G memory region at real address 0x8000000',
  });
  assert.deepEqual(
    value(
      bindMblocksAtRa(free, [
        { ra: 0x8000000, size: 1 * G },
        { ra: 0x48000000, size: 1 * G },
      ]),
    ),
    [
      { ra: 0x8000000, pa: 0x108000000, size: 1 * G },
      { ra: 0x48000000, pa: 0x188000000, size: 1 * G },
    ],
  );
});

test('bindMblocksAtRa places the largest block first and keeps the input order', () => {
  const free = [
    { pa: 0x100000000, size: 2 * G },
    { pa: 0x200000000, size: 512 * M },
  ];
  const blocks = [
    { ra: 0x8000000, size: 512 * M },
    { ra: 0x28000000, size: 2 * G },
  ];
  assert.deepEqual(value(bindMblocksAtRa(free, blocks)), [
    { ra: 0x8000000, pa: 0x200000000, size: 512 * M },
    { ra: 0x28000000, pa: 0x100000000, size: 2 * G },
  ]);
  assert.deepEqual(bindMblocksAtRa([{ pa: 0x100000000, size: 2 * G }], blocks), {
    ok: false,
    message: 'Unable to bind 512M memory region at real address 0x8000000',
  });
});
