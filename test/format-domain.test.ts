// Domain listings (`ldm list` in all its forms, list-bindings, list-constraints) against the
// reference samples: ldm-cli.md §4.1–§4.4, §4.7, §5; ldm-cli-addendum.md §2–§5; the seed; the
// T5240 capture of platforms.md §4.1.

import { emptyConstraints } from '../src/machine/hypervisor.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { HostView } from '../src/manager/inventory.js';
import type {
  Domain,
  DomainBinding,
  DomainConstraints,
  DomainRuntime,
  VdsService,
  Vdisk,
  Vnet,
  VswService,
} from '../src/manager/types.js';
import type { IoDevice, PlatformSpec } from '../src/platform/types.js';
import { flagWords, flagsOf } from '../src/format/flags.js';
import { listFormatOf, renderList, renderListBindings } from '../src/format/list-domain.js';
import { renderListConstraints } from '../src/format/list-constraints.js';
import { G, K, M } from '../src/format/units.js';

// --- fixtures -----------------------------------------------------------------------------------

const bus = (dev: string, alias: string): IoDevice => ({ dev, alias, type: 'BUS', bus: alias, status: '' });

/** T5240-class: 2 × 4-core × 8-strand UltraSPARC T2 Plus, 32 GB in one bank. */
const T5240: PlatformSpec = {
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
  io: [bus('pci@400', 'pci_0'), bus('pci@500', 'pci_1')],
  netDevices: [{ name: 'nxge0', path: '/pci@500/pci@0/pci@8/network@0' }],
  systemMac: '00:21:28:57:cd:16',
  firmware: { sysfw: '7.3.0', hypervisor: '1.9.0', openboot: '4.32.0' },
};

/** The 2 × 8-core, 64 GB T5240 of the platforms.md §4.1 capture, with its slots. */
const T5240_64: PlatformSpec = {
  ...T5240,
  cpu: { ...T5240.cpu, coresPerChip: 8 },
  memory: { ...T5240.memory, banks: [{ pa: 0, size: 64 * G }] },
  io: [
    bus('pci@400', 'pci_0'),
    bus('pci@500', 'pci_1'),
    ...(
      [
        ['pci@400/pci@0/pci@c', 'PCIE1', 'pci_0'],
        ['pci@400/pci@0/pci@9', 'PCIE2', 'pci_0'],
        ['pci@400/pci@0/pci@d', 'PCIE3', 'pci_0'],
        ['pci@400/pci@0/pci@8', 'MB/SASHBA', 'pci_0'],
        ['pci@500/pci@0/pci@9', 'PCIE0', 'pci_1'],
        ['pci@500/pci@0/pci@d', 'PCIE4', 'pci_1'],
        ['pci@500/pci@0/pci@c', 'PCIE5', 'pci_1'],
        ['pci@500/pci@0/pci@8', 'MB/NET0', 'pci_1'],
      ] as const
    ).map(([dev, alias, b]): IoDevice => ({ dev, alias, type: 'PCIE', bus: b, status: 'OCC' })),
  ],
};

/** A T4-class platform: no allocatable crypto units, console on the UART. */
const T4: PlatformSpec = { ...T5240, id: 't4-2', cpu: { ...T5240.cpu, type: 'SPARC-T4', cryptoUnitsPerCore: 0 }, primaryConsole: 'UART' };

const NOW = Date.UTC(2011, 0, 10, 12, 0, 0);
const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

function view(domains: Domain[], platform: PlatformSpec = T5240): HostView {
  return { platform, domains, pmPolicy: 'performance', now: NOW, managerVersion: '2.0' };
}

function constraints(name: string, over: Partial<DomainConstraints> = {}): DomainConstraints {
  // Only what differs from a new domain's constraints.
  return {
    ...emptyConstraints(name),
    uuid: '',
    mac: '00:14:4f:f8:00:01',
    hostid: 0x84f80001,
    ...over,
  };
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

interface DomainSpec {
  c?: Partial<DomainConstraints>;
  b?: Partial<DomainBinding>;
  rt?: Partial<DomainRuntime>;
  delayedReconfig?: boolean;
  memoryDr?: boolean;
  migration?: Domain['migration'];
}

function binding(name: string, b: Partial<DomainBinding> = {}): DomainBinding {
  const console =
    name === 'primary'
      ? { service: '', serviceDomain: '', port: null, group: '' }
      : { service: 'primary-vcc0', serviceDomain: 'primary', port: 5000, group: name };
  return { strands: [], crypto: [], mblocks: [], io: [], console, ...b };
}

function inactive(name: string, spec: DomainSpec = {}): Domain {
  return mk(name, 'inactive', spec);
}
function bound(name: string, spec: DomainSpec = {}): Domain {
  return mk(name, 'bound', spec);
}
function active(name: string, spec: DomainSpec = {}): Domain {
  return mk(name, 'active', spec);
}

function mk(name: string, state: Domain['state'], spec: DomainSpec): Domain {
  const runtime: DomainRuntime = {
    softstate: 'Solaris running',
    osFlag: 'n',
    startedAt: NOW - 9 * MIN,
    util: 0.1,
    ...spec.rt,
  };
  return {
    constraints: constraints(name, spec.c),
    state,
    binding: state === 'inactive' ? null : binding(name, spec.b),
    runtime: state === 'active' ? runtime : null,
    delayedReconfig: spec.delayedReconfig ?? false,
    migration: spec.migration ?? '',
    memoryDr: spec.memoryDr ?? false,
  };
}

const vcc0 = { name: 'primary-vcc0', portMin: 5000, portMax: 5100 };
function vsw(over: Partial<VswService> = {}): VswService {
  return {
    name: 'primary-vsw0',
    mac: '00:14:4f:fb:54:f2',
    macAuto: true,
    netDev: 'nxge0',
    defaultVlanId: 1,
    pvid: 1,
    vids: [],
    mtu: 1500,
    mode: '',
    linkprop: '',
    id: 0,
    ...over,
  };
}
const vds0: VdsService = { name: 'primary-vds0', volumes: [{ name: 'vol0', backend: '/ldoms/ldg1/disk0', options: [], mpgroup: '' }] };
function vnet(over: Partial<Vnet> = {}): Vnet {
  return {
    name: 'vnet0',
    service: 'primary-vsw0',
    serviceDomain: 'primary',
    mac: '00:14:4f:f8:91:4f',
    macAuto: true,
    mode: '',
    pvid: 1,
    vids: [],
    mtu: 1500,
    linkprop: '',
    id: 0,
    ...over,
  };
}
function vdisk(over: Partial<Vdisk> = {}): Vdisk {
  return { name: 'vdisk0', volume: 'vol0', service: 'primary-vds0', serviceDomain: 'primary', timeout: 0, id: 0, ...over };
}
const services = { vcc: [vcc0], vsw: [vsw()], vds: [vds0] };

const opts = (o: Partial<Parameters<typeof renderList>[2]> = {}) => ({
  long: false,
  extended: false,
  parseable: false,
  formats: [] as string[],
  ...o,
});

/** Sample text with its `...` elisions: each run between elisions must appear contiguously, in order. */
function assertChunksInOrder(actual: string, sample: string): void {
  const out = actual.split('\n');
  const chunks: string[][] = [[]];
  for (const line of sample.split('\n')) {
    if (line.trim() === '...') chunks.push([]);
    else chunks[chunks.length - 1].push(line);
  }
  let from = 0;
  for (const chunk of chunks.filter((c) => c.length)) {
    let at = -1;
    for (let i = from; i + chunk.length <= out.length && at < 0; i++) {
      if (chunk.every((l, j) => out[i + j] === l)) at = i;
    }
    assert.ok(at >= 0, `not found in order:\n${chunk.join('\n')}\n--- in ---\n${actual}`);
    from = at + chunk.length;
  }
}

/** Each sample line appears in order, exactly or as the start of a record with more fields. */
function assertRecordsInOrder(actual: string, sampleLines: string[]): void {
  const out = actual.split('\n');
  let from = 0;
  for (const want of sampleLines) {
    const at = out.findIndex((l, i) => i >= from && (l === want || l.startsWith(want + '|')));
    assert.ok(at >= 0, `missing in order: ${want}\n--- in ---\n${actual}`);
    from = at + 1;
  }
}

/** Drop the named sections (heading, body and the blank line before) from human output. */
function withoutSections(text: string, headings: string[]): string {
  const lines = text.split('\n');
  const kept: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (headings.includes(lines[i]) && kept[kept.length - 1] === '') {
      kept.pop();
      while (i + 1 < lines.length && lines[i + 1].startsWith('    ')) i++;
      continue;
    }
    kept.push(lines[i]);
  }
  return kept.join('\n');
}

