// Virtual switches (add/set/remove-vsw) and virtual network devices (add/set/remove-vnet).

import { allocateMac, checkManualMac } from '../alloc/mac.js';
import { UserError } from '../errors.js';
import type { Draft, DraftDomain } from '../manager.js';
import { checkName } from '../names.js';
import type { Vnet, VswService } from '../types.js';
import { findDomain, guardOthers, requireDr, macsInUse, type Say } from './draft.js';
import { intProp, mtuProp, nextDeviceId, oneOf, vlanList } from './props.js';

export type Props = Map<string, string>;

const NET_DEV = /^[A-Za-z][A-Za-z0-9_]*\d+$/;

export function findVsw(draft: Draft, name: string): { domain: DraftDomain; vsw: VswService } {
  for (const d of draft.domains) {
    const v = d.constraints.vsw.find((x) => x.name === name);
    if (v) return { domain: d, vsw: v };
  }
  throw new UserError(`Virtual switch ${name} does not exist`);
}

function mac(draft: Draft, text: string | undefined, random: () => number): { mac: string; auto: boolean } {
  if (text !== undefined && text !== '') {
    const r = checkManualMac(text, macsInUse(draft));
    if (!r.ok) throw new UserError(r.message);
    return { mac: r.value, auto: false };
  }
  const r = allocateMac(macsInUse(draft), random);
  if (!r.ok) throw new UserError(r.message);
  return { mac: r.value, auto: true };
}

function applyVswProps(v: VswService, props: Props): void {
  for (const [k, text] of props) {
    switch (k) {
      case 'net-dev':
        if (text !== '' && !NET_DEV.test(text)) throw new UserError(`Invalid net-dev: ${text}`);
        v.netDev = text;
        break;
      case 'default-vlan-id':
        v.defaultVlanId = intProp(k, text, 1, 4094);
        break;
      case 'pvid':
        v.pvid = intProp(k, text, 1, 4094);
        break;
      case 'vid':
        v.vids = vlanList(k, text);
        break;
      case 'mtu':
        v.mtu = mtuProp(text);
        break;
      case 'mode':
        v.mode = oneOf(k, text, ['', 'sc'] as const);
        break;
      case 'linkprop':
        v.linkprop = oneOf(k, text, ['', 'phys-state'] as const);
        break;
    }
  }
}

export function addVsw(draft: Draft, name: string, ldom: string, props: Props, random: () => number, say: Say): void {
  const d = findDomain(draft, ldom);
  guardOthers(draft, ldom, say);
  checkName('service', name);
  if (draft.domains.some((x) => x.constraints.vsw.some((v) => v.name === name))) throw new UserError(`Virtual switch ${name} already exists`);
  const used = d.constraints.vsw.map((v) => v.id);
  const id = props.has('id') ? intProp('id', props.get('id')!, 0, 1023) : nextDeviceId(used);
  if (used.includes(id)) throw new UserError(`Device switch@${id} already exists in LDom ${ldom}`);
  const m = mac(draft, props.get('mac-addr'), random);
  const v: VswService = { name, mac: m.mac, macAuto: m.auto, netDev: '', defaultVlanId: 1, pvid: 1, vids: [], mtu: 1500, mode: '', linkprop: '', id };
  applyVswProps(v, props);
  d.constraints.vsw.push(v);
}

export function setVsw(draft: Draft, name: string, props: Props, random: () => number, say: Say): void {
  const { domain, vsw } = findVsw(draft, name);
  guardOthers(draft, domain.constraints.name, say);
  if (props.has('mac-addr')) {
    const m = mac(draft, props.get('mac-addr'), random);
    vsw.mac = m.mac;
    vsw.macAuto = m.auto;
  }
  applyVswProps(vsw, props);
}

export function removeVsw(draft: Draft, name: string, _force: boolean, say: Say): void {
  const { domain, vsw } = findVsw(draft, name);
  guardOthers(draft, domain.constraints.name, say);
  for (const d of draft.domains) {
    const user = d.constraints.vnets.find((n) => n.service === name);
    if (user) throw new UserError(`Virtual switch ${name} is in use by vnet ${user.name} of LDom ${d.constraints.name}`);
  }
  domain.constraints.vsw.splice(domain.constraints.vsw.indexOf(vsw), 1);
}

