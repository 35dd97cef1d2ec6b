// Who owns which piece of the machine, derived from the platform and the domains' bindings.
// Pure functions: formatters (list-devices) and allocators both read the same picture.

import type { PlatformSpec } from '../platform/types.js';
import type { Domain, PmPolicy } from './types.js';

/** Everything a listing needs about one host at one instant. */
export interface HostView {
  platform: PlatformSpec;
  /** Control domain first, then the others in creation order. */
  domains: Domain[];
  pmPolicy: PmPolicy;
  /** Milliseconds since the epoch, for UPTIME. */
  now: number;
  /** Manager version, e.g. `2.0`. */
  managerVersion: string;
}

export const SYS_OWNER = '_sys_';

export function strandCount(p: PlatformSpec): number {
  return p.cpu.chips * p.cpu.coresPerChip * p.cpu.strandsPerCore;
}

export function coreCount(p: PlatformSpec): number {
  return p.cpu.chips * p.cpu.coresPerChip;
}

export function cryptoCount(p: PlatformSpec): number {
  return coreCount(p) * p.cpu.cryptoUnitsPerCore;
}

export function coreOfStrand(p: PlatformSpec, strand: number): number {
  return Math.floor(strand / p.cpu.strandsPerCore);
}

export function strandsOfCore(p: PlatformSpec, core: number): number[] {
  const n = p.cpu.strandsPerCore;
  return Array.from({ length: n }, (_, i) => core * n + i);
}

/** Crypto unit k belongs to core k (one unit per core where there are any). */
export function coreOfCrypto(_p: PlatformSpec, unit: number): number {
  return unit;
}

/**
 * Strand ID -> owning domain name, for every bound strand and every strand held for a migrated
 * domain until it reboots (`binding.reserved`): neither is free.
 */
export function strandOwners(domains: readonly Domain[]): Map<number, string> {
  const owners = new Map<number, string>();
  for (const d of domains) {
    for (const s of d.binding?.strands ?? []) owners.set(s, d.constraints.name);
    for (const s of d.binding?.reserved ?? []) owners.set(s, d.constraints.name);
  }
  return owners;
}

export function cryptoOwners(domains: readonly Domain[]): Map<number, string> {
  const owners = new Map<number, string>();
  for (const d of domains) for (const c of d.binding?.crypto ?? []) owners.set(c, d.constraints.name);
  return owners;
}

export function ioOwners(domains: readonly Domain[]): Map<string, string> {
  const owners = new Map<string, string>();
  for (const d of domains) for (const dev of d.binding?.io ?? []) owners.set(dev, d.constraints.name);
  return owners;
}

export interface MemoryRow {
  pa: number;
  size: number;
  /** Domain name, `_sys_`, or '' when free. */
  bound: string;
}

/** The physical memory map, sorted by PA: reserved, bound and free rows (free rows merged). */
export function memoryMap(p: PlatformSpec, domains: readonly Domain[]): MemoryRow[] {
  const used: MemoryRow[] = [];
  for (const r of p.memory.reserved) used.push({ pa: r.pa, size: r.size, bound: SYS_OWNER });
  for (const d of domains) for (const m of d.binding?.mblocks ?? []) used.push({ pa: m.pa, size: m.size, bound: d.constraints.name });
  used.sort((a, b) => a.pa - b.pa);
  const rows: MemoryRow[] = [];
  for (const bank of [...p.memory.banks].sort((a, b) => a.pa - b.pa)) {
    let cursor = bank.pa;
    const end = bank.pa + bank.size;
    for (const u of used) {
      if (u.pa + u.size <= bank.pa || u.pa >= end) continue;
      if (u.pa > cursor) rows.push({ pa: cursor, size: u.pa - cursor, bound: '' });
      rows.push(u);
      cursor = Math.max(cursor, u.pa + u.size);
    }
    if (cursor < end) rows.push({ pa: cursor, size: end - cursor, bound: '' });
  }
  return rows;
}

/** Free physical memory ranges, sorted by PA. */
export function freeMemory(p: PlatformSpec, domains: readonly Domain[]): { pa: number; size: number }[] {
  return memoryMap(p, domains)
    .filter((r) => r.bound === '')
    .map(({ pa, size }) => ({ pa, size }));
}

export function domainByName(domains: readonly Domain[], name: string): Domain | undefined {
  return domains.find((d) => d.constraints.name === name);
}

/** Total bound memory of a domain in bytes. */
export function boundMemory(d: Domain): number {
  return (d.binding?.mblocks ?? []).reduce((n, m) => n + m.size, 0);
}