/** The factory-default primary of the 2.0 capture (ldm-cli.md §4.3). */
function factoryPrimary(): Domain {
  return active('primary', {
    c: {
      uuid: 'f063b0a8-8fb0-4e61-cd5b-91826d2c1550',
      mac: '00:21:28:57:cd:16',
      macAuto: false,
      hostid: 0x8557cd16,
      vcpus: 64,
      crypto: 8,
      memory: 32544 * M,
      io: ['pci@400', 'pci@500'],
    },
    b: {
      strands: range(0, 64),
      crypto: range(0, 8),
      mblocks: [{ ra: 0xe000000, pa: 0xe000000, size: 32544 * M }],
      io: ['pci@400', 'pci@500'],
    },
    rt: { util: 0.1, startedAt: NOW - 9 * MIN - 30 * SEC },
  });
}

// --- ldm list ---------------------------------------------------------------------------------------

describe('ldm list (human)', () => {
  it('prints the 2.0 factory-default sample', () => {
    const p = factoryPrimary();
    assert.equal(
      renderList(view([p]), [p], opts()),
      'NAME             STATE      FLAGS   CONS    VCPU  MEMORY   UTIL  UPTIME\n' +
        'primary          active     -n-c--  SP      64    32544M   0.1%  9m\n',
    );
  });

  it('prints the 3.x memory-dr sample (active, active, bound)', () => {
    const domains = memoryDrHost();
    assert.equal(
      renderList(view(domains), domains, opts()),
      'NAME             STATE      FLAGS   CONS    VCPU  MEMORY   UTIL  UPTIME\n' +
        'primary          active     -n-cv-  SP      4     27392M   0.4%  1d 22h 53m\n' +
        'ldom1            active     -n----  5000    2     2G       0.4%  1d 1h 23m\n' +
        'ldom2            bound      ------  5001    2     200M\n',
    );
  });

  it('shifts the row by a name as long as the column, as in the 3.x 12-domain sample', () => {
    const d16 = bound('DR-PRD02-CBSDB02', { b: { strands: range(0, 16), mblocks: [{ ra: 0, pa: 0, size: 100 * G }], console: { service: 'primary-vcc0', serviceDomain: 'primary', port: 5006, group: 'x' } } });
    const d17 = bound('DR-PRD02-CBSRPT01', { b: { strands: range(16, 16), mblocks: [{ ra: 0, pa: 0, size: 32 * G }], console: { service: 'primary-vcc0', serviceDomain: 'primary', port: 5013, group: 'x' } } });
    const d18 = active('DR-PRD02-CIFTPDB01', {
      b: { strands: range(32, 8), mblocks: [{ ra: 0, pa: 0, size: 64 * G }], console: { service: 'primary-vcc0', serviceDomain: 'primary', port: 5003, group: 'x' } },
      rt: { util: 5.0, startedAt: NOW - (45 * DAY + 7 * HOUR + 54 * MIN) },
    });
    const lines = renderList(view([d16, d17, d18]), [d16, d17, d18], opts()).split('\n');
    assert.equal(lines[1], 'DR-PRD02-CBSDB02 bound      ------  5006    16    100G');
    assert.equal(lines[2], 'DR-PRD02-CBSRPT01 bound      ------  5013    16    32G');
    assert.equal(lines[3], 'DR-PRD02-CIFTPDB01 active     -n----  5003    8     64G      5.0%  45d 7h 54m');
  });

  it('prints inactive rows with blank CONS and the constrained counts, nothing after FLAGS when none', () => {
    const ovmt = inactive('ovmt-1', { c: { vcpus: 16, memory: 16 * G } });
    const fresh = inactive('ldg1');
    const cpuOnly = inactive('ldg2', { c: { vcpus: 4 } });
    const memOnly = inactive('ldg3', { c: { memory: 2 * G } });
    const text = renderList(view([ovmt, fresh, cpuOnly, memOnly]), [ovmt, fresh, cpuOnly, memOnly], opts());
    assert.deepEqual(text.split('\n').slice(1), [
      'ovmt-1           inactive   ------          16    16G',
      'ldg1             inactive   ------',
      'ldg2             inactive   ------          4',
      'ldg3             inactive   ------                2G',
      '',
    ]);
  });

  it('right-aligns UTIL in 4 and spells UPTIME in d/h/m', () => {
    const row = (util: number, upMs: number) =>
      renderList(view([]), [active('ldg1', { b: { strands: [8], mblocks: [{ ra: 0, pa: 0, size: G }] }, rt: { util, startedAt: NOW - upMs } })], opts()).split('\n')[1];
    assert.equal(row(23, 2 * MIN), 'ldg1             active     -n----  5000    1     1G        23%  2m');
    assert.equal(row(0.5, 3 * DAY + 21 * HOUR + 7 * MIN), 'ldg1             active     -n----  5000    1     1G       0.5%  3d 21h 7m');
    assert.equal(row(100, 19 * DAY + 9 * MIN + 59 * SEC), 'ldg1             active     -n----  5000    1     1G       100%  19d 9m');
    assert.equal(row(9.94, 5 * SEC), 'ldg1             active     -n----  5000    1     1G       9.9%  5s');
    assert.equal(row(0, 0), 'ldg1             active     -n----  5000    1     1G       0.0%  0s');
  });

  it('prints UART for the control domain where the platform says so', () => {
    const p = active('primary', { b: { strands: [0], mblocks: [{ ra: 0, pa: 0, size: G }] } });
    assert.match(renderList(view([p], T4), [p], opts()).split('\n')[1], /^primary {10}active {5}-n-c-- {2}UART {4}1 /);
  });
});

