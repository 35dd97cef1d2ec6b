// Golden tests for list-devices, list-services, list-io, list-spconfig, list-variable and `ldm -V`.
// Goldens are byte-exact copies of the captures in /work/shared/reference (section named at each).

import { emptyConstraints } from '../src/machine/hypervisor.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';

import type { HostView } from '../src/manager/inventory.js';
import type { Domain, DomainBinding, DomainConstraints, PmPolicy } from '../src/manager/types.js';
import type { IoDevice, PlatformSpec } from '../src/platform/types.js';
import { G, M, K } from '../src/format/units.js';
import { renderListDevices } from '../src/format/list-devices.js';
import { renderListServices } from '../src/format/list-services.js';
import { renderListIo } from '../src/format/list-io.js';
import { renderListSpconfig, renderListVariable } from '../src/format/list-spconfig.js';
import { renderVersion } from '../src/format/version.js';

// ---- fixtures -------------------------------------------------------------------------------

/** Two-socket UltraSPARC T2 Plus, 2 × 4 cores × 8 strands, 32 GB (the 2.0 capture, platforms.md §4.2). */
const T2PLUS: PlatformSpec = {
  id: 't5240',
  model: 'SPARC Enterprise T5240',
  rootNode: 'SUNW,T5240',
  cpu: {
    type: 'UltraSPARC-T2+',
    chips: 2,
    coresPerChip: 4,
    strandsPerCore: 8,
    clockMHz: 1165,
    stickFrequencyHz: 1165000000,
    cryptoUnitsPerCore: 1,
  },
  memory: {
    banks: [{ pa: 0, size: 32 * G }],
    reserved: [
      { pa: 0x0, size: 512 * K },
      { pa: 0x80000, size: 1536 * K },
      { pa: 0x200000, size: 94 * M },
      { pa: 0x6000000, size: 32 * M },
      { pa: 0x8000000, size: 96 * M },
    ],
  },
  primaryConsole: 'SP',
  io: [
    { dev: 'pci@400', alias: 'pci_0', type: 'BUS', bus: 'pci_0', status: '' },
    { dev: 'pci@500', alias: 'pci_1', type: 'BUS', bus: 'pci_1', status: '' },
  ],
  netDevices: [{ name: 'nxge0', path: '/pci@500/pci@0/pci@8/network@0' }],
  systemMac: '00:21:28:57:cd:16',
  firmware: { sysfw: '7.3.0', hypervisor: '1.9.2.a 2010/08/17 13:48', openboot: '4.32.2 2010/08/17 11:12' },
};

function constraints(name: string, over: Partial<DomainConstraints> = {}): DomainConstraints {
  // Only what differs from a new domain's constraints.
  return {
    ...emptyConstraints(name),
    uuid: '00000000-0000-0000-0000-000000000000',
    mac: '00:14:4f:f8:00:01',
    hostid: 0x84f80001,
    vcpus: 8,
    memory: G,
    ...over,
  };
}

function domain(
  name: string,
  state: Domain['state'],
  binding: Partial<DomainBinding> | null,
  over: Partial<DomainConstraints> = {},
): Domain {
  return {
    constraints: constraints(name, over),
    state,
    binding:
      binding === null
        ? null
        : {
            strands: [],
            crypto: [],
            mblocks: [],
            io: [],
            console: { service: '', serviceDomain: '', port: null, group: name },
            ...binding,
          },
    runtime: null,
    delayedReconfig: false,
    migration: '',
    memoryDr: false,
  };
}

