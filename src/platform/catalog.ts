// The catalog of modelled sun4v servers: facts from reference/platforms.md, and the variants each model was
// sold in (core count per chip, sockets, installed memory). Pure data plus the arithmetic that derives a
// variant; validation of the result lives in load.ts.

import type { FirmwareSpec, IoDevice, MemoryRange, MemorySpec, NetDevice, PlatformSpec, SlotStatus } from './types.js';
import { G, K, M, formatSize } from '../format/units.js';

/** A platform description the user cannot use; `message` is what the user sees. */
export class PlatformError extends Error {
  override name = 'PlatformError';
}

export const DEFAULT_PLATFORM_ID = 't5240';

/** What may vary between machines of one model, and the memory arithmetic of the model. */
export interface CatalogModel {
  coreOptions: readonly number[];
  chipOptions: readonly number[];
  defaultMemory: number;
  maxMemory: number;
  /** `_sys_` ranges at the bottom of the address space, per socket count. */
  reservedByChips: Readonly<Record<number, readonly MemoryRange[]>>;
  /** T5: each socket owns a PA window of this stride; otherwise one contiguous range from 0. */
  socketStride?: number;
  /** T5-2: firmware memory at the top of socket 0's window (platforms.md §9: 261376M with socket 1 given away). */
  topReserve?: number;
  /** Root complex / NIU pseudonym -> the chip it belongs to (dropped when fewer chips are fitted). */
  rootChip: Readonly<Record<string, number>>;
}

interface ModelDef extends CatalogModel {
  spec: Omit<PlatformSpec, 'memory'>;
}

// ---- building blocks ------------------------------------------------------------------------------------

function range(pa: number, size: number): MemoryRange {
  return { pa, size };
}

function bus(dev: string, alias: string): IoDevice {
  return { dev, alias, type: 'BUS', bus: alias, status: '' };
}

function niu(dev: string, alias: string): IoDevice {
  return { dev, alias, type: 'NIU', bus: alias, status: '' };
}

function slot(dev: string, alias: string, busAlias: string, status: SlotStatus): IoDevice {
  return { dev, alias, type: 'PCIE', bus: busAlias, status };
}

/** Ports of on-board NICs: `[driver, firstInstance, devicePath...]`, one path per port. */
function nics(driver: string, first: number, paths: string[]): NetDevice[] {
  return paths.map((path, i) => ({ name: `${driver}${first + i}`, path }));
}

/** The two XAUI ports of an NIU (DOC-33-NIU: `/niu@80/network@0|1`, `/niu@480/network@0|1`). */
function niuPorts(niuDev: string, first: number): NetDevice[] {
  return nics('nxge', first, [`/${niuDev}/network@0`, `/${niuDev}/network@1`]);
}

// ---- firmware-reserved memory (platforms.md §1.1, §11: only the T2 Plus split is verified) --------------

/** T2 Plus, two sockets: verified row by row in the 2.0 capture (platforms.md §4.2). */
const SYS_T2P_2S = [range(0x0, 512 * K), range(0x80000, 1536 * K), range(0x200000, 94 * M), range(0x6000000, 32 * M), range(0x8000000, 96 * M)];
/** T1/T2: 128 MB ending at 0x8000000; the 62M third row appears in the reference's `_sys_` list (ldm-cli.md §6.2). */
const SYS_T1_T2 = [range(0x0, 512 * K), range(0x80000, 1536 * K), range(0x200000, 62 * M), range(0x4000000, 32 * M), range(0x6000000, 32 * M)];
/** T2 Plus, four sockets: 352 MB ending at 0x16000000 (T5440 `Memory size` 65184M on 64 GB). */
const SYS_T2P_4S = [range(0x0, 512 * K), range(0x80000, 1536 * K), range(0x200000, 94 * M), range(0x6000000, 32 * M), range(0x8000000, 224 * M)];
/** T3/T4: 512 MB ending at 0x20000000. */
const SYS_T3_T4 = [range(0x0, 512 * K), range(0x80000, 1536 * K), range(0x200000, 126 * M), range(0x8000000, 128 * M), range(0x10000000, 256 * M)];
/** T5-2: 576 MB at the bottom, ending at 0x24000000 (plus `topReserve`). */
const SYS_T5_2 = [range(0x0, 512 * K), range(0x80000, 1536 * K), range(0x200000, 190 * M), range(0xc000000, 128 * M), range(0x14000000, 256 * M)];