function memoryDrHost(): Domain[] {
  return [
    active('primary', {
      c: services,
      b: { strands: range(0, 4), mblocks: [{ ra: 0xe000000, pa: 0xe000000, size: 27392 * M }] },
      rt: { util: 0.4, startedAt: NOW - (1 * DAY + 22 * HOUR + 53 * MIN + 10 * SEC) },
    }),
    active('ldom1', {
      b: { strands: [4, 5], mblocks: [{ ra: 0x8000000, pa: 0x700000000, size: 2 * G }] },
      rt: { util: 0.4, startedAt: NOW - (1 * DAY + 1 * HOUR + 23 * MIN) },
    }),
    bound('ldom2', {
      b: {
        strands: [6, 7],
        mblocks: [{ ra: 0x8000000, pa: 0x780000000, size: 200 * M }],
        console: { service: 'primary-vcc0', serviceDomain: 'primary', port: 5001, group: 'ldom2' },
      },
    }),
  ];
}

// --- ldm list -p ----------------------------------------------------------------------------------

describe('ldm list -p', () => {
  it('prints the VERSION line and one DOMAIN record per domain', () => {
    const domains = [...memoryDrHost(), inactive('ovmt-1', { c: { vcpus: 16, memory: 16 * G } })];
    assert.equal(
      renderList(view(domains), domains, opts({ parseable: true })),
      'VERSION 1.5\n' +
        'DOMAIN|name=primary|state=active|flags=-n-cv-|cons=SP|ncpu=4|mem=28722593792|util=0.4|uptime=168790\n' +
        'DOMAIN|name=ldom1|state=active|flags=-n----|cons=5000|ncpu=2|mem=2147483648|util=0.4|uptime=91380\n' +
        'DOMAIN|name=ldom2|state=bound|flags=------|cons=5001|ncpu=2|mem=209715200|util=|uptime=\n' +
        'DOMAIN|name=ovmt-1|state=inactive|flags=|cons=|ncpu=16|mem=17179869184|util=|uptime=\n',
    );
  });

  it('keeps the field positions scripts cut on (§5)', () => {
    const domains = memoryDrHost();
    const [, first] = renderList(view(domains), domains, opts({ parseable: true })).split('\n');
    const f = first.split('|');
    assert.equal(f[2], 'state=active'); // cut -f3
    assert.equal(f[4], 'cons=SP'); // cut -f5
    assert.deepEqual(
      f.slice(1).map((x) => x.split('=')[0]),
      ['name', 'state', 'flags', 'cons', 'ncpu', 'mem', 'util', 'uptime'],
    );
  });
});

// --- flags ------------------------------------------------------------------------------------------

describe('FLAGS', () => {
  const v = view([]);
  const b = { strands: [8], mblocks: [{ ra: 0, pa: 0, size: G }] };
  const cases: [string, Domain, string, string][] = [
    ['inactive', inactive('ldg1', { c: services }), '------', ''],
    ['bound guest', bound('ldg1', { b }), '------', ''],
    ['bound service domain', bound('svc1', { b, c: { vds: [vds0] } }), '----v-', 'vio-service'],
    ['running guest', active('ldg1', { b }), '-n----', 'normal'],
    ['guest at OBP', active('ldg1', { b, rt: { osFlag: 't', softstate: 'OpenBoot Running' } }), '-t----', 'transition'],
    ['guest stopped at ok', active('ldg1', { b, rt: { osFlag: '-' } }), '------', ''],
    ['factory primary', active('primary', { b }), '-n-c--', 'normal,control'],
    ['service primary', active('primary', { b, c: services }), '-n-cv-', 'normal,control,vio-service'],
    ['primary in delayed reconfiguration', active('primary', { b, c: services, delayedReconfig: true }), '-ndcv-', 'normal,delayed-reconfig,control,vio-service'],
    ['memory DR', active('ldg1', { b, memoryDr: true }), '-nr---', 'normal,memory-dr'],
    ['migration source', active('ldg1', { b, migration: 's' }), '-n---s', 'normal,source'],
    ['migration target', bound('ldg1', { b, migration: 't' }), '-----t', 'target'],
    ['migration error', bound('ldg1', { b, migration: 'e' }), '-----e', 'error'],
  ];
  for (const [what, d, letters, words] of cases) {
    it(`${what}: ${letters} / "${words}"`, () => {
      assert.equal(flagsOf(d, v), letters);
      assert.equal(flagWords(d, v), words);
    });
  }
});

// --- ldm list -l / list-bindings ----------------------------------------------------------------

