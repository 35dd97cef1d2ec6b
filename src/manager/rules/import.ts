// Creating a domain from an XML constraints document (`add-domain -i`, `bind-domain -i`,
// `start-domain -i`). Every part goes through the same rules as the matching `ldm` command, so a
// document cannot create what the command line would refuse.

import { allocateMac, hostidFromMac, isAutoMac, parseMac } from '../alloc/mac.js';
import { UserError } from '../errors.js';
import type { Draft } from '../manager.js';
import type { DomainSpec } from '../../xml/constraints.js';
import { addDomain, removeDomain } from './domain.js';
import { macsInUse, type Say } from './draft.js';
import { addIo } from './io.js';
import { addVariables } from './variables.js';
import { addVcc, setVcons } from './vcc.js';
import { addVds, addVdisk, addVdsdev } from './vds.js';
import { addVnet, addVsw } from './vsw.js';

/** A MAC from a document is kept as it is (automatic range included), if nobody uses it. */
function claimMac(draft: Draft, text: string | undefined, random: () => number): { mac: string; auto: boolean } {
  if (!text) {
    const r = allocateMac(macsInUse(draft), random);
    if (!r.ok) throw new UserError(r.message);
    return { mac: r.value, auto: true };
  }
  const mac = parseMac(text);
  if (!mac) throw new UserError(`Invalid MAC address: ${text}`);
  if (macsInUse(draft).has(mac)) throw new UserError(`MAC address ${mac} is already in use`);
  return { mac, auto: isAutoMac(mac) };
}

function nonNegative(what: string, n: number | undefined): number {
  if (n === undefined) return 0;
  if (!Number.isSafeInteger(n) || n < 0) throw new UserError(`Invalid ${what}: ${n}`);
  return n;
}

export function createFromSpec(draft: Draft, spec: DomainSpec, random: () => number, say: Say, opts: { replace?: boolean } = {}): void {
  const existing = draft.domains.find((d) => d.constraints.name === spec.name);
  let position = draft.domains.length;
  if (existing && opts.replace) {
    position = draft.domains.indexOf(existing);
    removeDomain(draft, spec.name, say);
  }
  const c = addDomain(draft, spec.name, { failurePolicy: spec.failurePolicy }, random, say);
  const d = draft.domains[draft.domains.length - 1];
  draft.domains.splice(draft.domains.length - 1, 1);
  draft.domains.splice(position, 0, d);

  if (spec.uuid) c.uuid = spec.uuid;
  if (spec.mac) {
    const { mac, auto } = claimMac(draft, spec.mac, random);
    c.mac = mac;
    c.macAuto = auto;
    c.hostid = hostidFromMac(mac);
  }
  if (spec.hostid !== undefined) c.hostid = spec.hostid;
  c.vcpus = nonNegative('number of virtual CPUs', spec.vcpus);
  c.wholeCore = spec.wholeCore ?? false;
  c.maxCores = c.wholeCore ? (spec.maxCores ?? Math.floor(c.vcpus / draft.platform.cpu.strandsPerCore)) : null;
  if (c.wholeCore && c.vcpus % draft.platform.cpu.strandsPerCore !== 0) {
    throw new UserError(`LDom ${c.name}: with the whole-core constraint the number of virtual CPUs must be a multiple of ${draft.platform.cpu.strandsPerCore}`);
  }
  c.crypto = nonNegative('number of crypto units', spec.crypto);
  if (c.crypto > 0 && draft.platform.cpu.cryptoUnitsPerCore === 0) throw new UserError(`This system (${draft.platform.model}) has no crypto units`);
  c.memory = nonNegative('memory size', spec.memory);
  if (spec.variables?.length) addVariables(draft, c.name, spec.variables.map((v) => [v.name, v.value]), say);
  for (const dev of spec.io ?? []) addIo(draft, dev, c.name, say);
  for (const v of spec.vcc ?? []) addVcc(draft, v.name, c.name, `${v.portMin}-${v.portMax}`, say);
  for (const v of spec.vsw ?? []) {
    const props = new Map<string, string>();
    if (v.netDev) props.set('net-dev', v.netDev);
    if (v.defaultVlanId !== undefined) props.set('default-vlan-id', String(v.defaultVlanId));
    if (v.pvid !== undefined) props.set('pvid', String(v.pvid));
    if (v.vids?.length) props.set('vid', v.vids.join(','));
    if (v.mtu !== undefined) props.set('mtu', String(v.mtu));
    if (v.mode) props.set('mode', v.mode);
    if (v.linkprop) props.set('linkprop', v.linkprop);
    if (v.id !== undefined) props.set('id', String(v.id));
    addVsw(draft, v.name, c.name, props, random, say);
    const sw = c.vsw[c.vsw.length - 1];
    if (v.mac) Object.assign(sw, ((m) => ({ mac: m.mac, macAuto: m.auto }))(claimMac(draft, v.mac, random)));
  }
  for (const v of spec.vds ?? []) {
    addVds(draft, v.name, c.name, say);
    for (const vol of v.volumes) {
      const props = new Map<string, string>();
      if (vol.options?.length) props.set('options', vol.options.join(','));
      if (vol.mpgroup) props.set('mpgroup', vol.mpgroup);
      addVdsdev(draft, vol.backend, `${vol.name}@${v.name}`, props, say);
    }
  }
  for (const n of spec.vnets ?? []) {
    const props = new Map<string, string>();
    if (n.mode) props.set('mode', n.mode);
    if (n.pvid !== undefined) props.set('pvid', String(n.pvid));
    if (n.vids?.length) props.set('vid', n.vids.join(','));
    if (n.mtu !== undefined) props.set('mtu', String(n.mtu));
    if (n.linkprop) props.set('linkprop', n.linkprop);
    if (n.id !== undefined) props.set('id', String(n.id));
    addVnet(draft, n.name, n.service, c.name, props, random, say);
    const vnet = c.vnets[c.vnets.length - 1];
    if (n.mac) Object.assign(vnet, ((m) => ({ mac: m.mac, macAuto: m.auto }))(claimMac(draft, n.mac, random)));
  }
  for (const k of spec.vdisks ?? []) {
    const props = new Map<string, string>();
    if (k.timeout !== undefined) props.set('timeout', String(k.timeout));
    if (k.id !== undefined) props.set('id', String(k.id));
    addVdisk(draft, k.name, `${k.volume}@${k.service}`, c.name, props, say);
  }
  if (spec.console) {
    setVcons(draft, c.name, {
      port: spec.console.port !== undefined ? String(spec.console.port) : undefined,
      group: spec.console.group,
      service: spec.console.service,
    }, say);
  }
  if (spec.masters?.length) {
    for (const m of spec.masters) if (!draft.domains.some((x) => x.constraints.name === m)) throw new UserError(`LDom ${m} not found`);
    c.masters = [...spec.masters];
  }
}
