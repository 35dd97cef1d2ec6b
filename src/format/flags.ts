// The six-position FLAGS column (ldm-cli.md §3.3) and its word form for `-l -p`.

import type { HostView } from '../manager/inventory.js';
import type { Domain } from '../manager/types.js';

/** The control domain is the one the SP creates, always named `primary` (ldm-cli.md §3.1). */
export function isControlDomain(d: Domain): boolean {
  return d.constraints.name === 'primary';
}

/** A service domain provides a console concentrator, virtual switch or virtual disk server. */
export function providesServices(d: Domain): boolean {
  const c = d.constraints;
  return c.vcc.length > 0 || c.vsw.length > 0 || c.vds.length > 0 || (c.vdpcs ?? []).length > 0;
}

/**
 * `-n-cv-` style flags. An inactive domain is unknown to the hypervisor, so every position is
 * `-` (the inactive rows of ldm-cli.md §4.1 and addendum §4 all print `------`).
 */
export function flagsOf(d: Domain, _view: HostView): string {
  if (d.state === 'inactive') return '------';
  // Position 1 (`s`, starting/stopping) is not modelled: start and stop complete at once.
  const starting = '-';
  const os = d.state === 'active' && d.runtime ? d.runtime.osFlag : '-';
  const reconf = d.delayedReconfig ? 'd' : d.memoryDr ? 'r' : '-';
  const control = isControlDomain(d) ? 'c' : '-';
  const service = providesServices(d) ? 'v' : '-';
  const migration = d.migration || '-';
  return starting + os + reconf + control + service + migration;
}

// Word per letter and position; the order of the words is the order of the positions.
const WORDS: Record<string, string>[] = [
  { s: 'starting' },
  { n: 'normal', t: 'transition', d: 'degraded' },
  { d: 'delayed-reconfig', r: 'memory-dr' },
  { c: 'control' },
  { v: 'vio-service' },
  { s: 'source', t: 'target', e: 'error' },
];

/** `normal,control,vio-service`; '' when no flag is set (addendum §4: `flags=` of an inactive domain). */
export function flagWords(d: Domain, view: HostView): string {
  const letters = flagsOf(d, view);
  const words: string[] = [];
  for (let i = 0; i < WORDS.length; i++) {
    const w = WORDS[i][letters[i]];
    if (w) words.push(w);
  }
  return words.join(',');
}
