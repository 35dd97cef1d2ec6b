import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  CATALOG,
  DEFAULT_PLATFORM_ID,
  buildPlatform,
  catalogIds,
  catalogModel,
  firstFreePa,
  installedMemory,
  reservedMemory,
} from '../src/platform/catalog.js';
import { PlatformError, describePlatform, loadPlatform, resolveCatalogId, validatePlatform } from '../src/platform/load.js';
import type { PlatformSpec } from '../src/platform/types.js';

const K = 1024;
const M = 1024 * K;
const G = 1024 * M;

/** Facts per model, written from reference/platforms.md independently of the catalog's own tables. */
const EXPECTED: Record<string, {
  type: string; chips: number; cores: number; strands: number; clock: number; stick: number; crypto: 0 | 1;
  primary: number; reserved: number; console: 'SP' | 'UART'; roots: string[]; nius: string[]; nic: string; rootNode: string;
}> = {
  t2000: { type: 'UltraSPARC-T1', chips: 1, cores: 8, strands: 4, clock: 1000, stick: 1_000_000_000, crypto: 1, primary: 0x8000000, reserved: 128 * M, console: 'SP', roots: ['pci@780 bus_a', 'pci@7c0 bus_b'], nius: [], nic: 'e1000g', rootNode: 'SUNW,Sun-Fire-T200' },
  t5120: { type: 'UltraSPARC-T2', chips: 1, cores: 8, strands: 8, clock: 1165, stick: 1_165_379_264, crypto: 1, primary: 0x8000000, reserved: 128 * M, console: 'SP', roots: ['pci@0 pci'], nius: ['niu@80 niu'], nic: 'e1000g', rootNode: 'SUNW,SPARC-Enterprise-T5120' },
  t5220: { type: 'UltraSPARC-T2', chips: 1, cores: 8, strands: 8, clock: 1165, stick: 1_165_379_264, crypto: 1, primary: 0x8000000, reserved: 128 * M, console: 'SP', roots: ['pci@0 pci'], nius: ['niu@80 niu'], nic: 'e1000g', rootNode: 'SUNW,SPARC-Enterprise-T5220' },
  t5140: { type: 'UltraSPARC-T2+', chips: 2, cores: 8, strands: 8, clock: 1165, stick: 1_164_100_000, crypto: 1, primary: 0xe000000, reserved: 224 * M, console: 'SP', roots: ['pci@400 pci_0', 'pci@500 pci_1'], nius: [], nic: 'nxge', rootNode: 'SUNW,T5140' },
  t5240: { type: 'UltraSPARC-T2+', chips: 2, cores: 8, strands: 8, clock: 1165, stick: 1_164_100_000, crypto: 1, primary: 0xe000000, reserved: 224 * M, console: 'SP', roots: ['pci@400 pci_0', 'pci@500 pci_1'], nius: [], nic: 'nxge', rootNode: 'SUNW,T5240' },
  t5440: { type: 'UltraSPARC-T2+', chips: 4, cores: 8, strands: 8, clock: 1165, stick: 1_164_100_000, crypto: 1, primary: 0x16000000, reserved: 352 * M, console: 'SP', roots: ['pci@400 pci_0', 'pci@500 pci_1', 'pci@600 pci_2', 'pci@700 pci_3'], nius: [], nic: 'nxge', rootNode: 'SUNW,T5440' },
  't3-1': { type: 'SPARC-T3', chips: 1, cores: 16, strands: 8, clock: 1649, stick: 91_597_916, crypto: 1, primary: 0x20000000, reserved: 512 * M, console: 'UART', roots: ['pci@400 pci'], nius: ['niu@480 niu'], nic: 'igb', rootNode: 'ORCL,SPARC-T3-1' },
  't3-2': { type: 'SPARC-T3', chips: 2, cores: 16, strands: 8, clock: 1649, stick: 91_666_666, crypto: 1, primary: 0x20000000, reserved: 512 * M, console: 'UART', roots: ['pci@400 pci_0', 'pci@500 pci_1'], nius: ['niu@480 niu_0', 'niu@580 niu_1'], nic: 'igb', rootNode: 'ORCL,SPARC-T3-2' },
  't4-1': { type: 'SPARC-T4', chips: 1, cores: 8, strands: 8, clock: 2848, stick: 999_250_000, crypto: 0, primary: 0x20000000, reserved: 512 * M, console: 'UART', roots: ['pci@400 pci'], nius: ['niu@480 niu'], nic: 'igb', rootNode: 'ORCL,SPARC-T4-1' },
  't4-2': { type: 'SPARC-T4', chips: 2, cores: 8, strands: 8, clock: 2848, stick: 999_250_000, crypto: 0, primary: 0x20000000, reserved: 512 * M, console: 'UART', roots: ['pci@400 pci_0', 'pci@500 pci_1'], nius: ['niu@480 niu_0', 'niu@580 niu_1'], nic: 'igb', rootNode: 'ORCL,SPARC-T4-2' },
  't5-2': { type: 'SPARC-T5', chips: 2, cores: 16, strands: 8, clock: 3600, stick: 1_000_000_000, crypto: 0, primary: 0x24000000, reserved: 768 * M, console: 'UART', roots: ['pci@300 pci_0', 'pci@340 pci_1', 'pci@380 pci_2', 'pci@3c0 pci_3'], nius: [], nic: 'ixgbe', rootNode: 'ORCL,SPARC-T5-2' },
};

