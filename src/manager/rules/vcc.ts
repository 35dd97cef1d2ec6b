// Virtual console concentrators (add/set/remove-vcc) and a domain's console (set-vcons).

import { UserError } from '../errors.js';
import type { Draft } from '../manager.js';
import { checkName } from '../names.js';
import { findDomain, guardOthers, type Say } from './draft.js';

export const PORT_MIN = 1;
export const PORT_MAX = 65535;

export function parsePortRange(text: string | undefined): { portMin: number; portMax: number } {
  const m = text === undefined ? null : /^(\d{1,5})-(\d{1,5})$/.exec(text);
  if (!m) throw new UserError(`Invalid port-range: ${text ?? '(missing)'} (use port-range=min-max, e.g. 5000-5100)`);
  const portMin = Number(m[1]);
  const portMax = Number(m[2]);
  if (portMin < PORT_MIN || portMax > PORT_MAX || portMin > portMax) {
    throw new UserError(`Invalid port-range: ${text} (ports must be ${PORT_MIN}-${PORT_MAX}, min not above max)`);
  }
  return { portMin, portMax };
}

export function findVcc(draft: Draft, name: string) {
  for (const d of draft.domains) {
    const v = d.constraints.vcc.find((x) => x.name === name);
    if (v) return { domain: d, vcc: v };
  }
  throw new UserError(`Virtual console concentrator ${name} does not exist`);
}

function checkOverlap(draft: Draft, name: string, r: { portMin: number; portMax: number }): void {
  for (const d of draft.domains) {
    for (const v of d.constraints.vcc) {
      if (v.name !== name && r.portMin <= v.portMax && v.portMin <= r.portMax) {
        throw new UserError(`Port range ${r.portMin}-${r.portMax} overlaps the range ${v.portMin}-${v.portMax} of ${v.name}`);
      }
    }
  }
}

export function addVcc(draft: Draft, vccName: string, ldom: string, portRange: string | undefined, say: Say): void {
  const d = findDomain(draft, ldom);
  guardOthers(draft, ldom, say);
  checkName('service', vccName);
  if (draft.domains.some((x) => x.constraints.vcc.some((v) => v.name === vccName))) {
    throw new UserError(`Virtual console concentrator ${vccName} already exists`);
  }
  const r = parsePortRange(portRange);
  checkOverlap(draft, vccName, r);
  d.constraints.vcc.push({ name: vccName, ...r });
}

export function setVcc(draft: Draft, vccName: string, portRange: string | undefined, say: Say): void {
  const { domain, vcc } = findVcc(draft, vccName);
  guardOthers(draft, domain.constraints.name, say);
  const r = parsePortRange(portRange);
  checkOverlap(draft, vccName, r);
  for (const d of draft.domains) {
    const con = d.binding?.console;
    if (con && con.service === vccName && con.port !== null && (con.port < r.portMin || con.port > r.portMax)) {
      throw new UserError(`Port ${con.port} of ${vccName} is in use by LDom ${d.constraints.name}, outside the new range`);
    }
  }
  Object.assign(vcc, r);
}

export function removeVcc(draft: Draft, vccName: string, force: boolean, say: Say): void {
  const { domain, vcc } = findVcc(draft, vccName);
  guardOthers(draft, domain.constraints.name, say);
  for (const d of draft.domains) {
    if (d.binding?.console.service === vccName && d.binding.console.port !== null) {
      throw new UserError(`Virtual console concentrator ${vccName} is in use by the console of LDom ${d.constraints.name}`);
    }
    if (!force && d.constraints.console.service === vccName) {
      throw new UserError(`Virtual console concentrator ${vccName} is named in the console constraints of LDom ${d.constraints.name}`);
    }
  }
  domain.constraints.vcc.splice(domain.constraints.vcc.indexOf(vcc), 1);
}

export function setVcons(draft: Draft, ldom: string, props: { port?: string; group?: string; service?: string }, say: Say): void {
  const d = findDomain(draft, ldom);
  guardOthers(draft, ldom, say);
  if (d.state !== 'inactive') throw new UserError(`LDom ${ldom} must be unbound before its console can be changed`);
  const con = d.constraints.console;
  if (props.service !== undefined) {
    if (props.service === '') delete con.service;
    else {
      findVcc(draft, props.service);
      con.service = props.service;
    }
  }
  if (props.group !== undefined) {
    if (props.group === '') delete con.group;
    else {
      checkName('console group', props.group);
      con.group = props.group;
    }
  }
  if (props.port !== undefined) {
    if (props.port === '') delete con.port;
    else {
      if (!/^\d{1,5}$/.test(props.port)) throw new UserError(`Invalid port: ${props.port}`);
      const port = Number(props.port);
      if (port < PORT_MIN || port > PORT_MAX) throw new UserError(`Invalid port: ${props.port}`);
      con.port = port;
    }
  }
}