describe('ldm list -l / list-bindings', () => {
  it('contains every line of the 2.0 `list-bindings primary` capture, in order', () => {
    const p = factoryPrimary();
    const sample = `NAME             STATE      FLAGS   CONS    VCPU  MEMORY   UTIL  UPTIME
primary          active     -n-c--  SP      64    32544M   0.1%  9m

UUID
    f063b0a8-8fb0-4e61-cd5b-91826d2c1550

MAC
    00:21:28:57:cd:16

HOSTID
    0x8557cd16

CONTROL
    failure-policy=ignore

DEPENDENCY
    master=

CORE
    CID    CPUSET
    0      (0, 1, 2, 3, 4, 5, 6, 7)
    ...
VCPU
    VID    PID    CID    UTIL STRAND
    0      0      0      1.5%   100%
    1      1      0      0.0%   100%
    ...
MAU
    ID     CPUSET
    0      (0, 1, 2, 3, 4, 5, 6, 7)
    ...
MEMORY
    RA               PA               SIZE
    0xe000000        0xe000000        32544M

IO
    DEVICE           PSEUDONYM        OPTIONS
    pci@400          pci_0
    pci@500          pci_1

VCONS
    NAME             SERVICE                     PORT
    SP`;
    // Per-vCPU utilisation is not in the domain model: the capture's two values come from the hook.
    const text = renderListBindings(view([p]), [p], { extended: false, parseable: false, vcpuUtil: (_d, vid) => (vid === 0 ? 1.5 : 0) });
    assertChunksInOrder(text, sample);
    assert.ok(text.endsWith('\nVCONS\n    NAME             SERVICE                     PORT\n    SP\n'));
    assert.equal(text, renderList(view([p]), [p], opts({ long: true, vcpuUtil: (_d, vid) => (vid === 0 ? 1.5 : 0) })));
    const lines = text.split('\n');
    const rows = (heading: string) => {
      const at = lines.indexOf(heading);
      let n = 0;
      while (lines[at + 2 + n]?.startsWith('    ')) n++;
      return lines.slice(at + 2, at + 2 + n);
    };
    assert.equal(rows('CORE').length, 8);
    assert.equal(rows('CORE')[7], '    7      (56, 57, 58, 59, 60, 61, 62, 63)');
    assert.equal(rows('VCPU').length, 64);
    assert.equal(rows('VCPU')[63], '    63     63     7      0.0%   100%');
    assert.equal(rows('MAU').length, 8);
    assert.equal(rows('MAU')[5], '    5      (40, 41, 42, 43, 44, 45, 46, 47)');
    // Without the hook every vCPU shows the domain's utilisation.
    const plain = renderListBindings(view([p]), [p], { extended: false, parseable: false });
    assert.ok(plain.includes('\n    1      1      0      0.1%   100%\n'));
  });

  it('prints the inactive ldg1 of addendum §4: head row ending after FLAGS, then UUID only', () => {
    const ldg1 = inactive('ldg1', { c: { uuid: '6c908858-12ef-e520-9eb3-f1cd3dbc3a59' } });
    assert.equal(
      renderList(view([ldg1]), [ldg1], opts({ long: true })),
      'NAME             STATE      FLAGS   CONS    VCPU  MEMORY   UTIL  UPTIME\n' +
        'ldg1             inactive   ------\n' +
        '\n' +
        'UUID\n' +
        '    6c908858-12ef-e520-9eb3-f1cd3dbc3a59\n',
    );
    assert.equal(
      renderList(view([ldg1]), [ldg1], opts({ long: true, parseable: true })),
      'VERSION 1.5\n' +
        'DOMAIN|name=ldg1|state=inactive|flags=|cons=|ncpu=|mem=|util=|uptime=\n' +
        'UUID|uuid=6c908858-12ef-e520-9eb3-f1cd3dbc3a59\n',
    );
  });

  it('separates domains with a blank line and exactly 78 dashes', () => {
    const domains = memoryDrHost();
    const text = renderList(view(domains), domains, opts({ long: true }));
    const rule = '-'.repeat(78);
    assert.equal(text.split('\n').filter((l) => l === rule).length, 2);
    assert.ok(text.includes(`\n\n${rule}\nNAME             STATE      FLAGS   CONS    VCPU  MEMORY   UTIL  UPTIME\nldom1            active`));
    assert.ok(!text.endsWith('\n\n'));
  });

  it('prints the service and guest sections in order with the 1.2/1.3 layouts', () => {
    const primary = active('primary', {
      c: {
        vcc: [vcc0],
        vsw: [vsw({ vids: [5, 6] })],
        vds: [
          { name: 'vds0', volumes: [
            { name: 'myvol-a', backend: '/disk/a', options: ['slice'], mpgroup: '' },
            { name: 'myvol-c', backend: '/disk/c', options: ['ro', 'slice', 'excl'], mpgroup: 'mpg1' },
          ] },
          { name: 'vds1', volumes: [] },
        ],
        variables: [
          { name: 'auto-boot?', value: 'true' },
          { name: 'nvramrc', value: 'devalias vnet0 /virtual-devices@100/channel-devices@200/network@0\n." ChassisSerialNumber X" cr' },
        ],
      },
      b: { strands: [0], mblocks: [{ ra: 0xe000000, pa: 0xe000000, size: G }], io: ['pci@400'] },
    });
    const ldg1 = active('ldg1', {
      c: {
        vnets: [vnet({ name: 'net-a', id: 0 }), vnet({ name: 'net-c', id: 2, mac: '00:14:4F:F8:DD:68' })],
        vdisks: [vdisk({ name: 'mydisk-a', volume: 'myvol-a', service: 'vds0' })],
      },
      b: { strands: [8], mblocks: [{ ra: 0x4000000, pa: 0x34000000, size: 512 * M }] },
    });
    const v = view([primary, ldg1]);
    const p = renderListBindings(v, [primary], { extended: false, parseable: false });
    assertChunksInOrder(
      p,
      `VARIABLES
    auto-boot?=true
    nvramrc=devalias vnet0 /virtual-devices@100/channel-devices@200/network@0
." ChassisSerialNumber X" cr

IO
    DEVICE           PSEUDONYM        OPTIONS
    pci@400          pci_0

VCC
    NAME             PORT-RANGE
    primary-vcc0     5000-5100

VSW
    NAME         MAC               NET-DEV ID DEVICE   LINKPROP DEFAULT-VLAN-ID PVID VID MTU  MODE
    primary-vsw0 00:14:4f:fb:54:f2 nxge0   0  switch@0          1               1    5,6 1500

VDS
    NAME             VOLUME         OPTIONS          MPGROUP        DEVICE
    vds0             myvol-a        slice                           /disk/a
                     myvol-c        ro,slice,excl    mpg1           /disk/c
    vds1

VCONS`,
    );
    const g = renderListBindings(v, [ldg1], { extended: false, parseable: false });
    assertChunksInOrder(
      g,
      `MEMORY
    RA               PA               SIZE
    0x4000000        0x34000000       512M

NETWORK
    NAME         SERVICE                     DEVICE       MAC
    net-a        primary-vsw0@primary        network@0    00:14:4f:f8:91:4f
    net-c        primary-vsw0@primary        network@2    00:14:4f:f8:dd:68

DISK
    NAME             VOLUME                      DEVICE     SERVER
    mydisk-a         myvol-a@vds0                disk@0     primary

VCONS
    NAME             SERVICE                     PORT
    ldg1             primary-vcc0@primary        5000`,
    );
    assert.ok(!g.includes('MAU\n'), 'no MAU section without crypto units');
    assert.ok(!g.includes('SOFTSTATE'), 'SOFTSTATE only with -e');
  });

  it('shows no UTIL for the vCPUs of a bound domain', () => {
    const d = bound('ldg1', { b: { strands: [9] } });
    assert.ok(renderListBindings(view([d]), [d], { extended: false, parseable: false }).includes('\n    0      9      1             100%\n'));
  });

  it('omits MAU on a platform without crypto units', () => {
    const p = active('primary', { b: { strands: [0], crypto: [0], mblocks: [{ ra: 0, pa: 0, size: G }] } });
    assert.ok(!renderListBindings(view([p], T4), [p], { extended: false, parseable: false }).includes('\nMAU\n'));
    assert.ok(renderListBindings(view([p]), [p], { extended: false, parseable: false }).includes('\nMAU\n'));
  });
});

