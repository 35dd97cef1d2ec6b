// Phase 1 of a domain migration: one pure check per requirement of the 2.0 guide (seed README,
// migration.md §4), each `(req) => CheckResult`, and the plan phase 2 carries out when every check
// passes. A dry run reports every failure; a real migration stops at the first (reportLines).
// Every text, its source and the choices made are listed in docs/migration-checks.md.

import { formatSize } from '../format/units.js';
import { allocateStrands } from '../manager/alloc/cpu.js';
import { allocateCrypto } from '../manager/alloc/crypto.js';
import { allocateConsolePort } from '../manager/alloc/console.js';
import { fail, ok, type Result } from '../manager/alloc/errors.js';
import { isAutoMac, macToNumber } from '../manager/alloc/mac.js';
import { BIND_ALIGN, GUEST_RA_BASE, allocateMemory, bindMblocksAtRa } from '../manager/alloc/memory.js';
import {
  coreCount,
  cryptoOwners,
  domainByName,
  freeMemory,
  strandOwners,
  strandsOfCore,
  type HostView,
} from '../manager/inventory.js';
import { isValidName } from '../manager/names.js';
import { CONTROL_DOMAIN } from '../manager/rules/draft.js';
import type { Domain, DomainBinding, DomainConstraints, MBlock, Vdisk, VdsVolume } from '../manager/types.js';
import type { CheckResult, HostSide, MigrationPlan, MigrationRequest, PlannedVdisk, PlannedVnet } from './types.js';

/** The first manager release with the latest migration functionality (seed, "CPU"). */
export const LATEST_MIGRATION_VERSION = '2.0';

/** Seed, "CPU": printed when the target runs a manager older than 2.0 (exact text). */
export const OLDER_MANAGER_MESSAGE =
  'The target machine is running an older version of the domain manager that does not support the latest migration functionality.';

/** Seed, "CPU": printed when the guest runs a Solaris older than 10 9/10 (exact text, real name in place of `ldom`). */
export function olderOsMessage(domain: string): string {
  return `Domain ${domain} is not running an operating system that is compatible with the latest migration functionality.`;
}

/** migration.md §4 / §5.3–5.4: the summary line after the reasons. */
export function summaryLine(domain: string, dryRun: boolean): string {
  return dryRun ? `Domain Migration of LDom ${domain} would fail if attempted` : `Domain Migration of LDom ${domain} failed`;
}

// ---------------------------------------------------------------------------------------------
// Shared facts

function result(check: string, messages: string[] = [], warnings: string[] = []): CheckResult {
  return { check, ok: messages.length === 0, messages: unique(messages), warnings: unique(warnings) };
}

function unique(lines: string[]): string[] {
  return [...new Set(lines)];
}

/** `1.3` < `2.0`; an unparseable version is taken as current (never older). */
export function olderVersion(version: string, than: string): boolean {
  const a = version.split('.').map((n) => Number.parseInt(n, 10));
  const b = than.split('.').map((n) => Number.parseInt(n, 10));
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (Number.isNaN(x) || Number.isNaN(y)) return false;
    if (x !== y) return x < y;
  }
  return false;
}

/**
 * The domain being migrated, or null when checkDomainState refuses it outright (missing, or the
 * control domain): the other checks then stay quiet rather than repeat the same refusal.
 */
function subject(req: MigrationRequest): Domain | null {
  const d = domainByName(req.source.view.domains, req.domain);
  return d && d.constraints.name !== CONTROL_DOMAIN ? d : null;
}

/** The binding of a bound or active domain (what moves with it); null for an inactive one. */
function bindingOf(d: Domain): DomainBinding | null {
  return d.state !== 'inactive' ? d.binding : null;
}

function controlDomain(view: HostView): Domain | undefined {
  return domainByName(view.domains, CONTROL_DOMAIN) ?? view.domains[0];
}

