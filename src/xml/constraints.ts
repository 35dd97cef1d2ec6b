// Domain constraints as XML: what `ldm list-constraints -x` prints and what `add-domain -i`,
// `bind-domain -i` and `start-domain -i` read back (ldm-cli.md §4.7). The shape is the OVF-style v3
// format of xml-interface.md §5.2; docs/xml-constraints.md records every choice made here.

import { formatSize, parseSize } from '../format/units.js';
import type {
  ConsoleConstraint,
  DomainConstraints,
  FailurePolicy,
  Variable,
  VccService,
  VdsOption,
  VdsVolume,
  Vdisk,
  Vnet,
  VswService,
} from '../manager/types.js';
import { type OvfContent, type OvfItem, type OvfSection, XmlError, prop, readLdmDocument, writeLdmInterface } from './ovf.js';

export { XmlError } from './ovf.js';

// ---------------------------------------------------------------------------------------------
// What a document can carry. Everything but the name is optional: the manager fills in what is
// missing (uuid, MACs, host ID, device ids) and applies its defaults. A MAC read from a document is
// a chosen address, so there is no `macAuto`; a vnet or vdisk names its service only, and the
// manager finds the service domain from the service name.

export type VswSpec = Pick<VswService, 'name'> & Partial<Omit<VswService, 'name' | 'macAuto'>>;
export type VnetSpec = Pick<Vnet, 'name' | 'service'> & Partial<Omit<Vnet, 'name' | 'service' | 'serviceDomain' | 'macAuto'>>;
export type VdiskSpec = Pick<Vdisk, 'name' | 'volume' | 'service'> & Partial<Pick<Vdisk, 'timeout' | 'id'>>;
export type VdsVolumeSpec = Pick<VdsVolume, 'name' | 'backend'> & Partial<Pick<VdsVolume, 'options' | 'mpgroup'>>;

export interface VdsSpec {
  name: string;
  volumes: VdsVolumeSpec[];
}

export interface DomainSpec {
  name: string;
  uuid?: string;
  mac?: string;
  hostid?: number;
  failurePolicy?: FailurePolicy;
  masters?: string[];
  vcpus?: number;
  wholeCore?: boolean;
  /** null = `max-cores=unlimited`. */
  maxCores?: number | null;
  crypto?: number;
  /** Bytes. */
  memory?: number;
  variables?: Variable[];
  io?: string[];
  vcc?: VccService[];
  vsw?: VswSpec[];
  vds?: VdsSpec[];
  vnets?: VnetSpec[];
  vdisks?: VdiskSpec[];
  console?: ConsoleConstraint;
}

// ---------------------------------------------------------------------------------------------
// Writer

// Section types as the documentation prints them per resource (§2.3): ldom_info in a
// ResourceAllocationSection (lower-case `_type`), every other resource in a VirtualHardwareSection.
const ALLOCATION_SECTION = 'ovf:ResourceAllocationSection_type';
const HARDWARE_SECTION = 'ovf:VirtualHardwareSection_Type';

type Props = [string, string | number][];

function hardware(resourceType: string, props: Props, extra: Partial<OvfItem> = {}): OvfSection {
  const item: OvfItem = { resourceType, ...extra, props: props.map(([k, v]) => [k, String(v)]) };
  return { type: HARDWARE_SECTION, items: [item] };
}

/** `83d8baf6`: the form of the ldom_info example (§5.2), eight hex digits without `0x`. */
function hostidText(hostid: number): string {
  return hostid.toString(16).padStart(8, '0');
}

