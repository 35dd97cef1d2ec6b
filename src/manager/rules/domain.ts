// add-domain, set-domain, remove-domain: a domain's identity, failure policy and masters.

import { allocateMac, checkManualMac, hostidFromMac, parseHostid } from '../alloc/mac.js';
import { UserError } from '../errors.js';
import type { Draft } from '../manager.js';
import { checkName } from '../names.js';
import type { DomainConstraints, FailurePolicy } from '../types.js';
import { emptyConstraints } from '../../machine/hypervisor.js';
import { CONTROL_DOMAIN, findDomain, guardOthers, macsInUse, type Say } from './draft.js';

export interface DomainProps {
  mac?: string;
  hostid?: string;
  failurePolicy?: string;
  /** `undefined` leaves masters as they are; '' clears them. */
  master?: string;
}

const POLICIES: FailurePolicy[] = ['ignore', 'panic', 'reset', 'stop'];
export const MAX_MASTERS = 4;

function applyProps(draft: Draft, c: DomainConstraints, props: DomainProps, random: () => number): void {
  if (props.mac !== undefined) {
    const r = checkManualMac(props.mac, macsInUse(draft));
    if (!r.ok) throw new UserError(r.message);
    c.mac = r.value;
    c.macAuto = false;
    if (props.hostid === undefined) c.hostid = hostidFromMac(c.mac);
  }
  if (props.hostid !== undefined) {
    const h = parseHostid(props.hostid);
    if (h === null) throw new UserError(`Invalid hostid: ${props.hostid}`);
    c.hostid = h;
  }
  if (props.failurePolicy !== undefined) {
    if (!POLICIES.includes(props.failurePolicy as FailurePolicy)) {
      throw new UserError(`Invalid failure-policy: ${props.failurePolicy || '(empty)'} (use ignore, panic, reset or stop)`);
    }
    c.failurePolicy = props.failurePolicy as FailurePolicy;
  }
  if (props.master !== undefined) {
    const masters = props.master === '' ? [] : props.master.split(',');
    if (masters.length > MAX_MASTERS) throw new UserError(`A domain can have at most ${MAX_MASTERS} masters`);
    for (const m of masters) {
      if (m === c.name) throw new UserError(`LDom ${c.name} cannot be its own master`);
      findDomain(draft, m);
      if (masters.indexOf(m) !== masters.lastIndexOf(m)) throw new UserError(`Master ${m} is given more than once`);
      if (dependsOn(draft, m, c.name)) throw new UserError(`LDom ${m} cannot be a master of LDom ${c.name}: ${m} depends on ${c.name}`);
    }
    c.masters = masters;
  }
  if (!c.mac) {
    const r = allocateMac(macsInUse(draft), random);
    if (!r.ok) throw new UserError(r.message);
    c.mac = r.value;
    c.macAuto = true;
    if (props.hostid === undefined) c.hostid = hostidFromMac(c.mac);
  }
}

/** Whether `slave` (transitively) has `master` among its masters: dependencies must not form a cycle. */
function dependsOn(draft: Draft, slave: string, master: string, seen = new Set<string>()): boolean {
  if (seen.has(slave)) return false;
  seen.add(slave);
  const d = draft.domains.find((x) => x.constraints.name === slave);
  if (!d) return false;
  return d.constraints.masters.some((m) => m === master || dependsOn(draft, m, master, seen));
}

export function addDomain(draft: Draft, name: string, props: DomainProps, random: () => number, say: Say): DomainConstraints {
  guardOthers(draft, name, say);
  checkName('domain', name);
  if (draft.domains.some((d) => d.constraints.name === name)) throw new UserError(`LDom ${name} already exists`);
  const c = emptyConstraints(name);
  c.mac = '';
  draft.domains.push({ constraints: c, state: 'inactive', binding: null });
  applyProps(draft, c, props, random);
  return c;
}

export function setDomain(draft: Draft, name: string, props: DomainProps, random: () => number, say: Say): void {
  const d = findDomain(draft, name);
  guardOthers(draft, name, say);
  if ((props.mac !== undefined || props.hostid !== undefined) && d.state !== 'inactive') {
    throw new UserError(`LDom ${name} must be unbound before its mac-addr or hostid can be changed`);
  }
  applyProps(draft, d.constraints, props, random);
}

export function removeDomain(draft: Draft, name: string, say: Say): void {
  const d = findDomain(draft, name);
  guardOthers(draft, name, say);
  if (name === CONTROL_DOMAIN) throw new UserError(`LDom ${name} is the control domain and cannot be removed`);
  if (d.state !== 'inactive') throw new UserError(`LDom ${name} must be unbound before it can be removed`);
  const c = d.constraints;
  for (const other of draft.domains) {
    if (other === d) continue;
    const oc = other.constraints;
    if (oc.masters.includes(name)) throw new UserError(`LDom ${name} is a master of LDom ${oc.name}; remove the dependency first`);
    for (const v of oc.vnets) if (c.vsw.some((s) => s.name === v.service)) throw new UserError(`Virtual switch ${v.service} of LDom ${name} is in use by vnet ${v.name} of LDom ${oc.name}`);
    for (const k of oc.vdisks) if (c.vds.some((s) => s.name === k.service)) throw new UserError(`Virtual disk service ${k.service} of LDom ${name} is in use by vdisk ${k.name} of LDom ${oc.name}`);
    for (const k of oc.vdpcc) if (c.vdpcs.some((s) => s.name === k.service)) throw new UserError(`Virtual data plane channel service ${k.service} of LDom ${name} is in use by vdpcc ${k.name} of LDom ${oc.name}`);
    if (oc.console.service && c.vcc.some((s) => s.name === oc.console.service)) throw new UserError(`Console service ${oc.console.service} of LDom ${name} is in use by LDom ${oc.name}`);
  }
  draft.domains.splice(draft.domains.indexOf(d), 1);
}
