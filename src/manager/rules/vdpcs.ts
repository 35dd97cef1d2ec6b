// Netra Data Plane Software channels: vdpcs services (add/remove-vdpcs) and the vdpcc clients
// of guests (add/remove-vdpcc).

import { UserError } from '../errors.js';
import type { Draft, DraftDomain } from '../manager.js';
import { checkName } from '../names.js';
import { findDomain, guardOthers, type Say } from './draft.js';

function findVdpcs(draft: Draft, name: string): DraftDomain {
  const d = draft.domains.find((x) => x.constraints.vdpcs.some((v) => v.name === name));
  if (!d) throw new UserError(`Virtual data plane channel service ${name} does not exist`);
  return d;
}

export function addVdpcs(draft: Draft, name: string, ldom: string, say: Say): void {
  const d = findDomain(draft, ldom);
  guardOthers(draft, ldom, say);
  checkName('service', name);
  if (draft.domains.some((x) => x.constraints.vdpcs.some((v) => v.name === name))) {
    throw new UserError(`Virtual data plane channel service ${name} already exists`);
  }
  d.constraints.vdpcs.push({ name });
}

export function removeVdpcs(draft: Draft, name: string, _force: boolean, say: Say): void {
  const d = findVdpcs(draft, name);
  guardOthers(draft, d.constraints.name, say);
  for (const other of draft.domains) {
    const client = other.constraints.vdpcc.find((c) => c.service === name);
    if (client) throw new UserError(`Virtual data plane channel service ${name} is in use by vdpcc ${client.name} of LDom ${other.constraints.name}`);
  }
  d.constraints.vdpcs = d.constraints.vdpcs.filter((v) => v.name !== name);
}

export function addVdpcc(draft: Draft, name: string, service: string, ldom: string, say: Say): void {
  const d = findDomain(draft, ldom);
  guardOthers(draft, ldom, say);
  checkName('vdpcc', name);
  const server = findVdpcs(draft, service);
  if (d.constraints.vdpcc.some((c) => c.name === name)) throw new UserError(`Vdpcc ${name} already exists in LDom ${ldom}`);
  d.constraints.vdpcc.push({ name, service, serviceDomain: server.constraints.name });
}

export function removeVdpcc(draft: Draft, name: string, ldom: string, _force: boolean, say: Say): void {
  const d = findDomain(draft, ldom);
  guardOthers(draft, ldom, say);
  if (!d.constraints.vdpcc.some((c) => c.name === name)) throw new UserError(`Vdpcc ${name} does not exist in LDom ${ldom}`);
  d.constraints.vdpcc = d.constraints.vdpcc.filter((c) => c.name !== name);
}