function domainContent(c: DomainConstraints): OvfContent {
  const info: OvfItem = { resourceType: 'ldom_info', props: [] };
  if (c.uuid) info.uuid = c.uuid;
  if (c.mac) info.address = c.mac;
  info.props.push(['hostid', hostidText(c.hostid)], ['master', c.masters.join(',')], ['failure-policy', c.failurePolicy]);

  // Always both, as 3.x prints `wcore` 0 when unset and `ldm list -o resmgmt` shows `max-cores=unlimited`.
  const cpuProps: Props = [
    ['whole-core', c.wholeCore ? 'on' : 'off'],
    ['max-cores', c.maxCores === null ? 'unlimited' : c.maxCores],
  ];

  const sections: OvfSection[] = [
    { type: ALLOCATION_SECTION, items: [info] },
    hardware('cpu', cpuProps, { allocationUnits: String(c.vcpus) }),
    hardware('mau', [], { allocationUnits: String(c.crypto) }),
    hardware('memory', [], { allocationUnits: formatSize(c.memory) }),
  ];
  for (const dev of c.io) sections.push(hardware('physio_device', [['name', dev]]));
  for (const v of c.vcc) sections.push(hardware('vcc', [['service_name', v.name], ['min_port', v.portMin], ['max_port', v.portMax]]));
  for (const v of c.vsw) {
    sections.push(
      hardware(
        'vsw',
        [
          ['service_name', v.name],
          ['dev_path', v.netDev],
          ['default-vlan-id', v.defaultVlanId],
          ['pvid', v.pvid],
          ['vid', v.vids.join(',')],
          ['mode', v.mode],
          ['mtu', v.mtu],
          ['linkprop', v.linkprop],
          ['id', v.id],
        ],
        v.mac ? { address: v.mac } : {},
      ),
    );
  }
  for (const v of c.vds) {
    sections.push(hardware('vds', [['service_name', v.name]]));
    for (const vol of v.volumes) {
      sections.push(
        hardware('vds_volume', [
          ['vol_name', vol.name],
          ['service_name', v.name],
          ['block_dev', vol.backend],
          ['vol_opts', vol.options.join(',')],
          ['mpgroup', vol.mpgroup],
        ]),
      );
    }
  }
  for (const n of c.vnets) {
    sections.push(
      hardware(
        'network',
        [
          ['vnet_name', n.name],
          ['service_name', n.service],
          ['mode', n.mode],
          ['pvid', n.pvid],
          ['vid', n.vids.join(',')],
          ['mtu', n.mtu],
          ['linkprop', n.linkprop],
          ['id', n.id],
        ],
        n.mac ? { address: n.mac } : {},
      ),
    );
  }
  for (const d of c.vdisks) {
    sections.push(
      hardware('disk', [
        ['vdisk_name', d.name],
        ['service_name', d.service],
        ['vol_name', d.volume],
        ['timeout', d.timeout],
        ['id', d.id],
      ]),
    );
  }
  for (const v of c.variables) sections.push(hardware('var', [['name', v.name], ['value', v.value]]));
  const cons: Props = [];
  if (c.console.port !== undefined) cons.push(['port', c.console.port]);
  if (c.console.group !== undefined) cons.push(['group', c.console.group]);
  if (c.console.service !== undefined) cons.push(['service_name', c.console.service]);
  if (cons.length) sections.push(hardware('console', cons));
  return { id: c.name, sections };
}

/** What `ldm list-constraints -x [ldom...]` prints: one `<data>` per domain, newline-terminated. */
export function constraintsToXml(domains: DomainConstraints[]): string {
  return writeLdmInterface(domains.map((d) => ({ contents: [domainContent(d)], sections: [] })));
}

// ---------------------------------------------------------------------------------------------
// Reader

const FAILURE_POLICIES: readonly FailurePolicy[] = ['ignore', 'panic', 'reset', 'stop'];
const VDS_OPTIONS: readonly VdsOption[] = ['ro', 'slice', 'excl'];
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAC_RE = /^[0-9a-f]{1,2}(?::[0-9a-f]{1,2}){5}$/i;

/** Resource types of §5.2 that exist but are not part of a domain's constraints in this manager. */
const NOT_CONSTRAINTS = new Set(['spconfig', 'policy', 'vdpcs', 'vdpcc', 'core']);