function free(p: PlatformSpec): number {
  return installedMemory(p) - reservedMemory(p);
}

test('the catalog holds every required model and the default is the T5240', () => {
  assert.deepEqual([...catalogIds()].sort(), Object.keys(EXPECTED).sort());
  assert.equal(DEFAULT_PLATFORM_ID, 't5240');
  assert.ok(CATALOG[DEFAULT_PLATFORM_ID]);
});

test('every catalog entry passes the user-file validator unchanged', () => {
  for (const id of catalogIds()) {
    const p = CATALOG[id];
    assert.deepEqual(validatePlatform(p, `catalog entry ${id}`), p, id);
    assert.equal(p.id, id);
  }
});

test('every sold variant of every model passes the validator', () => {
  for (const id of catalogIds()) {
    const m = catalogModel(id)!;
    for (const chips of m.chipOptions) {
      for (const coresPerChip of m.coreOptions) {
        for (const memory of [m.maxMemory, m.defaultMemory]) {
          const p = buildPlatform(id, { chips, coresPerChip, memory });
          validatePlatform(p, `${id} ${chips}x${coresPerChip} ${memory}`);
          assert.equal(p.cpu.chips, chips);
          assert.equal(p.cpu.coresPerChip, coresPerChip);
          assert.equal(installedMemory(p), memory);
        }
      }
    }
  }
});

test('per-model CPU, console, reserve and primary start match the reference tables', () => {
  for (const [id, e] of Object.entries(EXPECTED)) {
    const p = CATALOG[id];
    assert.equal(p.cpu.type, e.type, id);
    assert.equal(p.cpu.chips, e.chips, id);
    assert.equal(p.cpu.coresPerChip, e.cores, id);
    assert.equal(p.cpu.strandsPerCore, e.strands, id);
    assert.equal(p.cpu.clockMHz, e.clock, id);
    assert.equal(p.cpu.stickFrequencyHz, e.stick, id);
    assert.equal(p.cpu.cryptoUnitsPerCore, e.crypto, id);
    assert.equal(p.primaryConsole, e.console, id);
    assert.equal(p.rootNode, e.rootNode, id);
    assert.equal(reservedMemory(p), e.reserved, id);
    assert.equal(firstFreePa(p), e.primary, id);
    assert.deepEqual(p.io.filter((d) => d.type === 'BUS').map((d) => `${d.dev} ${d.alias}`), e.roots, id);
    assert.deepEqual(p.io.filter((d) => d.type === 'NIU').map((d) => `${d.dev} ${d.alias}`), e.nius, id);
    assert.equal(p.netDevices.filter((n) => n.name.startsWith(e.nic)).length, 4, id);
  }
});

test('crypto: one unit per core on T1/T2/T2 Plus/T3, none on T4/T5', () => {
  for (const p of Object.values(CATALOG)) {
    const expected = ['SPARC-T4', 'SPARC-T5'].includes(p.cpu.type) ? 0 : 1;
    assert.equal(p.cpu.cryptoUnitsPerCore, expected, p.id);
  }
});

test('reserved ranges are sorted, inside a bank, and end where the primary starts', () => {
  for (const p of Object.values(CATALOG)) {
    const r = p.memory.reserved;
    assert.equal(r[0].pa, 0, p.id);
    for (let i = 1; i < r.length; i++) assert.ok(r[i].pa >= r[i - 1].pa + r[i - 1].size, `${p.id} reserved[${i}]`);
    for (const x of r) assert.ok(p.memory.banks.some((b) => x.pa >= b.pa && x.pa + x.size <= b.pa + b.size), p.id);
    // The bottom block is contiguous from 0 and ends at the primary start.
    let end = 0;
    for (const x of r) if (x.pa === end) end += x.size;
    assert.equal(end, firstFreePa(p), p.id);
  }
});

test('bus pseudonyms: bare `pci`/`niu` for one root complex, else numbered by ascending address', () => {
  for (const p of Object.values(CATALOG)) {
    if (p.cpu.type === 'UltraSPARC-T1') continue; // bus_a/bus_b (DOC-13-PARSE)
    for (const type of ['BUS', 'NIU'] as const) {
      const roots = p.io.filter((d) => d.type === type);
      const stem = type === 'BUS' ? 'pci' : 'niu';
      const byAddress = [...roots].sort((a, b) => parseInt(a.dev.split('@')[1], 16) - parseInt(b.dev.split('@')[1], 16));
      const want = roots.length === 1 ? [stem] : byAddress.map((_, i) => `${stem}_${i}`);
      assert.deepEqual(byAddress.map((d) => d.alias), want, `${p.id} ${type}`);
      for (const d of roots) assert.equal(d.bus, d.alias);
    }
  }
});

