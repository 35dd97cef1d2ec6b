// The shape of a modelled sun4v server: pure data, no behaviour.
// Byte quantities are plain numbers: the largest modelled server (4 TB) stays far below 2^53.

export type CpuType =
  | 'UltraSPARC-T1'
  | 'UltraSPARC-T2'
  | 'UltraSPARC-T2+'
  | 'SPARC-T3'
  | 'SPARC-T4'
  | 'SPARC-T5';

export interface CpuSpec {
  type: CpuType;
  chips: number;
  coresPerChip: number;
  strandsPerCore: number;
  /** Clock as psrinfo reports it, in MHz (e.g. 1165 for a "1.2 GHz" UltraSPARC T2). */
  clockMHz: number;
  /** Root-node stick-frequency in Hz. */
  stickFrequencyHz: number;
  /** Allocatable crypto units (MAU) per core: 1 on T1/T2/T2 Plus/T3, 0 from T4 on. */
  cryptoUnitsPerCore: 0 | 1;
}

export interface MemoryRange {
  pa: number;
  size: number;
}

export interface MemorySpec {
  /** Installed physical memory, as address ranges (one per socket window on T5). */
  banks: MemoryRange[];
  /** Firmware/hypervisor-reserved ranges (`_sys_`), at the bottom of the address space. */
  reserved: MemoryRange[];
}

export type IoType = 'BUS' | 'NIU' | 'PCIE';
export type SlotStatus = 'OCC' | 'EMP' | 'UNK' | '';

export interface IoDevice {
  /** Device path without leading slash, e.g. `pci@400` or `pci@400/pci@0/pci@8`. */
  dev: string;
  /** `ldm` pseudonym, e.g. `pci_0`, `niu`, `/SYS/MB/PCIE0`. */
  alias: string;
  type: IoType;
  /** Pseudonym of the root complex (or NIU) the device hangs under. */
  bus: string;
  status: SlotStatus;
}

export interface NetDevice {
  /** Solaris instance name, e.g. `nxge0`, `e1000g0`, `igb0`. */
  name: string;
  /** Device path, e.g. `/pci@500/pci@0/pci@8/network@0`. */
  path: string;
}

export interface FirmwareSpec {
  /** `System Firmware` release, e.g. `7.3.0`. */
  sysfw: string;
  hypervisor: string;
  openboot: string;
  /** T3 and later print a Hostconfig line in `ldm -V`. */
  hostconfig?: string;
}

export interface PlatformSpec {
  /** Catalog key, lower case: `t5220`, `t5240`, `t3-1`, `t4-2`, `t5-2`. */
  id: string;
  /** Marketing name: `SPARC Enterprise T5220`. */
  model: string;
  /** OBP root node name: `SUNW,SPARC-Enterprise-T5220`. */
  rootNode: string;
  cpu: CpuSpec;
  memory: MemorySpec;
  /** What the primary's CONS column shows: `SP` on T1/T2/T2 Plus, `UART` from T3 on. */
  primaryConsole: 'SP' | 'UART';
  io: IoDevice[];
  netDevices: NetDevice[];
  /** The control domain's factory MAC address (its host ID derives from it). */
  systemMac: string;
  firmware: FirmwareSpec;
}