// ---- firmware identification strings: the text after `@(#)` in `ldm -V` ----------------------------------

/** 2.0-era strings for 6.7.x (T1) and 7.3.x (T2, T2 Plus) are unconfirmed (platforms.md §11). */
const FW_T1: FirmwareSpec = {
  sysfw: '6.7.10',
  hypervisor: 'Hypervisor 1.7.3.c 2010/07/09 15:14',
  openboot: 'OBP 4.30.4.d 2010/07/09 13:48',
};
const FW_T2: FirmwareSpec = {
  sysfw: '7.3.0',
  hypervisor: 'Hypervisor 1.9.0 2010/07/29 16:42',
  openboot: 'OBP 4.32.0 2010/07/29 14:59',
};
/** T3-1B capture (platforms.md §6.2). */
const FW_T3: FirmwareSpec = {
  sysfw: '8.1.4.e',
  hostconfig: 'Hostconfig 1.1.4.a 2012/01/14 17:25',
  hypervisor: 'Hypervisor 1.10.3.a 2011/09/14 13:24',
  openboot: 'OpenBoot 4.33.4 2011/11/17 13:45',
};
/** T4-2 capture (platforms.md §8.1). */
const FW_T4: FirmwareSpec = {
  sysfw: '8.2.1.b',
  hostconfig: 'Hostconfig 1.2.1 2012/08/01 15:09',
  hypervisor: 'Hypervisor 1.11.1.a 2012/08/03 09:46',
  openboot: 'OpenBoot 4.34.1 2012/08/01 12:19',
};
/** T5-8 capture (platforms.md §10), same firmware branch as the T5-2. */
const FW_T5: FirmwareSpec = {
  sysfw: '9.0.0.a',
  hostconfig: 'Hostconfig 1.3.0.h 2013/05/16 16:58',
  hypervisor: 'Hypervisor 1.12.0.g 2013/05/16 16:40',
  openboot: 'OpenBoot 4.35.0.a 2013/03/01 14:53',
};

// ---- I/O maps ---------------------------------------------------------------------------------------------

/** T2000: ontario.h paths; `bus_a`/`bus_b` as in the 1.x manager (DOC-13-PARSE). Slot names [M]. */
const IO_T2000 = [
  bus('pci@780', 'bus_a'),
  bus('pci@7c0', 'bus_b'),
  slot('pci@780/pci@0/pci@8', 'PCIE0', 'bus_a', 'EMP'),
  slot('pci@7c0/pci@0/pci@8', 'PCIE1', 'bus_b', 'EMP'),
  slot('pci@7c0/pci@0/pci@9', 'PCIE2', 'bus_b', 'EMP'),
  slot('pci@780/pci@0/pci@9', 'MB/SASHBA', 'bus_a', 'OCC'),
  slot('pci@780/pci@0/pci@1', 'MB/NET0', 'bus_a', 'OCC'),
  slot('pci@7c0/pci@0/pci@2', 'MB/NET2', 'bus_b', 'OCC'),
];
const NET_T2000 = nics('e1000g', 0, [
  '/pci@780/pci@0/pci@1/network@0',
  '/pci@780/pci@0/pci@1/network@0,1',
  '/pci@7c0/pci@0/pci@2/network@0',
  '/pci@7c0/pci@0/pci@2/network@0,1',
]);