test('every slot hangs under a listed root complex and every NIC under a listed root', () => {
  for (const p of Object.values(CATALOG)) {
    const roots = new Map(p.io.filter((d) => d.type !== 'PCIE').map((d) => [d.alias, d.dev]));
    for (const d of p.io.filter((x) => x.type === 'PCIE')) {
      assert.ok(d.dev.startsWith(`${roots.get(d.bus)}/`), `${p.id} ${d.alias}`);
      assert.ok(['OCC', 'EMP'].includes(d.status), `${p.id} ${d.alias}`);
    }
    const devs = new Set(roots.values());
    for (const n of p.netDevices) assert.ok(devs.has(n.path.split('/')[1]), `${p.id} ${n.name}`);
  }
});

test('system MACs are distinct, unicast and outside the domain MAC range', () => {
  const macs = Object.values(CATALOG).map((p) => p.systemMac);
  assert.equal(new Set(macs).size, macs.length);
  assert.equal(new Set(macs.map((m) => m.slice(9))).size, macs.length, 'host IDs derive from the low three octets');
  for (const mac of macs) {
    assert.match(mac, /^(00:21:28|00:14:4f):[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$/);
    if (mac.startsWith('00:14:4f')) assert.ok(parseInt(mac.slice(9, 11), 16) < 0xf8, mac);
  }
  assert.equal(CATALOG.t5240.systemMac, '00:21:28:57:cd:16');
});

test('firmware: Hostconfig only from T3 on', () => {
  for (const p of Object.values(CATALOG)) {
    const later = ['SPARC-T3', 'SPARC-T4', 'SPARC-T5'].includes(p.cpu.type);
    assert.equal(p.firmware.hostconfig !== undefined, later, p.id);
    assert.match(p.firmware.hypervisor, /^Hypervisor \d+\.\d+\.\d+/);
  }
});

test('default memory is a sold configuration', () => {
  const want: Record<string, number> = { t5220: 32 * G, t5240: 64 * G, 't3-1': 64 * G, 't4-2': 128 * G, 't5-2': 512 * G };
  for (const [id, mem] of Object.entries(want)) assert.equal(installedMemory(CATALOG[id]), mem, id);
  for (const id of catalogIds()) {
    const m = catalogModel(id)!;
    assert.ok(m.defaultMemory <= m.maxMemory && m.defaultMemory % G === 0, id);
  }
});

test('golden: T5240 with 2 x 4 cores and 32 GB is the 2.0 factory-default capture', () => {
  const p = buildPlatform('t5240', { coresPerChip: 4, memory: 32 * G });
  assert.equal(p.cpu.chips * p.cpu.coresPerChip * p.cpu.strandsPerCore, 64);
  assert.deepEqual(p.memory.banks, [{ pa: 0, size: 32 * G }]);
  // ldm list-devices -a memory, platforms.md §4.2
  assert.deepEqual(p.memory.reserved, [
    { pa: 0x0, size: 512 * K },
    { pa: 0x80000, size: 1536 * K },
    { pa: 0x200000, size: 94 * M },
    { pa: 0x6000000, size: 32 * M },
    { pa: 0x8000000, size: 96 * M },
  ]);
  assert.equal(firstFreePa(p), 0xe000000);
  assert.equal(free(p), 32544 * M);
  assert.deepEqual(p.io, CATALOG.t5240.io, 'slots do not change with the core count');
});

test('reserve totals reproduce the captured memory sizes', () => {
  // platforms.md: T5220 64G -> 32512M + 8G + 24704M; T3-1 64G -> 65024M; T4-2 256G -> 130560M + 128G; T5440 64G -> 65184M
  assert.equal(free(buildPlatform('t5220', { memory: 64 * G })), 32512 * M + 8 * G + 24704 * M);
  assert.equal(free(buildPlatform('t3-1', { memory: 64 * G })), 65024 * M);
  assert.equal(free(buildPlatform('t4-2', { memory: 256 * G })), 130560 * M + 128 * G);
  assert.equal(free(buildPlatform('t5440', { memory: 64 * G })), 65184 * M);
  assert.equal(free(buildPlatform('t2000', { memory: 8 * G })), 8064 * M);
});

test('T5-2: one window per socket, 768M reserved, socket 0 leaves 261376M to the primary', () => {
  const p = CATALOG['t5-2'];
  assert.deepEqual(p.memory.banks, [{ pa: 0, size: 256 * G }, { pa: 0x80000000000, size: 256 * G }]);
  assert.equal(free(p), 512 * G - 768 * M);
  // CAP-T5-2: with socket 1 given to a root domain the primary holds 261376M starting at 0x24000000.
  const socket0Free = 256 * G - p.memory.reserved.filter((r) => r.pa < 256 * G).reduce((n, r) => n + r.size, 0);
  assert.equal(socket0Free, 261376 * M);
  const big = buildPlatform('t5-2', { memory: 1024 * G });
  assert.deepEqual(big.memory.banks.map((b) => b.size), [512 * G, 512 * G]);
  assert.equal(firstFreePa(big), 0x24000000);
});

test('T5440 with two CPU modules keeps the first two buses and the two-socket reserve', () => {
  const p = buildPlatform('t5440', { chips: 2 });
  assert.deepEqual(p.io.filter((d) => d.type === 'BUS').map((d) => d.alias), ['pci_0', 'pci_1']);
  assert.ok(p.io.every((d) => d.bus === 'pci_0' || d.bus === 'pci_1'));
  assert.equal(reservedMemory(p), 224 * M);
  assert.equal(p.cpu.chips * p.cpu.coresPerChip * p.cpu.strandsPerCore, 128);
});

test('golden: T5220 I/O matches the ls-io -p capture', () => {
  // platforms.md §3.1, byte-exact
  const capture = `|dev=niu@80|alias=niu|status=|domain=primary|type=NIU|bus=niu
|dev=pci@0|alias=pci|status=|domain=primary|type=BUS|bus=pci
|dev=pci@0/pci@0/pci@8/pci@0/pci@9|alias=MB/RISER0/PCIE0|status=EMP|domain=primary|type=PCIE|bus=pci
|dev=pci@0/pci@0/pci@8/pci@0/pci@1|alias=MB/RISER1/PCIE1|status=EMP|domain=primary|type=PCIE|bus=pci
|dev=pci@0/pci@0/pci@9|alias=MB/RISER2/PCIE2|status=EMP|domain=primary|type=PCIE|bus=pci
|dev=pci@0/pci@0/pci@8/pci@0/pci@a|alias=MB/RISER0/PCIE3|status=EMP|domain=primary|type=PCIE|bus=pci
|dev=pci@0/pci@0/pci@8/pci@0/pci@2|alias=MB/RISER1/PCIE4|status=EMP|domain=primary|type=PCIE|bus=pci
|dev=pci@0/pci@0/pci@8/pci@0/pci@8|alias=MB/RISER2/PCIE5|status=EMP|domain=primary|type=PCIE|bus=pci
|dev=pci@0/pci@0/pci@1/pci@0/pci@2|alias=MB/NET0|status=OCC|domain=primary|type=PCIE|bus=pci
|dev=pci@0/pci@0/pci@1/pci@0/pci@3|alias=MB/NET2|status=OCC|domain=primary|type=PCIE|bus=pci
|dev=pci@0/pci@0/pci@2|alias=MB/SASHBA|status=OCC|domain=primary|type=PCIE|bus=pci`;
  const ours = CATALOG.t5220.io.map((d) => `|dev=${d.dev}|alias=${d.alias}|status=${d.status}|domain=primary|type=${d.type}|bus=${d.bus}`);
  assert.deepEqual(ours, capture.split('\n'));
});

test('golden: T5-2 and T4-2 I/O match their ls-io -p captures', () => {
  // platforms.md §9.1, byte-exact (the capture lists buses in ownership order; compare as sets)
  const t52 = `|dev=pci@340|alias=pci_1|status=|domain=primary|type=BUS|bus=pci_1
|dev=pci@300|alias=pci_0|status=|domain=db2ldom|type=BUS|bus=pci_0
|dev=pci@3c0|alias=pci_3|status=|domain=primary|type=BUS|bus=pci_3
|dev=pci@380|alias=pci_2|status=|domain=db2ldom|type=BUS|bus=pci_2
|dev=pci@340/pci@1/pci@0/pci@4|alias=/SYS/MB/PCIE5|status=EMP|domain=primary|type=PCIE|bus=pci_1
|dev=pci@340/pci@1/pci@0/pci@c|alias=/SYS/MB/PCIE7|status=EMP|domain=primary|type=PCIE|bus=pci_1
|dev=pci@340/pci@1/pci@0/pci@9|alias=/SYS/MB/SASHBA1|status=OCC|domain=primary|type=PCIE|bus=pci_1
|dev=pci@300/pci@1/pci@0/pci@a|alias=/SYS/MB/PCIE1|status=EMP|domain=db2ldom|type=PCIE|bus=pci_0
|dev=pci@300/pci@1/pci@0/pci@6|alias=/SYS/MB/PCIE3|status=OCC|domain=db2ldom|type=PCIE|bus=pci_0
|dev=pci@300/pci@1/pci@0/pci@e|alias=/SYS/MB/NET0|status=OCC|domain=db2ldom|type=PCIE|bus=pci_0
|dev=pci@3c0/pci@1/pci@0/pci@6|alias=/SYS/MB/PCIE6|status=OCC|domain=primary|type=PCIE|bus=pci_3
|dev=pci@3c0/pci@1/pci@0/pci@e|alias=/SYS/MB/PCIE8|status=OCC|domain=primary|type=PCIE|bus=pci_3
|dev=pci@3c0/pci@1/pci@0/pci@a|alias=/SYS/MB/NET2|status=OCC|domain=primary|type=PCIE|bus=pci_3
|dev=pci@380/pci@1/pci@0/pci@4|alias=/SYS/MB/PCIE2|status=OCC|domain=db2ldom|type=PCIE|bus=pci_2
|dev=pci@380/pci@1/pci@0/pci@c|alias=/SYS/MB/PCIE4|status=EMP|domain=db2ldom|type=PCIE|bus=pci_2
|dev=pci@380/pci@1/pci@0/pci@9|alias=/SYS/MB/SASHBA0|status=OCC|domain=db2ldom|type=PCIE|bus=pci_2`;
  const strip = (l: string) => l.replace(/\|domain=[^|]*/, '');
  const ours = CATALOG['t5-2'].io.map((d) => `|dev=${d.dev}|alias=${d.alias}|status=${d.status}|type=${d.type}|bus=${d.bus}`);
  assert.deepEqual([...ours].sort(), t52.split('\n').map(strip).sort());

  // platforms.md §8.1, byte-exact; pci_1 slots show UNK there because a root domain owned them.
  const t42 = `|dev=pci@400|alias=pci_0|status=|domain=primary|type=BUS
|dev=niu@480|alias=niu_0|status=|domain=primary|type=NIU
|dev=pci@500|alias=pci_1|status=|domain=db2ldom|type=BUS
|dev=niu@580|alias=niu_1|status=|domain=db2ldom|type=NIU
|dev=pci@400/pci@2/pci@0/pci@8|alias=/SYS/MB/PCIE0|status=OCC|domain=primary|type=PCIE
|dev=pci@400/pci@2/pci@0/pci@4|alias=/SYS/MB/PCIE2|status=EMP|domain=-|type=PCIE
|dev=pci@400/pci@2/pci@0/pci@0|alias=/SYS/MB/PCIE4|status=EMP|domain=-|type=PCIE
|dev=pci@400/pci@1/pci@0/pci@8|alias=/SYS/MB/PCIE6|status=OCC|domain=primary|type=PCIE
|dev=pci@400/pci@1/pci@0/pci@c|alias=/SYS/MB/PCIE8|status=EMP|domain=-|type=PCIE
|dev=pci@400/pci@2/pci@0/pci@e|alias=/SYS/MB/SASHBA|status=OCC|domain=primary|type=PCIE
|dev=pci@400/pci@1/pci@0/pci@4|alias=/SYS/MB/NET0|status=OCC|domain=primary|type=PCIE
|dev=pci@500/pci@2/pci@0/pci@a|alias=/SYS/MB/PCIE1|status=UNK|domain=-|type=PCIE
|dev=pci@500/pci@2/pci@0/pci@6|alias=/SYS/MB/PCIE3|status=UNK|domain=-|type=PCIE
|dev=pci@500/pci@2/pci@0/pci@0|alias=/SYS/MB/PCIE5|status=UNK|domain=-|type=PCIE
|dev=pci@500/pci@1/pci@0/pci@6|alias=/SYS/MB/PCIE7|status=UNK|domain=-|type=PCIE
|dev=pci@500/pci@1/pci@0/pci@0|alias=/SYS/MB/PCIE9|status=UNK|domain=-|type=PCIE
|dev=pci@500/pci@1/pci@0/pci@5|alias=/SYS/MB/NET2|status=UNK|domain=-|type=PCIE`;
  const pick = (l: string) => l.replace(/\|status=[^|]*\|domain=[^|]*/, '');
  assert.deepEqual(CATALOG['t4-2'].io.map((d) => `|dev=${d.dev}|alias=${d.alias}|type=${d.type}`), t42.split('\n').map(pick));
});

test('golden: T5240 slots and on-board NICs match CAP-T5240', () => {
  // platforms.md §4.1 ls-io -p (VERSION 1.5), byte-exact slot rows
  const rows = `|dev=pci@400/pci@0/pci@c|alias=PCIE1|status=EMP|domain=-
|dev=pci@400/pci@0/pci@9|alias=PCIE2|status=EMP|domain=ldg1
|dev=pci@400/pci@0/pci@d|alias=PCIE3|status=EMP|domain=ldg1
|dev=pci@400/pci@0/pci@8|alias=MB/SASHBA|status=OCC|domain=primary
|dev=pci@500/pci@0/pci@9|alias=PCIE0|status=OCC|domain=primary
|dev=pci@500/pci@0/pci@d|alias=PCIE4|status=EMP|domain=-
|dev=pci@500/pci@0/pci@c|alias=PCIE5|status=EMP|domain=-
|dev=pci@500/pci@0/pci@8|alias=MB/NET0|status=OCC|domain=primary`;
  const slots = CATALOG.t5240.io.filter((d) => d.type === 'PCIE').map((d) => `|dev=${d.dev}|alias=${d.alias}|status=${d.status}`);
  assert.deepEqual(slots, rows.split('\n').map((l) => l.replace(/\|domain=.*$/, '')));
  assert.deepEqual(CATALOG.t5240.netDevices, [
    { name: 'nxge0', path: '/pci@500/pci@0/pci@8/network@0' },
    { name: 'nxge1', path: '/pci@500/pci@0/pci@8/network@0,1' },
    { name: 'nxge2', path: '/pci@500/pci@0/pci@8/network@0,2' },
    { name: 'nxge3', path: '/pci@500/pci@0/pci@8/network@0,3' },
  ]);
});

test('buildPlatform hands out independent copies', () => {
  const a = buildPlatform('t5240');
  a.memory.banks[0].size = 1;
  a.io.pop();
  a.cpu.coresPerChip = 99;
  const b = buildPlatform('t5240');
  assert.deepEqual(b, CATALOG.t5240);
  assert.equal(CATALOG.t5240.memory.banks[0].size, 64 * G);
  assert.ok(Object.isFrozen(CATALOG.t5240.memory.banks[0]));
});

test('buildPlatform rejects variants the model was not sold in', () => {
  const cases: [string, Parameters<typeof buildPlatform>[1], RegExp][] = [
    ['t5240', { coresPerChip: 5 }, /T5240 \(t5240\) was sold with 4, 6 or 8 cores per chip \(got 5\)/],
    ['t2000', { coresPerChip: 2 }, /4, 6 or 8 cores per chip \(got 2\)/],
    ['t4-2', { coresPerChip: 4 }, /only 8 cores per chip \(got 4\)/],
    ['t5240', { chips: 4 }, /only 2 processor sockets \(got 4\)/],
    ['t5440', { chips: 3 }, /2 or 4 processor sockets \(got 3\)/],
    ['t5240', { memory: 33 * G + 512 * M }, /memory must be a whole number of gigabytes \(got 34304M\)/],
    ['t5240', { memory: 512 * G }, /memory must be between 2G and 256G \(got 512G\)/],
    ['t5240', { memory: 1 * G }, /memory must be between 2G and 256G \(got 1G\)/],
    ['t5-2', { memory: 257 * G }, /split evenly over 2 sockets in whole gigabytes \(got 257G\)/],
    ['t6-2', {}, /unknown platform "t6-2"; the catalog has t2000, /],
  ];
  for (const [id, opts, re] of cases) {
    assert.throws(() => buildPlatform(id, opts), (e: unknown) => e instanceof PlatformError && re.test(e.message), `${id} ${JSON.stringify(opts)}`);
  }
});

test('loadPlatform accepts catalog ids and model names in any case', () => {
  const names: [string, string][] = [
    ['t5240', 't5240'], ['T5240', 't5240'], ['SPARC T4-2', 't4-2'], ['sparc t5-2', 't5-2'], ['Sun Fire T2000', 't2000'],
    ['SPARC Enterprise T5220', 't5220'], ['SUNW,T5140', 't5140'], ['ORCL,SPARC-T3-1', 't3-1'], ['T3-2', 't3-2'],
  ];
  for (const [name, id] of names) {
    assert.equal(resolveCatalogId(name), id, name);
    assert.equal(loadPlatform(name).id, id, name);
  }
  assert.equal(loadPlatform('T5240', { coresPerChip: 4, memory: 32 * G }).cpu.coresPerChip, 4);
  assert.throws(() => loadPlatform('t9000'), /unknown platform "t9000"; the catalog has .*or give the path of a platform file/);
});

test('describePlatform summarises model, CPU, memory and buses', () => {
  assert.equal(
    describePlatform(buildPlatform('t5240', { coresPerChip: 4, memory: 32 * G })),
    [
      't5240  SPARC Enterprise T5240 (SUNW,T5240)',
      '  CPU      UltraSPARC-T2+ at 1165 MHz: 2 x 4 cores x 8 strands = 64 strands, 8 crypto units',
      '  Memory   32G installed, 224M reserved, primary from 0xe000000',
      '  I/O      pci_0 (pci@400), pci_1 (pci@500); 8 slots',
      '  Network  nxge0 nxge1 nxge2 nxge3',
      '  Console  SP',
    ].join('\n'),
  );
  assert.match(describePlatform(CATALOG['t4-2']), /no crypto units/);
});

// ---- user platform files ------------------------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'ldoms-platform-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;

function writeSpec(content: unknown, name = `p${fileNo++}.json`): string {
  const file = join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

/** A complete user file in the loose format: sizes as strings, addresses in hex. */
function labServer(): Record<string, any> {
  return {
    id: 'lab1',
    model: 'Lab Server X',
    rootNode: 'SUNW,Lab-X',
    cpu: { type: 'UltraSPARC-T2+', chips: 2, coresPerChip: 4, strandsPerCore: 8, clockMHz: 1415, stickFrequencyHz: '0x4562c1a0', cryptoUnitsPerCore: 1 },
    memory: {
      banks: [{ pa: 0, size: '16G' }],
      reserved: [
        { pa: '0x0', size: '512K' },
        { pa: '0x80000', size: '1536K' },
        { pa: '0x200000', size: '94M' },
        { pa: '0x6000000', size: '32M' },
        { pa: '0x8000000', size: '96M' },
      ],
    },
    primaryConsole: 'SP',
    io: [
      { dev: 'pci@400', alias: 'pci_0', type: 'BUS' },
      { dev: 'pci@500', alias: 'pci_1', type: 'BUS', bus: 'pci_1', status: '' },
      { dev: 'pci@400/pci@0/pci@8', alias: 'MB/SASHBA', type: 'PCIE', bus: 'pci_0', status: 'OCC' },
      { dev: 'pci@500/pci@0/pci@9', alias: 'PCIE0', type: 'PCIE', bus: 'pci_1' },
    ],
    netDevices: [{ name: 'nxge0', path: '/pci@500/pci@0/pci@8/network@0' }],
    systemMac: '00:21:28:01:02:03',
    firmware: { sysfw: '7.3.0', hypervisor: 'Hypervisor 1.9.0 2010/07/29 16:42', openboot: 'OBP 4.32.0 2010/07/29 14:59' },
  };
}

test('loadPlatform reads a complete user file and normalises sizes', () => {
  const p = loadPlatform(writeSpec(labServer()));
  assert.equal(p.id, 'lab1');
  assert.equal(p.cpu.stickFrequencyHz, 1_164_100_000);
  assert.deepEqual(p.memory.banks, [{ pa: 0, size: 16 * G }]);
  assert.deepEqual(p.memory.reserved, CATALOG.t5240.memory.reserved);
  assert.equal(firstFreePa(p), 0xe000000);
  assert.deepEqual(p.io[0], { dev: 'pci@400', alias: 'pci_0', type: 'BUS', bus: 'pci_0', status: '' });
  assert.equal(p.io[3].status, 'EMP');
});

test('loadPlatform starts from a catalog base and overrides fields', () => {
  const file = writeSpec({ base: 'SPARC T4-2', memory: { banks: [{ pa: 0, size: '256G' }] }, cpu: { clockMHz: 2998 } }, 'Big T4.json');
  const p = loadPlatform(file);
  assert.equal(p.id, 'big-t4');
  assert.equal(p.cpu.clockMHz, 2998);
  assert.equal(p.cpu.coresPerChip, 8);
  assert.equal(installedMemory(p), 256 * G);
  assert.deepEqual(p.memory.reserved, CATALOG['t4-2'].memory.reserved);
  assert.deepEqual(p.io, CATALOG['t4-2'].io);
  assert.equal(loadPlatform(writeSpec({ base: 't5240', id: 'mine' })).id, 'mine');
});

test('loadPlatform refuses variant options for a user file', () => {
  assert.throws(() => loadPlatform(writeSpec(labServer()), { coresPerChip: 4 }), /apply to catalog models only/);
});

/** Malformed files: each must be refused with the offending field named right after the file name. */
const MALFORMED: [string, (s: Record<string, any>) => unknown, string][] = [
  ['strandsPerCore as a word', (s) => { s.cpu.strandsPerCore = 'eight'; }, 'cpu.strandsPerCore must be a positive integer (got "eight")'],
  ['zero chips', (s) => { s.cpu.chips = 0; }, 'cpu.chips must be a positive integer (got 0)'],
  ['fractional cores', (s) => { s.cpu.coresPerChip = 2.5; }, 'cpu.coresPerChip must be a positive integer'],
  ['crypto 2', (s) => { s.cpu.cryptoUnitsPerCore = 2; }, 'cpu.cryptoUnitsPerCore must be one of 0, 1 (got 2)'],
  ['unknown cpu type', (s) => { s.cpu.type = 'SPARC-M7'; }, 'cpu.type must be one of'],
  ['typo at top level', (s) => { s.memmory = s.memory; }, 'memmory is not a known field'],
  ['typo in cpu', (s) => { s.cpu.clockMhz = 1; }, 'cpu.clockMhz is not a known field'],
  ['missing firmware', (s) => { delete s.firmware; }, 'firmware is required'],
  ['missing hypervisor', (s) => { delete s.firmware.hypervisor; }, 'firmware.hypervisor is required'],
  ['bad size string', (s) => { s.memory.banks[0].size = '16Q'; }, 'memory.banks[0].size must be a size or address'],
  ['unaligned size', (s) => { s.memory.banks[0].size = 1000; }, 'memory.banks[0].size must be a multiple of 8K'],
  ['overlapping banks', (s) => { s.memory.banks.push({ pa: '8G', size: '16G' }); }, 'memory.banks[1] (0x200000000 16G) overlaps memory.banks[0]'],
  ['reserved outside banks', (s) => { s.memory.reserved.push({ pa: '0x800000000', size: '1M' }); }, 'memory.reserved[5] (0x800000000 1M) is not inside any of memory.banks'],
  ['reserved unsorted', (s) => { [s.memory.reserved[1], s.memory.reserved[2]] = [s.memory.reserved[2], s.memory.reserved[1]]; }, 'memory.reserved[2] (0x80000 1536K) must start at or after the end of memory.reserved[1]'],
  ['reserved overlapping', (s) => { s.memory.reserved[1].size = '4M'; }, 'memory.reserved[2] (0x200000 94M) must start at or after the end of memory.reserved[1]'],
  ['too little free memory', (s) => { s.memory.banks[0].size = '1G'; }, 'memory leaves 800M free after the reserved ranges; at least 1G is needed'],
  ['console', (s) => { s.primaryConsole = 'VGA'; }, 'primaryConsole must be one of "SP", "UART" (got "VGA")'],
  ['duplicate alias', (s) => { s.io[3].alias = 'MB/SASHBA'; }, 'io[3].alias "MB/SASHBA" is already used by io[2]'],
  ['slot on an unknown bus', (s) => { s.io[3].bus = 'pci_7'; }, 'io[3].bus must name the alias of a BUS or NIU in io (got "pci_7")'],
  ['slot outside its bus', (s) => { s.io[3].bus = 'pci_0'; }, 'io[3].dev must lie under its bus pci@400'],
  ['leading slash in dev', (s) => { s.io[0].dev = '/pci@400'; }, 'io[0].dev is written without the leading "/"'],
  ['bad io type', (s) => { s.io[1].type = 'PCI'; }, 'io[1].type must be one of "BUS", "NIU", "PCIE" (got "PCI")'],
  ['bad slot status', (s) => { s.io[2].status = 'FULL'; }, 'io[2].status must be one of "OCC", "EMP", "UNK" (got "FULL")'],
  ['no root complex', (s) => { s.io = []; s.netDevices = []; }, 'io must include at least one root complex'],
  ['NIC under no root', (s) => { s.netDevices[0].path = '/pci@900/network@0'; }, 'netDevices[0].path must lie under a BUS or NIU listed in io'],
  ['duplicate NIC', (s) => { s.netDevices.push({ ...s.netDevices[0] }); }, 'netDevices[1].name "nxge0" is already used by netDevices[0]'],
  ['MAC format', (s) => { s.systemMac = '00:21:28:1:2:3'; }, 'systemMac must be a MAC address'],
  ['MAC in the domain range', (s) => { s.systemMac = '00:14:4f:fa:00:01'; }, 'systemMac must lie outside 00:14:4f:f8:00:00-00:14:4f:ff:ff:ff'],
  ['multicast MAC', (s) => { s.systemMac = '01:21:28:01:02:03'; }, 'systemMac must be a unicast address'],
  ['upper-case id', (s) => { s.id = 'Lab1'; }, 'id must be lower case letters'],
  ['unknown base', (s) => { s.base = 't9999'; }, 'base must name a catalog platform'],
];

for (const [what, mutate, expected] of MALFORMED) {
  test(`a malformed platform file is refused: ${what}`, () => {
    const spec = labServer();
    mutate(spec);
    const file = writeSpec(spec);
    assert.throws(
      () => loadPlatform(file),
      (e: unknown) => {
        assert.ok(e instanceof PlatformError, String(e));
        assert.ok(e.message.startsWith(`platform file ${file}: ${expected}`), e.message);
        return true;
      },
    );
  });
}

test('unreadable platform files are refused with the reason', () => {
  const missing = join(dir, 'missing.json');
  assert.throws(() => loadPlatform(missing), { name: 'PlatformError', message: `platform file ${missing}: file not found` });
  const broken = writeSpec('{ "id": "x", ');
  assert.throws(() => loadPlatform(broken), (e: unknown) => e instanceof PlatformError && e.message.startsWith(`platform file ${broken}: not valid JSON (`));
  const list = writeSpec('[1, 2]');
  assert.throws(() => loadPlatform(list), { message: `platform file ${list}: must hold a JSON object (got an array)` });
  assert.throws(() => loadPlatform(dir + '/'), /is a directory|file not found/);
});