/**
 * Seed, "CPU": an older manager on either side, or a guest OS older than Solaris 10 9/10, puts the
 * migration under the old rules (whole cores, spare strands reserved, CPU DR off until reboot).
 * A domain at OpenBoot or in kmdb runs no OS that could take part, so it falls under them too
 * (migration.md §4.2, 3.2 text). Only a live migration has a guest to care about.
 */
export function wholeCoresRequired(req: MigrationRequest): boolean {
  const d = subject(req);
  if (!d || d.state !== 'active') return false;
  return (
    olderVersion(req.target.managerVersion, LATEST_MIGRATION_VERSION) ||
    olderVersion(req.source.managerVersion, LATEST_MIGRATION_VERSION) ||
    d.runtime?.os?.migrationCompatible !== true
  );
}

interface StrandPlacement {
  strands: number[];
  reserved: number[];
  wholeCores: boolean;
}

/** Target strands for the domain: whole free cores under the old rules or the whole-core constraint. */
function placeStrands(req: MigrationRequest, d: Domain, b: DomainBinding): Result<StrandPlacement> {
  const p = req.target.view.platform;
  const count = b.strands.length;
  const taken = new Set(strandOwners(req.target.view.domains).keys());
  const reserved = new Set(req.target.reservedStrands ?? []);
  const free = (s: number) => !taken.has(s) && !reserved.has(s);
  const name = req.domain;
  if (d.constraints.wholeCore || wholeCoresRequired(req)) {
    const perCore = p.cpu.strandsPerCore;
    const cores = Math.ceil(count / perCore);
    const r = allocateStrands(p, taken, cores * perCore, { wholeCore: true, reserved });
    if (!r.ok) {
      let freeCores = 0;
      for (let c = 0; c < coreCount(p); c++) if (strandsOfCore(p, c).every(free)) freeCores++;
      return fail(`Not enough free whole cores on target machine for LDom ${name}: ${cores} required, ${freeCores} available`);
    }
    return ok({ strands: r.value.slice(0, count), reserved: r.value.slice(count), wholeCores: true });
  }
  const r = allocateStrands(p, taken, count, { reserved });
  if (!r.ok) {
    let available = 0;
    for (let c = 0; c < coreCount(p); c++) available += strandsOfCore(p, c).filter(free).length;
    return fail(`Not enough free strands on target machine for LDom ${name}: ${count} required, ${available} available`);
  }
  return ok({ strands: r.value, reserved: [], wholeCores: false });
}

/**
 * Target memory. Active: the same blocks at the same real addresses, new physical addresses
 * (seed, "Memory"; bindMblocksAtRa gives the seed's text). Bound: no guest depends on the real
 * addresses, so the size is bound afresh as `ldm bind` would [M].
 */
function placeMemory(req: MigrationRequest, d: Domain, b: DomainBinding): Result<MBlock[]> {
  const free = freeMemory(req.target.view.platform, req.target.view.domains);
  const need = b.mblocks.reduce((n, m) => n + m.size, 0);
  const have = free.reduce((n, r) => n + r.size, 0);
  if (need > have) {
    return fail(`Not enough free memory on target machine for LDom ${req.domain}: ${formatSize(need)} required, ${formatSize(have)} available`);
  }
  if (d.state === 'active') return bindMblocksAtRa(free, b.mblocks.map(({ ra, size }) => ({ ra, size })));
  return allocateMemory(free, need, { raBase: GUEST_RA_BASE, align: BIND_ALIGN });
}

/** Crypto units the target can give the domain on its new cores: up to as many as it has now. */
function placeCrypto(req: MigrationRequest, b: DomainBinding, strands: number[]): number[] {
  const p = req.target.view.platform;
  const taken = new Set(cryptoOwners(req.target.view.domains).keys());
  for (let n = b.crypto.length; n > 0; n--) {
    const r = allocateCrypto(p, taken, strands, n);
    if (r.ok) return r.value;
  }
  return [];
}

/**
 * Seed, "Virtual I/O": the console goes on a free port of the first vcc of the target's control
 * domain, in a group named after the domain; explicit console constraints are ignored.
 */