/** T5220 (CAP-T5220, manager 3.0 slot names), in capture order. */
const IO_T5220 = [
  niu('niu@80', 'niu'),
  bus('pci@0', 'pci'),
  slot('pci@0/pci@0/pci@8/pci@0/pci@9', 'MB/RISER0/PCIE0', 'pci', 'EMP'),
  slot('pci@0/pci@0/pci@8/pci@0/pci@1', 'MB/RISER1/PCIE1', 'pci', 'EMP'),
  slot('pci@0/pci@0/pci@9', 'MB/RISER2/PCIE2', 'pci', 'EMP'),
  slot('pci@0/pci@0/pci@8/pci@0/pci@a', 'MB/RISER0/PCIE3', 'pci', 'EMP'),
  slot('pci@0/pci@0/pci@8/pci@0/pci@2', 'MB/RISER1/PCIE4', 'pci', 'EMP'),
  slot('pci@0/pci@0/pci@8/pci@0/pci@8', 'MB/RISER2/PCIE5', 'pci', 'EMP'),
  slot('pci@0/pci@0/pci@1/pci@0/pci@2', 'MB/NET0', 'pci', 'OCC'),
  slot('pci@0/pci@0/pci@1/pci@0/pci@3', 'MB/NET2', 'pci', 'OCC'),
  slot('pci@0/pci@0/pci@2', 'MB/SASHBA', 'pci', 'OCC'),
];
/** T5120: the 1U box has the first three riser slots of the T5220; PCIE0 holds a QLE2460 (PRTDIAG-T5120). */
const IO_T5120 = IO_T5220.filter((d) => !/PCIE[345]$/.test(d.alias)).map((d) =>
  d.alias === 'MB/RISER0/PCIE0' ? { ...d, status: 'OCC' as const } : d,
);
const NET_T2 = [
  ...nics('e1000g', 0, [
    '/pci@0/pci@0/pci@1/pci@0/pci@2/network@0',
    '/pci@0/pci@0/pci@1/pci@0/pci@2/network@0,1',
    '/pci@0/pci@0/pci@1/pci@0/pci@3/network@0',
    '/pci@0/pci@0/pci@1/pci@0/pci@3/network@0,1',
  ]),
  ...niuPorts('niu@80', 0),
];

/** T5240 (CAP-T5240, 2.x-era slot names), in capture order. */
const IO_T5240 = [
  bus('pci@400', 'pci_0'),
  bus('pci@500', 'pci_1'),
  slot('pci@400/pci@0/pci@c', 'PCIE1', 'pci_0', 'EMP'),
  slot('pci@400/pci@0/pci@9', 'PCIE2', 'pci_0', 'EMP'),
  slot('pci@400/pci@0/pci@d', 'PCIE3', 'pci_0', 'EMP'),
  slot('pci@400/pci@0/pci@8', 'MB/SASHBA', 'pci_0', 'OCC'),
  slot('pci@500/pci@0/pci@9', 'PCIE0', 'pci_1', 'OCC'),
  slot('pci@500/pci@0/pci@d', 'PCIE4', 'pci_1', 'EMP'),
  slot('pci@500/pci@0/pci@c', 'PCIE5', 'pci_1', 'EMP'),
  slot('pci@500/pci@0/pci@8', 'MB/NET0', 'pci_1', 'OCC'),
];
/** T5140: the 1U box keeps PCIE0-2 of the T5240 map [I]. */
const IO_T5140 = IO_T5240.filter((d) => !/^PCIE[345]$/.test(d.alias));
/** One Neptune device with four GbE ports (CAP-T5240 prtconf). */
const NET_T2P = nics('nxge', 0, [
  '/pci@500/pci@0/pci@8/network@0',
  '/pci@500/pci@0/pci@8/network@0,1',
  '/pci@500/pci@0/pci@8/network@0,2',
  '/pci@500/pci@0/pci@8/network@0,3',
]);

/** T5440: bus names per chip [I]; MB/HBA path [V]; the rest of the slot map and the NIC location [M]. */
const IO_T5440 = [
  bus('pci@400', 'pci_0'),
  bus('pci@500', 'pci_1'),
  bus('pci@600', 'pci_2'),
  bus('pci@700', 'pci_3'),
  slot('pci@400/pci@0/pci@1', 'MB/HBA', 'pci_0', 'OCC'),
  slot('pci@400/pci@0/pci@8', 'PCIE0', 'pci_0', 'EMP'),
  slot('pci@400/pci@0/pci@9', 'PCIE1', 'pci_0', 'EMP'),
  slot('pci@500/pci@0/pci@1', 'MB/NET0', 'pci_1', 'OCC'),
  slot('pci@500/pci@0/pci@8', 'PCIE2', 'pci_1', 'EMP'),
  slot('pci@500/pci@0/pci@9', 'PCIE3', 'pci_1', 'EMP'),
  slot('pci@600/pci@0/pci@8', 'PCIE4', 'pci_2', 'EMP'),
  slot('pci@600/pci@0/pci@9', 'PCIE5', 'pci_2', 'EMP'),
  slot('pci@700/pci@0/pci@8', 'PCIE6', 'pci_3', 'EMP'),
  slot('pci@700/pci@0/pci@9', 'PCIE7', 'pci_3', 'EMP'),
];
const NET_T5440 = nics('nxge', 0, [
  '/pci@500/pci@0/pci@1/network@0',
  '/pci@500/pci@0/pci@1/network@0,1',
  '/pci@500/pci@0/pci@1/network@0,2',
  '/pci@500/pci@0/pci@1/network@0,3',
]);

