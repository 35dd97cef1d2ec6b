// `ldm list` / `list-domain` (plain, `-l`, `-e`, `-p`, `-o format`) and `list-bindings`.
// Every listing of a domain is its head (row or record) plus a choice of the per-resource sections
// below, always in one canonical order (ldm-cli.md §4.3). Choices: docs/output-formats.md.

import type { HostView } from '../manager/inventory.js';
import type { Domain } from '../manager/types.js';
import { DOMAIN_HEADER, LIST_HEADER, domainFormatRow, domainRecord, listRow, withSoftstate } from './domain-row.js';
import { domainBlock, joinDomainBlocks, joinLines, type Section } from './layout.js';
import * as r from './records.js';
import * as s from './sections.js';
import type { OperationStatusOf, SectionContext } from './sections.js';

export type { OperationStatus, OperationStatusOf } from './sections.js';

export interface ListOptions {
  long: boolean;
  extended: boolean;
  parseable: boolean;
  /** `-o` formats (already validated with listFormatOf); empty for none. */
  formats: string[];
  /** Hook for `-o status`: the STATUS rows of a running migration (or other operation). */
  status?: OperationStatusOf;
  /** Per-vCPU utilisation for the VCPU section; defaults to the domain's UTIL. */
  vcpuUtil?: (d: Domain, vid: number) => number;
}

export interface ListBindingsOptions {
  extended: boolean;
  parseable: boolean;
  vcpuUtil?: (d: Domain, vid: number) => number;
}

type Key =
  | 'softstate' | 'uuid' | 'mac' | 'hostid' | 'control' | 'dependency' | 'core' | 'vcpu' | 'mau'
  | 'memory' | 'variables' | 'io' | 'vldc' | 'vcc' | 'vsw' | 'vds' | 'network' | 'disk' | 'vldcc'
  | 'vcons' | 'constraint' | 'policy' | 'status' | 'vdpcs' | 'vdpcc';

interface Renderer {
  human: (ctx: SectionContext, d: Domain) => Section | null;
  /** Records; SOFTSTATE has none: it ends the DOMAIN line instead. */
  parseable: (ctx: SectionContext, d: Domain) => string[];
}

// The canonical order: the 2.0 list-bindings capture, with VLDC after IO and VLDCC after the
// virtual devices as in the 1.2 `-e` sample (addendum §3), and the `-o`-only sections last.
const CATALOG: [Key, Renderer][] = [
  ['softstate', { human: (_c, d) => s.softstateSection(d), parseable: () => [] }],
  ['uuid', { human: (_c, d) => s.uuidSection(d), parseable: (_c, d) => r.uuidRecord(d) }],
  ['mac', { human: (_c, d) => s.macSection(d), parseable: (_c, d) => r.macRecord(d) }],
  ['hostid', { human: (_c, d) => s.hostidSection(d), parseable: (_c, d) => r.hostidRecord(d) }],
  ['control', { human: (_c, d) => s.controlSection(d), parseable: (_c, d) => r.controlRecord(d) }],
  ['dependency', { human: (_c, d) => s.dependencySection(d), parseable: (_c, d) => r.dependencyRecord(d) }],
  ['core', { human: s.coreSection, parseable: r.coreRecords }],
  ['vcpu', { human: s.vcpuSection, parseable: r.vcpuRecords }],
  ['mau', { human: s.mauSection, parseable: r.mauRecords }],
  ['memory', { human: (_c, d) => s.memorySection(d), parseable: (_c, d) => r.memoryRecords(d) }],
  ['variables', { human: (_c, d) => s.variablesSection(d), parseable: (_c, d) => r.variablesRecords(d) }],
  ['io', { human: s.ioSection, parseable: r.ioRecords }],
  ['vldc', { human: (_c, d) => s.vldcSection(d), parseable: (_c, d) => r.vldcRecords(d) }],
  ['vcc', { human: (_c, d) => s.vccSection(d), parseable: (_c, d) => r.vccRecords(d) }],
  ['vsw', { human: (_c, d) => s.vswSection(d), parseable: (_c, d) => r.vswRecords(d) }],
  ['vds', { human: (_c, d) => s.vdsSection(d), parseable: (_c, d) => r.vdsRecords(d) }],
  ['vdpcs', { human: (_c, d) => s.vdpcsSection(d), parseable: (_c, d) => r.vdpcsRecords(d) }],
  ['network', { human: (_c, d) => s.networkSection(d), parseable: (_c, d) => r.vnetRecords(d) }],
  ['disk', { human: (_c, d) => s.diskSection(d), parseable: r.vdiskRecords }],
  ['vdpcc', { human: (_c, d) => s.vdpccSection(d), parseable: (_c, d) => r.vdpccRecords(d) }],
  ['vldcc', { human: (_c, d) => s.vldccSection(d), parseable: (_c, d) => r.vldccRecords(d) }],
  ['vcons', { human: s.vconsSection, parseable: r.vconsRecords }],
  ['constraint', { human: s.constraintSection, parseable: r.constraintRecords }],
  ['policy', { human: (_c, d) => s.policySection(d), parseable: (_c, d) => r.policyRecords(d) }],
  ['status', { human: s.statusSection, parseable: r.statusRecords }],
];