/** Reads one Item's values, naming the domain and resource in every error. */
class ItemReader {
  constructor(
    readonly item: OvfItem,
    readonly domain: string,
  ) {}

  fail(message: string): never {
    throw new XmlError(`domain ${this.domain}, ${this.item.resourceType} resource: ${message}`);
  }

  /** First of `keys` present, as written (values such as variable text are not trimmed). */
  raw(...keys: string[]): string | undefined {
    for (const k of keys) {
      const v = prop(this.item, k);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  str(...keys: string[]): string | undefined {
    return this.raw(...keys)?.trim();
  }

  required(key: string, ...aliases: string[]): string {
    const v = this.str(key, ...aliases);
    if (v === undefined || v === '') this.fail(`property "${key}" is missing`);
    return v;
  }

  number(text: string, what: string): number {
    const t = text.trim();
    const n = Number(t);
    if (!/^\d+$/.test(t) || !Number.isSafeInteger(n)) this.fail(`"${text}" is not a valid number (${what})`);
    return n;
  }

  /** A numeric property; absent or empty means "not given". */
  optNumber(key: string): number | undefined {
    const v = this.str(key);
    return v === undefined || v === '' ? undefined : this.number(v, key);
  }

  requiredNumber(key: string): number {
    return this.number(this.required(key), key);
  }

  /** `<rasd:AllocationUnits>`, or the 1.2 schema's property of the same meaning. */
  units(legacyKey: string): string {
    const v = this.item.allocationUnits ?? this.str(legacyKey);
    if (v === undefined || v === '') this.fail('<rasd:AllocationUnits> is missing');
    return v;
  }

  /** `<rasd:Address>` (or a `mac_addr` property); `auto-allocated` leaves the choice to the manager. */
  mac(): string | undefined {
    const v = (this.item.address ?? this.str('mac_addr'))?.trim();
    if (v === undefined || v === '' || v === 'auto-allocated') return undefined;
    if (!MAC_RE.test(v)) this.fail(`"${v}" is not a MAC address`);
    return v
      .split(':')
      .map((o) => o.toLowerCase().padStart(2, '0'))
      .join(':');
  }

  list(key: string): string[] | undefined {
    const v = this.str(key);
    if (v === undefined) return undefined;
    return v === '' ? [] : v.split(',').map((s) => s.trim());
  }

  numberList(key: string): number[] | undefined {
    return this.list(key)?.map((s) => this.number(s, key));
  }

  oneOf<T extends string>(key: string, allowed: readonly T[]): T | undefined {
    const v = this.str(key);
    if (v === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(v)) {
      this.fail(`"${v}" is not a valid ${key} (${allowed.map((a) => a || '""').join(', ')})`);
    }
    return v as T;
  }
}

/** Set `key` on `target` only when the document gave a value, so absent stays absent. */
function put<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

function readLdomInfo(r: ItemReader, spec: DomainSpec): void {
  const uuid = (r.item.uuid ?? r.str('uuid'))?.trim();
  if (uuid) {
    if (!UUID_RE.test(uuid)) r.fail(`"${uuid}" is not a UUID`);
    spec.uuid = uuid;
  }
  put(spec, 'mac', r.mac());
  const hostid = r.str('hostid');
  if (hostid !== undefined && hostid !== '') {
    if (!/^(0x)?[0-9a-f]{1,8}$/i.test(hostid)) r.fail(`"${hostid}" is not a host ID (hex, up to 8 digits)`);
    spec.hostid = parseInt(hostid.replace(/^0x/i, ''), 16);
  }
  put(spec, 'masters', r.list('master'));
  put(spec, 'failurePolicy', r.oneOf('failure-policy', FAILURE_POLICIES));
  readMaxCores(r, spec);
}

function readMaxCores(r: ItemReader, spec: DomainSpec): void {
  const max = r.str('max-cores');
  if (max === undefined || max === '') return;
  spec.maxCores = max === 'unlimited' ? null : r.number(max, 'max-cores');
}

function readCpu(r: ItemReader, spec: DomainSpec): void {
  spec.vcpus = r.number(r.units('number'), 'vCPU count');
  // 3.x requests carry `wcore` (§5.2); our own output says `whole-core`.
  const wcore = r.optNumber('wcore');
  if (wcore !== undefined) spec.wholeCore = wcore > 0;
  const wholeCore = r.oneOf('whole-core', ['on', 'off'] as const);
  if (wholeCore !== undefined) spec.wholeCore = wholeCore === 'on';
  readMaxCores(r, spec);
}

function readMemory(r: ItemReader, spec: DomainSpec): void {
  const text = r.units('size');
  const bytes = parseSize(text);
  if (bytes === null) r.fail(`"${text}" is not a valid size (size[unit], unit K, M or G)`);
  spec.memory = bytes;
}

function readVsw(r: ItemReader): VswSpec {
  const vsw: VswSpec = { name: r.required('service_name') };
  put(vsw, 'mac', r.mac());
  // 1.2 spelled it `dev-path` (§5.2).
  put(vsw, 'netDev', r.str('dev_path', 'dev-path'));
  put(vsw, 'defaultVlanId', r.optNumber('default-vlan-id'));
  put(vsw, 'pvid', r.optNumber('pvid'));
  put(vsw, 'vids', r.numberList('vid'));
  put(vsw, 'mode', r.oneOf('mode', ['', 'sc'] as const));
  put(vsw, 'mtu', r.optNumber('mtu'));
  put(vsw, 'linkprop', r.oneOf('linkprop', ['', 'phys-state'] as const));
  put(vsw, 'id', r.optNumber('id'));
  return vsw;
}

function readVnet(r: ItemReader): VnetSpec {
  const vnet: VnetSpec = { name: r.required('vnet_name'), service: r.required('service_name') };
  put(vnet, 'mac', r.mac());
  put(vnet, 'mode', r.oneOf('mode', ['', 'hybrid'] as const));
  put(vnet, 'pvid', r.optNumber('pvid'));
  put(vnet, 'vids', r.numberList('vid'));
  put(vnet, 'mtu', r.optNumber('mtu'));
  put(vnet, 'linkprop', r.oneOf('linkprop', ['', 'phys-state'] as const));
  put(vnet, 'id', r.optNumber('id'));
  return vnet;
}

function readVdisk(r: ItemReader): VdiskSpec {
  const disk: VdiskSpec = { name: r.required('vdisk_name'), volume: r.required('vol_name'), service: r.required('service_name') };
  put(disk, 'timeout', r.optNumber('timeout'));
  put(disk, 'id', r.optNumber('id'));
  return disk;
}

function readVdsVolume(r: ItemReader): { service: string; volume: VdsVolumeSpec } {
  const volume: VdsVolumeSpec = { name: r.required('vol_name'), backend: r.required('block_dev') };
  const opts = r.list('vol_opts');
  if (opts !== undefined) {
    for (const o of opts) if (!(VDS_OPTIONS as readonly string[]).includes(o)) r.fail(`"${o}" is not a volume option (ro, slice, excl)`);
    volume.options = opts as VdsOption[];
  }
  put(volume, 'mpgroup', r.str('mpgroup'));
  return { service: r.required('service_name'), volume };
}

function readConsole(r: ItemReader): ConsoleConstraint {
  const cons: ConsoleConstraint = {};
  put(cons, 'port', r.optNumber('port'));
  const group = r.str('group');
  if (group) cons.group = group;
  const service = r.str('service_name');
  if (service) cons.service = service;
  return cons;
}

/** Resources a domain may have at most one of. */
const SINGLE = new Set(['ldom_info', 'cpu', 'mau', 'memory', 'console']);

function contentToSpec(content: OvfContent): DomainSpec {
  const items = content.sections.flatMap((s) => s.items);
  // The 1.2 schema named the domain in ldom_info's `ldom_name`; the v3 format uses the Content id.
  const legacyName = items.find((i) => i.resourceType === 'ldom_info')?.props.find(([k]) => k === 'ldom_name')?.[1].trim();
  const name = content.id ?? (legacyName || undefined);
  if (name === undefined) throw new XmlError('a <Content> has no domain name (its id attribute is missing or empty)');

  const spec: DomainSpec = { name, variables: [], io: [], vcc: [], vsw: [], vds: [], vnets: [], vdisks: [], console: {} };
  const seen = new Set<string>();
  const volumes: { r: ItemReader; service: string; volume: VdsVolumeSpec }[] = [];
  for (const item of items) {
    const type = item.resourceType;
    if (type === '') throw new XmlError(`domain ${name}: an <Item> has no <rasd:OtherResourceType>`);
    if (SINGLE.has(type)) {
      if (seen.has(type)) throw new XmlError(`domain ${name}: more than one ${type} resource`);
      seen.add(type);
    }
    const r = new ItemReader(item, name);
    switch (type) {
      case 'ldom_info':
        readLdomInfo(r, spec);
        break;
      case 'cpu':
        readCpu(r, spec);
        break;
      case 'mau':
        spec.crypto = r.number(r.units('number'), 'crypto unit count');
        break;
      case 'memory':
        readMemory(r, spec);
        break;
      case 'physio_device':
        spec.io!.push(r.required('name'));
        break;
      case 'var':
        spec.variables!.push({ name: r.required('name'), value: r.raw('value') ?? '' });
        break;
      case 'vcc':
        spec.vcc!.push({ name: r.required('service_name'), portMin: r.requiredNumber('min_port'), portMax: r.requiredNumber('max_port') });
        break;
      case 'vsw':
        spec.vsw!.push(readVsw(r));
        break;
      case 'vds':
        spec.vds!.push({ name: r.required('service_name'), volumes: [] });
        break;
      case 'vds_volume':
        volumes.push({ r, ...readVdsVolume(r) });
        break;
      case 'network':
        spec.vnets!.push(readVnet(r));
        break;
      case 'disk':
        spec.vdisks!.push(readVdisk(r));
        break;
      case 'console':
        spec.console = readConsole(r);
        break;
      default:
        if (NOT_CONSTRAINTS.has(type)) throw new XmlError(`domain ${name}: a ${type} resource is not a domain constraint`);
        throw new XmlError(`domain ${name}: unknown resource type "${type}"`);
    }
  }
  // A volume may come before its vds in the document; attach once every vds is known.
  for (const { r, service, volume } of volumes) {
    const vds = spec.vds!.find((v) => v.name === service);
    if (vds === undefined) return r.fail(`volume ${volume.name}: this domain has no vds "${service}"`);
    vds.volumes.push(volume);
  }
  return spec;
}

/**
 * Every domain a document describes, in document order: `list-constraints -x` output, a bare
 * `<Envelope>`, or an `<LDM_interface>`/`<LDM_event>` whose `<cmd>`s carry `<data>` blocks.
 */
export function xmlToConstraints(xml: string): DomainSpec[] {
  const doc = readLdmDocument(xml);
  const specs: DomainSpec[] = [];
  const names = new Set<string>();
  for (const cmd of doc.cmds) {
    for (const data of cmd.data) {
      if (!data.envelope) continue;
      if (data.envelope.sections.length) {
        const types = data.envelope.sections.flatMap((s) => s.items.map((i) => i.resourceType || '?'));
        throw new XmlError(`a <Section> outside any <Content> describes no domain (${types.join(', ')})`);
      }
      for (const content of data.envelope.contents) {
        const spec = contentToSpec(content);
        if (names.has(spec.name)) throw new XmlError(`domain ${spec.name} is described more than once in the document`);
        names.add(spec.name);
        specs.push(spec);
      }
    }
  }
  if (specs.length === 0) throw new XmlError('the document describes no domain (no <Content> element)');
  return specs;
}
