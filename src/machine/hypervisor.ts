// The modelled hypervisor and service processor: pure state transitions over MachineState.
// The machine process wraps these with persistence and a socket; tests call them directly.

import { randomUUID } from 'node:crypto';
import type { PlatformSpec } from '../platform/types.js';
import type { DomainBinding, DomainConstraints, DomainRuntime, PmPolicy } from '../manager/types.js';
import { hostidFromMac } from '../manager/alloc/mac.js';
import { findDoubleBinding } from './invariants.js';
import { FACTORY_DEFAULT, type MachineChange, type MachineDomain, type MachineState, type SnapshotDomain } from './types.js';

export class MachineError extends Error {}

/** The SP keeps a limited number of configurations, factory-default included. */
export const MAX_SP_CONFIGS = 8;

export function emptyConstraints(name: string): DomainConstraints {
  return {
    name,
    uuid: randomUUID(),
    mac: '',
    macAuto: true,
    hostid: 0,
    failurePolicy: 'ignore',
    masters: [],
    vcpus: 0,
    wholeCore: false,
    maxCores: null,
    crypto: 0,
    memory: 0,
    variables: [],
    io: [],
    vcc: [],
    vsw: [],
    vds: [],
    vnets: [],
    vdisks: [],
    console: {},
    policies: [],
    vdpcs: [],
    vdpcc: [],
  };
}

/** The factory-default control domain: every strand, crypto unit, bus and byte not reserved. */
export function factoryPrimary(p: PlatformSpec): SnapshotDomain {
  const nStrands = p.cpu.chips * p.cpu.coresPerChip * p.cpu.strandsPerCore;
  const nCrypto = p.cpu.chips * p.cpu.coresPerChip * p.cpu.cryptoUnitsPerCore;
  const mblocks: { ra: number; pa: number; size: number }[] = [];
  for (const bank of [...p.memory.banks].sort((a, b) => a.pa - b.pa)) {
    let cursor = bank.pa;
    const end = bank.pa + bank.size;
    for (const r of [...p.memory.reserved].sort((a, b) => a.pa - b.pa)) {
      if (r.pa + r.size <= cursor || r.pa >= end) continue;
      if (r.pa > cursor) mblocks.push({ ra: cursor, pa: cursor, size: r.pa - cursor });
      cursor = Math.max(cursor, r.pa + r.size);
    }
    if (cursor < end) mblocks.push({ ra: cursor, pa: cursor, size: end - cursor });
  }
  const io = p.io.filter((d) => d.type !== 'PCIE').map((d) => d.dev);
  const constraints: DomainConstraints = {
    ...emptyConstraints('primary'),
    mac: p.systemMac.toLowerCase(),
    macAuto: false,
    hostid: hostidFromMac(p.systemMac),
    vcpus: nStrands,
    crypto: nCrypto,
    memory: mblocks.reduce((n, m) => n + m.size, 0),
    io,
  };
  const binding: DomainBinding = {
    strands: Array.from({ length: nStrands }, (_, i) => i),
    crypto: Array.from({ length: nCrypto }, (_, i) => i),
    mblocks,
    io,
    console: { service: '', serviceDomain: '', port: null, group: 'SP' },
  };
  return { constraints, state: 'active', binding };
}

export function bootRuntime(name: string, now: number): DomainRuntime {
  // The control domain runs Solaris; guests stop in OpenBoot until an OS image boots them.
  return name === 'primary'
    ? { softstate: 'Solaris running', osFlag: 'n', startedAt: now, util: 0.1 }
    : { softstate: 'OpenBoot Running', osFlag: 't', startedAt: now, util: 0.0 };
}

export function factoryState(p: PlatformSpec, now: number): MachineState {
  const primary = factoryPrimary(p);
  const state: MachineState = {
    format: 1,
    platform: p,
    powerEpoch: 0,
    poweredOnAt: now,
    poweredOff: false,
    appliedSeq: 0,
    domains: [],
    sp: {
      configs: [{ name: FACTORY_DEFAULT, savedAt: now, domains: [primary] }],
      current: FACTORY_DEFAULT,
      nextPoweron: FACTORY_DEFAULT,
      modified: false,
      pmPolicy: 'performance',
    },
    bootedConfig: [primary],
  };
  return powerOn(state, now);
}