/** T3-1 (and T4-1, same chassis [I]): SASHBA0 and RISER2/PCIE2 paths [V], NET0 from the T3-1B [V], rest [M]. */
const IO_T3_1 = [
  bus('pci@400', 'pci'),
  niu('niu@480', 'niu'),
  slot('pci@400/pci@2/pci@0/pci@8', '/SYS/MB/RISER0/PCIE0', 'pci', 'EMP'),
  slot('pci@400/pci@2/pci@0/pci@4', '/SYS/MB/RISER1/PCIE1', 'pci', 'EMP'),
  slot('pci@400/pci@1/pci@0/pci@6', '/SYS/MB/RISER2/PCIE2', 'pci', 'EMP'),
  slot('pci@400/pci@1/pci@0/pci@8', '/SYS/MB/RISER0/PCIE3', 'pci', 'EMP'),
  slot('pci@400/pci@2/pci@0/pci@6', '/SYS/MB/RISER1/PCIE4', 'pci', 'EMP'),
  slot('pci@400/pci@1/pci@0/pci@c', '/SYS/MB/RISER2/PCIE5', 'pci', 'EMP'),
  slot('pci@400/pci@1/pci@0/pci@4', '/SYS/MB/SASHBA0', 'pci', 'OCC'),
  slot('pci@400/pci@2/pci@0/pci@2', '/SYS/MB/NET0', 'pci', 'OCC'),
  slot('pci@400/pci@2/pci@0/pci@3', '/SYS/MB/NET2', 'pci', 'OCC'),
];
const NET_T3_1 = [
  ...nics('igb', 0, [
    '/pci@400/pci@2/pci@0/pci@2/network@0',
    '/pci@400/pci@2/pci@0/pci@2/network@0,1',
    '/pci@400/pci@2/pci@0/pci@3/network@0',
    '/pci@400/pci@2/pci@0/pci@3/network@0,1',
  ]),
  ...niuPorts('niu@480', 0),
];

/**
 * T4-2 (CAP-T4-2), in capture order; T3-2 shares the chassis [I]. The capture shows pci_1's slots as `UNK`
 * because a root domain owned them; as hardware they are empty except NET2.
 */
const IO_T4_2 = [
  bus('pci@400', 'pci_0'),
  niu('niu@480', 'niu_0'),
  bus('pci@500', 'pci_1'),
  niu('niu@580', 'niu_1'),
  slot('pci@400/pci@2/pci@0/pci@8', '/SYS/MB/PCIE0', 'pci_0', 'OCC'),
  slot('pci@400/pci@2/pci@0/pci@4', '/SYS/MB/PCIE2', 'pci_0', 'EMP'),
  slot('pci@400/pci@2/pci@0/pci@0', '/SYS/MB/PCIE4', 'pci_0', 'EMP'),
  slot('pci@400/pci@1/pci@0/pci@8', '/SYS/MB/PCIE6', 'pci_0', 'OCC'),
  slot('pci@400/pci@1/pci@0/pci@c', '/SYS/MB/PCIE8', 'pci_0', 'EMP'),
  slot('pci@400/pci@2/pci@0/pci@e', '/SYS/MB/SASHBA', 'pci_0', 'OCC'),
  slot('pci@400/pci@1/pci@0/pci@4', '/SYS/MB/NET0', 'pci_0', 'OCC'),
  slot('pci@500/pci@2/pci@0/pci@a', '/SYS/MB/PCIE1', 'pci_1', 'EMP'),
  slot('pci@500/pci@2/pci@0/pci@6', '/SYS/MB/PCIE3', 'pci_1', 'EMP'),
  slot('pci@500/pci@2/pci@0/pci@0', '/SYS/MB/PCIE5', 'pci_1', 'EMP'),
  slot('pci@500/pci@1/pci@0/pci@6', '/SYS/MB/PCIE7', 'pci_1', 'EMP'),
  slot('pci@500/pci@1/pci@0/pci@0', '/SYS/MB/PCIE9', 'pci_1', 'EMP'),
  slot('pci@500/pci@1/pci@0/pci@5', '/SYS/MB/NET2', 'pci_1', 'OCC'),
];
const NET_T4_2 = [
  ...nics('igb', 0, [
    '/pci@400/pci@1/pci@0/pci@4/network@0',
    '/pci@400/pci@1/pci@0/pci@4/network@0,1',
    '/pci@500/pci@1/pci@0/pci@5/network@0',
    '/pci@500/pci@1/pci@0/pci@5/network@0,1',
  ]),
  ...niuPorts('niu@480', 0),
  ...niuPorts('niu@580', 2),
];

