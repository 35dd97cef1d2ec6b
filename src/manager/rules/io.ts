// add-io / remove-io: PCIe root complexes (and NIUs) owned directly by a domain. Physical I/O is
// never changed dynamically: guests must be inactive, the control domain changes at its reboot.

import type { IoDevice } from '../../platform/types.js';
import { UserError } from '../errors.js';
import type { Draft } from '../manager.js';
import { editable, enterDelayed, findDomain, guardOthers, isControl, type Say } from './draft.js';

export function resolveIoDevice(draft: Draft, text: string): IoDevice {
  const dev = draft.platform.io.find((x) => x.dev === text || x.dev === text.replace(/^\//, '') || x.alias === text);
  if (!dev) throw new UserError(`I/O device ${text} does not exist`);
  if (dev.type === 'PCIE') throw new UserError(`I/O device ${text} is a PCIe slot: only PCIe buses (root complexes) and NIUs can be assigned in this release`);
  return dev;
}

export function addIo(draft: Draft, text: string, ldom: string, say: Say): void {
  const d = findDomain(draft, ldom);
  guardOthers(draft, ldom, say);
  const dev = resolveIoDevice(draft, text);
  if (isControl(d)) {
    // Check against the pending set before announcing a delayed reconfiguration that a refusal would not start.
    if (editable(draft, d).io.includes(dev.dev)) throw new UserError(`I/O device ${dev.alias} is already assigned to LDom ${ldom}`);
    const owner = draft.domains.find((x) => x !== d && x.binding?.io.includes(dev.dev));
    if (owner) throw new UserError(`I/O device ${dev.alias} is bound to LDom ${owner.constraints.name}`);
    enterDelayed(draft, say).io.push(dev.dev);
    return;
  }
  if (d.state !== 'inactive') throw new UserError(`LDom ${ldom} must be stopped and unbound before I/O devices can be added`);
  if (d.constraints.io.includes(dev.dev)) throw new UserError(`I/O device ${dev.alias} is already assigned to LDom ${ldom}`);
  d.constraints.io.push(dev.dev);
}

export function removeIo(draft: Draft, text: string, ldom: string, say: Say): void {
  const d = findDomain(draft, ldom);
  guardOthers(draft, ldom, say);
  const dev = resolveIoDevice(draft, text);
  if (isControl(d)) {
    if (!editable(draft, d).io.includes(dev.dev)) throw new UserError(`I/O device ${dev.alias} is not assigned to LDom ${ldom}`);
    const c = enterDelayed(draft, say);
    c.io = c.io.filter((x) => x !== dev.dev);
    return;
  }
  if (d.state !== 'inactive') throw new UserError(`LDom ${ldom} must be stopped and unbound before I/O devices can be removed`);
  if (!d.constraints.io.includes(dev.dev)) throw new UserError(`I/O device ${dev.alias} is not assigned to LDom ${ldom}`);
  d.constraints.io = d.constraints.io.filter((x) => x !== dev.dev);
}
