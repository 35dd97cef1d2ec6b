// Parseable (`-p`) per-resource records of a domain: `KEYWORD|k=v|...`, or a bare keyword line
// followed by `|k=v` lines. Field names and orders: ldm-cli.md §4.2 and the contract of §5, the
// 2.x-era T5240 capture (platforms.md §4.1) for MAU, MEMORY, IO and VSW.

import { coreOfStrand, domainByName, strandsOfCore } from '../manager/inventory.js';
import type { Domain, Vdisk, VswService } from '../manager/types.js';
import { isControlDomain } from './flags.js';
import { boundCores, isBound, pseudonymOf, vldcNames, vldccChannels, type SectionContext } from './sections.js';
import { formatHostid, formatUtilParseable, hex } from './units.js';

/**
 * 2.0's parseable version is unconfirmed (addendum §8); a 2.x-era T5240 capture prints 1.5
 * (platforms.md §4.1), the value the other 2.0 listings use too.
 */
export const PARSEABLE_VERSION = 'VERSION 1.5';

export function uuidRecord(d: Domain): string[] {
  return d.constraints.uuid ? [`UUID|uuid=${d.constraints.uuid}`] : [];
}

export function macRecord(d: Domain): string[] {
  return isBound(d) ? [`MAC|mac-addr=${d.constraints.mac.toLowerCase()}`] : [];
}

export function hostidRecord(d: Domain): string[] {
  return isBound(d) ? [`HOSTID|hostid=${formatHostid(d.constraints.hostid)}`] : [];
}

export function controlRecord(d: Domain): string[] {
  return isBound(d) ? [`CONTROL|failure-policy=${d.constraints.failurePolicy}`] : [];
}

export function dependencyRecord(d: Domain): string[] {
  return isBound(d) ? [`DEPENDENCY|master=${d.constraints.masters.join(',')}`] : [];
}

/** Multi-line values keep their real continuation lines (ldm-cli.md §5 hazards). */
export function variablesRecords(d: Domain): string[] {
  const vars = d.constraints.variables;
  return vars.length ? ['VARIABLES', ...vars.map((v) => `|${v.name}=${v.value}`)] : [];
}

export function coreRecords(ctx: SectionContext, d: Domain): string[] {
  if (!isBound(d) || d.binding!.strands.length === 0) return [];
  return ['CORE', ...[...boundCores(ctx.view, d)].map(([cid, strands]) => `|cid=${cid}|cpuset=${strands.join(',')}`)];
}

/** `|vid=|pid=|cid=|util=|strand=`: util bare decimal, empty unless active; strand a bare percentage. */
export function vcpuRecords(ctx: SectionContext, d: Domain): string[] {
  if (!isBound(d) || d.binding!.strands.length === 0) return [];
  const active = d.state === 'active';
  const rows = d.binding!.strands.map((pid, vid) => {
    const util = active ? formatUtilParseable(ctx.vcpuUtil ? ctx.vcpuUtil(d, vid) : (d.runtime?.util ?? 0)) : '';
    return `|vid=${vid}|pid=${pid}|cid=${coreOfStrand(ctx.view.platform, pid)}|util=${util}|strand=100`;
  });
  return ['VCPU', ...rows];
}

export function mauRecords(ctx: SectionContext, d: Domain): string[] {
  const units = d.binding?.crypto ?? [];
  if (!isBound(d) || ctx.view.platform.cpu.cryptoUnitsPerCore === 0 || units.length === 0) return [];
  const rows = [...units].sort((a, b) => a - b).map((id) => `|id=${id}|cpuset=${strandsOfCore(ctx.view.platform, id).join(',')}`);
  return ['MAU', ...rows];
}

export function memoryRecords(d: Domain): string[] {
  const mblocks = d.binding?.mblocks ?? [];
  if (!isBound(d) || mblocks.length === 0) return [];
  const rows = [...mblocks].sort((a, b) => a.ra - b.ra).map((m) => `|ra=${hex(m.ra)}|pa=${hex(m.pa)}|size=${m.size}`);
  return ['MEMORY', ...rows];
}

export function ioRecords(ctx: SectionContext, d: Domain): string[] {
  const devs = d.binding?.io ?? d.constraints.io;
  return devs.length ? ['IO', ...devs.map((dev) => `|dev=${dev}|alias=${pseudonymOf(ctx.view, dev)}`)] : [];
}

export function vccRecords(d: Domain): string[] {
  return d.constraints.vcc.map((v) => `VCC|name=${v.name}|port-range=${v.portMin}-${v.portMax}`);
}

/** Field order of the T5240 capture; `showAutoMac` false leaves `mac-addr=` empty (constraints). */
export function vswRecord(s: VswService, showAutoMac = true): string {
  const mac = s.macAuto && !showAutoMac ? '' : s.mac.toLowerCase();
  return (
    `VSW|name=${s.name}|mac-addr=${mac}|net-dev=${s.netDev}|dev=switch@${s.id}` +
    `|default-vlan-id=${s.defaultVlanId}|pvid=${s.pvid}|vid=${s.vids.join(',')}|mode=${s.mode}` +
    `|mtu=${s.mtu}|linkprop=${s.linkprop}|id=${s.id}`
  );
}

export function vswRecords(d: Domain, showAutoMac = true): string[] {
  return d.constraints.vsw.map((s) => vswRecord(s, showAutoMac));
}