/** T5-2 (CAP-T5-2), ordered by bus; two root complexes per chip. */
const IO_T5_2 = [
  bus('pci@300', 'pci_0'),
  bus('pci@340', 'pci_1'),
  bus('pci@380', 'pci_2'),
  bus('pci@3c0', 'pci_3'),
  slot('pci@300/pci@1/pci@0/pci@a', '/SYS/MB/PCIE1', 'pci_0', 'EMP'),
  slot('pci@300/pci@1/pci@0/pci@6', '/SYS/MB/PCIE3', 'pci_0', 'OCC'),
  slot('pci@300/pci@1/pci@0/pci@e', '/SYS/MB/NET0', 'pci_0', 'OCC'),
  slot('pci@340/pci@1/pci@0/pci@4', '/SYS/MB/PCIE5', 'pci_1', 'EMP'),
  slot('pci@340/pci@1/pci@0/pci@c', '/SYS/MB/PCIE7', 'pci_1', 'EMP'),
  slot('pci@340/pci@1/pci@0/pci@9', '/SYS/MB/SASHBA1', 'pci_1', 'OCC'),
  slot('pci@380/pci@1/pci@0/pci@4', '/SYS/MB/PCIE2', 'pci_2', 'OCC'),
  slot('pci@380/pci@1/pci@0/pci@c', '/SYS/MB/PCIE4', 'pci_2', 'EMP'),
  slot('pci@380/pci@1/pci@0/pci@9', '/SYS/MB/SASHBA0', 'pci_2', 'OCC'),
  slot('pci@3c0/pci@1/pci@0/pci@6', '/SYS/MB/PCIE6', 'pci_3', 'OCC'),
  slot('pci@3c0/pci@1/pci@0/pci@e', '/SYS/MB/PCIE8', 'pci_3', 'OCC'),
  slot('pci@3c0/pci@1/pci@0/pci@a', '/SYS/MB/NET2', 'pci_3', 'OCC'),
];
/** X540 two-port 10GBASE-T on NET0 and NET2 [I port paths]. */
const NET_T5_2 = nics('ixgbe', 0, [
  '/pci@300/pci@1/pci@0/pci@e/network@0',
  '/pci@300/pci@1/pci@0/pci@e/network@0,1',
  '/pci@3c0/pci@1/pci@0/pci@a/network@0',
  '/pci@3c0/pci@1/pci@0/pci@a/network@0,1',
]);

// ---- the models -------------------------------------------------------------------------------------------

const T1_CPU = { type: 'UltraSPARC-T1', strandsPerCore: 4, cryptoUnitsPerCore: 1 } as const;
const T2_CPU = { type: 'UltraSPARC-T2', strandsPerCore: 8, cryptoUnitsPerCore: 1, clockMHz: 1165, stickFrequencyHz: 1_165_379_264 } as const;
// stick-frequency of a 1.2 GHz T2 Plus: the T5440 value (HCL-T5440), same chip and clock on T5140/T5240 [I].
const T2P_CPU = { type: 'UltraSPARC-T2+', strandsPerCore: 8, cryptoUnitsPerCore: 1, clockMHz: 1165, stickFrequencyHz: 1_164_100_000 } as const;
const T3_CPU = { type: 'SPARC-T3', coresPerChip: 16, strandsPerCore: 8, cryptoUnitsPerCore: 1, clockMHz: 1649 } as const;
const T4_CPU = { type: 'SPARC-T4', coresPerChip: 8, strandsPerCore: 8, cryptoUnitsPerCore: 0, clockMHz: 2848, stickFrequencyHz: 999_250_000 } as const;

