// Binding: turning a domain's constraints into hypervisor resources (strands, crypto units,
// memory blocks, I/O, console port), all or nothing; and the lifecycle bind/start/stop/unbind.

import type { PlatformSpec } from '../../platform/types.js';
import { allocateStrands, releaseStrands } from '../alloc/cpu.js';
import { allocateCrypto, releaseCrypto } from '../alloc/crypto.js';
import { allocateMemory, growMemory, removableMemory, shrinkMemory } from '../alloc/memory.js';
import { formatSize } from '../../format/units.js';
import { allocateConsolePort } from '../alloc/console.js';
import { UserError } from '../errors.js';
import { freeMemory, type MemoryRow } from '../inventory.js';
import type { Draft, DraftDomain } from '../manager.js';
import type { Domain, DomainBinding, DomainConstraints, MBlock } from '../types.js';
import { CONTROL_DOMAIN, findDomain } from './draft.js';

export const MB4 = 4 * 1024 * 1024;
export const MB256 = 256 * 1024 * 1024;
/** Guest real addresses start at 128 MB, as in the Administration Guide's migration example. */
export const GUEST_RA_BASE = 0x8000000;

export function roundUp(n: number, unit: number): number {
  return Math.ceil(n / unit) * unit;
}

/** Other domains' bindings: what is taken when `except` is (re)allocated. */
export function takenBy(draft: Draft, except?: string) {
  const strands = new Set<number>();
  const crypto = new Set<number>();
  const io = new Set<string>();
  const ports = new Set<number>();
  const others: Domain[] = [];
  for (const d of draft.domains) {
    if (!d.binding || d.constraints.name === except) continue;
    d.binding.strands.forEach((s) => strands.add(s));
    d.binding.reserved?.forEach((s) => strands.add(s));
    d.binding.crypto.forEach((c) => crypto.add(c));
    d.binding.io.forEach((x) => io.add(x));
    if (d.binding.console.port !== null) ports.add(d.binding.console.port);
    others.push(asDomain(d));
  }
  return { strands, crypto, io, ports, others };
}

export function asDomain(d: DraftDomain): Domain {
  return { ...d, runtime: null, delayedReconfig: false, migration: '', memoryDr: false };
}

export function freeRanges(draft: Draft, except?: string): { pa: number; size: number }[] {
  return freeMemory(draft.platform, takenBy(draft, except).others);
}

function fail(name: string, message: string): never {
  throw new UserError(message);
}

function check<T>(name: string, r: { ok: true; value: T } | { ok: false; message: string }): T {
  if (!r.ok) fail(name, r.message);
  return (r as { ok: true; value: T }).value;
}

/** The vcc a guest's console binds to: the one named in its constraints, else the first in the control domain. */
export function consoleService(draft: Draft, c: DomainConstraints) {
  const all = draft.domains.flatMap((d) => d.constraints.vcc.map((v) => ({ vcc: v, domain: d.constraints.name })));
  if (c.console.service) {
    const found = all.find((x) => x.vcc.name === c.console.service);
    if (!found) throw new UserError(`Virtual console concentrator service ${c.console.service} does not exist`);
    return found;
  }
  const control = all.find((x) => x.domain === CONTROL_DOMAIN) ?? all[0];
  if (!control) throw new UserError(`Unable to bind LDom ${c.name}: no virtual console concentrator (vcc) service exists`);
  return control;
}

/** Allocate a complete binding for an inactive domain, or fail without changing anything. */
export function allocateBinding(draft: Draft, d: DraftDomain): DomainBinding {
  const c = d.constraints;
  const p = draft.platform;
  const name = c.name;
  if (c.vcpus <= 0) throw new UserError(`Unable to bind LDom ${name}: it has no virtual CPUs`);
  if (c.memory <= 0) throw new UserError(`Unable to bind LDom ${name}: it has no memory`);
  const taken = takenBy(draft, name);

  const strands = check(name, allocateStrands(p, taken.strands, c.vcpus, { wholeCore: c.wholeCore }));
  const crypto = c.crypto > 0 ? check(name, allocateCrypto(p, taken.crypto, strands, c.crypto)) : [];
  const mblocks = check(name, allocateMemory(freeMemory(p, taken.others), roundUp(c.memory, MB4), { raBase: GUEST_RA_BASE, align: MB4 }));
  for (const dev of c.io) {
    if (taken.io.has(dev)) {
      const owner = draft.domains.find((x) => x.binding?.io.includes(dev))?.constraints.name;
      throw new UserError(`Unable to bind LDom ${name}: device ${dev} is bound to LDom ${owner}`);
    }
  }
  checkVirtualDevices(draft, c);
  const console = bindConsole(draft, c);
  return { strands, crypto, mblocks, io: [...c.io], console };
}

/**
 * A console joins its group (the domain's name unless set-vcons chose one). A group is served on one
 * port of one vcc: the first domain bound into a group takes a free port, the others share it.
 */