const LONG: Key[] = [
  'uuid', 'mac', 'hostid', 'control', 'dependency', 'core', 'vcpu', 'mau', 'memory', 'variables',
  'io', 'vcc', 'vsw', 'vds', 'vdpcs', 'network', 'disk', 'vdpcc', 'vcons',
];
// `-e` = `-l` plus SOFTSTATE and the manager's own channels (addendum §3).
const EXTENDED: Key[] = [...LONG, 'softstate', 'vldc', 'vldcc'];

export const LIST_FORMATS = [
  'console', 'cpu', 'crypto', 'disk', 'domain', 'memory', 'network', 'physio', 'resmgmt', 'serial',
  'stats', 'status',
] as const;
export type ListFormat = (typeof LIST_FORMATS)[number];

/** What each `-o` format shows (ldm-cli.md §4.4); `stats` has nothing modelled (no DRM policies). */
const FORMAT_KEYS: Record<ListFormat, Key[]> = {
  console: ['vcc', 'vcons'],
  cpu: ['vcpu'],
  crypto: ['mau'],
  disk: ['vds', 'disk'],
  domain: ['softstate', 'uuid', 'mac', 'hostid', 'control', 'dependency', 'variables'],
  memory: ['memory'],
  network: ['mac', 'vsw', 'network'],
  physio: ['io'],
  resmgmt: ['constraint', 'policy'],
  serial: ['vldc', 'vldcc', 'vdpcs', 'vdpcc'],
  stats: [],
  status: ['status'],
};

/** A `-o` format name, with the `net` alias; null when unknown. */
export function listFormatOf(name: string): ListFormat | null {
  const n = name === 'net' ? 'network' : name;
  return (LIST_FORMATS as readonly string[]).includes(n) ? (n as ListFormat) : null;
}

function formatsOf(names: string[]): ListFormat[] {
  return names.map((n) => {
    const f = listFormatOf(n);
    if (!f) throw new Error(`unknown list format: ${n}`);
    return f;
  });
}

function inCanonicalOrder(keys: Iterable<Key>): [Key, Renderer][] {
  const wanted = new Set(keys);
  return CATALOG.filter(([k]) => wanted.has(k));
}

function humanSections(ctx: SectionContext, d: Domain, keys: Iterable<Key>): Section[] {
  return inCanonicalOrder(keys)
    .map(([, rr]) => rr.human(ctx, d))
    .filter((x): x is Section => x !== null);
}

function records(ctx: SectionContext, d: Domain, keys: Iterable<Key>): string[] {
  return inCanonicalOrder(keys).flatMap(([, rr]) => rr.parseable(ctx, d));
}

export function renderList(view: HostView, domains: Domain[], opts: ListOptions): string {
  if (domains.length === 0) return '';
  const ctx: SectionContext = { view, vcpuUtil: opts.vcpuUtil, operationStatus: opts.status };
  if (opts.formats.length) return renderFormats(ctx, domains, formatsOf(opts.formats), opts.parseable);
  if (opts.long || opts.extended) return renderLong(ctx, domains, opts.extended, opts.parseable);
  if (opts.parseable) return joinLines([r.PARSEABLE_VERSION, ...domains.map((d) => domainRecord(view, d, false))]);
  return joinLines([LIST_HEADER, ...domains.map((d) => listRow(view, d))]);
}

/** `list-bindings` is `list -l` (ldm-cli.md §4.3). */
export function renderListBindings(view: HostView, domains: Domain[], opts: ListBindingsOptions): string {
  return renderList(view, domains, { long: true, formats: [], ...opts });
}

function renderLong(ctx: SectionContext, domains: Domain[], extended: boolean, parseable: boolean): string {
  const keys = extended ? EXTENDED : LONG;
  if (parseable) {
    const lines = [r.PARSEABLE_VERSION];
    for (const d of domains) {
      const head = domainRecord(ctx.view, d, true);
      lines.push(extended ? withSoftstate(head, d) : head, ...records(ctx, d, keys));
    }
    return joinLines(lines);
  }
  return joinDomainBlocks(domains.map((d) => domainBlock([LIST_HEADER, listRow(ctx.view, d)], humanSections(ctx, d, keys))));
}

/**
 * `-o`: `domain` brings its NAME STATE FLAGS UTIL head (addendum §2), every other format a bare
 * `NAME` line and the name. `-p` heads each domain with its DOMAIN record: the full one ending in
 * `softstate=` for `domain` (§5), `DOMAIN|name=` otherwise.
 */
function renderFormats(ctx: SectionContext, domains: Domain[], formats: ListFormat[], parseable: boolean): string {
  const keys = new Set(formats.flatMap((f) => FORMAT_KEYS[f]));
  const withDomain = formats.includes('domain');
  if (parseable) {
    const lines = [r.PARSEABLE_VERSION];
    for (const d of domains) {
      const head = withDomain ? withSoftstate(domainRecord(ctx.view, d, true), d) : `DOMAIN|name=${d.constraints.name}`;
      lines.push(head, ...records(ctx, d, keys));
    }
    return joinLines(lines);
  }
  return joinDomainBlocks(
    domains.map((d) => {
      const head = withDomain ? [DOMAIN_HEADER, domainFormatRow(ctx.view, d)] : ['NAME', d.constraints.name];
      return domainBlock(head, humanSections(ctx, d, keys));
    }),
  );
}
