// The hypervisor's own guard: no strand, crypto unit, memory byte, I/O device, console port or
// MAC address is ever bound to two domains. ldmd's allocator should never ask for that; this
// check refuses it anyway, and the randomized tests use it as their oracle.

import type { PlatformSpec } from '../platform/types.js';
import type { DomainBinding, DomainConstraints } from '../manager/types.js';

export interface BoundDomain {
  name: string;
  constraints: DomainConstraints;
  binding: DomainBinding;
}

export function findDoubleBinding(p: PlatformSpec, domains: readonly BoundDomain[]): string | null {
  const nStrands = p.cpu.chips * p.cpu.coresPerChip * p.cpu.strandsPerCore;
  const nCrypto = p.cpu.chips * p.cpu.coresPerChip * p.cpu.cryptoUnitsPerCore;
  const strands = new Map<number, string>();
  const crypto = new Map<number, string>();
  const io = new Map<string, string>();
  const ports = new Map<string, string>();
  const macs = new Map<string, string>();
  const ranges: { pa: number; end: number; owner: string }[] = p.memory.reserved.map((r) => ({ pa: r.pa, end: r.pa + r.size, owner: '_sys_' }));

  const claim = <K>(map: Map<K, string>, key: K, owner: string, what: string): string | null => {
    const prev = map.get(key);
    if (prev !== undefined) return `${what} ${String(key)} bound to both ${prev} and ${owner}`;
    map.set(key, owner);
    return null;
  };

  for (const d of domains) {
    const b = d.binding;
    for (const s of [...b.strands, ...(b.reserved ?? [])]) {
      if (!Number.isInteger(s) || s < 0 || s >= nStrands) return `strand ${s} of ${d.name} does not exist`;
      const e = claim(strands, s, d.name, 'strand');
      if (e) return e;
    }
    for (const c of b.crypto) {
      if (!Number.isInteger(c) || c < 0 || c >= nCrypto) return `crypto unit ${c} of ${d.name} does not exist`;
      const e = claim(crypto, c, d.name, 'crypto unit');
      if (e) return e;
    }
    for (const dev of b.io) {
      if (!p.io.some((x) => x.dev === dev)) return `I/O device ${dev} of ${d.name} does not exist`;
      const e = claim(io, dev, d.name, 'I/O device');
      if (e) return e;
    }
    if (b.console.port !== null) {
      // Console ports are TCP ports of the host's one console concentrator address; the domains
      // of one console group share their group's port.
      const holder = ports.get(String(b.console.port));
      if (holder !== undefined && holder !== b.console.group) return `console port ${b.console.port} bound to both group ${holder} and group ${b.console.group}`;
      ports.set(String(b.console.port), b.console.group);
    }
    const domMacs = [d.constraints.mac, ...d.constraints.vnets.map((v) => v.mac), ...d.constraints.vsw.map((v) => v.mac)];
    for (const m of domMacs) {
      if (!m) continue;
      const e = claim(macs, m.toLowerCase(), d.name, 'MAC address');
      if (e) return e;
    }
    for (const m of b.mblocks) {
      if (m.size <= 0) return `empty memory block in ${d.name}`;
      const end = m.pa + m.size;
      if (!p.memory.banks.some((bank) => m.pa >= bank.pa && end <= bank.pa + bank.size)) {
        return `memory 0x${m.pa.toString(16)} of ${d.name} is outside installed memory`;
      }
      ranges.push({ pa: m.pa, end, owner: d.name });
    }
  }
  ranges.sort((a, b) => a.pa - b.pa);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i].pa < ranges[i - 1].end) {
      return `memory 0x${ranges[i].pa.toString(16)} bound to both ${ranges[i - 1].owner} and ${ranges[i].owner}`;
    }
  }
  return null;
}