/** `VDS|name=` then one `|vol=|opts=|dev=|mpgroup=` line per volume (dev is the 4th field, §5). */
export function vdsRecords(d: Domain): string[] {
  const lines: string[] = [];
  for (const s of d.constraints.vds) {
    lines.push(`VDS|name=${s.name}`);
    for (const v of s.volumes) lines.push(`|vol=${v.name}|opts=${v.options.join(',')}|dev=${v.backend}|mpgroup=${v.mpgroup}`);
  }
  return lines;
}

/**
 * `VNET|name=|dev=network@N|service=|mac-addr=|mode=|pvid=|vid=|mtu=|linkprop=|id=`: mac-addr is the
 * 5th `|` field (§5). Bindings print the service as `vsw@domain`, constraints bare (§4.7).
 */
export function vnetRecords(d: Domain, withServiceDomain = true, showAutoMac = true): string[] {
  return d.constraints.vnets.map((v) => {
    const service = withServiceDomain ? `${v.service}@${v.serviceDomain}` : v.service;
    const mac = v.macAuto && !showAutoMac ? '' : v.mac.toLowerCase();
    return (
      `VNET|name=${v.name}|dev=network@${v.id}|service=${service}|mac-addr=${mac}|mode=${v.mode}` +
      `|pvid=${v.pvid}|vid=${v.vids.join(',')}|mtu=${v.mtu}|linkprop=${v.linkprop}|id=${v.id}`
    );
  });
}

/** The multipath group of the volume a vdisk uses, looked up in its service domain. */
function mpgroupOf(ctx: SectionContext, v: Vdisk): string {
  const server = domainByName(ctx.view.domains, v.serviceDomain);
  const vds = server?.constraints.vds.find((s) => s.name === v.service);
  return vds?.volumes.find((vol) => vol.name === v.volume)?.mpgroup ?? '';
}

/** A timeout of 0 (wait forever) prints empty. */
export function timeoutText(v: Vdisk): string {
  return v.timeout ? String(v.timeout) : '';
}

/** `VDISK|name=|vol=<vol>@<vds>|timeout=|dev=disk@N|server=|mpgroup=|id=N` (order of §5). */
export function vdiskRecords(ctx: SectionContext, d: Domain): string[] {
  return d.constraints.vdisks.map(
    (v) =>
      `VDISK|name=${v.name}|vol=${v.volume}@${v.service}|timeout=${timeoutText(v)}|dev=disk@${v.id}` +
      `|server=${v.serviceDomain}|mpgroup=${mpgroupOf(ctx, v)}|id=${v.id}`,
  );
}

/** `VCONS|type=|service=|port=|group=` (§4.2): the control domain's console is typed SP/UART. */
export function vconsRecords(ctx: SectionContext, d: Domain): string[] {
  if (!isBound(d)) return [];
  const c = d.binding!.console;
  if (isControlDomain(d)) return [`VCONS|type=${ctx.view.platform.primaryConsole}|service=|port=|group=`];
  return [`VCONS|type=|service=${c.service}@${c.serviceDomain}|port=${c.port ?? ''}|group=${c.group}`];
}

export function vldcRecords(d: Domain): string[] {
  return vldcNames(d).map((n) => `VLDC|name=${n}`);
}

export function vldccRecords(d: Domain): string[] {
  return vldccChannels(d).map((c) => `VLDCC|name=${c.name}|service=${c.service}|desc=${c.desc}`);
}

/** `-o resmgmt -p`: every field `k=v` so that `split('=')` parsers hold. */
export function constraintRecords(ctx: SectionContext, d: Domain): string[] {
  const c = d.constraints;
  if (!c.wholeCore) return [];
  const cores = c.maxCores ?? Math.ceil(c.vcpus / ctx.view.platform.cpu.strandsPerCore);
  return [`CONSTRAINT|cpu=whole-core|max-cores=${cores}`];
}

/** `-o resmgmt -p`: one POLICY record per policy, every field `k=v`. */
export function policyRecords(d: Domain): string[] {
  const lim = (n: number | null) => (n === null ? 'unlimited' : String(n));
  return (d.constraints.policies ?? []).map(
    (p) =>
      `POLICY|status=${p.enable ? 'on' : 'off'}|pri=${p.priority}|min=${p.vcpuMin}|max=${lim(p.vcpuMax)}|lo=${p.utilLower}|up=${p.utilUpper}` +
      `|begin=${p.todBegin}|end=${p.todEnd}|rate=${p.sampleRate}|em=${p.elasticMargin}|attack=${lim(p.attack)}|decay=${lim(p.decay)}|name=${p.name}`,
  );
}

export function statusRecords(ctx: SectionContext, d: Domain): string[] {
  const op = ctx.operationStatus?.(d);
  if (op) return ['STATUS', ...op.parseable];
  if (d.delayedReconfig) return ['STATUS', '|op=delayed-reconfig'];
  return [];
}

export function vdpcsRecords(d: Domain): string[] {
  return (d.constraints.vdpcs ?? []).map((v) => `VDPCS|name=${v.name}`);
}

export function vdpccRecords(d: Domain): string[] {
  return (d.constraints.vdpcc ?? []).map((v) => `VDPCC|name=${v.name}|service=${v.service}@${v.serviceDomain}`);
}