/** Boot the configuration marked for the next power-on: bound and active domains come back. */
export function powerOn(state: MachineState, now: number): MachineState {
  const cfg = state.sp.configs.find((c) => c.name === state.sp.nextPoweron) ?? state.sp.configs[0];
  const domains: MachineDomain[] = [];
  for (const d of cfg.domains) {
    if (d.state === 'inactive' || !d.binding) continue;
    domains.push({
      name: d.constraints.name,
      state: d.state,
      constraints: structuredClone(d.constraints),
      binding: structuredClone(d.binding),
      runtime: d.state === 'active' ? bootRuntime(d.constraints.name, now) : null,
      seq: state.appliedSeq,
    });
  }
  return {
    ...state,
    powerEpoch: state.powerEpoch + 1,
    poweredOnAt: now,
    poweredOff: false,
    domains,
    bootedConfig: structuredClone(cfg.domains),
    sp: { ...state.sp, current: cfg.name, nextPoweron: cfg.name, modified: false },
  };
}

/** Apply one operation from ldmd atomically: all changes or none. */
export function applyChanges(state: MachineState, seq: number, changes: MachineChange[], now: number, modifies = true): MachineState {
  // Sequence numbers only grow: an older one means a manager acting on a state it has not seen.
  if (seq <= state.appliedSeq) throw new MachineError(`refused: operation ${seq} is not newer than ${state.appliedSeq}`);
  const domains = state.domains.map((d) => ({ ...d }));
  for (const ch of changes) {
    const i = domains.findIndex((d) => d.name === ch.name);
    switch (ch.kind) {
      case 'put': {
        const prev = i >= 0 ? domains[i] : undefined;
        let runtime: DomainRuntime | null = null;
        if (ch.state === 'active') runtime = ch.runtime ?? (prev?.state === 'active' && prev.runtime ? prev.runtime : bootRuntime(ch.name, now));
        const next: MachineDomain = { name: ch.name, state: ch.state, constraints: ch.constraints, binding: ch.binding, runtime, seq };
        if (ch.migration) next.migration = ch.migration;
        if (i >= 0) domains[i] = next;
        else domains.push(next);
        break;
      }
      case 'remove':
        if (i < 0) throw new MachineError(`domain ${ch.name} is not bound`);
        domains.splice(i, 1);
        break;
      case 'panic':
      case 'reboot': {
        if (i < 0 || domains[i].state !== 'active') throw new MachineError(`domain ${ch.name} is not active`);
        // A reboot ends what a migration left behind (reserved strands, DR disabled).
        const { reserved: _r, ...binding } = domains[i].binding;
        domains[i] = { ...domains[i], binding, runtime: bootRuntime(ch.name, now), seq };
        break;
      }
      case 'mark': {
        if (i < 0) throw new MachineError(`domain ${ch.name} is not bound`);
        const { migration: _m, ...rest } = domains[i];
        domains[i] = ch.migration ? { ...rest, migration: ch.migration, seq } : { ...rest, seq };
        break;
      }
      default:
        throw new MachineError(`unknown change ${(ch as { kind: string }).kind}`);
    }
  }
  const clash = findDoubleBinding(state.platform, domains);
  if (clash) throw new MachineError(`refused: ${clash}`);
  // A reboot or panic, or a delayed reconfiguration that the saved configuration already holds,
  // leaves the running configuration as saved.
  return { ...state, domains, appliedSeq: seq, sp: { ...state.sp, modified: modifies || state.sp.modified } };
}

export function addSpConfig(state: MachineState, name: string, domains: SnapshotDomain[], now: number): MachineState {
  const configs = state.sp.configs.filter((c) => c.name !== name);
  if (configs.length >= MAX_SP_CONFIGS) throw new MachineError('the service processor has no room for another configuration');
  configs.push({ name, savedAt: now, domains });
  return { ...state, sp: { ...state.sp, configs, current: name, nextPoweron: name, modified: false } };
}

export function removeSpConfig(state: MachineState, name: string): MachineState {
  const configs = state.sp.configs.filter((c) => c.name !== name);
  const sp = { ...state.sp, configs };
  if (sp.nextPoweron === name) sp.nextPoweron = FACTORY_DEFAULT;
  return { ...state, sp };
}

export function setNextPoweron(state: MachineState, name: string): MachineState {
  return { ...state, sp: { ...state.sp, nextPoweron: name } };
}

export function setPmPolicy(state: MachineState, policy: PmPolicy): MachineState {
  return { ...state, sp: { ...state.sp, pmPolicy: policy } };
}

/** `stop /SYS`: every domain stops; the hypervisor forgets them until the next power-on. */
export function powerOff(state: MachineState): MachineState {
  return { ...state, poweredOff: true, domains: [] };
}
