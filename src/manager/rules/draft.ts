// Finding and guarding the domains a command edits.

import { UserError } from '../errors.js';
import type { Draft, DraftDomain } from '../manager.js';
import type { DomainConstraints } from '../types.js';

export const CONTROL_DOMAIN = 'primary';

export type Say = (text: string) => void;

export function findDomain(draft: Draft, name: string): DraftDomain {
  const d = draft.domains.find((x) => x.constraints.name === name);
  if (!d) throw new UserError(`LDom ${name} not found`);
  return d;
}

/** The verified notice, framed by rules, printed ahead of a command while the control domain waits for its reboot. */
export const DELAYED_NOTICE =
  '----------------------------------------------------------------\n' +
  '\n' +
  'Notice: LDom primary is in the process of a delayed reconfiguration.\n' +
  'Any changes made to primary will only take effect after it reboots.\n' +
  '----------------------------------------------------------------\n';

export const DELAYED_INITIATED =
  'Initiating delayed reconfigure operation on LDom primary. All\n' +
  'configuration changes for other LDoms are disabled until the\n' +
  'LDom reboots, at which time the new configuration for LDom\n' +
  'primary will also take effect.';

/** While the control domain has a delayed reconfiguration pending, other domains cannot be changed. */
export function guardOthers(draft: Draft, name: string, say: Say): void {
  if (draft.delayed === null) return;
  say(DELAYED_NOTICE.replace(/\n$/, ''));
  if (name !== CONTROL_DOMAIN) throw new UserError(`Delayed reconfiguration of LDom ${name} is not permitted`);
}

/** Begin a delayed reconfiguration of the control domain (no-op when one is pending). */
export function enterDelayed(draft: Draft, say: Say): DomainConstraints {
  if (draft.delayed === null) {
    draft.delayed = structuredClone(findDomain(draft, CONTROL_DOMAIN).constraints);
    say(DELAYED_INITIATED);
  }
  return draft.delayed;
}

/** The constraints a change to `d` edits: the pending set for the control domain in delayed reconfiguration. */
export function editable(draft: Draft, d: DraftDomain): DomainConstraints {
  return d.constraints.name === CONTROL_DOMAIN && draft.delayed ? draft.delayed : d.constraints;
}

export function isControl(d: DraftDomain): boolean {
  return d.constraints.name === CONTROL_DOMAIN;
}

/** All MAC addresses in use on the host (domains, switches, vnets), lower case. */
export function macsInUse(draft: Draft): Set<string> {
  const used = new Set<string>();
  const add = (c: DomainConstraints) => {
    if (c.mac) used.add(c.mac.toLowerCase());
    for (const v of c.vsw) if (v.mac) used.add(v.mac.toLowerCase());
    for (const v of c.vnets) if (v.mac) used.add(v.mac.toLowerCase());
  };
  for (const d of draft.domains) add(d.constraints);
  if (draft.delayed) add(draft.delayed);
  return used;
}

export type DrKind = 'cpuDr' | 'memoryDr' | 'cryptoDr' | 'ioDr';

const DR_NAMES: Record<DrKind, string> = {
  cpuDr: 'virtual CPU',
  memoryDr: 'memory',
  cryptoDr: 'crypto unit',
  ioDr: 'virtual I/O',
};

/**
 * A change to a running domain needs its OS to take part: dynamic reconfiguration through drd,
 * where the OS release supports it. A domain at the OpenBoot prompt has no OS to ask: its next boot
 * finds the new configuration.
 */
export function requireDr(d: DraftDomain, kind: DrKind): void {
  if (d.state !== 'active' || d.constraints.name === CONTROL_DOMAIN) return;
  const migrated = d.runtime?.migrated;
  if (migrated && ((kind === 'cpuDr' && migrated.cpuDrDisabled) || (kind === 'memoryDr' && migrated.memoryDrDisabled))) {
    // Seed ("CPU", "Memory"): after a migration these stay off until the domain reboots.
    throw new UserError(
      `Unable to change the ${DR_NAMES[kind]} configuration of LDom ${d.constraints.name} dynamically: ` +
        `${DR_NAMES[kind]} dynamic reconfiguration is disabled for the domain since its migration, until it reboots`,
    );
  }
  const os = d.runtime?.os;
  if (!os) return;
  if (!os.drd) {
    throw new UserError(
      `Unable to change the ${DR_NAMES[kind]} configuration of LDom ${d.constraints.name} dynamically: ` +
        'the drd daemon (svc:/platform/sun4v/drd:default) is not running in the domain',
    );
  }
  if (!os.capabilities[kind]) {
    throw new UserError(
      `Unable to change the ${DR_NAMES[kind]} configuration of LDom ${d.constraints.name} dynamically: ` +
        `its operating system (${os.release}) does not support ${DR_NAMES[kind]} dynamic reconfiguration; ` +
        'stop the domain to make this change',
    );
  }
}
