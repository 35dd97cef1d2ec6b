// Human per-resource sections of a domain's long listing, shared by `list -l`/`list-bindings`,
// `list -e` and `list -o format`. Layouts: ldm-cli.md §4.3, addendum §2, §3, §5; the widths are
// measured from those samples; choices are in docs/output-formats.md.

import type { HostView } from '../manager/inventory.js';
import { coreOfStrand, strandsOfCore } from '../manager/inventory.js';
import type { Domain } from '../manager/types.js';
import { isControlDomain } from './flags.js';
import { autoTable, fixedTable, section, type Section } from './layout.js';
import { col, formatHostid, formatSize, formatUtilHuman, hex } from './units.js';

/** What a section may need beyond the domain itself. */
export interface SectionContext {
  view: HostView;
  /** Per-vCPU utilisation (percent); without it every vCPU shows the domain's UTIL. */
  vcpuUtil?: (d: Domain, vid: number) => number;
  /** STATUS body for an operation this module does not model (migration); see list-domain.ts. */
  operationStatus?: OperationStatusOf;
}

/** Rows of a STATUS section supplied by the owner of the operation (e.g. migration). */
export interface OperationStatus {
  /** Body lines of the human section, unindented (the section indents them). */
  human: string[];
  /** Lines following the `STATUS` keyword in `-p` output, each starting with `|`. */
  parseable: string[];
}

export type OperationStatusOf = (d: Domain) => OperationStatus | null;

export function isBound(d: Domain): boolean {
  return d.state !== 'inactive' && d.binding !== null;
}

/** `(0, 1, 2, 3)` */
function cpuset(strands: number[]): string {
  return `(${strands.join(', ')})`;
}

// --- identity and control -------------------------------------------------------------------

/** Unindented value right after the head (addendum §2/§3); active domains only. */
export function softstateSection(d: Domain): Section | null {
  if (d.state !== 'active' || !d.runtime) return null;
  return ['SOFTSTATE', d.runtime.softstate];
}

export function uuidSection(d: Domain): Section | null {
  return d.constraints.uuid ? section('UUID', [d.constraints.uuid]) : null;
}

// MAC, HOSTID, CONTROL and DEPENDENCY describe a bound domain: the inactive `ls -l` of addendum §4
// shows only UUID.
export function macSection(d: Domain): Section | null {
  return isBound(d) ? section('MAC', [d.constraints.mac.toLowerCase()]) : null;
}

export function hostidSection(d: Domain): Section | null {
  return isBound(d) ? section('HOSTID', [formatHostid(d.constraints.hostid)]) : null;
}

export function controlSection(d: Domain): Section | null {
  return isBound(d) ? section('CONTROL', [`failure-policy=${d.constraints.failurePolicy}`]) : null;
}

export function dependencySection(d: Domain): Section | null {
  return isBound(d) ? section('DEPENDENCY', [`master=${d.constraints.masters.join(',')}`]) : null;
}

/** Values print raw: an embedded newline (nvramrc) continues on a real, unindented line (ldm-cli.md §5). */
export function variablesSection(d: Domain): Section | null {
  const vars = d.constraints.variables;
  return vars.length ? section('VARIABLES', vars.map((v) => `${v.name}=${v.value}`)) : null;
}

// --- CPU, crypto, memory ----------------------------------------------------------------------

/** The cores the domain has strands on, with those strands. */
export function boundCores(view: HostView, d: Domain): Map<number, number[]> {
  const cores = new Map<number, number[]>();
  for (const s of [...(d.binding?.strands ?? [])].sort((a, b) => a - b)) {
    const c = coreOfStrand(view.platform, s);
    cores.set(c, [...(cores.get(c) ?? []), s]);
  }
  return new Map([...cores].sort((a, b) => a[0] - b[0]));
}

export function coreSection(ctx: SectionContext, d: Domain): Section | null {
  if (!isBound(d) || d.binding!.strands.length === 0) return null;
  const rows = [...boundCores(ctx.view, d)].map(([cid, strands]) => [String(cid), cpuset(strands)]);
  return section('CORE', fixedTable(['CID', 'CPUSET'], [7], rows));
}

/**
 * `VID    PID    CID    UTIL STRAND`: UTIL right-aligned in 4 (blank unless active), STRAND the
 * share of the strand the domain owns, right-aligned under its heading (whole strands: 100%).
 */
export function vcpuSection(ctx: SectionContext, d: Domain): Section | null {
  if (!isBound(d) || d.binding!.strands.length === 0) return null;
  const active = d.state === 'active';
  const lines = [fixedRowVcpu('VID', 'PID', 'CID', 'UTIL', 'STRAND')];
  d.binding!.strands.forEach((pid, vid) => {
    const util = active ? formatUtilHuman(ctx.vcpuUtil ? ctx.vcpuUtil(d, vid) : (d.runtime?.util ?? 0)) : '    ';
    lines.push(fixedRowVcpu(String(vid), String(pid), String(coreOfStrand(ctx.view.platform, pid)), util, '100%'));
  });
  return section('VCPU', lines);
}