describe('ldm list -e', () => {
  it('adds an unindented SOFTSTATE after the head row and the VLDC/VLDCC sections', () => {
    const p = factoryPrimary();
    const text = renderList(view([p]), [p], opts({ extended: true }));
    assert.ok(text.startsWith(
      'NAME             STATE      FLAGS   CONS    VCPU  MEMORY   UTIL  UPTIME\n' +
        'primary          active     -n-c--  SP      64    32544M   0.1%  9m\n' +
        '\n' +
        'SOFTSTATE\n' +
        'Solaris running\n' +
        '\n' +
        'UUID\n',
    ));
    assertChunksInOrder(text, `IO
    DEVICE           PSEUDONYM        OPTIONS
    pci@400          pci_0
    pci@500          pci_1

VLDC
    NAME
    primary

VLDCC
    NAME             SERVICE                     DESC
    hvctl            primary@primary             hvctl

VCONS`);
    assert.equal(text, renderListBindings(view([p]), [p], { extended: true, parseable: false }));
  });

  it('has no SOFTSTATE for a bound domain and a DS channel for a guest', () => {
    const d = bound('ldg1', { b: { strands: [8] } });
    const text = renderList(view([d]), [d], opts({ extended: true }));
    assert.ok(!text.includes('SOFTSTATE'));
    assert.ok(!text.includes('\nVLDC\n'));
    assert.ok(text.includes('\nVLDCC\n    NAME             SERVICE                     DESC\n    ds               primary@primary             domain-services\n'));
  });

  it('ends the -p DOMAIN line with the softstate and adds VLDC/VLDCC records', () => {
    const p = factoryPrimary();
    const lines = renderList(view([p]), [p], opts({ extended: true, parseable: true })).split('\n');
    assert.equal(lines[1], 'DOMAIN|name=primary|state=active|flags=normal,control|cons=SP|ncpu=64|mem=34124857344|util=0.1|uptime=570|softstate=Solaris running');
    assert.ok(lines.includes('VLDC|name=primary'));
    assert.ok(lines.includes('VLDCC|name=hvctl|service=primary@primary|desc=hvctl'));
  });
});

// --- ldm list -l -p -------------------------------------------------------------------------------

describe('ldm list -l -p', () => {
  it('contains the lines of the 2.x T5240 `ls-bindings -p primary` capture, in order', () => {
    const p = active('primary', {
      c: { vsw: [vsw({ mac: '00:14:4f:fa:17:65' })] },
      b: {
        strands: range(0, 96),
        crypto: range(0, 12),
        mblocks: [
          { ra: 0xe000000, pa: 0xe000000, size: 33554432 },
          { ra: 0x410000000, pa: 0x410000000, size: 51271172096 },
        ],
        io: T5240_64.io.map((x) => x.dev),
      },
      rt: { util: 0.4, startedAt: NOW - 1918075 * SEC },
    });
    const text = renderListBindings(view([p], T5240_64), [p], { extended: false, parseable: true });
    // An excerpt: records between the ones shown were cut without a marker.
    assertRecordsInOrder(text, [
      'VERSION 1.5',
      'DOMAIN|name=primary|state=active|flags=normal,control,vio-service|cons=SP|ncpu=96|mem=51304726528|util=0.4|uptime=1918075',
      'MAU',
      '|id=0|cpuset=0,1,2,3,4,5,6,7',
      '|id=1|cpuset=8,9,10,11,12,13,14,15',
      'MEMORY',
      '|ra=0xe000000|pa=0xe000000|size=33554432',
      '|ra=0x410000000|pa=0x410000000|size=51271172096',
      'IO',
      '|dev=pci@400|alias=pci_0',
      '|dev=pci@500|alias=pci_1',
      '|dev=pci@400/pci@0/pci@c|alias=PCIE1',
      '|dev=pci@400/pci@0/pci@9|alias=PCIE2',
      '|dev=pci@400/pci@0/pci@d|alias=PCIE3',
      '|dev=pci@400/pci@0/pci@8|alias=MB/SASHBA',
      '|dev=pci@500/pci@0/pci@9|alias=PCIE0',
      '|dev=pci@500/pci@0/pci@d|alias=PCIE4',
      '|dev=pci@500/pci@0/pci@c|alias=PCIE5',
      '|dev=pci@500/pci@0/pci@8|alias=MB/NET0',
      'VSW|name=primary-vsw0|mac-addr=00:14:4f:fa:17:65|net-dev=nxge0|dev=switch@0|default-vlan-id=1|pvid=1|vid=|mode=|mtu=1500|linkprop=|id=0',
    ]);
    assert.equal(text.split('\n')[1].split('|')[0], 'DOMAIN');
  });

  it('prints typed records in the section order with the §4.2/§5 field orders', () => {
    const primary = active('primary', {
      c: {
        uuid: 'f063b0a8-8fb0-4e61-cd5b-91826d2c1550',
        mac: '00:21:28:57:cd:16',
        hostid: 0x8557cd16,
        vcc: [vcc0],
        vsw: [vsw()],
        vds: [{ name: 'primary-vds0', volumes: [{ name: 'vol0', backend: '/ldoms/ldg1/disk0', options: ['ro', 'slice'], mpgroup: 'mpg0' }] }],
      },
      b: { strands: [0, 1], crypto: [0], mblocks: [{ ra: 0xe000000, pa: 0xe000000, size: G }], io: ['pci@400'] },
    });
    const ldg1 = active('ldg1', {
      c: {
        uuid: '6c908858-12ef-e520-9eb3-f1cd3dbc3a59',
        mac: '00:14:4f:fa:ed:88',
        hostid: 0x84faed88,
        failurePolicy: 'stop',
        masters: ['primary'],
        variables: [{ name: 'nvramrc', value: 'devalias a /b\ndevalias c /d' }],
        vnets: [vnet({ vids: [10, 20], pvid: 2 })],
        vdisks: [vdisk({ timeout: 30, id: 1 })],
      },
      b: { strands: [8, 9], mblocks: [{ ra: 0x8000000, pa: 0x48000000, size: 2 * G }] },
      rt: { util: 12.25, startedAt: NOW - 100 * SEC },
    });
    const v = view([primary, ldg1]);
    assert.equal(
      renderListBindings(v, [primary, ldg1], { extended: false, parseable: true }),
      `VERSION 1.5
DOMAIN|name=primary|state=active|flags=normal,control,vio-service|cons=SP|ncpu=2|mem=1073741824|util=0.1|uptime=540
UUID|uuid=f063b0a8-8fb0-4e61-cd5b-91826d2c1550
MAC|mac-addr=00:21:28:57:cd:16
HOSTID|hostid=0x8557cd16
CONTROL|failure-policy=ignore
DEPENDENCY|master=
CORE
|cid=0|cpuset=0,1
VCPU
|vid=0|pid=0|cid=0|util=0.1|strand=100
|vid=1|pid=1|cid=0|util=0.1|strand=100
MAU
|id=0|cpuset=0,1,2,3,4,5,6,7
MEMORY
|ra=0xe000000|pa=0xe000000|size=1073741824
IO
|dev=pci@400|alias=pci_0
VCC|name=primary-vcc0|port-range=5000-5100
VSW|name=primary-vsw0|mac-addr=00:14:4f:fb:54:f2|net-dev=nxge0|dev=switch@0|default-vlan-id=1|pvid=1|vid=|mode=|mtu=1500|linkprop=|id=0
VDS|name=primary-vds0
|vol=vol0|opts=ro,slice|dev=/ldoms/ldg1/disk0|mpgroup=mpg0
VCONS|type=SP|service=|port=|group=
DOMAIN|name=ldg1|state=active|flags=normal|cons=5000|ncpu=2|mem=2147483648|util=12.3|uptime=100
UUID|uuid=6c908858-12ef-e520-9eb3-f1cd3dbc3a59
MAC|mac-addr=00:14:4f:fa:ed:88
HOSTID|hostid=0x84faed88
CONTROL|failure-policy=stop
DEPENDENCY|master=primary
CORE
|cid=1|cpuset=8,9
VCPU
|vid=0|pid=8|cid=1|util=12.3|strand=100
|vid=1|pid=9|cid=1|util=12.3|strand=100
MEMORY
|ra=0x8000000|pa=0x48000000|size=2147483648
VARIABLES
|nvramrc=devalias a /b
devalias c /d
VNET|name=vnet0|dev=network@0|service=primary-vsw0@primary|mac-addr=00:14:4f:f8:91:4f|mode=|pvid=2|vid=10,20|mtu=1500|linkprop=|id=0
VDISK|name=vdisk0|vol=vol0@primary-vds0|timeout=30|dev=disk@1|server=primary|mpgroup=mpg0|id=1
VCONS|type=|service=primary-vcc0@primary|port=5000|group=ldg1
`,
    );
  });
});

