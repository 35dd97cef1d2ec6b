// `ldm -V`: manager version, hypervisor interface versions and the firmware (System PROM) lines.
// Shape and tabs from the real captures (platforms.md §3.1, §6.2, §8.1); the 2.0 numbers are [M]
// (ldm-cli-addendum.md §9), choices in docs/output-formats-devices.md.

import type { HostView } from '../manager/inventory.js';

// What a 2.0 manager negotiates with 2.0-era (System Firmware 7.3 / 8.0) hypervisors: between the
// 1.2 manager's 1.3 / 0.1 and the 3.0 manager's 1.7 / 1.3 on 2011 firmware.
const HV_CONTROL_PROTOCOL = '1.5';
const HV_MD_VERSION = '1.1';

export function renderVersion(view: HostView): string {
  const fw = view.platform.firmware;
  const lines = [
    // Every real capture starts with an empty line.
    '',
    `Logical Domains Manager (v ${view.managerVersion})`,
    `\tHypervisor control protocol v ${HV_CONTROL_PROTOCOL}`,
    `\tUsing Hypervisor MD v ${HV_MD_VERSION}`,
    '',
    'System PROM:',
  ];
  // T3 and later firmware report Hostconfig first (§1.1 of platforms.md).
  if (fw.hostconfig) lines.push(promLine('Hostconfig', fw.hostconfig));
  lines.push(promLine('Hypervisor', fw.hypervisor), promLine('OpenBoot', fw.openboot));
  return lines.join('\n') + '\n';
}

/**
 * `\tHypervisor\tv. 1.11.1.\t@(#)Hypervisor 1.11.1.a 2012/08/03 09:46`. The firmware field holds
 * `<version>[ <date> <time>]` (a leading component name is tolerated); the short `v.` form drops the
 * letter suffix of the version (`1.11.1.a` -> `1.11.1.`, `4.34.1` unchanged), as in the captures.
 */
function promLine(component: string, firmware: string): string {
  const full = firmware.trim().replace(new RegExp(`^(${component}|OBP)\\s+`), '');
  const version = full.split(/\s+/)[0];
  const short = version.replace(/[a-z]+$/i, '');
  return `\t${component}\tv. ${short}\t@(#)${component} ${full}`;
}
