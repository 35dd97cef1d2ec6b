// Virtual disk services (add/remove-vds), their volumes (add/set/remove-vdsdev) and the
// virtual disks of domains (add/set/remove-vdisk).

import { UserError } from '../errors.js';
import type { Draft, DraftDomain } from '../manager.js';
import { checkName } from '../names.js';
import type { Vdisk, VdsOption, VdsService } from '../types.js';
import { findDomain, guardOthers, requireDr, type Say } from './draft.js';
import { intProp, nextDeviceId } from './props.js';

const OPTIONS: VdsOption[] = ['ro', 'slice', 'excl'];

export function findVds(draft: Draft, name: string): { domain: DraftDomain; vds: VdsService } {
  for (const d of draft.domains) {
    const v = d.constraints.vds.find((x) => x.name === name);
    if (v) return { domain: d, vds: v };
  }
  throw new UserError(`Virtual disk service ${name} does not exist`);
}

/** `volume@service` */
export function splitVolume(text: string): { volume: string; service: string } {
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) throw new UserError(`Invalid volume name: ${text} (use volume-name@service-name)`);
  return { volume: text.slice(0, at), service: text.slice(at + 1) };
}

export function parseOptions(text: string): VdsOption[] {
  if (text === '') return [];
  const opts = text.split(',');
  for (const o of opts) if (!OPTIONS.includes(o as VdsOption)) throw new UserError(`Invalid option: ${o} (use ro, slice or excl)`);
  if (new Set(opts).size !== opts.length) throw new UserError(`Invalid options: ${text} (an option is given twice)`);
  return OPTIONS.filter((o) => opts.includes(o));
}

export function addVds(draft: Draft, name: string, ldom: string, say: Say): void {
  const d = findDomain(draft, ldom);
  guardOthers(draft, ldom, say);
  checkName('service', name);
  if (draft.domains.some((x) => x.constraints.vds.some((v) => v.name === name))) throw new UserError(`Virtual disk service ${name} already exists`);
  d.constraints.vds.push({ name, volumes: [] });
}

export function removeVds(draft: Draft, name: string, force: boolean, say: Say): void {
  const { domain, vds } = findVds(draft, name);
  guardOthers(draft, domain.constraints.name, say);
  for (const d of draft.domains) {
    const user = d.constraints.vdisks.find((k) => k.service === name);
    if (user) throw new UserError(`Virtual disk service ${name} is attached to vdisk ${user.name} of LDom ${d.constraints.name}`);
  }
  if (vds.volumes.length && !force) throw new UserError(`Virtual disk service ${name} still exports ${vds.volumes.length} volume(s); remove them first or use -f`);
  domain.constraints.vds.splice(domain.constraints.vds.indexOf(vds), 1);
}

export function addVdsdev(draft: Draft, backend: string, volSpec: string, props: Map<string, string>, say: Say): void {
  const { volume, service } = splitVolume(volSpec);
  const { domain, vds } = findVds(draft, service);
  guardOthers(draft, domain.constraints.name, say);
  checkName('volume', volume);
  if (!backend) throw new UserError('Missing back end');
  if (vds.volumes.some((v) => v.name === volume)) throw new UserError(`Volume ${volume}@${service} already exists`);
  const mpgroup = props.get('mpgroup') ?? '';
  if (mpgroup) checkName('mpgroup', mpgroup);
  vds.volumes.push({ name: volume, backend, options: parseOptions(props.get('options') ?? ''), mpgroup });
}

export function setVdsdev(draft: Draft, volSpec: string, props: Map<string, string>, say: Say): void {
  const { volume, service } = splitVolume(volSpec);
  const { domain, vds } = findVds(draft, service);
  guardOthers(draft, domain.constraints.name, say);
  const v = vds.volumes.find((x) => x.name === volume);
  if (!v) throw new UserError(`Volume ${volume}@${service} does not exist`);
  if (props.has('options')) v.options = parseOptions(props.get('options')!);
  if (props.has('mpgroup')) {
    const g = props.get('mpgroup')!;
    if (g) checkName('mpgroup', g);
    v.mpgroup = g;
  }
}

export function removeVdsdev(draft: Draft, volSpec: string, _force: boolean, say: Say): void {
  const { volume, service } = splitVolume(volSpec);
  const { domain, vds } = findVds(draft, service);
  guardOthers(draft, domain.constraints.name, say);
  const i = vds.volumes.findIndex((x) => x.name === volume);
  if (i < 0) throw new UserError(`Volume ${volume}@${service} does not exist`);
  for (const d of draft.domains) {
    const user = d.constraints.vdisks.find((k) => k.service === service && k.volume === volume);
    if (user) throw new UserError(`Volume ${volume}@${service} is attached to vdisk ${user.name} of LDom ${d.constraints.name}`);
  }
  vds.volumes.splice(i, 1);
}

export function addVdisk(draft: Draft, diskName: string, volSpec: string, ldom: string, props: Map<string, string>, say: Say): void {
  const d = findDomain(draft, ldom);
  guardOthers(draft, ldom, say);
  requireDr(d, 'ioDr');
  checkName('vdisk', diskName);
  const { volume, service } = splitVolume(volSpec);
  const { domain: server, vds } = findVds(draft, service);
  if (!vds.volumes.some((v) => v.name === volume)) throw new UserError(`Volume ${volume}@${service} does not exist`);
  if (d.constraints.vdisks.some((k) => k.name === diskName)) throw new UserError(`Vdisk ${diskName} already exists in LDom ${ldom}`);
  const used = d.constraints.vdisks.map((k) => k.id);
  const id = props.has('id') ? intProp('id', props.get('id')!, 0, 1023) : nextDeviceId(used);
  if (used.includes(id)) throw new UserError(`Device disk@${id} already exists in LDom ${ldom}`);
  const timeout = props.has('timeout') ? intProp('timeout', props.get('timeout')!, 0, 86400) : 0;
  const disk: Vdisk = { name: diskName, volume, service, serviceDomain: server.constraints.name, timeout, id };
  d.constraints.vdisks.push(disk);
}

export function findVdisk(draft: Draft, diskName: string, ldom: string): { domain: DraftDomain; vdisk: Vdisk } {
  const d = findDomain(draft, ldom);
  const vdisk = d.constraints.vdisks.find((k) => k.name === diskName);
  if (!vdisk) throw new UserError(`Vdisk ${diskName} does not exist in LDom ${ldom}`);
  return { domain: d, vdisk };
}

export function setVdisk(draft: Draft, diskName: string, ldom: string, props: Map<string, string>, say: Say): void {
  const { vdisk } = findVdisk(draft, diskName, ldom);
  guardOthers(draft, ldom, say);
  if (props.has('timeout')) vdisk.timeout = intProp('timeout', props.get('timeout')!, 0, 86400);
  if (props.has('volume')) {
    const { volume, service } = splitVolume(props.get('volume')!);
    const { domain: server, vds } = findVds(draft, service);
    if (!vds.volumes.some((v) => v.name === volume)) throw new UserError(`Volume ${volume}@${service} does not exist`);
    Object.assign(vdisk, { volume, service, serviceDomain: server.constraints.name });
  }
}

export function removeVdisk(draft: Draft, diskName: string, ldom: string, _force: boolean, say: Say): void {
  const { domain, vdisk } = findVdisk(draft, diskName, ldom);
  guardOthers(draft, ldom, say);
  requireDr(domain, 'ioDr');
  domain.constraints.vdisks.splice(domain.constraints.vdisks.indexOf(vdisk), 1);
}