const MODELS: Readonly<Record<string, ModelDef>> = {
  t2000: {
    spec: {
      id: 't2000',
      model: 'Sun Fire T2000',
      rootNode: 'SUNW,Sun-Fire-T200',
      cpu: { ...T1_CPU, chips: 1, coresPerChip: 8, clockMHz: 1000, stickFrequencyHz: 1_000_000_000 },
      primaryConsole: 'SP',
      io: IO_T2000,
      netDevices: NET_T2000,
      systemMac: '00:14:4f:9c:3a:10',
      firmware: FW_T1,
    },
    coreOptions: [4, 6, 8],
    chipOptions: [1],
    defaultMemory: 16 * G,
    maxMemory: 64 * G,
    reservedByChips: { 1: SYS_T1_T2 },
    rootChip: { bus_a: 0, bus_b: 0 },
  },
  t5120: {
    spec: {
      id: 't5120',
      model: 'SPARC Enterprise T5120',
      rootNode: 'SUNW,SPARC-Enterprise-T5120',
      cpu: { ...T2_CPU, chips: 1, coresPerChip: 8 },
      primaryConsole: 'SP',
      io: IO_T5120,
      netDevices: NET_T2,
      systemMac: '00:14:4f:e8:52:4a',
      firmware: FW_T2,
    },
    coreOptions: [4, 6, 8],
    chipOptions: [1],
    defaultMemory: 16 * G,
    maxMemory: 128 * G,
    reservedByChips: { 1: SYS_T1_T2 },
    rootChip: { pci: 0, niu: 0 },
  },
  t5220: {
    spec: {
      id: 't5220',
      model: 'SPARC Enterprise T5220',
      rootNode: 'SUNW,SPARC-Enterprise-T5220',
      cpu: { ...T2_CPU, chips: 1, coresPerChip: 8 },
      primaryConsole: 'SP',
      io: IO_T5220,
      netDevices: NET_T2,
      systemMac: '00:21:28:0e:b4:62',
      firmware: FW_T2,
    },
    coreOptions: [4, 6, 8],
    chipOptions: [1],
    defaultMemory: 32 * G,
    maxMemory: 128 * G,
    reservedByChips: { 1: SYS_T1_T2 },
    rootChip: { pci: 0, niu: 0 },
  },
  t5140: {
    spec: {
      id: 't5140',
      model: 'SPARC Enterprise T5140',
      rootNode: 'SUNW,T5140',
      cpu: { ...T2P_CPU, chips: 2, coresPerChip: 8 },
      primaryConsole: 'SP',
      io: IO_T5140,
      netDevices: NET_T2P,
      systemMac: '00:21:28:3a:91:c4',
      firmware: FW_T2,
    },
    coreOptions: [4, 6, 8],
    chipOptions: [2],
    defaultMemory: 32 * G,
    maxMemory: 128 * G,
    reservedByChips: { 2: SYS_T2P_2S },
    rootChip: { pci_0: 0, pci_1: 1 },
  },
  t5240: {
    spec: {
      id: 't5240',
      model: 'SPARC Enterprise T5240',
      rootNode: 'SUNW,T5240',
      cpu: { ...T2P_CPU, chips: 2, coresPerChip: 8 },
      primaryConsole: 'SP',
      io: IO_T5240,
      netDevices: NET_T2P,
      // The control domain MAC of the 2.0 capture (ldm-cli.md §6.3: host ID 0x8557cd16).
      systemMac: '00:21:28:57:cd:16',
      firmware: FW_T2,
    },
    coreOptions: [4, 6, 8],
    chipOptions: [2],
    defaultMemory: 64 * G,
    maxMemory: 256 * G,
    reservedByChips: { 2: SYS_T2P_2S },
    rootChip: { pci_0: 0, pci_1: 1 },
  },
  t5440: {
    spec: {
      id: 't5440',
      model: 'SPARC Enterprise T5440',
      rootNode: 'SUNW,T5440',
      cpu: { ...T2P_CPU, chips: 4, coresPerChip: 8 },
      primaryConsole: 'SP',
      io: IO_T5440,
      netDevices: NET_T5440,
      systemMac: '00:21:28:6b:20:f8',
      firmware: FW_T2,
    },
    coreOptions: [8],
    // Sold with two or four CPU modules; with two, the two-socket reserve applies.
    chipOptions: [2, 4],
    defaultMemory: 128 * G,
    maxMemory: 256 * G,
    reservedByChips: { 2: SYS_T2P_2S, 4: SYS_T2P_4S },
    rootChip: { pci_0: 0, pci_1: 1, pci_2: 2, pci_3: 3 },
  },
  't3-1': {
    spec: {
      id: 't3-1',
      model: 'SPARC T3-1',
      rootNode: 'ORCL,SPARC-T3-1',
      cpu: { ...T3_CPU, chips: 1, stickFrequencyHz: 91_597_916 },
      primaryConsole: 'UART',
      io: IO_T3_1,
      netDevices: NET_T3_1,
      systemMac: '00:21:28:d4:77:1e',
      firmware: FW_T3,
    },
    coreOptions: [16],
    chipOptions: [1],
    defaultMemory: 64 * G,
    maxMemory: 128 * G,
    reservedByChips: { 1: SYS_T3_T4 },
    rootChip: { pci: 0, niu: 0 },
  },
  't3-2': {
    spec: {
      id: 't3-2',
      model: 'SPARC T3-2',
      rootNode: 'ORCL,SPARC-T3-2',
      cpu: { ...T3_CPU, chips: 2, stickFrequencyHz: 91_666_666 },
      primaryConsole: 'UART',
      io: IO_T4_2,
      netDevices: NET_T4_2,
      systemMac: '00:21:28:e1:3c:52',
      firmware: FW_T3,
    },
    coreOptions: [16],
    chipOptions: [2],
    defaultMemory: 128 * G,
    maxMemory: 256 * G,
    reservedByChips: { 2: SYS_T3_T4 },
    rootChip: { pci_0: 0, niu_0: 0, pci_1: 1, niu_1: 1 },
  },
  't4-1': {
    spec: {
      id: 't4-1',
      model: 'SPARC T4-1',
      rootNode: 'ORCL,SPARC-T4-1',
      cpu: { ...T4_CPU, chips: 1 },
      primaryConsole: 'UART',
      io: IO_T3_1,
      netDevices: NET_T3_1,
      systemMac: '00:21:28:f5:08:6a',
      firmware: FW_T4,
    },
    coreOptions: [8],
    chipOptions: [1],
    defaultMemory: 64 * G,
    maxMemory: 256 * G,
    reservedByChips: { 1: SYS_T3_T4 },
    rootChip: { pci: 0, niu: 0 },
  },
  't4-2': {
    spec: {
      id: 't4-2',
      model: 'SPARC T4-2',
      rootNode: 'ORCL,SPARC-T4-2',
      cpu: { ...T4_CPU, chips: 2 },
      primaryConsole: 'UART',
      io: IO_T4_2,
      netDevices: NET_T4_2,
      systemMac: '00:21:28:fa:4d:b2',
      firmware: FW_T4,
    },
    coreOptions: [8],
    chipOptions: [2],
    defaultMemory: 128 * G,
    maxMemory: 512 * G,
    reservedByChips: { 2: SYS_T3_T4 },
    rootChip: { pci_0: 0, niu_0: 0, pci_1: 1, niu_1: 1 },
  },
  't5-2': {
    spec: {
      id: 't5-2',
      model: 'SPARC T5-2',
      // `uname -i`; the OBP root node itself is named `sun4v-platform` on T5 (HCL-T52).
      rootNode: 'ORCL,SPARC-T5-2',
      cpu: { type: 'SPARC-T5', chips: 2, coresPerChip: 16, strandsPerCore: 8, clockMHz: 3600, stickFrequencyHz: 1_000_000_000, cryptoUnitsPerCore: 0 },
      primaryConsole: 'UART',
      io: IO_T5_2,
      netDevices: NET_T5_2,
      systemMac: '00:21:28:c7:19:3e',
      firmware: FW_T5,
    },
    coreOptions: [16],
    chipOptions: [2],
    defaultMemory: 512 * G,
    maxMemory: 1024 * G,
    reservedByChips: { 2: SYS_T5_2 },
    socketStride: 0x80000000000,
    topReserve: 192 * M,
    rootChip: { pci_0: 0, pci_1: 0, pci_2: 1, pci_3: 1 },
  },
};

