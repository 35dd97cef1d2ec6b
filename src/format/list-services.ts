// `ldm list-services [-e] [-p] [ldom...]`: the virtual services (vcc, vsw, vds) domains provide.
// Parseable fields follow the contract of ldm-cli.md §5; human headers are [M] (§4.6), choices in
// docs/output-formats-devices.md.

import type { HostView } from '../manager/inventory.js';
import type { Domain } from '../manager/types.js';

export interface ListServicesOptions {
  parseable: boolean;
  /** `-e`: the model has no manager-internal services (VLDC, VDPCS), so nothing is added. */
  extended?: boolean;
}

// Same version line as the other 2.0 parseable listings (see list-devices.ts).
const VERSION_LINE = 'VERSION 1.5';

export function renderListServices(_view: HostView, domains: Domain[], opts: ListServicesOptions): string {
  return opts.parseable ? parseable(domains) : human(domains);
}

function parseable(domains: Domain[]): string {
  const lines = [VERSION_LINE];
  for (const d of domains) {
    const ldom = d.constraints.name;
    for (const v of d.constraints.vcc) lines.push(`VCC|name=${v.name}|ldom=${ldom}|port-range=${v.portMin}-${v.portMax}`);
  }
  for (const d of domains) {
    const ldom = d.constraints.name;
    // Field order of a 2.x-era VSW record (T5240 capture, platforms.md §4.1) with `ldom=` after the name.
    for (const s of d.constraints.vsw)
      lines.push(
        `VSW|name=${s.name}|ldom=${ldom}|mac-addr=${s.mac}|net-dev=${s.netDev}|dev=switch@${s.id}` +
          `|default-vlan-id=${s.defaultVlanId}|pvid=${s.pvid}|vid=${s.vids.join(',')}|mode=${s.mode}` +
          `|mtu=${s.mtu}|linkprop=${s.linkprop}|id=${s.id}`,
      );
  }
  for (const d of domains) {
    const ldom = d.constraints.name;
    for (const s of d.constraints.vds) {
      lines.push(`VDS|name=${s.name}|ldom=${ldom}`);
      // Scripts read these sub-lines by their literal `|vol=` start and take dev as the 4th `|`-field.
      for (const v of s.volumes)
        lines.push(`|vol=${v.name}|opts=${v.options.join(',')}|dev=${v.backend}|mpgroup=${v.mpgroup}`);
    }
  }
  return lines.join('\n') + '\n';
}

function human(domains: Domain[]): string {
  const sections: string[] = [];

  const vcc: string[][] = [];
  for (const d of domains)
    for (const v of d.constraints.vcc) vcc.push([v.name, d.constraints.name, `${v.portMin}-${v.portMax}`]);
  if (vcc.length) sections.push(table('VCC', ['NAME', 'LDOM', 'PORT-RANGE'], vcc));

  const vsw: string[][] = [];
  for (const d of domains)
    for (const s of d.constraints.vsw)
      vsw.push([
        s.name,
        d.constraints.name,
        s.mac,
        s.netDev,
        String(s.id),
        `switch@${s.id}`,
        s.linkprop,
        String(s.defaultVlanId),
        String(s.pvid),
        s.vids.join(','),
        String(s.mtu),
        s.mode,
      ]);
  if (vsw.length)
    sections.push(
      table(
        'VSW',
        ['NAME', 'LDOM', 'MAC', 'NET-DEV', 'ID', 'DEVICE', 'LINKPROP', 'DEFAULT-VLAN-ID', 'PVID', 'VID', 'MTU', 'MODE'],
        vsw,
      ),
    );

  const vds: string[][] = [];
  for (const d of domains)
    for (const s of d.constraints.vds) {
      if (s.volumes.length === 0) vds.push([s.name, d.constraints.name]);
      // Further volumes continue under the service with NAME and LDOM blank, as in the 1.2 VDS sample.
      s.volumes.forEach((v, i) =>
        vds.push([i === 0 ? s.name : '', i === 0 ? d.constraints.name : '', v.name, v.options.join(','), v.mpgroup, v.backend]),
      );
    }
  if (vds.length) sections.push(table('VDS', ['NAME', 'LDOM', 'VOLUME', 'OPTIONS', 'MPGROUP', 'DEVICE'], vds));

  return sections.join('\n');
}

/**
 * A titled table indented by 4; each column but the last is as wide as its widest cell plus one
 * space (the sizing the 1.3 `list-bindings` VSW sample shows); trailing blanks are dropped.
 */
function table(title: string, header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)) + 1);
  const last = header.length - 1;
  const line = (cells: string[]) =>
    ('    ' + cells.map((c, i) => (i < last ? c.padEnd(widths[i]) : c)).join('')).trimEnd();
  return [title, ...all.map(line)].join('\n') + '\n';
}