function placeConsole(req: MigrationRequest): { binding: DomainBinding['console'] | null; messages: string[] } {
  const view = req.target.view;
  const group = req.targetDomain;
  const messages: string[] = [];
  // The group-name conflict fails the migration rather than joining the group (seed).
  if (view.domains.some((o) => o.binding?.console.group === group)) messages.push(`Console group ${group} is already in use on target machine`);
  const control = controlDomain(view);
  const vcc = control?.constraints.vcc[0];
  if (!control || !vcc) {
    messages.push('No virtual console concentrator (vcc) service exists in the control domain of target machine');
    return { binding: null, messages };
  }
  const used = new Set<number>();
  for (const o of view.domains) if (o.binding && o.binding.console.port !== null) used.add(o.binding.console.port);
  const port = allocateConsolePort(vcc, used);
  if (!port.ok) {
    messages.push(`No free port is left on virtual console concentrator ${vcc.name} of target machine`);
    return { binding: null, messages };
  }
  const binding = { service: vcc.name, serviceDomain: control.constraints.name, port: port.value, group };
  return { binding: messages.length ? null : binding, messages };
}

/**
 * The vdisk OpenBoot boots from: the first word of `boot-device` (default `disk`, i.e. disk@0),
 * read as machine/guests.ts openBootDevice reads it.
 */
export function bootVdisk(c: DomainConstraints): Vdisk | undefined {
  const value = c.variables.find((v) => v.name === 'boot-device')?.value.trim();
  const device = value ? value.split(/\s+/)[0] : 'disk';
  const m = /^(?:disk(\d*)|.*\/disk@(\d+)(?::[a-z])?)$/.exec(device);
  if (m) {
    const id = Number(m[1] || m[2] || 0);
    return c.vdisks.find((k) => k.id === id);
  }
  return c.vdisks.find((k) => k.name === device);
}

function findVolume(side: HostSide, service: string, volume: string) {
  return side.volumes.find((v) => v.service === service && v.volume === volume);
}

function vdsVolume(view: HostView, serviceDomain: string, service: string, volume: string): VdsVolume | undefined {
  return domainByName(view.domains, serviceDomain)
    ?.constraints.vds.find((s) => s.name === service)
    ?.volumes.find((v) => v.name === volume);
}

function findSwitch(view: HostView, name: string): { domain: Domain; netDev: string } | undefined {
  for (const d of view.domains) {
    const v = d.constraints.vsw.find((s) => s.name === name);
    if (v) return { domain: d, netDev: v.netDev };
  }
  return undefined;
}

/**
 * Whether a switch of the host can give a hybrid vnet NIU resources: its net-dev is a port of an
 * NIU (`/niu@80/network@0`) that the switch's own domain owns [M] (docs/migration-checks.md).
 */
export function niuBacked(view: HostView, switchName: string): boolean {
  const sw = findSwitch(view, switchName);
  if (!sw || !sw.netDev) return false;
  const port = view.platform.netDevices.find((n) => n.name === sw.netDev);
  const root = port?.path.split('/')[1];
  const niu = view.platform.io.find((dev) => dev.type === 'NIU' && dev.dev === root);
  return niu !== undefined && (sw.domain.binding?.io ?? sw.domain.constraints.io).includes(niu.dev);
}

// ---------------------------------------------------------------------------------------------
// The checks, in the order runChecks runs them

/** The host-wide blockers: delayed reconfiguration (seed, "Delayed reconfiguration"; §4.8). */
export function checkDelayedReconfig(req: MigrationRequest): CheckResult {
  const messages: string[] = [];
  for (const [side, host] of [['source', req.source], ['target', req.target]] as const) {
    if (host.delayedReconfig || host.view.domains.some((d) => d.delayedReconfig)) {
      messages.push(`A delayed reconfiguration is pending on ${side} machine`);
    }
  }
  return result('delayed-reconfig', messages);
}

