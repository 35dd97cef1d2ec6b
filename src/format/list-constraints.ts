// `ldm list-constraints [-e] [-p] [ldom...]`: what was asked for, in any state. Human layout of the
// 1.2 sample and `-p` of ldm-cli.md §4.7, with the 2.0 additions (UUID, CONTROL, CORE count);
// `-x` lives elsewhere. Choices: docs/output-formats.md.

import type { HostView } from '../manager/inventory.js';
import type { Domain } from '../manager/types.js';
import { domainBlock, fixedTable, joinDomainBlocks, joinLines, section, type Section } from './layout.js';
import * as r from './records.js';
import * as s from './sections.js';
import type { SectionContext } from './sections.js';
import { formatSize } from './units.js';

export interface ListConstraintsOptions {
  parseable: boolean;
  /** `-e`: no extra constraints are modelled, so the output is the same. */
  extended?: boolean;
}

/** The requested counts and sizes; the bound values may differ (ldm-cli.md §6.2). */
interface Counts {
  cores: number | null;
  vcpus: number;
  crypto: number;
  memory: number;
}

function countsOf(view: HostView, d: Domain): Counts {
  const c = d.constraints;
  return {
    // Whole-core domains count cores as well as vCPUs (ldm-cli.md §4.7: `CORE|count=N`).
    cores: c.wholeCore ? Math.ceil(c.vcpus / view.platform.cpu.strandsPerCore) : null,
    vcpus: c.vcpus,
    crypto: c.crypto,
    memory: c.memory,
  };
}

// Constraints carry only what was fixed: an address the manager chose is not a constraint, hence
// no MAC record for an auto-MAC domain and `mac-addr=` empty for an auto-MAC vsw (§4.7 `-p` sample).
function macFixed(d: Domain): boolean {
  return !d.constraints.macAuto;
}

function hasConsole(d: Domain): boolean {
  const v = d.constraints.console;
  return v.group !== undefined || v.port !== undefined || v.service !== undefined;
}

function countSection(heading: string, n: number): Section {
  return section(heading, ['COUNT', String(n)]);
}

function humanSections(ctx: SectionContext, d: Domain): Section[] {
  const c = d.constraints;
  const n = countsOf(ctx.view, d);
  const v = c.console;
  const out: (Section | null)[] = [
    s.uuidSection(d),
    macFixed(d) ? section('MAC', [c.mac.toLowerCase()]) : null,
    section('CONTROL', [`failure-policy=${c.failurePolicy}`]),
    section('DEPENDENCY', [`master=${c.masters.join(',')}`]),
    n.cores !== null ? countSection('CORE', n.cores) : null,
    n.vcpus ? countSection('VCPU', n.vcpus) : null,
    n.crypto ? countSection('MAU', n.crypto) : null,
    n.memory ? section('MEMORY', ['SIZE', formatSize(n.memory)]) : null,
    s.variablesSection(d),
    c.io.length ? s.ioSection(ctx, { ...d, binding: null }) : null,
    // Services in the order of the §4.7 `-p` sample: VDS, VCC, VSW.
    s.vdsSection(d),
    s.vccSection(d),
    s.vswSection(d, false),
    s.networkSection(d, false, false),
    c.vdisks.length
      ? section('DISK', fixedTable(['NAME', 'VOLUME'], [17], c.vdisks.map((x) => [x.name, `${x.volume}@${x.service}`])))
      : null,
    hasConsole(d)
      ? section(
          'VCONS',
          fixedTable(['NAME', 'SERVICE', 'PORT'], [17, 28], [[v.group ?? '', v.service ?? '', v.port === undefined ? '' : String(v.port)]]),
        )
      : null,
  ];
  return out.filter((x): x is Section => x !== null);
}

function records(ctx: SectionContext, d: Domain): string[] {
  const c = d.constraints;
  const n = countsOf(ctx.view, d);
  const v = c.console;
  return [
    `DOMAIN|name=${c.name}`,
    ...r.uuidRecord(d),
    ...(macFixed(d) ? [`MAC|mac-addr=${c.mac.toLowerCase()}`] : []),
    `CONTROL|failure-policy=${c.failurePolicy}`,
    `DEPENDENCY|master=${c.masters.join(',')}`,
    ...(n.cores !== null ? [`CORE|count=${n.cores}`] : []),
    ...(n.vcpus ? [`VCPU|count=${n.vcpus}`] : []),
    ...(n.crypto ? [`MAU|count=${n.crypto}`] : []),
    ...(n.memory ? [`MEMORY|size=${n.memory}`] : []),
    ...r.variablesRecords(d),
    // The 1.2 sample leaves `alias=` empty here: the constraint is the device path alone.
    ...(c.io.length ? ['IO', ...c.io.map((dev) => `|dev=${dev}|alias=`)] : []),
    ...r.vdsRecords(d),
    ...r.vccRecords(d),
    ...r.vswRecords(d, false),
    ...r.vnetRecords(d, false, false),
    ...c.vdisks.map((x) => `VDISK|name=${x.name}|vol=${x.volume}@${x.service}|timeout=${r.timeoutText(x)}|id=${x.id}`),
    ...(hasConsole(d) ? [`VCONS|group=${v.group ?? ''}|service=${v.service ?? ''}|port=${v.port ?? ''}`] : []),
  ];
}

export function renderListConstraints(view: HostView, domains: Domain[], opts: ListConstraintsOptions): string {
  if (domains.length === 0) return '';
  const ctx: SectionContext = { view };
  if (opts.parseable) return joinLines([r.PARSEABLE_VERSION, ...domains.flatMap((d) => records(ctx, d))]);
  return joinDomainBlocks(domains.map((d) => domainBlock(['DOMAIN', d.constraints.name], humanSections(ctx, d))));
}