// --- ldm list -o -------------------------------------------------------------------------------

describe('ldm list -o format', () => {
  it('prints `-o memory ldg-src` of the seed byte for byte', () => {
    const d = active('ldg-src', { b: { strands: [8, 9], mblocks: [{ ra: 0x8000000, pa: 0x208000000, size: 2 * G }] } });
    assert.equal(
      renderList(view([d]), [d], opts({ formats: ['memory'] })),
      'NAME\nldg-src\n\nMEMORY\n    RA               PA               SIZE\n    0x8000000        0x208000000      2G\n',
    );
  });

  it('prints the `-o domain` sample of addendum §2 (plus the UUID and MAC sections of 2.0)', () => {
    const primary = active('primary', {
      c: { ...services, hostid: 0x83d8b31c, uuid: 'a9bd2b3c-06a2-c0de-e1d5-a4a4a8b8d2e1', mac: '00:14:4f:d8:b3:1c' },
      b: { strands: [0], mblocks: [{ ra: 0xe000000, pa: 0xe000000, size: G }] },
      rt: { util: 0.2 },
    });
    const orange = bound('orange', { c: { hostid: 0x84fb28ef, masters: ['primary'], uuid: 'b1c2', mac: '00:14:4f:fb:28:ef' }, b: { strands: [8] } });
    const tangerine = bound('tangerine', { c: { hostid: 0x84f948e9, masters: ['orange', 'primary'], uuid: 'c3d4', mac: '00:14:4f:f9:48:e9' }, b: { strands: [9] } });
    const domains = [primary, orange, tangerine];
    const text = renderList(view(domains), domains, opts({ formats: ['domain'] }));
    const sample = `NAME             STATE      FLAGS   UTIL
primary          active     -n-cv-  0.2%

SOFTSTATE
Solaris running

HOSTID
    0x83d8b31c

CONTROL
    failure-policy=ignore

DEPENDENCY
    master=

------------------------------------------------------------------------------
NAME             STATE      FLAGS   UTIL
orange           bound      ------

HOSTID
    0x84fb28ef

CONTROL
    failure-policy=ignore

DEPENDENCY
    master=primary

------------------------------------------------------------------------------
NAME             STATE      FLAGS   UTIL
tangerine        bound      ------

HOSTID
    0x84f948e9

CONTROL
    failure-policy=ignore
...`;
    const verbatim = sample.slice(0, sample.lastIndexOf('\n...') + 1);
    const stripped = withoutSections(text, ['UUID', 'MAC']);
    assert.ok(stripped.startsWith(verbatim), `got:\n${stripped}`);
    assert.ok(stripped.endsWith('\n\nDEPENDENCY\n    master=orange,primary\n'));
    // 2.0 order: SOFTSTATE, UUID, MAC, HOSTID (addendum §2).
    assertChunksInOrder(text, 'SOFTSTATE\nSolaris running\n\nUUID\n    a9bd2b3c-06a2-c0de-e1d5-a4a4a8b8d2e1\n\nMAC\n    00:14:4f:d8:b3:1c\n\nHOSTID');
  });

  it('adds VARIABLES to `-o domain` and heads inactive domains with their row', () => {
    const d = inactive('ldg1', { c: { uuid: 'u-1', variables: [{ name: 'test_var', value: 'Aloha' }] } });
    assert.equal(
      renderList(view([d]), [d], opts({ formats: ['domain'] })),
      'NAME             STATE      FLAGS   UTIL\nldg1             inactive   ------\n\nUUID\n    u-1\n\nVARIABLES\n    test_var=Aloha\n',
    );
  });

  it('ends the `-o domain -p` DOMAIN line with softstate, followed by UUID MAC HOSTID CONTROL DEPENDENCY', () => {
    const p = factoryPrimary();
    assert.equal(
      renderList(view([p]), [p], opts({ formats: ['domain'], parseable: true })),
      'VERSION 1.5\n' +
        'DOMAIN|name=primary|state=active|flags=normal,control|cons=SP|ncpu=64|mem=34124857344|util=0.1|uptime=570|softstate=Solaris running\n' +
        'UUID|uuid=f063b0a8-8fb0-4e61-cd5b-91826d2c1550\n' +
        'MAC|mac-addr=00:21:28:57:cd:16\n' +
        'HOSTID|hostid=0x8557cd16\n' +
        'CONTROL|failure-policy=ignore\n' +
        'DEPENDENCY|master=\n',
    );
  });

  it('accepts `net` for network; VNET mac-addr is the 5th field; DOMAIN|name= heads the records', () => {
    assert.equal(listFormatOf('net'), 'network');
    assert.equal(listFormatOf('network'), 'network');
    assert.equal(listFormatOf('bogus'), null);
    const d = active('ldg1', { c: { vnets: [vnet()], vdisks: [vdisk()] }, b: { strands: [8] } });
    const lines = renderList(view([d]), [d], opts({ formats: ['net'], parseable: true })).split('\n');
    assert.equal(lines[1], 'DOMAIN|name=ldg1');
    assert.equal(lines[2], 'MAC|mac-addr=00:14:4f:f8:00:01');
    const vnetLine = lines.find((l) => l.startsWith('VNET|'))!;
    assert.equal(vnetLine.split('|')[4], 'mac-addr=00:14:4f:f8:91:4f');
    assert.equal(vnetLine.split('|')[3], 'service=primary-vsw0@primary');
    const disk = renderList(view([d]), [d], opts({ formats: ['disk'], parseable: true })).split('\n');
    assert.equal(disk[2], 'VDISK|name=vdisk0|vol=vol0@primary-vds0|timeout=|dev=disk@0|server=primary|mpgroup=|id=0');
    assert.throws(() => renderList(view([d]), [d], opts({ formats: ['bogus'] })));
  });

  it('combines formats in the canonical section order and separates domains with the rule', () => {
    const d = active('ldg1', { c: { vnets: [vnet()], vdisks: [vdisk()] }, b: { strands: [8], mblocks: [{ ra: 0x8000000, pa: 0x48000000, size: G }] } });
    const e = bound('ldg2', { b: { strands: [9] } });
    const text = renderList(view([d, e]), [d, e], opts({ formats: ['disk', 'memory', 'network'] }));
    assert.equal(
      text,
      `NAME
ldg1

MAC
    00:14:4f:f8:00:01

MEMORY
    RA               PA               SIZE
    0x8000000        0x48000000       1G

NETWORK
    NAME         SERVICE                     DEVICE       MAC
    vnet0        primary-vsw0@primary        network@0    00:14:4f:f8:91:4f

DISK
    NAME             VOLUME                      DEVICE     SERVER
    vdisk0           vol0@primary-vds0           disk@0     primary

${'-'.repeat(78)}
NAME
ldg2

MAC
    00:14:4f:f8:00:01
`,
    );
  });

  it('prints the sections of console, cpu, crypto, physio, resmgmt, serial and stats', () => {
    const p = factoryPrimary();
    p.constraints.vcc = [vcc0];
    const v = view([p]);
    const o = (f: string) => renderList(v, [p], opts({ formats: [f] }));
    assert.equal(o('console'), 'NAME\nprimary\n\nVCC\n    NAME             PORT-RANGE\n    primary-vcc0     5000-5100\n\nVCONS\n    NAME             SERVICE                     PORT\n    SP\n');
    assert.match(o('cpu'), /^NAME\nprimary\n\nVCPU\n    VID    PID    CID    UTIL STRAND\n    0      0      0      0\.1%   100%\n/);
    assert.match(o('crypto'), /^NAME\nprimary\n\nMAU\n    ID     CPUSET\n    0      \(0, 1, 2, 3, 4, 5, 6, 7\)\n/);
    assert.equal(o('physio'), 'NAME\nprimary\n\nIO\n    DEVICE           PSEUDONYM        OPTIONS\n    pci@400          pci_0\n    pci@500          pci_1\n');
    assert.equal(o('resmgmt'), 'NAME\nprimary\n');
    assert.equal(o('stats'), 'NAME\nprimary\n');
    assert.match(o('serial'), /^NAME\nprimary\n\nVLDC\n    NAME\n    primary\n\nVLDCC\n/);
    const wc = inactive('ldg1', { c: { wholeCore: true, vcpus: 8, maxCores: 1 } });
    assert.equal(renderList(view([wc]), [wc], opts({ formats: ['resmgmt'] })), 'NAME\nldg1\n\nCONSTRAINT\n    whole-core\n    max-cores=1\n');
    assert.equal(renderList(view([wc]), [wc], opts({ formats: ['resmgmt'], parseable: true })), 'VERSION 1.5\nDOMAIN|name=ldg1\nCONSTRAINT|cpu=whole-core|max-cores=1\n');
  });

  it('-o status: a STATUS section naming the delayed reconfiguration, only NAME when idle, the hook otherwise', () => {
    const b = { strands: [0], mblocks: [{ ra: 0, pa: 0, size: G }] };
    const idle = active('primary', { b });
    assert.equal(renderList(view([idle]), [idle], opts({ formats: ['status'] })), 'NAME\nprimary\n');
    assert.equal(renderList(view([idle]), [idle], opts({ formats: ['status'], parseable: true })), 'VERSION 1.5\nDOMAIN|name=primary\n');
    const dr = active('primary', { b, delayedReconfig: true });
    const text = renderList(view([dr]), [dr], opts({ formats: ['status'] }));
    assert.equal(text, 'NAME\nprimary\n\nSTATUS\n    OPERATION\n    delayed reconfiguration\n');
    assert.match(text, /STATUS/);
    assert.match(text, /delayed/);
    assert.match(renderList(view([dr]), [dr], opts({ formats: ['status'], parseable: true })), /\nSTATUS\n\|op=delayed-reconfig\n$/);
    const mig = active('ldg-src', { b: { strands: [8] }, migration: 's' });
    const status = (d: Domain) =>
      d.migration === 's' ? { human: ['OPERATION    PROGRESS    TARGET', 'migration    17%         system2'], parseable: ['|op=migration|progress=17|target=system2'] } : null;
    assert.equal(
      renderList(view([mig]), [mig], opts({ formats: ['status'], status })),
      'NAME\nldg-src\n\nSTATUS\n    OPERATION    PROGRESS    TARGET\n    migration    17%         system2\n',
    );
    assert.equal(
      renderList(view([mig]), [mig], opts({ formats: ['status'], status, parseable: true })),
      'VERSION 1.5\nDOMAIN|name=ldg-src\nSTATUS\n|op=migration|progress=17|target=system2\n',
    );
  });

  it('prints nothing for no domains', () => {
    assert.equal(renderList(view([]), [], opts()), '');
    assert.equal(renderListConstraints(view([]), [], { parseable: true }), '');
  });
});