/** Seed, "Power management"; §4.9: elastic mode on either machine is an error in 2.0. */
export function checkPowerManagement(req: MigrationRequest): CheckResult {
  const messages: string[] = [];
  for (const [side, host] of [['source', req.source], ['target', req.target]] as const) {
    if (host.view.pmPolicy === 'elastic') messages.push(`Migration is not supported while the power management policy of ${side} machine is elastic`);
  }
  return result('power-management', messages);
}

/**
 * Seed, "Operations on other domains"; §4.10: a migration binds a domain on the target and stops
 * one on the source, both blocked while another migration runs on either machine.
 */
export function checkMigrationInProgress(req: MigrationRequest): CheckResult {
  const messages: string[] = [];
  for (const [side, host] of [['source', req.source], ['target', req.target]] as const) {
    if (host.migrationInProgress || host.view.domains.some((d) => d.migration === 's' || d.migration === 't')) {
      messages.push(`Another migration is in progress on ${side} machine`);
    }
  }
  return result('migration-in-progress', messages);
}

/** The domain exists and may move: not the control domain; active → live, bound/inactive → cold (§4.12). */
export function checkDomainState(req: MigrationRequest): CheckResult {
  const name = req.domain;
  const d = domainByName(req.source.view.domains, name);
  if (!d) return result('domain-state', [`LDom ${name} not found`]);
  if (name === CONTROL_DOMAIN) return result('domain-state', [`LDom ${name} is the control domain and cannot be migrated`]);
  const messages: string[] = [];
  if (d.migration === 'e') {
    // §5.8: the operator resolves the error state first.
    messages.push(`LDom ${name} is in an error state after a failed migration: run ldm cancel-operation migration ${name} first`);
  }
  if (d.memoryDr) messages.push(`LDom ${name} has a memory dynamic reconfiguration in progress`);
  return result('domain-state', messages);
}

/** The name the domain gets on the target: valid, and free there. */
export function checkTargetDomainName(req: MigrationRequest): CheckResult {
  const name = req.targetDomain;
  if (!isValidName(name)) return result('target-domain-name', [`Invalid target domain name: ${name}`]);
  if (domainByName(req.target.view.domains, name)) return result('target-domain-name', [`LDom ${name} already exists on target machine`]);
  return result('target-domain-name');
}

/**
 * Seed, "CPU": a target manager older than 2.0 prints the seed's text and the migration goes on
 * under the old rules; an older source manager cannot tell, so nothing is printed. Live only.
 */
export function checkManagerVersions(req: MigrationRequest): CheckResult {
  const d = subject(req);
  if (!d || d.state !== 'active') return result('manager-versions');
  const older = olderVersion(req.target.managerVersion, LATEST_MIGRATION_VERSION);
  return result('manager-versions', [], older ? [OLDER_MANAGER_MESSAGE] : []);
}

/** Seed, "CPU": a guest older than Solaris 10 9/10 (or at OpenBoot) prints the seed's text; old rules. */
export function checkGuestOs(req: MigrationRequest): CheckResult {
  const d = subject(req);
  if (!d || d.state !== 'active') return result('guest-os');
  return result('guest-os', [], d.runtime?.os?.migrationCompatible === true ? [] : [olderOsMessage(req.domain)]);
}

/** Seed, "CPU"; §4.2: same processor type at the same frequency. Bound/inactive may cross (§4.12). */
export function checkProcessorType(req: MigrationRequest): CheckResult {
  const d = subject(req);
  if (!d || d.state !== 'active') return result('processor-type');
  const s = req.source.view.platform.cpu;
  const t = req.target.view.platform.cpu;
  if (s.type !== t.type) return result('processor-type', [`Processor type of target machine (${t.type}) differs from source machine (${s.type})`]);
  if (s.clockMHz !== t.clockMHz) {
    return result('processor-type', [`Processor frequency of target machine (${t.clockMHz} MHz) differs from source machine (${s.clockMHz} MHz)`]);
  }
  return result('processor-type');
}