function fixedRowVcpu(vid: string, pid: string, cid: string, util: string, strand: string): string {
  return col(vid, 7) + col(pid, 7) + col(cid, 7) + util + ' ' + strand.padStart(6);
}

/** Only where the platform has crypto units and the domain holds some (ldm-cli.md §6.1). */
export function mauSection(ctx: SectionContext, d: Domain): Section | null {
  const units = d.binding?.crypto ?? [];
  if (!isBound(d) || ctx.view.platform.cpu.cryptoUnitsPerCore === 0 || units.length === 0) return null;
  // A unit serves its whole core: the CPUSET is the core's strands (2.0 capture, ldm-cli.md §4.3).
  const rows = [...units].sort((a, b) => a - b).map((id) => [String(id), cpuset(strandsOfCore(ctx.view.platform, id))]);
  return section('MAU', fixedTable(['ID', 'CPUSET'], [7], rows));
}

export function memorySection(d: Domain): Section | null {
  const mblocks = d.binding?.mblocks ?? [];
  if (!isBound(d) || mblocks.length === 0) return null;
  const rows = [...mblocks].sort((a, b) => a.ra - b.ra).map((m) => [hex(m.ra), hex(m.pa), formatSize(m.size)]);
  return section('MEMORY', fixedTable(['RA', 'PA', 'SIZE'], [17, 17], rows));
}

// --- physical I/O -------------------------------------------------------------------------------

export function pseudonymOf(view: HostView, dev: string): string {
  return view.platform.io.find((io) => io.dev === dev)?.alias ?? '';
}

/** Bound devices once bound, the requested ones before. */
export function ioSection(ctx: SectionContext, d: Domain): Section | null {
  const devs = d.binding?.io ?? d.constraints.io;
  if (devs.length === 0) return null;
  const rows = devs.map((dev) => [dev, pseudonymOf(ctx.view, dev), '']);
  return section('IO', fixedTable(['DEVICE', 'PSEUDONYM', 'OPTIONS'], [17, 17], rows));
}

// --- services this domain provides ------------------------------------------------------------

export function vccSection(d: Domain): Section | null {
  const vcc = d.constraints.vcc;
  if (vcc.length === 0) return null;
  const rows = vcc.map((v) => [v.name, `${v.portMin}-${v.portMax}`]);
  return section('VCC', fixedTable(['NAME', 'PORT-RANGE'], [17], rows));
}

/**
 * The 1.3 list-bindings VSW columns (no LDOM) with 2.0's ID and LINKPROP placed as in the
 * list-services header (ldm-cli.md §4.6). `showAutoMac` false blanks addresses the manager chose,
 * as list-constraints does (ldm-cli.md §4.7 `-p`: `mac-addr=`).
 */