// ---- memory arithmetic shared with load.ts -----------------------------------------------------------------

export function installedMemory(p: PlatformSpec): number {
  return p.memory.banks.reduce((n, b) => n + b.size, 0);
}

export function reservedMemory(p: PlatformSpec): number {
  return p.memory.reserved.reduce((n, r) => n + r.size, 0);
}

/** Lowest PA not reserved: where the factory-default primary's first mblock starts (RA == PA). */
export function firstFreePa(p: PlatformSpec): number | undefined {
  const reserved = [...p.memory.reserved].sort((a, b) => a.pa - b.pa);
  for (const bank of [...p.memory.banks].sort((a, b) => a.pa - b.pa)) {
    let cursor = bank.pa;
    for (const r of reserved) {
      if (r.pa + r.size <= cursor || r.pa >= bank.pa + bank.size) continue;
      if (r.pa > cursor) return cursor;
      cursor = r.pa + r.size;
    }
    if (cursor < bank.pa + bank.size) return cursor;
  }
  return undefined;
}

function layoutMemory(m: CatalogModel, chips: number, installed: number): MemorySpec {
  const reserved = m.reservedByChips[chips].map((r) => ({ ...r }));
  if (m.socketStride === undefined) return { banks: [range(0, installed)], reserved };
  const perSocket = installed / chips;
  const banks = Array.from({ length: chips }, (_, i) => range(i * m.socketStride!, perSocket));
  if (m.topReserve) reserved.push(range(perSocket - m.topReserve, m.topReserve));
  return { banks, reserved };
}