function view(platform: PlatformSpec, domains: Domain[], pmPolicy: PmPolicy = 'performance'): HostView {
  return { platform, domains, pmPolicy, now: 0, managerVersion: '2.0' };
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
const text = (lines: string[]) => lines.join('\n') + '\n';
/** Split a human listing into its sections (separated by one blank line). */
const sections = (out: string) => out.trimEnd().split('\n\n');

/** The 2.0 factory default: primary owns every strand, MAU and bus, and all memory above `_sys_`. */
const factoryPrimary = domain('primary', 'active', {
  strands: range(0, 64),
  crypto: range(0, 8),
  mblocks: [{ ra: 0xe000000, pa: 0xe000000, size: 32544 * M }],
  io: ['pci@400', 'pci@500'],
});

/** After `set-mau 1`, `set-vcpu 8`, `set-memory 3872M` (platforms.md §4.2). */
const shrunkPrimary = domain('primary', 'active', {
  strands: range(0, 8),
  crypto: [0],
  mblocks: [
    { ra: 0xe000000, pa: 0xe000000, size: 32 * M },
    { ra: 0x10000000, pa: 0x710000000, size: 3840 * M },
  ],
  io: ['pci@400', 'pci@500'],
});

// ---- list-devices ---------------------------------------------------------------------------

test('list-devices -a at factory default: MEMORY and IO sections of the 2.0 capture', () => {
  const out = renderListDevices(view(T2PLUS, [factoryPrimary]), { all: true, parseable: false, classes: ['memory', 'io'] });
  assert.equal(
    out,
    text([
      'MEMORY',
      '    PA                   SIZE            BOUND',
      '    0x0                  512K            _sys_',
      '    0x80000              1536K           _sys_',
      '    0x200000             94M             _sys_',
      '    0x6000000            32M             _sys_',
      '    0x8000000            96M             _sys_',
      '    0xe000000            32544M          primary',
      '',
      'IO',
      '    DEVICE           PSEUDONYM        BOUND   OPTIONS',
      '    pci@400          pci_0            yes',
      '    pci@500          pci_1            yes',
    ]),
  );
});

test('list-devices -a at factory default: every core and strand 0 % free, PM no, every MAU primary', () => {
  const out = renderListDevices(view(T2PLUS, [factoryPrimary]), { all: true, parseable: false, classes: [] });
  const [core, vcpu, mau] = sections(out);
  assert.deepEqual(core.split('\n').slice(0, 3), ['CORE', '    ID      %FREE   CPUSET', '    0       0       (0, 1, 2, 3, 4, 5, 6, 7)']);
  assert.equal(core.split('\n').length, 2 + 8);
  assert.ok(core.split('\n').slice(2).every((l) => /^ {4}\d+ +0 +\(/.test(l)));
  assert.equal(vcpu.split('\n').length, 2 + 64);
  assert.ok(vcpu.split('\n').slice(2).every((l) => /^ {4}\d+ {4,7}0 {7}no$/.test(l)));
  assert.equal(mau.split('\n')[2], '    0       (0, 1, 2, 3, 4, 5, 6, 7)                primary');
  assert.ok(mau.split('\n').slice(2).every((l) => l.endsWith(' primary')));
  assert.equal(mau.split('\n').length, 2 + 8);
});

test('list-devices -a after shrinking the primary: the 2.0 capture', () => {
  const out = renderListDevices(view(T2PLUS, [shrunkPrimary]), { all: true, parseable: false, classes: [] });
  const [core, vcpu, mau, memory, io, ...rest] = sections(out);
  assert.equal(rest.length, 0);
  // The published CORE, VCPU and MAU sections were shortened; their verbatim rows must be ours.
  assert.deepEqual(core.split('\n').slice(0, 4), [
    'CORE',
    '    ID      %FREE   CPUSET',
    '    0       0       (0, 1, 2, 3, 4, 5, 6, 7)',
    '    1       100     (8, 9, 10, 11, 12, 13, 14, 15)',
  ]);
  const vcpuLines = vcpu.split('\n');
  assert.deepEqual(vcpuLines.slice(0, 2), ['VCPU', '    PID     %FREE   PM']);
  assert.ok(vcpuLines.includes('    0       0       no'));
  assert.ok(vcpuLines.includes('    8       100     ---'));
  assert.deepEqual(mau.split('\n').slice(0, 4), [
    'MAU',
    '    ID      CPUSET                                  BOUND',
    '    0       (0, 1, 2, 3, 4, 5, 6, 7)                primary',
    '    1       (8, 9, 10, 11, 12, 13, 14, 15)',
  ]);
  assert.equal(
    memory + '\n',
    text([
      'MEMORY',
      '    PA                   SIZE            BOUND',
      '    0x0                  512K            _sys_',
      '    0x80000              1536K           _sys_',
      '    0x200000             94M             _sys_',
      '    0x6000000            32M             _sys_',
      '    0x8000000            96M             _sys_',
      '    0xe000000            32M             primary',
      '    0x10000000           28G',
      '    0x710000000          3840M           primary',
    ]),
  );
  assert.equal(
    io + '\n',
    text([
      'IO',
      '    DEVICE           PSEUDONYM        BOUND   OPTIONS',
      '    pci@400          pci_0            yes',
      '    pci@500          pci_1            yes',
    ]),
  );
  assert.ok(out.endsWith('yes\n') && !out.endsWith('\n\n'));
});

test('list-devices without -a lists only free resources, and drops BOUND columns', () => {
  const out = renderListDevices(view(T2PLUS, [shrunkPrimary]), { all: false, parseable: false, classes: [] });
  const [core, vcpu, mau, memory, ...rest] = sections(out);
  // Both buses are bound: no IO section.
  assert.equal(rest.length, 0);
  assert.equal(core.split('\n')[2], '    1       100     (8, 9, 10, 11, 12, 13, 14, 15)');
  assert.equal(core.split('\n').length, 2 + 7);
  assert.equal(vcpu.split('\n')[2], '    8       100     ---');
  assert.equal(vcpu.split('\n').length, 2 + 56);
  assert.deepEqual(mau.split('\n').slice(0, 3), ['MAU', '    ID      CPUSET', '    1       (8, 9, 10, 11, 12, 13, 14, 15)']);
  assert.equal(memory, 'MEMORY\n    PA                   SIZE\n    0x10000000           28G');
});

test('list-devices memory: the 1.3 free-memory listing (two free 1G blocks)', () => {
  // Target host of the seed's failed migration: free memory split around a 1G guest.
  const primary = domain('primary', 'active', { strands: range(0, 8), mblocks: [{ ra: 0xe000000, pa: 0xe000000, size: 4000 * M }] });
  const ldg1 = domain('ldg1', 'active', { strands: [8], mblocks: [{ ra: 0x8000000, pa: 0x148000000, size: G }] });
  const ldg2 = domain('ldg2', 'bound', { strands: [9], mblocks: [{ ra: 0x8000000, pa: 0x1c8000000, size: 25472 * M }] });
  const out = renderListDevices(view(T2PLUS, [primary, ldg1, ldg2]), { all: false, parseable: false, classes: ['memory'] });
  assert.equal(out, text(['MEMORY', '    PA                   SIZE', '    0x108000000          1G', '    0x188000000          1G']));
});

test('list-devices -a -p memory: the parseable MEMORY sample rows', () => {
  const platform: PlatformSpec = {
    ...T2PLUS,
    memory: {
      banks: [{ pa: 0xa00000, size: 128 * G - 0xa00000 }],
      reserved: [
        { pa: 0xa00000, size: 32 * M },
        { pa: 0x2a00000, size: 96 * M },
        { pa: 0x8a00000, size: 374 * M },
      ],
    },
  };
  const primary = domain('primary', 'active', { mblocks: [{ ra: 0x20000000, pa: 0x20000000, size: 136902082560 }] });
  const out = renderListDevices(view(platform, [primary]), { all: true, parseable: true, classes: ['memory'] });
  assert.equal(
    out,
    text([
      'VERSION 1.5',
      'MEMORY',
      '|pa=0xa00000|size=33554432|bound=_sys_',
      '|pa=0x2a00000|size=100663296|bound=_sys_',
      '|pa=0x8a00000|size=392167424|bound=_sys_',
      '|pa=0x20000000|size=136902082560|bound=primary',
    ]),
  );
});

test('list-devices -p: VCPU, CORE, free MAU and free MEMORY rows', () => {
  const shrunk = view(T2PLUS, [shrunkPrimary]);
  const all = renderListDevices(shrunk, { all: true, parseable: true, classes: ['cpu'] }).split('\n');
  assert.equal(all[0], 'VERSION 1.5');
  assert.equal(all[1], 'CORE');
  assert.equal(all[2], '|cid=0|free=0|cpuset=0,1,2,3,4,5,6,7');
  assert.equal(all[3], '|cid=1|free=100|cpuset=8,9,10,11,12,13,14,15');
  // 1.3 VCPU sample rows; exactly three fields.
  assert.ok(all.includes('|pid=0|free=0|pm=no'));
  assert.ok(all.includes('|pid=8|free=100|pm='));
  assert.ok(all.filter((l) => l.startsWith('|pid=')).every((l) => /^\|pid=\d+\|free=\d+\|pm=(yes|no|)$/.test(l)));

  // Free memory rows carry no bound field; with -a a free row keeps an empty `bound=`.
  const free = renderListDevices(shrunk, { all: false, parseable: true, classes: ['memory'] });
  assert.equal(free, text(['VERSION 1.5', 'MEMORY', '|pa=0x10000000|size=30064771072']));
  const allMem = renderListDevices(shrunk, { all: true, parseable: true, classes: ['memory'] });
  assert.ok(allMem.includes('\n|pa=0x10000000|size=30064771072|bound=\n'));

  // T5220 `ls-devices -p` MAU rows (platforms.md §3.1): units 0 and 7 bound, 1–6 free.
  const p = domain('primary', 'active', { strands: [...range(0, 8), ...range(56, 8)], crypto: [0, 7] });
  const mau = renderListDevices(view(T2PLUS, [p]), { all: false, parseable: true, classes: ['crypto'] });
  assert.equal(
    mau,
    text([
      'VERSION 1.5',
      'MAU',
      '|id=1|cpuset=8,9,10,11,12,13,14,15',
      '|id=2|cpuset=16,17,18,19,20,21,22,23',
      '|id=3|cpuset=24,25,26,27,28,29,30,31',
      '|id=4|cpuset=32,33,34,35,36,37,38,39',
      '|id=5|cpuset=40,41,42,43,44,45,46,47',
      '|id=6|cpuset=48,49,50,51,52,53,54,55',
    ]),
  );
  const mauAll = renderListDevices(view(T2PLUS, [p]), { all: true, parseable: true, classes: ['crypto'] }).split('\n');
  assert.equal(mauAll[2], '|id=0|cpuset=0,1,2,3,4,5,6,7|bound=primary');
  assert.equal(mauAll[3], '|id=1|cpuset=8,9,10,11,12,13,14,15|bound=');

  const io = renderListDevices(view(T2PLUS, [p]), { all: true, parseable: true, classes: ['io'] });
  assert.equal(io, text(['VERSION 1.5', 'IO', '|dev=pci@400|alias=pci_0|bound=', '|dev=pci@500|alias=pci_1|bound=']));
});

test('list-devices: elastic policy powers down strands of bound domains; no MAU section without crypto units', () => {
  const primary = domain('primary', 'active', { strands: range(0, 8) });
  const ldg1 = domain('ldg1', 'bound', { strands: range(8, 8) });
  const elastic = renderListDevices(view(T2PLUS, [primary, ldg1], 'elastic'), { all: true, parseable: true, classes: ['cpu'] });
  assert.ok(elastic.includes('\n|pid=0|free=0|pm=no\n'));
  assert.ok(elastic.includes('\n|pid=8|free=0|pm=yes\n'));
  const perf = renderListDevices(view(T2PLUS, [primary, ldg1]), { all: true, parseable: true, classes: ['cpu'] });
  assert.ok(perf.includes('\n|pid=8|free=0|pm=no\n'));

  const t4: PlatformSpec = { ...T2PLUS, cpu: { ...T2PLUS.cpu, type: 'SPARC-T4', cryptoUnitsPerCore: 0 } };
  const out = renderListDevices(view(t4, [factoryPrimary]), { all: true, parseable: false, classes: [] });
  assert.ok(!out.includes('MAU'));
  assert.equal(renderListDevices(view(t4, [factoryPrimary]), { all: true, parseable: false, classes: ['crypto'] }), '');
});

// ---- list-io --------------------------------------------------------------------------------

const slot = (dev: string, alias: string, bus: string, status: IoDevice['status']): IoDevice => ({ dev, alias, type: 'PCIE', bus, status });

/** SPARC T4-2 I/O (platforms.md §8.1), slot states as in the 3.3 `list-io` sample. */
const T4_2: PlatformSpec = {
  ...T2PLUS,
  id: 't4-2',
  model: 'SPARC T4-2',
  rootNode: 'ORCL,SPARC-T4-2',
  cpu: { ...T2PLUS.cpu, type: 'SPARC-T4', coresPerChip: 8, cryptoUnitsPerCore: 0 },
  primaryConsole: 'UART',
  io: [
    { dev: 'pci@400', alias: 'pci_0', type: 'BUS', bus: 'pci_0', status: '' },
    { dev: 'pci@500', alias: 'pci_1', type: 'BUS', bus: 'pci_1', status: '' },
    { dev: 'niu@480', alias: 'niu_0', type: 'NIU', bus: 'niu_0', status: '' },
    { dev: 'niu@580', alias: 'niu_1', type: 'NIU', bus: 'niu_1', status: '' },
    slot('pci@400/pci@2/pci@0/pci@8', '/SYS/MB/PCIE0', 'pci_0', 'OCC'),
    slot('pci@400/pci@2/pci@0/pci@4', '/SYS/MB/PCIE2', 'pci_0', 'OCC'),
    slot('pci@400/pci@2/pci@0/pci@0', '/SYS/MB/PCIE4', 'pci_0', 'OCC'),
    slot('pci@400/pci@1/pci@0/pci@8', '/SYS/MB/PCIE6', 'pci_0', 'EMP'),
    slot('pci@400/pci@1/pci@0/pci@c', '/SYS/MB/PCIE8', 'pci_0', 'EMP'),
    slot('pci@400/pci@2/pci@0/pci@e', '/SYS/MB/SASHBA', 'pci_0', 'OCC'),
    slot('pci@400/pci@1/pci@0/pci@4', '/SYS/MB/NET0', 'pci_0', 'OCC'),
    slot('pci@500/pci@2/pci@0/pci@a', '/SYS/MB/PCIE1', 'pci_1', 'UNK'),
    slot('pci@500/pci@2/pci@0/pci@6', '/SYS/MB/PCIE3', 'pci_1', ''),
    slot('pci@500/pci@2/pci@0/pci@0', '/SYS/MB/PCIE5', 'pci_1', ''),
    slot('pci@500/pci@1/pci@0/pci@6', '/SYS/MB/PCIE7', 'pci_1', ''),
    slot('pci@500/pci@1/pci@0/pci@0', '/SYS/MB/PCIE9', 'pci_1', ''),
    slot('pci@500/pci@1/pci@0/pci@5', '/SYS/MB/NET2', 'pci_1', ''),
  ],
  firmware: { sysfw: '8.2.1', hypervisor: '1.11.1.a 2012/08/03 09:46', openboot: '4.34.1 2012/08/01 12:19', hostconfig: '1.2.1 2012/08/01 15:09' },
};

test('list-io: the 3.3 T4-2 sample with pci_1 removed from primary', () => {
  const primary = domain('primary', 'active', { io: ['pci@400', 'niu@480', 'niu@580'] });
  const lines = renderListIo(view(T4_2, [primary]), { long: false, parseable: false }).split('\n');
  const golden = [
    'NAME                                      TYPE   BUS      DOMAIN   STATUS   ',
    '----                                      ----   ---      ------   ------   ',
    'pci_0                                     BUS    pci_0    primary  IOV      ',
    'pci_1                                     BUS    pci_1',
    'niu_0                                     NIU    niu_0    primary           ',
    'niu_1                                     NIU    niu_1    primary           ',
    '/SYS/MB/PCIE0                             PCIE   pci_0    primary  OCC      ',
    '/SYS/MB/PCIE2                             PCIE   pci_0    primary  OCC      ',
    '/SYS/MB/PCIE4                             PCIE   pci_0    primary  OCC      ',
    '/SYS/MB/PCIE6                             PCIE   pci_0    primary  EMP      ',
    '/SYS/MB/PCIE8                             PCIE   pci_0    primary  EMP      ',
    '/SYS/MB/SASHBA                            PCIE   pci_0    primary  OCC      ',
    '/SYS/MB/NET0                              PCIE   pci_0    primary  OCC      ',
    '/SYS/MB/PCIE1                             PCIE   pci_1             UNK      ',
    '/SYS/MB/PCIE3                             PCIE   pci_1',
  ];
  // 2.0 predates SR-IOV: an owned bus has an empty STATUS instead of `IOV`; every other row is verbatim.
  const expected = [...golden];
  expected[2] = 'pci_0                                     BUS    pci_0    primary           ';
  assert.deepEqual(lines.slice(0, golden.length), expected);
  assert.equal(lines.length, T4_2.io.length + 2 + 1);
  assert.equal(lines.at(-1), '');
});

test('list-io -l adds the bracketed device path under each row', () => {
  const primary = domain('primary', 'active', { io: ['pci@400', 'pci@500'] });
  const lines = renderListIo(view(T2PLUS, [primary]), { long: true, parseable: false }).split('\n');
  assert.deepEqual(lines.slice(2), [
    'pci_0                                     BUS    pci_0    primary           ',
    '[pci@400]',
    'pci_1                                     BUS    pci_1    primary           ',
    '[pci@500]',
    '',
  ]);
});

test('list-io -p: the T5220 capture rows', () => {
  const t5220: PlatformSpec = {
    ...T2PLUS,
    io: [
      { dev: 'niu@80', alias: 'niu', type: 'NIU', bus: 'niu', status: '' },
      { dev: 'pci@0', alias: 'pci', type: 'BUS', bus: 'pci', status: '' },
      slot('pci@0/pci@0/pci@8/pci@0/pci@9', 'MB/RISER0/PCIE0', 'pci', 'EMP'),
      slot('pci@0/pci@0/pci@8/pci@0/pci@1', 'MB/RISER1/PCIE1', 'pci', 'EMP'),
      slot('pci@0/pci@0/pci@9', 'MB/RISER2/PCIE2', 'pci', 'EMP'),
      slot('pci@0/pci@0/pci@8/pci@0/pci@a', 'MB/RISER0/PCIE3', 'pci', 'EMP'),
      slot('pci@0/pci@0/pci@8/pci@0/pci@2', 'MB/RISER1/PCIE4', 'pci', 'EMP'),
      slot('pci@0/pci@0/pci@8/pci@0/pci@8', 'MB/RISER2/PCIE5', 'pci', 'EMP'),
      slot('pci@0/pci@0/pci@1/pci@0/pci@2', 'MB/NET0', 'pci', 'OCC'),
      slot('pci@0/pci@0/pci@1/pci@0/pci@3', 'MB/NET2', 'pci', 'OCC'),
      slot('pci@0/pci@0/pci@2', 'MB/SASHBA', 'pci', 'OCC'),
    ],
  };
  const primary = domain('primary', 'active', { io: ['pci@0', 'niu@80'] });
  const out = renderListIo(view(t5220, [primary]), { long: false, parseable: true });
  assert.equal(
    out,
    text([
      'VERSION 1.5',
      '|dev=niu@80|alias=niu|status=|domain=primary|type=NIU|bus=niu',
      '|dev=pci@0|alias=pci|status=|domain=primary|type=BUS|bus=pci',
      '|dev=pci@0/pci@0/pci@8/pci@0/pci@9|alias=MB/RISER0/PCIE0|status=EMP|domain=primary|type=PCIE|bus=pci',
      '|dev=pci@0/pci@0/pci@8/pci@0/pci@1|alias=MB/RISER1/PCIE1|status=EMP|domain=primary|type=PCIE|bus=pci',
      '|dev=pci@0/pci@0/pci@9|alias=MB/RISER2/PCIE2|status=EMP|domain=primary|type=PCIE|bus=pci',
      '|dev=pci@0/pci@0/pci@8/pci@0/pci@a|alias=MB/RISER0/PCIE3|status=EMP|domain=primary|type=PCIE|bus=pci',
      '|dev=pci@0/pci@0/pci@8/pci@0/pci@2|alias=MB/RISER1/PCIE4|status=EMP|domain=primary|type=PCIE|bus=pci',
      '|dev=pci@0/pci@0/pci@8/pci@0/pci@8|alias=MB/RISER2/PCIE5|status=EMP|domain=primary|type=PCIE|bus=pci',
      '|dev=pci@0/pci@0/pci@1/pci@0/pci@2|alias=MB/NET0|status=OCC|domain=primary|type=PCIE|bus=pci',
      '|dev=pci@0/pci@0/pci@1/pci@0/pci@3|alias=MB/NET2|status=OCC|domain=primary|type=PCIE|bus=pci',
      '|dev=pci@0/pci@0/pci@2|alias=MB/SASHBA|status=OCC|domain=primary|type=PCIE|bus=pci',
    ]),
  );
});

test('list-io -p: a bus given to a root domain carries its slots along; unowned prints domain=-', () => {
  const primary = domain('primary', 'active', { io: ['pci@400', 'niu@480'] });
  const root = domain('db2ldom', 'active', { io: ['pci@500'] });
  const lines = renderListIo(view(T4_2, [primary, root]), { long: false, parseable: true }).split('\n');
  assert.ok(lines.includes('|dev=pci@500|alias=pci_1|status=|domain=db2ldom|type=BUS|bus=pci_1'));
  assert.ok(lines.includes('|dev=niu@580|alias=niu_1|status=|domain=-|type=NIU|bus=niu_1'));
  assert.ok(lines.includes('|dev=pci@500/pci@2/pci@0/pci@a|alias=/SYS/MB/PCIE1|status=UNK|domain=db2ldom|type=PCIE|bus=pci_1'));
  // Contract §5: alias is cut field 3, domain field 5.
  for (const l of lines.slice(1, -1)) {
    const f = l.split('|');
    assert.ok(f[2].startsWith('alias=') && f[4].startsWith('domain='), l);
  }
});

// ---- list-services --------------------------------------------------------------------------

const servicePrimary = domain('primary', 'active', null, {
  vcc: [{ name: 'primary-vcc0', portMin: 5000, portMax: 5100 }],
  vsw: [
    {
      name: 'primary-vsw0',
      mac: '00:14:4f:fa:17:65',
      macAuto: true,
      netDev: 'nxge0',
      defaultVlanId: 1,
      pvid: 1,
      vids: [5, 6],
      mtu: 1500,
      mode: '',
      linkprop: '',
      id: 0,
    },
  ],
  vds: [
    {
      name: 'primary-vds0',
      volumes: [
        { name: 'vol1', backend: '/dev/dsk/c2t1d0s2', options: [], mpgroup: '' },
        { name: 'vol2', backend: '/ldoms/disk2.img', options: ['ro', 'slice'], mpgroup: 'mpg1' },
      ],
    },
  ],
});

test('list-services -p follows the format contract', () => {
  const out = renderListServices(view(T2PLUS, [servicePrimary]), [servicePrimary], { parseable: true });
  assert.equal(
    out,
    text([
      'VERSION 1.5',
      'VCC|name=primary-vcc0|ldom=primary|port-range=5000-5100',
      'VSW|name=primary-vsw0|ldom=primary|mac-addr=00:14:4f:fa:17:65|net-dev=nxge0|dev=switch@0|default-vlan-id=1|pvid=1|vid=5,6|mode=|mtu=1500|linkprop=|id=0',
      'VDS|name=primary-vds0|ldom=primary',
      '|vol=vol1|opts=|dev=/dev/dsk/c2t1d0s2|mpgroup=',
      '|vol=vol2|opts=ro,slice|dev=/ldoms/disk2.img|mpgroup=mpg1',
    ]),
  );
  const vol = out.split('\n').filter((l) => l.startsWith('|vol='));
  // `cut -d'|' -f4` is the back end.
  assert.deepEqual(vol.map((l) => l.split('|')[3]), ['dev=/dev/dsk/c2t1d0s2', 'dev=/ldoms/disk2.img']);
  assert.match(out, /^VCC\|name=[^|]+\|.*\|port-range=\d+-\d+$/m);
  assert.match(out, /^VSW\|name=primary-vsw0\|.*\|vid=5,6\|/m);
});

test('list-services human: VCC, VSW and VDS tables', () => {
  const out = renderListServices(view(T2PLUS, [servicePrimary]), [servicePrimary], { parseable: false });
  assert.equal(
    out,
    text([
      'VCC',
      '    NAME         LDOM    PORT-RANGE',
      '    primary-vcc0 primary 5000-5100',
      '',
      'VSW',
      '    NAME         LDOM    MAC               NET-DEV ID DEVICE   LINKPROP DEFAULT-VLAN-ID PVID VID MTU  MODE',
      '    primary-vsw0 primary 00:14:4f:fa:17:65 nxge0   0  switch@0          1               1    5,6 1500',
      '',
      'VDS',
      '    NAME         LDOM    VOLUME OPTIONS  MPGROUP DEVICE',
      '    primary-vds0 primary vol1                    /dev/dsk/c2t1d0s2',
      '                         vol2   ro,slice mpg1    /ldoms/disk2.img',
    ]),
  );
  const none = domain('ldg1', 'inactive', null);
  assert.equal(renderListServices(view(T2PLUS, [servicePrimary, none]), [none], { parseable: false }), '');
  assert.equal(renderListServices(view(T2PLUS, [servicePrimary, none]), [none], { parseable: true }), 'VERSION 1.5\n');
});

// ---- list-spconfig, list-variable -----------------------------------------------------------

test('list-spconfig: the 2.0 capture, then the modified and set-spconfig markers', () => {
  const base = { configs: ['myLDOMconfig'], current: 'myLDOMconfig', nextPoweron: 'myLDOMconfig', modified: false };
  assert.equal(renderListSpconfig(base), 'factory-default\nmyLDOMconfig [current]\n');
  assert.equal(renderListSpconfig({ ...base, modified: true }), 'factory-default\nmyLDOMconfig [next poweron]\n');
  const two = { configs: ['factory-default', 'a', 'b'], current: 'a', nextPoweron: 'b', modified: false };
  assert.equal(renderListSpconfig(two), 'factory-default\na [current]\nb [next poweron]\n');
  assert.equal(renderListSpconfig({ ...two, modified: true }), 'factory-default\na\nb [next poweron]\n');
  assert.equal(
    renderListSpconfig({ configs: [], current: 'factory-default', nextPoweron: 'factory-default', modified: false }),
    'factory-default [current]\n',
  );
});

test('list-variable: name=value lines, multi-line values kept', () => {
  assert.equal(
    renderListVariable([
      { name: 'auto-boot?', value: 'true' },
      { name: 'nvramrc', value: 'devalias vdisk1 /virtual-devices@100/channel-devices@200/disk@1\n.( done)' },
    ]),
    'auto-boot?=true\nnvramrc=devalias vdisk1 /virtual-devices@100/channel-devices@200/disk@1\n.( done)\n',
  );
  assert.equal(renderListVariable([]), '');
});

// ---- ldm -V ---------------------------------------------------------------------------------

test('ldm -V matches the regexes scripts use', () => {
  const out = renderVersion(view(T2PLUS, [factoryPrimary]));
  assert.equal(/Logical Domains? Manager \(v (.+)\)/.exec(out)?.[1], '2.0');
  const proto = /Hypervisor control protocol v (\d+)\.(\d+)/.exec(out);
  assert.ok(proto);
  assert.equal(/@\(#\)Hypervisor\s+([\w.]+)/.exec(out)?.[1], '1.9.2.a');
  assert.equal(
    out,
    [
      '',
      'Logical Domains Manager (v 2.0)',
      '\tHypervisor control protocol v 1.5',
      '\tUsing Hypervisor MD v 1.1',
      '',
      'System PROM:',
      '\tHypervisor\tv. 1.9.2.\t@(#)Hypervisor 1.9.2.a 2010/08/17 13:48',
      '\tOpenBoot\tv. 4.32.2\t@(#)OpenBoot 4.32.2 2010/08/17 11:12',
      '',
    ].join('\n'),
  );
});

test('ldm -V System PROM lines match the T4-2 and T3-1B captures', () => {
  const t4 = renderVersion(view(T4_2, [])).split('\n');
  assert.deepEqual(t4.slice(5, 9), [
    'System PROM:',
    '\tHostconfig\tv. 1.2.1\t@(#)Hostconfig 1.2.1 2012/08/01 15:09',
    '\tHypervisor\tv. 1.11.1.\t@(#)Hypervisor 1.11.1.a 2012/08/03 09:46',
    '\tOpenBoot\tv. 4.34.1\t@(#)OpenBoot 4.34.1 2012/08/01 12:19',
  ]);
  const t3: PlatformSpec = {
    ...T4_2,
    firmware: { sysfw: '8.1.4', hostconfig: '1.1.4.a 2012/01/14 17:25', hypervisor: '1.10.3.a 2011/09/14 13:24', openboot: '4.33.4 2011/11/17 13:45' },
  };
  assert.deepEqual(renderVersion(view(t3, [])).split('\n').slice(6, 9), [
    '\tHostconfig\tv. 1.1.4.\t@(#)Hostconfig 1.1.4.a 2012/01/14 17:25',
    '\tHypervisor\tv. 1.10.3.\t@(#)Hypervisor 1.10.3.a 2011/09/14 13:24',
    '\tOpenBoot\tv. 4.33.4\t@(#)OpenBoot 4.33.4 2011/11/17 13:45',
  ]);
});