export function vswSection(d: Domain, showAutoMac = true): Section | null {
  const vsw = d.constraints.vsw;
  if (vsw.length === 0) return null;
  const header = ['NAME', 'MAC', 'NET-DEV', 'ID', 'DEVICE', 'LINKPROP', 'DEFAULT-VLAN-ID', 'PVID', 'VID', 'MTU', 'MODE'];
  const rows = vsw.map((s) => [
    s.name,
    s.macAuto && !showAutoMac ? '' : s.mac.toLowerCase(),
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
  return section('VSW', autoTable(header, rows));
}

/** 1.2 VDS layout; further volumes of a service continue with NAME blank; MPGROUP added before DEVICE. */
export function vdsSection(d: Domain): Section | null {
  const vds = d.constraints.vds;
  if (vds.length === 0) return null;
  const rows: string[][] = [];
  for (const s of vds) {
    if (s.volumes.length === 0) rows.push([s.name]);
    s.volumes.forEach((v, i) => rows.push([i === 0 ? s.name : '', v.name, v.options.join(','), v.mpgroup, v.backend]));
  }
  return section('VDS', fixedTable(['NAME', 'VOLUME', 'OPTIONS', 'MPGROUP', 'DEVICE'], [17, 15, 17, 15], rows));
}

// --- virtual devices this domain uses ---------------------------------------------------------

/**
 * `NETWORK` heading with the 1.3 `list -l` columns (addendum §5). `withServiceDomain` prints the
 * service as `vsw@domain` (bindings) or bare (constraints, ldm-cli.md §4.7); `showAutoMac` false
 * blanks addresses the manager chose.
 */
export function networkSection(d: Domain, withServiceDomain = true, showAutoMac = true): Section | null {
  const vnets = d.constraints.vnets;
  if (vnets.length === 0) return null;
  const rows = vnets.map((v) => [
    v.name,
    withServiceDomain ? `${v.service}@${v.serviceDomain}` : v.service,
    `network@${v.id}`,
    v.macAuto && !showAutoMac ? '' : v.mac.toLowerCase(),
  ]);
  return section('NETWORK', fixedTable(['NAME', 'SERVICE', 'DEVICE', 'MAC'], [13, 28, 13], rows));
}

/** `DISK` heading with the 1.2 list-bindings columns (ldm-cli.md §4.3). */
export function diskSection(d: Domain): Section | null {
  const vdisks = d.constraints.vdisks;
  if (vdisks.length === 0) return null;
  const rows = vdisks.map((v) => [v.name, `${v.volume}@${v.service}`, `disk@${v.id}`, v.serviceDomain]);
  return section('DISK', fixedTable(['NAME', 'VOLUME', 'DEVICE', 'SERVER'], [17, 28, 11], rows));
}

/** The control domain's console is the SP/UART itself (2.0 capture: a lone `SP` row). */
export function vconsSection(ctx: SectionContext, d: Domain): Section | null {
  if (!isBound(d)) return null;
  const c = d.binding!.console;
  const row = isControlDomain(d)
    ? [ctx.view.platform.primaryConsole]
    : [c.group, `${c.service}@${c.serviceDomain}`, c.port == null ? '' : String(c.port)];
  return section('VCONS', fixedTable(['NAME', 'SERVICE', 'PORT'], [17, 28], [row]));
}

// --- manager-internal channels (`-e`, `-o serial`) ------------------------------------------

/** A logical domain channel the manager sets up itself; not user-configurable. */
export interface Channel {
  name: string;
  service: string;
  desc: string;
}

/** The control domain serves one channel concentrator, named after it (addendum §3: `primary`). */
export function vldcNames(d: Domain): string[] {
  return isBound(d) && isControlDomain(d) ? [d.constraints.name] : [];
}

/**
 * Channels a bound domain holds: the control domain its hypervisor-control channel (addendum §3:
 * `hvctl`), every other domain its domain-services channel to the control domain.
 */
export function vldccChannels(d: Domain): Channel[] {
  if (!isBound(d)) return [];
  if (isControlDomain(d)) return [{ name: 'hvctl', service: 'primary@primary', desc: 'hvctl' }];
  return [{ name: 'ds', service: 'primary@primary', desc: 'domain-services' }];
}

export function vldcSection(d: Domain): Section | null {
  const names = vldcNames(d);
  return names.length ? section('VLDC', ['NAME', ...names]) : null;
}

export function vldccSection(d: Domain): Section | null {
  const ch = vldccChannels(d);
  if (ch.length === 0) return null;
  const rows = ch.map((c) => [c.name, c.service, c.desc]);
  return section('VLDCC', fixedTable(['NAME', 'SERVICE', 'DESC'], [17, 28], rows));
}

// --- `-o resmgmt`, `-o status` -------------------------------------------------------------------

/** Whole-core constraint in the 2.1 form (ldm-cli.md §4.4); nothing without it. */
export function constraintSection(ctx: SectionContext, d: Domain): Section | null {
  const c = d.constraints;
  if (!c.wholeCore) return null;
  const cores = c.maxCores ?? Math.ceil(c.vcpus / ctx.view.platform.cpu.strandsPerCore);
  return section('CONSTRAINT', ['whole-core', `max-cores=${cores}`]);
}

/** DRM policies, one row each (`-o resmgmt`); layout [M], see docs/choices.md. */
export function policySection(d: Domain): Section | null {
  const ps = d.constraints.policies ?? [];
  if (ps.length === 0) return null;
  const lim = (n: number | null) => (n === null ? 'unlimited' : String(n));
  const rows = ps.map((p) => [
    p.enable ? 'on' : 'off',
    String(p.priority),
    String(p.vcpuMin),
    lim(p.vcpuMax),
    String(p.utilLower),
    String(p.utilUpper),
    p.todBegin,
    p.todEnd,
    String(p.sampleRate),
    String(p.elasticMargin),
    lim(p.attack),
    lim(p.decay),
    p.name,
  ]);
  return section('POLICY', autoTable(['STATUS', 'PRI', 'MIN', 'MAX', 'LO', 'UP', 'BEGIN', 'END', 'RATE', 'EM', 'ATK', 'DK', 'NAME'], rows));
}

/** The delayed reconfiguration operation as `-o status` names it. */
export const DELAYED_RECONF_OPERATION = 'delayed reconfiguration';

/**
 * STATUS only while an operation runs (addendum §9: scripts stop polling once it is gone). The
 * hook owns other operations; a delayed reconfiguration has no progress or peer, so one column.
 */
export function statusSection(ctx: SectionContext, d: Domain): Section | null {
  const op = ctx.operationStatus?.(d);
  if (op) return section('STATUS', op.human);
  if (d.delayedReconfig) return section('STATUS', ['OPERATION', DELAYED_RECONF_OPERATION]);
  return null;
}

/** Netra DPS services (1.2 `VDPCS` sample: a NAME column) and clients (NAME, SERVICE [M]). */
export function vdpcsSection(d: Domain): Section | null {
  const v = d.constraints.vdpcs ?? [];
  return v.length ? section('VDPCS', ['NAME', ...v.map((x) => x.name)]) : null;
}

export function vdpccSection(d: Domain): Section | null {
  const v = d.constraints.vdpcc ?? [];
  if (!v.length) return null;
  return section('VDPCC', fixedTable(['NAME', 'SERVICE'], [17], v.map((x) => [x.name, `${x.service}@${x.serviceDomain}`])));
}