function assemble(m: ModelDef, chips: number, coresPerChip: number, installed: number): PlatformSpec {
  const io = m.spec.io.filter((d) => m.rootChip[d.bus] < chips);
  const roots = new Set(io.filter((d) => d.type !== 'PCIE').map((d) => d.dev));
  const netDevices = m.spec.netDevices.filter((n) => roots.has(n.path.split('/')[1]));
  return structuredClone({
    ...m.spec,
    cpu: { ...m.spec.cpu, chips, coresPerChip },
    memory: layoutMemory(m, chips, installed),
    io,
    netDevices,
  });
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object') {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/** The default configuration of every model (read-only; `buildPlatform` hands out mutable copies). */
export const CATALOG: Readonly<Record<string, PlatformSpec>> = deepFreeze(
  Object.fromEntries(
    Object.entries(MODELS).map(([id, m]) => [id, assemble(m, m.spec.cpu.chips, m.spec.cpu.coresPerChip, m.defaultMemory)]),
  ),
);

export function catalogIds(): string[] {
  return Object.keys(MODELS);
}

/** The variants a model allows, or undefined for an id not in the catalog. */
export function catalogModel(id: string): CatalogModel | undefined {
  const m = MODELS[id];
  if (!m) return undefined;
  const { spec: _spec, ...model } = m;
  return structuredClone(model);
}

function choices(values: readonly number[]): string {
  if (values.length === 1) return `only ${values[0]}`;
  return `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
}

export interface BuildOptions {
  coresPerChip?: number;
  /** Installed memory in bytes. */
  memory?: number;
  chips?: number;
}

/** A fresh copy of a catalog model, optionally in another sold variant. */
export function buildPlatform(id: string, opts: BuildOptions = {}): PlatformSpec {
  const m = MODELS[id];
  if (!m) throw new PlatformError(`unknown platform "${id}"; the catalog has ${catalogIds().join(', ')}`);
  const chips = opts.chips ?? m.spec.cpu.chips;
  if (!m.chipOptions.includes(chips)) {
    throw new PlatformError(`${m.spec.model} (${id}) is built with ${choices(m.chipOptions)} processor sockets (got ${chips})`);
  }
  const cores = opts.coresPerChip ?? m.spec.cpu.coresPerChip;
  if (!m.coreOptions.includes(cores)) {
    throw new PlatformError(`${m.spec.model} (${id}) was sold with ${choices(m.coreOptions)} cores per chip (got ${cores})`);
  }
  const installed = opts.memory ?? m.defaultMemory;
  checkMemory(id, m, chips, installed);
  return assemble(m, chips, cores, installed);
}

function checkMemory(id: string, m: ModelDef, chips: number, installed: number): void {
  const name = `${m.spec.model} (${id})`;
  const shown = Number.isFinite(installed) ? formatSize(installed) : String(installed);
  if (!Number.isSafeInteger(installed) || installed <= 0 || installed % G !== 0) {
    throw new PlatformError(`${name}: memory must be a whole number of gigabytes (got ${shown})`);
  }
  const reserved = m.reservedByChips[chips].reduce((n, r) => n + r.size, 0) + (m.topReserve ?? 0);
  const min = Math.ceil((reserved + G) / G) * G;
  if (installed < min || installed > m.maxMemory) {
    throw new PlatformError(`${name}: memory must be between ${formatSize(min)} and ${formatSize(m.maxMemory)} (got ${shown})`);
  }
  if (m.socketStride !== undefined && installed % (chips * G) !== 0) {
    throw new PlatformError(`${name}: memory must split evenly over ${chips} sockets in whole gigabytes (got ${shown})`);
  }
}