/** Seed, "CPU": enough free strands; entirely free whole cores under the old rules. */
export function checkStrands(req: MigrationRequest): CheckResult {
  const d = subject(req);
  const b = d && bindingOf(d);
  if (!d || !b) return result('strands');
  const r = placeStrands(req, d, b);
  return result('strands', r.ok ? [] : [r.message]);
}

/** Seed, "Memory": enough free memory, same blocks at the same real addresses. */
export function checkMemory(req: MigrationRequest): CheckResult {
  const d = subject(req);
  const b = d && bindingOf(d);
  if (!d || !b) return result('memory');
  const r = placeMemory(req, d, b);
  return result('memory', r.ok ? [] : [r.message]);
}

/** Seed, "Physical I/O"; §4.4: a domain with direct access to physical devices cannot move (any state). */
export function checkPhysicalIo(req: MigrationRequest): CheckResult {
  const d = subject(req);
  if (!d) return result('physical-io');
  const devices = unique([...d.constraints.io, ...(d.binding?.io ?? [])]);
  if (devices.length === 0) return result('physical-io');
  return result('physical-io', [`LDom ${req.domain} owns physical I/O devices (${devices.join(', ')}) and cannot be migrated`]);
}

/**
 * Seed, "Virtual I/O"; §4.5: every volume as the same volume@service on the target, reaching the
 * same storage. A boot volume on other storage migrates and then cannot boot (the seed's caution):
 * a warning here. Active domains also need the same back-end options and mpgroup (§4.5, not for
 * bound ones); inactive domains need nothing until bind (§4.12).
 */
export function checkVirtualDisks(req: MigrationRequest): CheckResult {
  const d = subject(req);
  if (!d || d.state === 'inactive') return result('virtual-disks');
  const boot = bootVdisk(d.constraints);
  const messages: string[] = [];
  const warnings: string[] = [];
  for (const disk of d.constraints.vdisks) {
    const id = `${disk.volume}@${disk.service}`;
    const src = findVolume(req.source, disk.service, disk.volume);
    const dst = findVolume(req.target, disk.service, disk.volume);
    if (!dst) {
      messages.push(`Failed to find required volume ${id} on target machine`);
      continue;
    }
    // A source back end that reaches nothing gives nothing to compare against.
    const same = dst.storage !== null && (src?.storage == null || src.storage === dst.storage);
    if (!same) {
      if (disk === boot) {
        warnings.push(`Volume ${id}, the boot device of LDom ${req.domain}, refers to different storage on target machine: the migrated domain will not be able to boot`);
      } else messages.push(`Volume ${id} does not refer to the same storage on target machine`);
    }
    if (d.state !== 'active' || !src) continue;
    const sv = vdsVolume(req.source.view, src.serviceDomain, disk.service, disk.volume);
    const tv = vdsVolume(req.target.view, dst.serviceDomain, disk.service, disk.volume);
    if (!sv || !tv) continue;
    const opts = (v: VdsVolume) => [...v.options].sort().join(',') || 'none';
    if (opts(sv) !== opts(tv)) messages.push(`Volume ${id} has different options on target machine (${opts(tv)}) than on source machine (${opts(sv)})`);
    if (sv.mpgroup !== tv.mpgroup) {
      messages.push(`Volume ${id} has a different mpgroup on target machine (${tv.mpgroup || 'none'}) than on source machine (${sv.mpgroup || 'none'})`);
    }
  }
  return result('virtual-disks', messages, warnings);
}

/** Seed, "Virtual I/O"; §4.5: a switch of the same name for every vnet ([M] text of §4.5). */
export function checkVirtualSwitches(req: MigrationRequest): CheckResult {
  const d = subject(req);
  if (!d || d.state === 'inactive') return result('virtual-switches');
  const missing = d.constraints.vnets.filter((n) => !findSwitch(req.target.view, n.service));
  return result('virtual-switches', missing.map((n) => `Failed to find required vsw ${n.service} on target machine`));
}