function applyVnetProps(v: Vnet, props: Props): void {
  for (const [k, text] of props) {
    switch (k) {
      case 'mode':
        v.mode = oneOf(k, text, ['', 'hybrid'] as const);
        break;
      case 'pvid':
        v.pvid = text === '' ? 1 : intProp(k, text, 1, 4094);
        break;
      case 'vid':
        v.vids = vlanList(k, text);
        break;
      case 'mtu':
        v.mtu = mtuProp(text);
        break;
      case 'linkprop':
        v.linkprop = oneOf(k, text, ['', 'phys-state'] as const);
        break;
    }
  }
}

export function addVnet(draft: Draft, ifName: string, vswName: string, ldom: string, props: Props, random: () => number, say: Say): void {
  const d = findDomain(draft, ldom);
  guardOthers(draft, ldom, say);
  requireDr(d, 'ioDr');
  checkName('vnet', ifName);
  if (d.constraints.vnets.some((v) => v.name === ifName)) throw new UserError(`Vnet ${ifName} already exists in LDom ${ldom}`);
  const sw = findVsw(draft, vswName);
  const used = d.constraints.vnets.map((v) => v.id);
  const id = props.has('id') ? intProp('id', props.get('id')!, 0, 1023) : nextDeviceId(used);
  if (used.includes(id)) throw new UserError(`Device network@${id} already exists in LDom ${ldom}`);
  const m = mac(draft, props.get('mac-addr'), random);
  const v: Vnet = {
    name: ifName,
    service: vswName,
    serviceDomain: sw.domain.constraints.name,
    mac: m.mac,
    macAuto: m.auto,
    mode: '',
    pvid: 1,
    vids: [],
    mtu: sw.vsw.mtu,
    linkprop: '',
    id,
  };
  applyVnetProps(v, props);
  d.constraints.vnets.push(v);
}

export function findVnet(draft: Draft, ifName: string, ldom: string): { domain: DraftDomain; vnet: Vnet } {
  const d = findDomain(draft, ldom);
  const vnet = d.constraints.vnets.find((v) => v.name === ifName);
  if (!vnet) throw new UserError(`Vnet ${ifName} does not exist in LDom ${ldom}`);
  return { domain: d, vnet };
}

export function setVnet(draft: Draft, ifName: string, ldom: string, props: Props, random: () => number, say: Say): void {
  const { domain, vnet } = findVnet(draft, ifName, ldom);
  guardOthers(draft, ldom, say);
  if (props.get('mode') === 'hybrid' && vnet.mode !== 'hybrid' && domain.state === 'active' && ldom !== 'primary') {
    // Switching an active vnet to hybrid needs a delayed reconfiguration, which 2.0 offers only to the control domain.
    throw new UserError(`LDom ${ldom} must be stopped before vnet ${ifName} can be switched to mode=hybrid`);
  }
  if (props.has('vswitch')) {
    const sw = findVsw(draft, props.get('vswitch')!);
    vnet.service = sw.vsw.name;
    vnet.serviceDomain = sw.domain.constraints.name;
  }
  if (props.has('mac-addr')) {
    if (domain.state !== 'inactive') throw new UserError(`LDom ${ldom} must be unbound before the MAC address of vnet ${ifName} can be changed`);
    const m = mac(draft, props.get('mac-addr'), random);
    vnet.mac = m.mac;
    vnet.macAuto = m.auto;
  }
  applyVnetProps(vnet, props);
}

export function removeVnet(draft: Draft, ifName: string, ldom: string, _force: boolean, say: Say): void {
  const { domain, vnet } = findVnet(draft, ifName, ldom);
  guardOthers(draft, ldom, say);
  requireDr(domain, 'ioDr');
  domain.constraints.vnets.splice(domain.constraints.vnets.indexOf(vnet), 1);
}
