// Delayed reconfiguration of the control domain: start-reconf, cancel-reconf, and the reboot
// that applies the pending constraints.

import { allocateStrands } from '../alloc/cpu.js';
import { allocateCrypto } from '../alloc/crypto.js';
import { UserError } from '../errors.js';
import type { Draft } from '../manager.js';
import type { DomainBinding, DomainConstraints } from '../types.js';
import { MB256, MB4, rebindMemory, roundUp, takenBy } from './binding.js';
import { CONTROL_DOMAIN, DELAYED_NOTICE, enterDelayed, findDomain, type Say } from './draft.js';

export function startReconf(draft: Draft, name: string, say: Say): void {
  findDomain(draft, name);
  if (name !== CONTROL_DOMAIN) throw new UserError(`Delayed reconfiguration is only supported on the control domain (primary)`);
  if (draft.delayed) {
    say(DELAYED_NOTICE.replace(/\n$/, ''));
    return;
  }
  enterDelayed(draft, say);
}

export function cancelReconf(draft: Draft, name: string): void {
  findDomain(draft, name);
  if (name !== CONTROL_DOMAIN || !draft.delayed) throw new UserError(`LDom ${name} is not in a delayed reconfiguration`);
  draft.delayed = null;
}

/** The binding the control domain gets when it reboots with `pending` constraints. */
export function controlBindingAfterReboot(draft: Draft, pending: DomainConstraints): DomainBinding {
  const d = findDomain(draft, CONTROL_DOMAIN);
  const b = d.binding!;
  const taken = takenBy(draft, CONTROL_DOMAIN);
  const p = draft.platform;
  // The control domain reboots: its CPUs are chosen afresh, lowest free cores first.
  const strands = allocateStrands(p, taken.strands, pending.vcpus, { wholeCore: pending.wholeCore });
  if (!strands.ok) throw new UserError(strands.message);
  const crypto = allocateCrypto(p, taken.crypto, strands.value, pending.crypto);
  if (!crypto.ok) throw new UserError(crypto.message);
  const current = b.mblocks.reduce((n, m) => n + m.size, 0);
  const size = roundUp(pending.memory, MB4);
  const mblocks = rebindMemory(draft, d, size, size < current ? MB256 : MB4);
  for (const dev of pending.io) {
    const owner = draft.domains.find((x) => x !== d && x.binding?.io.includes(dev));
    if (owner) throw new UserError(`I/O device ${dev} is bound to LDom ${owner.constraints.name}`);
  }
  return { ...b, strands: strands.value, crypto: crypto.value, mblocks, io: [...pending.io] };
}

/**
 * A change to the pending configuration must leave one the reboot can bind: otherwise the request
 * is accepted now and the reboot fails later, with the control domain stuck in the delayed
 * reconfiguration. Other domains cannot change meanwhile (guardOthers), so the check is exact.
 */
export function checkRebootFits(draft: Draft, pending: DomainConstraints): void {
  controlBindingAfterReboot(draft, pending);
}

/**
 * What a delayed reconfiguration holds back until the reboot: the resources that cannot change
 * while the control domain runs. Everything else (virtual services, variables, policies) changes at
 * once and is taken from the live constraints at the reboot.
 */
export const DELAYED_FIELDS = ['vcpus', 'wholeCore', 'maxCores', 'crypto', 'memory', 'io'] as const;

function pick(c: DomainConstraints, keys: readonly (keyof DomainConstraints)[]): Partial<DomainConstraints> {
  return Object.fromEntries(keys.map((k) => [k, structuredClone(c[k])]));
}

/** The control domain's constraints as they will be after its reboot (what listings of constraints show). */
export function pendingConstraints(live: DomainConstraints, pending: DomainConstraints): DomainConstraints {
  return { ...live, ...pick(pending, DELAYED_FIELDS) };
}

/** Reboot of the control domain: a pending delayed reconfiguration takes effect. */
export function applyAtReboot(draft: Draft): boolean {
  if (!draft.delayed) return false;
  const d = findDomain(draft, CONTROL_DOMAIN);
  d.binding = controlBindingAfterReboot(draft, draft.delayed);
  d.constraints = pendingConstraints(d.constraints, draft.delayed);
  draft.delayed = null;
  return true;
}