/** Seed, "Virtual I/O": the domain's MAC addresses in the automatic range must be free on the target. */
export function checkMacAddresses(req: MigrationRequest): CheckResult {
  const d = subject(req);
  if (!d) return result('mac-addresses');
  const used = new Set<number>();
  for (const o of req.target.view.domains) {
    const c = o.constraints;
    for (const mac of [c.mac, ...c.vsw.map((v) => v.mac), ...c.vnets.map((v) => v.mac)]) {
      const n = macToNumber(mac);
      if (n !== null) used.add(n);
    }
  }
  const c = d.constraints;
  const mine = [
    { mac: c.mac, owner: `LDom ${req.domain}` },
    ...c.vnets.map((v) => ({ mac: v.mac, owner: `vnet ${v.name} of LDom ${req.domain}` })),
  ];
  const messages = mine
    .filter(({ mac }) => isAutoMac(mac) && used.has(macToNumber(mac)!))
    .map(({ mac, owner }) => `MAC address ${mac} of ${owner} is already in use on target machine`);
  return result('mac-addresses', messages);
}

/** Seed, "Virtual I/O": a vcc with a free port in the target's control domain; no group-name conflict. */
export function checkConsole(req: MigrationRequest): CheckResult {
  const d = subject(req);
  if (!d || d.state === 'inactive') return result('console');
  return result('console', placeConsole(req).messages);
}

/**
 * Seed, "NIU Hybrid I/O"; §4.6: never fails. Without NIU resources on the target the hybrid
 * constraint is kept and stays unsatisfied (MigrationPlan.niuHybridUnsatisfied).
 */
export function checkNiuHybrid(_req: MigrationRequest): CheckResult {
  return result('niu-hybrid');
}

/**
 * Seed, "Crypto units"; §4.7. Live: the units are removed at the start, which needs crypto DR in
 * the guest; the target gives back what it can (fewer: a warning, seed note). Bound: the units
 * are bound on the target like any constraint [M].
 */
export function checkCrypto(req: MigrationRequest): CheckResult {
  const d = subject(req);
  const b = d && bindingOf(d);
  if (!d || !b || b.crypto.length === 0) return result('crypto');
  const name = req.domain;
  if (d.state === 'active' && d.runtime?.os?.capabilities.cryptoDr !== true) {
    return result('crypto', [`LDom ${name} has crypto units but its operating system does not support crypto unit dynamic reconfiguration`]);
  }
  const strands = placeStrands(req, d, b);
  if (!strands.ok) return result('crypto'); // checkStrands reports it
  const wanted = b.crypto.length;
  const got = placeCrypto(req, b, strands.value.strands).length;
  if (got === wanted) return result('crypto');
  if (d.state === 'active') return result('crypto', [], [`Only ${got} of the ${wanted} crypto units of LDom ${name} will be added back on target machine`]);
  return result('crypto', [`Not enough free crypto units on target machine for LDom ${name}: ${wanted} required, ${got} available`]);
}

/** Every check, in the order they run and report. */
export const CHECKS: readonly ((req: MigrationRequest) => CheckResult)[] = [
  checkDomainState,
  checkTargetDomainName,
  checkDelayedReconfig,
  checkPowerManagement,
  checkMigrationInProgress,
  checkManagerVersions,
  checkGuestOs,
  checkProcessorType,
  checkStrands,
  checkMemory,
  checkPhysicalIo,
  checkVirtualDisks,
  checkVirtualSwitches,
  checkMacAddresses,
  checkConsole,
  checkNiuHybrid,
  checkCrypto,
];

// ---------------------------------------------------------------------------------------------
// Running them

/** Runs every check; the plan exists only when all pass. */
export function runChecks(req: MigrationRequest): { results: CheckResult[]; plan: MigrationPlan | null } {
  const results = CHECKS.map((check) => check(req));
  const plan = results.every((r) => r.ok) ? buildPlan(req, results.flatMap((r) => r.warnings)) : null;
  return { results, plan };
}