function bindConsole(draft: Draft, c: DomainConstraints): DomainBinding['console'] {
  const group = c.console.group || c.name;
  const member = draft.domains.find((d) => d.constraints.name !== c.name && d.binding?.console.port != null && d.binding.console.group === group);
  if (member) {
    const m = member.binding!.console;
    if (c.console.service && c.console.service !== m.service) {
      throw new UserError(`Unable to bind LDom ${c.name}: console group ${group} is served by ${m.service}, not ${c.console.service}`);
    }
    if (c.console.port !== undefined && c.console.port !== m.port) {
      throw new UserError(`Unable to bind LDom ${c.name}: console group ${group} uses port ${m.port}, not ${c.console.port}`);
    }
    return { service: m.service, serviceDomain: m.serviceDomain, port: m.port, group };
  }
  const svc = consoleService(draft, c);
  const taken = takenBy(draft, c.name).ports;
  const port = check(c.name, allocateConsolePort(svc.vcc, taken, c.console.port));
  return { service: svc.vcc.name, serviceDomain: svc.domain, port, group };
}

/** Every vdisk's volume and every vnet's switch must exist when the domain binds. */
export function checkVirtualDevices(draft: Draft, c: DomainConstraints): void {
  for (const disk of c.vdisks) {
    const vds = draft.domains.flatMap((d) => d.constraints.vds).find((v) => v.name === disk.service);
    if (!vds || !vds.volumes.some((v) => v.name === disk.volume)) {
      throw new UserError(`Unable to bind LDom ${c.name}: volume ${disk.volume}@${disk.service} of vdisk ${disk.name} does not exist`);
    }
  }
  for (const net of c.vnets) {
    if (!draft.domains.some((d) => d.constraints.vsw.some((v) => v.name === net.service))) {
      throw new UserError(`Unable to bind LDom ${c.name}: virtual switch ${net.service} of vnet ${net.name} does not exist`);
    }
  }
}

export function bindDomain(draft: Draft, name: string): void {
  const d = findDomain(draft, name);
  if (d.state !== 'inactive') throw new UserError(`LDom ${name} is already bound`);
  d.binding = allocateBinding(draft, d);
  d.state = 'bound';
}

export function unbindDomain(draft: Draft, name: string): void {
  const d = findDomain(draft, name);
  if (name === CONTROL_DOMAIN) throw new UserError(`LDom ${name} is the control domain and cannot be unbound`);
  if (d.state === 'inactive') throw new UserError(`LDom ${name} is not bound`);
  if (d.state === 'active') throw new UserError(`LDom ${name} must be stopped before it can be unbound`);
  d.binding = null;
  d.state = 'inactive';
}

export function startDomain(draft: Draft, name: string): void {
  const d = findDomain(draft, name);
  if (d.state === 'active') throw new UserError(`LDom ${name} is already active`);
  if (d.state === 'inactive') throw new UserError(`LDom ${name} is not bound`);
  d.state = 'active';
}

export function stopDomain(draft: Draft, name: string, force = false): void {
  const d = findDomain(draft, name);
  if (name === CONTROL_DOMAIN) throw new UserError(`LDom ${name} is the control domain and cannot be stopped`);
  if (d.state !== 'active') throw new UserError(`LDom ${name} is not active`);
  d.state = 'bound';
  d.stop = force ? 'forced' : 'graceful';
  // Stopping ends what a migration left behind: the held strands are free again.
  if (d.binding?.reserved) delete d.binding.reserved;
}

// --- changing the resources of a bound or active domain --------------------------------------

export function rebindStrands(draft: Draft, d: DraftDomain, count: number, wholeCore: boolean): number[] {
  const b = d.binding!;
  if (count < b.strands.length) return releaseStrands(draft.platform, b.strands, count, { wholeCore });
  if (count === b.strands.length) return b.strands;
  return check(d.constraints.name, allocateStrands(draft.platform, takenBy(draft, d.constraints.name).strands, count - b.strands.length, { current: b.strands, wholeCore }));
}

export function rebindCrypto(draft: Draft, d: DraftDomain, count: number, strands: number[]): number[] {
  const b = d.binding!;
  if (count < b.crypto.length) return releaseCrypto(b.crypto, count);
  if (count === b.crypto.length) return b.crypto;
  return check(d.constraints.name, allocateCrypto(draft.platform, takenBy(draft, d.constraints.name).crypto, strands, count - b.crypto.length, b.crypto));
}

export function rebindMemory(draft: Draft, d: DraftDomain, size: number, align: number): MBlock[] {
  const b = d.binding!;
  const current = b.mblocks.reduce((n, m) => n + m.size, 0);
  if (size === current) return b.mblocks;
  if (size < current) {
    const removable = removableMemory(b.mblocks, align);
    if (current - size > removable) {
      throw new UserError(`Unable to remove ${formatSize(current - size)} of memory from LDom ${d.constraints.name}: only ${formatSize(removable)} can be removed in ${formatSize(align)} units`);
    }
    return shrinkMemory(b.mblocks, current - size, align);
  }
  const raMode = d.constraints.name === CONTROL_DOMAIN ? 'identity' : 'contiguous';
  return check(d.constraints.name, growMemory(b.mblocks, freeRanges(draft), size - current, { align, raMode }));
}

export type { MemoryRow, PlatformSpec };