// --- list-constraints ------------------------------------------------------------------------------

describe('ldm list-constraints', () => {
  it('prints the 1.2 human sample with the 2.0 UUID/CONTROL/DEPENDENCY sections and a PORT column', () => {
    const ldg1 = bound('ldg1', {
      c: {
        uuid: '6c908858-12ef-e520-9eb3-f1cd3dbc3a59',
        vcpus: 1,
        memory: 512 * M,
        vnets: [vnet({ name: 'mynet-b', service: 'vsw0', mac: '08:00:20:ab:9a:12', macAuto: false })],
        vdisks: [vdisk({ name: 'mydisk-a', volume: 'myvol-a', service: 'vds0' })],
        console: { group: 'mygroup', service: 'vcc0' },
      },
      b: { strands: [8], mblocks: [{ ra: 0x4000000, pa: 0x34000000, size: 512 * M }] },
    });
    const sample12 = `DOMAIN
ldg1

VCPU
    COUNT
    1

MEMORY
    SIZE
    512M

NETWORK
    NAME         SERVICE                     DEVICE       MAC
    mynet-b      vsw0                        network@0    08:00:20:ab:9a:12

DISK
    NAME             VOLUME
    mydisk-a         myvol-a@vds0

VCONS
    NAME             SERVICE
    mygroup          vcc0
`;
    const adapted = sample12
      .replace(
        'ldg1\n\n',
        'ldg1\n\nUUID\n    6c908858-12ef-e520-9eb3-f1cd3dbc3a59\n\nCONTROL\n    failure-policy=ignore\n\nDEPENDENCY\n    master=\n\n',
      )
      .replace('    NAME             SERVICE\n', '    NAME             SERVICE                     PORT\n');
    assert.equal(renderListConstraints(view([ldg1]), [ldg1], { parseable: false }), adapted);
  });

  it('contains the lines of the §4.7 `-p` sample, in order (2.0 records add fields and lines)', () => {
    const primary = active('primary', {
      c: {
        mac: '00:03:ba:d8:b1:46',
        macAuto: false,
        vcpus: 4,
        memory: 805306368,
        io: ['pci@780', 'pci@7c0'],
        vds: [{ name: 'primary-vds0', volumes: [{ name: 'disk-ldg2', backend: '/ldoms/nv72-ldg2/disk', options: [], mpgroup: '' }] }],
        vcc: [vcc0],
        vsw: [vsw({ netDev: 'e1000g0' })],
      },
      b: { strands: [0] },
    });
    const ldg1 = inactive('ldg1', {
      c: {
        vcpus: 8,
        memory: G,
        variables: [
          { name: 'boot-device', value: '/virtual-devices@100/channel-devices@200/disk@0:a' },
          { name: 'use-nvramrc?', value: 'true' },
        ],
        vnets: [vnet({ mac: '01:14:4f:fa:0f:55', macAuto: false })],
        vdisks: [vdisk()],
      },
    });
    const text = renderListConstraints(view([primary, ldg1]), [primary, ldg1], { parseable: true });
    assert.equal(text.split('\n')[0], 'VERSION 1.5');
    assertRecordsInOrder(text, [
      'DOMAIN|name=primary',
      'MAC|mac-addr=00:03:ba:d8:b1:46',
      'VCPU|count=4',
      'MEMORY|size=805306368',
      'IO',
      '|dev=pci@780|alias=',
      '|dev=pci@7c0|alias=',
      'VDS|name=primary-vds0',
      '|vol=disk-ldg2|opts=|dev=/ldoms/nv72-ldg2/disk',
      'VCC|name=primary-vcc0|port-range=5000-5100',
      'VSW|name=primary-vsw0|mac-addr=|net-dev=e1000g0|dev=switch@0',
      'DOMAIN|name=ldg1',
      'VCPU|count=8',
      'MEMORY|size=1073741824',
      'VARIABLES',
      '|boot-device=/virtual-devices@100/channel-devices@200/disk@0:a',
      '|use-nvramrc?=true',
      'VNET|name=vnet0|dev=network@0|service=primary-vsw0|mac-addr=01:14:4f:fa:0f:55',
      'VDISK|name=vdisk0|vol=vol0@primary-vds0',
    ]);
    // The ldg1 block in full: no MAC record for an address the manager chose.
    const ldg1Block = text.slice(text.indexOf('DOMAIN|name=ldg1'));
    assert.equal(
      ldg1Block,
      `DOMAIN|name=ldg1
CONTROL|failure-policy=ignore
DEPENDENCY|master=
VCPU|count=8
MEMORY|size=1073741824
VARIABLES
|boot-device=/virtual-devices@100/channel-devices@200/disk@0:a
|use-nvramrc?=true
VNET|name=vnet0|dev=network@0|service=primary-vsw0|mac-addr=01:14:4f:fa:0f:55|mode=|pvid=1|vid=|mtu=1500|linkprop=|id=0
VDISK|name=vdisk0|vol=vol0@primary-vds0|timeout=|id=0
`,
    );
  });

  it('adds UUID, CORE count for whole-core, MAU count and console constraints', () => {
    const d = inactive('ldg1', {
      c: { uuid: 'u-1', wholeCore: true, maxCores: 2, vcpus: 16, crypto: 1, memory: 4 * G, failurePolicy: 'reset', masters: ['primary'], console: { group: 'g', port: 5009 } },
    });
    assert.equal(
      renderListConstraints(view([d]), [d], { parseable: true }),
      'VERSION 1.5\nDOMAIN|name=ldg1\nUUID|uuid=u-1\nCONTROL|failure-policy=reset\nDEPENDENCY|master=primary\nCORE|count=2\nVCPU|count=16\nMAU|count=1\nMEMORY|size=4294967296\nVCONS|group=g|service=|port=5009\n',
    );
    assert.equal(
      renderListConstraints(view([d]), [d], { parseable: false, extended: true }),
      `DOMAIN
ldg1

UUID
    u-1

CONTROL
    failure-policy=reset

DEPENDENCY
    master=primary

CORE
    COUNT
    2

VCPU
    COUNT
    16

MAU
    COUNT
    1

MEMORY
    SIZE
    4G

VCONS
    NAME             SERVICE                     PORT
    g                                            5009
`,
    );
  });

  it('separates several domains with the rule', () => {
    const a = inactive('a', { c: { vcpus: 1 } });
    const b = inactive('b', { c: { vcpus: 2 } });
    const text = renderListConstraints(view([a, b]), [a, b], { parseable: false });
    assert.ok(text.includes(`    1\n\n${'-'.repeat(78)}\nDOMAIN\nb\n`));
  });
});