/**
 * What the user sees (migration.md §5.3–5.4): warnings and reasons in check order, then the
 * summary line on failure. A real migration stops at its first failing check; a dry run names
 * every reason (issue 5: Oracle stops at the first, this implementation names them all).
 */
export function reportLines(req: MigrationRequest, results: readonly CheckResult[]): { lines: string[]; failed: boolean } {
  const lines: string[] = [];
  let failed = false;
  for (const r of results) {
    lines.push(...r.warnings, ...r.messages);
    if (!r.ok) {
      failed = true;
      if (!req.dryRun) break;
    }
  }
  if (failed) lines.push(summaryLine(req.domain, req.dryRun));
  return { lines, failed };
}

function mustPlace<T>(r: Result<T>): T {
  if (!r.ok) throw new RangeError(`migration plan after a failed check: ${r.message}`);
  return r.value;
}

function buildPlan(req: MigrationRequest, warnings: string[]): MigrationPlan {
  const d = subject(req);
  if (!d) throw new RangeError(`migration plan for ${req.domain}, which cannot migrate`);
  const live = d.state === 'active';
  const b = bindingOf(d);
  const target = req.target.view;
  const boot = bootVdisk(d.constraints);

  const vdisks: PlannedVdisk[] = d.constraints.vdisks.map((k) => {
    const dst = findVolume(req.target, k.service, k.volume);
    return {
      name: k.name,
      volume: k.volume,
      service: k.service,
      // An inactive domain's services need not exist until it binds (§4.12): keep the source's.
      serviceDomain: dst?.serviceDomain ?? k.serviceDomain,
      backend: dst?.backend ?? '',
      boot: k === boot,
    };
  });
  const vnets: PlannedVnet[] = d.constraints.vnets.map((n) => ({
    name: n.name,
    service: n.service,
    serviceDomain: findSwitch(target, n.service)?.domain.constraints.name ?? n.serviceDomain,
    hybrid: n.mode === 'hybrid',
  }));
  const niuHybridUnsatisfied = vnets.filter((n) => n.hybrid && !niuBacked(target, n.service)).map((n) => n.name);

  const constraints: DomainConstraints = structuredClone(d.constraints);
  constraints.name = req.targetDomain;
  constraints.console = {};
  constraints.vdisks.forEach((k, i) => (k.serviceDomain = vdisks[i].serviceDomain));
  constraints.vnets.forEach((n, i) => (n.serviceDomain = vnets[i].serviceDomain));

  let binding: DomainBinding | null = null;
  let placement: StrandPlacement = { strands: [], reserved: [], wholeCores: false };
  let crypto: MigrationPlan['crypto'] = { removeAtStart: [], addAfter: [] };
  if (b) {
    placement = mustPlace(placeStrands(req, d, b));
    const mblocks = mustPlace(placeMemory(req, d, b));
    const units = placeCrypto(req, b, placement.strands);
    const console = placeConsole(req).binding;
    if (!console) throw new RangeError(`migration plan for ${req.domain} without a console`);
    // Live: the guest gives its units up before the move and gets them back after (seed, "Crypto units").
    if (live) crypto = { removeAtStart: [...b.crypto], addAfter: units };
    binding = { strands: placement.strands, crypto: live ? [] : units, mblocks, io: [], console };
  }
  const oldRules = wholeCoresRequired(req);
  return {
    domain: req.domain,
    targetDomain: req.targetDomain,
    kind: live ? 'live' : 'cold',
    state: d.state,
    constraints,
    binding,
    wholeCores: placement.wholeCores,
    reservedStrands: placement.reserved,
    cpuDrDisabledUntilReboot: oldRules,
    // Seed, "Memory" note: after every migration memory DR waits for the domain's reboot.
    memoryDrDisabledUntilReboot: live,
    crypto,
    vdisks,
    vnets,
    niuHybridUnsatisfied,
    warnings: unique(warnings),
  };
}
