// The `<LDM_interface>` protocol (xml-interface.md §2–§5): what runs on each document an XMPP
// session receives. A request is read with the hardened parser of ovf.ts, each `<cmd>` × `<data>`
// is translated into the argv of the same command-table entry `ldm` uses and run by runSpec, and
// the answer is written at the three levels of §3.2. List actions render the view the command
// read as OVF Items; events from the manager become `<LDM_event>` documents (§4). Every choice the
// reference leaves open is recorded in docs/xml-interface.md.

import { parseArgs } from '../commands/args.js';
import { selectDomains } from '../commands/common.js';
import { resolveXmlAction } from '../commands/table.js';
import type { Authorization, CommandContext, CommandSpec } from '../commands/types.js';
import { authorizationFailed, runSpec } from '../daemon/run-command.js';
import { domainRecord, withSoftstate } from '../format/domain-row.js';
import { providesServices } from '../format/flags.js';
import { renderListDevices as devicesText, type DeviceClass } from '../format/list-devices.js';
import * as records from '../format/records.js';
import type { SectionContext } from '../format/sections.js';
import { UserError } from '../manager/errors.js';
import type { HostView } from '../manager/inventory.js';
import type { LdmEvent, Manager } from '../manager/manager.js';
import type { Domain, DomainConstraints } from '../manager/types.js';
import { constraintsToXml } from './constraints.js';
import {
  type OvfContent,
  type OvfEnvelope,
  type OvfItem,
  type OvfSection,
  type XmlElement,
  XmlError,
  childElements,
  escapeAttr,
  escapeText,
  localName,
  parseXml,
  readEnvelope,
  readLdmDocument,
  textOf,
  writeLdmInterface,
} from './ovf.js';

// ---------------------------------------------------------------------------------------------
// Requests (§2.2 rules, §8 checklist item 4)

/** Version echoed when the request names none (the 2.0-era value the illumos client sends, §2.2). */
export const DEFAULT_VERSION = '1.1';

/** Table lookup by a string from the wire: `constructor` or `toString` must not find Object's. */
function lookup<T>(table: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

export interface RequestCmd {
  action: string;
  /** `<option>` / `<options>` texts, in document order. */
  options: string[];
  /** The `<data>` elements, read lazily: a malformed object fails only itself (§3.2). */
  data: XmlElement[];
}

export interface Request {
  version: string;
  cmds: RequestCmd[];
}

/** A document rejected as a whole: overall `failure` with this `resp_msg` (§3.2). */
export interface DocumentError {
  version: string;
  message: string;
}

/** `version="..."` of the first tag, for answering a document the parser rejects. */
function sniffVersion(xml: string): string {
  const m = /<(?:[\w.-]+:)?LDM_interface\b[^>]*?\bversion\s*=\s*(["'])([^"'<>&]{1,32})\1/.exec(xml.slice(0, 4096));
  return m ? m[2] : DEFAULT_VERSION;
}

/** Read one request document; a DocumentError when it is not an acceptable `<LDM_interface>`. */
export function parseRequest(xml: string): Request | DocumentError {
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (e) {
    return { version: sniffVersion(xml), message: e instanceof Error ? e.message : String(e) };
  }
  const version = root.attrs.version;
  if (localName(root.name) !== 'LDM_interface') {
    return { version: version ?? DEFAULT_VERSION, message: `unexpected root element <${root.name}>: a request is an <LDM_interface> document` };
  }
  if (version === undefined) return { version: DEFAULT_VERSION, message: 'the <LDM_interface> element has no version attribute' };
  const cmdEls = childElements(root, 'cmd');
  if (cmdEls.length === 0) return { version, message: 'the document has no <cmd> element' };
  const cmds: RequestCmd[] = [];
  for (const [i, cmd] of cmdEls.entries()) {
    const actions = childElements(cmd, 'action');
    if (actions.length !== 1) {
      return { version, message: `<cmd> number ${i + 1} has ${actions.length} <action> elements; a <cmd> has exactly one` };
    }
    cmds.push({
      action: textOf(actions[0]).trim(),
      options: childElements(cmd).filter((c) => ['option', 'options'].includes(localName(c.name))).map((o) => textOf(o).trim()),
      data: childElements(cmd, 'data'),
    });
  }
  return { version, cmds };
}

/** A `<data>` element's objects; null when it has none (registration, "all objects"). */
export function readData(el: XmlElement): OvfEnvelope | null {
  const env = readEnvelope(el);
  return env.contents.length || env.sections.length ? env : null;
}

// ---------------------------------------------------------------------------------------------
// Translation table: one small function per action, from OVF Items to `[options, props, operands]`

export class TranslationError extends Error {}

export interface Translation {
  spec: CommandSpec;
  /** Arguments after the subcommand name, as `ldm` would receive them. */
  argv: string[];
  /** Files the command may read through ctx.readFile (the `-i` document of add-domain). */
  files?: Map<string, string>;
  /** Answer to the `Target Password:` prompt (migrate-domain). */
  password?: string;
}

interface Parts {
  options?: string[];
  props?: [string, string][];
  operands?: string[];
  files?: Map<string, string>;
  password?: string;
}

/** The path add-domain/set-domain/bind-domain/start-domain `-i` read: the request's own Content. */
export const REQUEST_FILE = '(LDM_interface request)';

/** What a translator sees of one `<data>`. */
class Objects {
  constructor(
    readonly action: string,
    readonly env: OvfEnvelope | null,
  ) {}

  fail(message: string): never {
    throw new TranslationError(message);
  }

  get contents(): OvfContent[] {
    return this.env?.contents ?? [];
  }

  items(): OvfItem[] {
    if (!this.env) return [];
    return [...this.env.contents.flatMap((c) => c.sections), ...this.env.sections].flatMap((s) => s.items);
  }

  /** Domain names of the Contents (list actions: zero or more). */
  names(): string[] {
    return this.contents.map((c) => c.id ?? this.fail('a <Content> has no domain name (id attribute)'));
  }

  /** The one domain this object is about. */
  domain(): string {
    const names = this.names();
    if (names.length !== 1) this.fail(`${this.action} takes one domain: one <Content> with its name in the id attribute (found ${names.length})`);
    return names[0];
  }

  /** Items of `type`; Items of other types, except ldom_info, are an error. */
  ofType(type: string): OvfItem[] {
    const all = this.items();
    for (const it of all) {
      const t = it.resourceType;
      if (t === '') this.fail('an <Item> has no <rasd:OtherResourceType>');
      if (t !== type && t !== 'ldom_info') this.fail(`${this.action} takes a ${type} resource, not ${t}`);
    }
    return all.filter((i) => i.resourceType === type);
  }

  one(type: string): ItemView {
    const found = this.ofType(type);
    if (found.length !== 1) this.fail(`${this.action} takes one ${type} resource (found ${found.length})`);
    return new ItemView(found[0], this);
  }

  many(type: string, min: number): ItemView[] {
    const found = this.ofType(type);
    if (found.length < min) this.fail(`${this.action} takes at least ${min} ${type} resource${min > 1 ? 's' : ''}`);
    return found.map((i) => new ItemView(i, this));
  }
}

/** One Item's values: each key read is consumed, and a key nobody reads is reported. */
class ItemView {
  private readonly used = new Set<string>();
  constructor(
    readonly item: OvfItem,
    private readonly o: Objects,
  ) {}

  get(key: string): string | undefined {
    this.used.add(key);
    return this.item.props.find(([k]) => k === key)?.[1];
  }

  required(key: string): string {
    const v = this.get(key)?.trim();
    if (!v) this.o.fail(`${this.item.resourceType} resource: property "${key}" is missing`);
    return v;
  }

  units(): string {
    const v = this.item.allocationUnits?.trim();
    if (!v) this.o.fail(`${this.item.resourceType} resource: <rasd:AllocationUnits> is missing`);
    return v;
  }

  /**
   * CLI properties from gprops by `map` (XML key → CLI name) and `<rasd:Address>` as mac-addr.
   * `add-*` leaves empty values out (the default); `set-*` passes them (clearing, as `pvid=` does).
   */
  props(map: Record<string, string>, keepEmpty: boolean): [string, string][] {
    const out: [string, string][] = [];
    const address = this.item.address?.trim();
    const addressProp = lookup(map, '@address');
    if (addressProp && address && address !== 'auto-allocated') out.push([addressProp, address]);
    for (const [k, v] of this.item.props) {
      if (this.used.has(k) || this.ignored(k)) continue;
      const cli = lookup(map, k);
      if (cli === undefined) this.o.fail(`${this.item.resourceType} resource: unknown property "${k}"`);
      this.used.add(k);
      if (v.trim() === '' && !keepEmpty) continue;
      out.push([cli, v.trim()]);
    }
    return out;
  }

  /** Every gprop must have been read (for Items without free-form properties). */
  done(): void {
    for (const [k] of this.item.props) if (!this.used.has(k) && !this.ignored(k)) this.o.fail(`${this.item.resourceType} resource: unknown property "${k}"`);
  }

  private ignored(key: string): boolean {
    return this.item.resourceType === 'ldom_info' && IGNORED_KEYS.has(key);
  }
}

/** ldom_info keys ldmd reports (progress events, §4.4) that mean nothing in a request. */
const IGNORED_KEYS = new Set(['progress', 'status', 'source']);

const LDOM_INFO_KEYS = { '@address': 'mac-addr', hostid: 'hostid', master: 'master', 'failure-policy': 'failure-policy' };
const VSW_KEYS = {
  '@address': 'mac-addr', dev_path: 'net-dev', 'dev-path': 'net-dev', 'default-vlan-id': 'default-vlan-id', pvid: 'pvid',
  vid: 'vid', mode: 'mode', mtu: 'mtu', linkprop: 'linkprop', id: 'id',
};
const VNET_KEYS = { '@address': 'mac-addr', mode: 'mode', pvid: 'pvid', vid: 'vid', mtu: 'mtu', linkprop: 'linkprop', id: 'id' };
const DISK_KEYS = { timeout: 'timeout', id: 'id' };
const VOLUME_KEYS = { vol_opts: 'options', mpgroup: 'mpgroup' };
const CONSOLE_KEYS = { port: 'port', group: 'group', service_name: 'service' };

/**
 * A Content that says more than a name and the add-domain/set-domain properties is a full
 * constraints description (§5.1): it goes through `-i`, as `ldm add-domain -i file` would read it.
 */
function fullDescription(o: Objects): boolean {
  return o.items().some(
    (i) => i.resourceType !== 'ldom_info' || i.uuid !== undefined || i.props.some(([k]) => !Object.hasOwn(LDOM_INFO_KEYS, k) && !IGNORED_KEYS.has(k)),
  );
}

function viaFile(o: Objects): Parts {
  o.domain();
  // Envelope-level Sections go along too, so that the constraints codec reports them.
  const doc = writeLdmInterface([{ contents: o.contents, sections: o.env?.sections ?? [] }]);
  return { options: ['-i', REQUEST_FILE], files: new Map([[REQUEST_FILE, doc]]) };
}

function domainProps(o: Objects, keepEmpty: boolean): [string, string][] {
  const infos = o.items().filter((i) => i.resourceType === 'ldom_info');
  if (infos.length > 1) o.fail('more than one ldom_info resource');
  return infos.length ? new ItemView(infos[0], o).props(LDOM_INFO_KEYS, keepEmpty) : [];
}

/** `<rasd:AllocationUnits>` counts; `wcore` > 0 asks for whole cores (`-c`, 3.x cpu resource). */
function vcpuParts(o: Objects): Parts {
  const cpu = o.one('cpu');
  const wcore = cpu.get('wcore')?.trim();
  // list-constraints -x writes whole-core and max-cores; a request echoing them asks for nothing
  // more unless whole-core is on, which needs its core count in `wcore`.
  if (cpu.get('whole-core')?.trim() === 'on' && (!wcore || wcore === '0')) o.fail('cpu resource: whole-core=on needs the number of cores in "wcore"');
  cpu.get('max-cores');
  cpu.done();
  if (wcore && wcore !== '0') return { options: ['-c'], operands: [wcore, o.domain()] };
  return { operands: [cpu.units(), o.domain()] };
}

function countParts(type: string) {
  return (o: Objects): Parts => {
    const it = o.one(type);
    it.done();
    return { operands: [it.units(), o.domain()] };
  };
}

const domainOnly = (o: Objects): Parts => ({ operands: [o.domain()] });
/** Domain actions that also take `-a` (remove-domain, start-domain, stop-domain): no Content then. */
const domainsOrAll = (o: Objects): Parts => ({ operands: o.names() });
const listDomains = (o: Objects): Parts => ({ operands: o.names() });

function serviceName(type: string, withDomain: boolean) {
  return (o: Objects): Parts => {
    const it = o.one(type);
    const name = it.required('service_name');
    it.done();
    return { operands: withDomain ? [name, o.domain()] : [name] };
  };
}

function migrateParts(o: Objects): Parts {
  // §6: the source Content, then the target Content with target/username/password (base64, SASL).
  if (o.contents.length !== 2) o.fail('migrate-domain takes two <Content> elements: the source domain, then the target with its ldom_info');
  const [source, target] = o.contents;
  if (!source.id || !target.id) o.fail('a <Content> has no domain name (id attribute)');
  const infos = target.sections.flatMap((s) => s.items).filter((i) => i.resourceType === 'ldom_info');
  if (infos.length !== 1) o.fail('the target <Content> of migrate-domain needs one ldom_info resource');
  const info = new ItemView(infos[0], o);
  const host = info.required('target');
  const user = info.get('username')?.trim();
  const password = info.get('password')?.trim();
  info.done();
  const decode = (what: string, text: string): string => {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) o.fail(`migrate-domain: the ${what} is not base64-encoded`);
    return Buffer.from(text, 'base64').toString('utf8');
  };
  const who = user ? `${decode('username', user)}@` : '';
  const parts: Parts = { operands: [source.id, `${who}${host}:${target.id}`] };
  if (password !== undefined) parts.password = decode('password', password);
  return parts;
}

const DEVICE_TYPES: Record<string, DeviceClass> = { cpu: 'cpu', core: 'cpu', mau: 'crypto', memory: 'memory', physio_device: 'io' };

/** list-devices: Items, if any, select the classes (cpu, mau, memory, physio_device). */
function devicesParts(o: Objects): Parts {
  const classes = new Set<string>();
  for (const it of o.items()) {
    const k = lookup(DEVICE_TYPES, it.resourceType);
    if (!k) o.fail(`list-devices lists cpu, mau, memory and physio_device resources, not ${it.resourceType || 'an untyped <Item>'}`);
    classes.add(k);
  }
  return { operands: [...classes] };
}

function ioParts(o: Objects): Parts {
  const it = o.one('physio_device');
  const name = it.required('name');
  it.done();
  return { operands: [name, o.domain()] };
}

function spconfigName(o: Objects): Parts {
  const it = o.one('spconfig');
  const name = it.required('spconfig_name');
  it.get('spconfig_status');
  it.done();
  return { operands: [name] };
}

const TRANSLATORS: Record<string, (o: Objects) => Parts> = {
  // Domains
  'add-domain': (o) => (fullDescription(o) ? viaFile(o) : { props: domainProps(o, false), operands: [o.domain()] }),
  'set-domain': (o) => (fullDescription(o) ? viaFile(o) : { props: domainProps(o, true), operands: [o.domain()] }),
  'remove-domain': domainsOrAll,
  'list-domain': listDomains,
  'bind-domain': (o) => (fullDescription(o) ? viaFile(o) : domainOnly(o)),
  'unbind-domain': domainOnly,
  'start-domain': (o) => (fullDescription(o) ? viaFile(o) : domainsOrAll(o)),
  'stop-domain': domainsOrAll,
  'migrate-domain': migrateParts,
  'cancel-operation': domainOnly,
  'remove-reconf': domainOnly,
  // Listing
  'list-bindings': listDomains,
  'list-constraints': (o) => ({ options: ['-x'], operands: o.names() }),
  'list-devices': devicesParts,
  'list-services': listDomains,
  // CPU, crypto, memory
  'add-vcpu': vcpuParts,
  'set-vcpu': vcpuParts,
  'remove-vcpu': vcpuParts,
  'add-mau': countParts('mau'),
  'set-mau': countParts('mau'),
  'remove-mau': countParts('mau'),
  'add-memory': countParts('memory'),
  'set-memory': countParts('memory'),
  'remove-memory': countParts('memory'),
  // Physical I/O
  'add-io': (o) => ioParts(o),
  'remove-io': (o) => ioParts(o),
  // Disk
  'add-vdiskserver': serviceName('vds', true),
  'remove-vdiskserver': serviceName('vds', false),
  'add-vdiskserverdevice': (o) => {
    const it = o.one('vds_volume');
    const vol = it.required('vol_name');
    const service = it.required('service_name');
    const dev = it.required('block_dev');
    return { props: it.props(VOLUME_KEYS, false), operands: [dev, `${vol}@${service}`] };
  },
  'remove-vdiskserverdevice': (o) => {
    const it = o.one('vds_volume');
    const vol = it.required('vol_name');
    const service = it.required('service_name');
    // The rest describes the volume being removed; only its name matters.
    for (const k of ['block_dev', 'vol_opts', 'mpgroup']) it.get(k);
    it.done();
    return { operands: [`${vol}@${service}`] };
  },
  'add-vdisk': (o) => {
    const it = o.one('disk');
    const name = it.required('vdisk_name');
    const vol = it.required('vol_name');
    const service = it.required('service_name');
    return { props: it.props(DISK_KEYS, false), operands: [name, `${vol}@${service}`, o.domain()] };
  },
  'remove-vdisk': (o) => {
    const it = o.one('disk');
    const name = it.required('vdisk_name');
    for (const k of ['vol_name', 'service_name', 'timeout', 'id']) it.get(k);
    it.done();
    return { operands: [name, o.domain()] };
  },
  // Network
  'add-vswitch': (o) => {
    const it = o.one('vsw');
    const name = it.required('service_name');
    return { props: it.props(VSW_KEYS, false), operands: [name, o.domain()] };
  },
  'set-vswitch': (o) => {
    const it = o.one('vsw');
    const name = it.required('service_name');
    return { props: it.props(VSW_KEYS, true), operands: [name] };
  },
  'remove-vswitch': serviceName('vsw', false),
  'add-vnet': (o) => {
    const it = o.one('network');
    const name = it.required('vnet_name');
    const service = it.required('service_name');
    return { props: it.props(VNET_KEYS, false), operands: [name, service, o.domain()] };
  },
  'set-vnet': (o) => {
    const it = o.one('network');
    const name = it.required('vnet_name');
    // The Item names its switch (a required key, §5.2): for set-vnet that is `vswitch=`.
    const service = it.get('service_name')?.trim();
    const props = it.props(VNET_KEYS, true);
    return { props: service ? [...props, ['vswitch', service]] : props, operands: [name, o.domain()] };
  },
  'remove-vnet': (o) => {
    const it = o.one('network');
    const name = it.required('vnet_name');
    for (const k of ['service_name', 'mode', 'pvid', 'vid', 'mtu', 'linkprop', 'id']) it.get(k);
    it.done();
    return { operands: [name, o.domain()] };
  },
  // Console
  'add-vconscon': (o) => {
    const it = o.one('vcc');
    const name = it.required('service_name');
    const range = `${it.required('min_port')}-${it.required('max_port')}`;
    it.done();
    return { props: [['port-range', range]], operands: [name, o.domain()] };
  },
  'set-vconscon': (o) => {
    const it = o.one('vcc');
    const name = it.required('service_name');
    const range = `${it.required('min_port')}-${it.required('max_port')}`;
    it.done();
    return { props: [['port-range', range]], operands: [name] };
  },
  'remove-vconscon': serviceName('vcc', false),
  'set-vconsole': (o) => {
    const it = o.one('console');
    return { props: it.props(CONSOLE_KEYS, true), operands: [o.domain()] };
  },
  // Netra DPS
  'add-vdpcs': serviceName('vdpcs', true),
  'remove-vdpcs': serviceName('vdpcs', false),
  'add-vdpcc': (o) => {
    const it = o.one('vdpcc');
    const name = it.required('vdpcc_name');
    const service = it.required('service_name');
    it.done();
    return { operands: [name, service, o.domain()] };
  },
  'remove-vdpcc': (o) => {
    const it = o.one('vdpcc');
    const name = it.required('vdpcc_name');
    it.get('service_name');
    it.done();
    return { operands: [name, o.domain()] };
  },
  // Variables
  'add-variable': (o) => ({ props: variablePairs(o), operands: [o.domain()] }),
  'set-variable': (o) => ({ props: variablePairs(o), operands: [o.domain()] }),
  'remove-variable': (o) => ({ operands: [...variableNames(o, 1), o.domain()] }),
  'list-variable': (o) => ({ operands: [...variableNames(o, 0), o.domain()] }),
  // SP configurations
  'add-spconfig': spconfigName,
  'set-spconfig': spconfigName,
  'remove-spconfig': spconfigName,
  'list-spconfig': () => ({}),
};

function variablePairs(o: Objects): [string, string][] {
  return o.many('var', 1).map((it) => {
    const name = it.required('name');
    // Values are taken as written: OpenBoot values may start or end with blanks.
    const value = it.get('value') ?? '';
    it.done();
    return [name, value];
  });
}

function variableNames(o: Objects, min: number): string[] {
  return o.many('var', min).map((it) => {
    const name = it.required('name');
    it.get('value');
    it.done();
    return name;
  });
}

/** Every action string the interface serves besides event (un)registration. */
export const XML_ACTIONS: readonly string[] = Object.keys(TRANSLATORS);

/** An operand the argument parser would read as an option or a property needs `--` before it. */
function needsSeparator(operands: string[]): boolean {
  return operands.some((a) => a.startsWith('-') || a.includes('='));
}

/**
 * The command-table entry and argv for one `<data>` of an action: `[...options, ...props,
 * ...operands]`, options from `<option>` first. Throws TranslationError for an unknown action or
 * an object the action cannot take.
 */
export function translateRequest(action: string, envelope: OvfEnvelope | null, options: string[] = []): Translation {
  const spec = resolveXmlAction(action);
  const translate = lookup(TRANSLATORS, action);
  if (!spec || !translate) throw new TranslationError(`Unknown action: ${action}`);
  const tokens = options.flatMap((o) => o.split(/\s+/)).filter(Boolean);
  const bad = tokens.find((t) => t.includes('='));
  if (bad !== undefined) throw new TranslationError(`Invalid option: ${bad}`);
  const parts = translate(new Objects(action, envelope));
  const operands = parts.operands ?? [];
  const argv = [
    ...tokens,
    ...(parts.options ?? []),
    ...(parts.props ?? []).map(([k, v]) => `${k}=${v}`),
    ...(needsSeparator(operands) ? ['--'] : []),
    ...operands,
  ];
  const t: Translation = { spec, argv };
  if (parts.files) t.files = parts.files;
  if (parts.password !== undefined) t.password = parts.password;
  return t;
}

// ---------------------------------------------------------------------------------------------
// List output in the OVF model (§3.2: list actions return their objects in `<data>`)

/** An Item of list-bindings output may carry what is bound to it (`<bind:Binding>`, §5.3). */
export interface OutItem extends OvfItem {
  bindings?: OvfItem[];
}
export interface OutSection {
  type: string;
  items: OutItem[];
}
export interface OutContent {
  id: string | undefined;
  sections: OutSection[];
}
export interface OutEnvelope {
  contents: OutContent[];
  sections: OutSection[];
}

const ALLOCATION_SECTION = 'ovf:ResourceAllocationSection_type';
const HARDWARE_SECTION = 'ovf:VirtualHardwareSection_Type';

/** The Envelopes of an `<LDM_interface>` text such as `ldm list-constraints -x` prints. */
export function envelopesFromXml(xml: string): OvfEnvelope[] {
  return readLdmDocument(xml).cmds.flatMap((c) => c.data.map((d) => d.envelope)).filter((e): e is OvfEnvelope => e !== null);
}

/** A domain's constraints Content exactly as list-constraints -x writes it (one codec). */
export function constraintsContent(c: DomainConstraints): OvfContent {
  return envelopesFromXml(constraintsToXml([c]))[0].contents[0];
}

/** `KEY|a=1|b=2` or `|a=1|b=2` → [[a,1],[b,2]]; values may hold `=`. */
function recordProps(line: string): [string, string][] {
  return line
    .split('|')
    .slice(1)
    .map((f) => {
      const eq = f.indexOf('=');
      return (eq < 0 ? [f, ''] : [f.slice(0, eq), f.slice(eq + 1)]) as [string, string];
    });
}

/** Rows of a `-p` record block (`VCPU` then `|vid=...` lines) as Items of `type`. */
function recordItems(lines: string[], type: string): OvfItem[] {
  return lines.filter((l) => l.startsWith('|')).map((l) => ({ resourceType: type, props: recordProps(l) }));
}

/**
 * The ldom_info gprops of list-domain: the keys of `ldm list -p` (`state`, `flags` in letters,
 * `cons`, `ncpu`, `mem` in bytes, `util`, `uptime` in seconds) plus `softstate`, values as `-p`
 * prints them.
 */
export function domainSummaryProps(view: HostView, d: Domain): [string, string][] {
  const line = withSoftstate(domainRecord(view, d, false), d);
  const at = line.indexOf('|softstate=');
  const props = recordProps(line.slice(0, at)).filter(([k]) => k !== 'name');
  props.push(['softstate', line.slice(at + '|softstate='.length)]);
  return props;
}

/** list-domain: one Envelope per domain, a Content holding one ldom_info Item. */
export function renderListDomain(view: HostView, domains: Domain[]): OvfEnvelope[] {
  return domains.map((d) => ({
    contents: [
      {
        id: d.constraints.name,
        sections: [{ type: ALLOCATION_SECTION, items: [{ resourceType: 'ldom_info', props: domainSummaryProps(view, d) }] }],
      },
    ],
    sections: [],
  }));
}

/** list-constraints: the domain's Content exactly as `ldm list-constraints -x` describes it. */
export function renderListConstraints(domains: Domain[]): OvfEnvelope[] {
  return domains.map((d) => ({ contents: [constraintsContent(d.constraints)], sections: [] }));
}

/**
 * list-bindings: the constraints Content, the list-domain summary added to ldom_info, and what the
 * hypervisor bound as `<bind:Binding>` Items (the `-p` record fields: vid/pid/cid for cpu,
 * ra/pa/size for memory, the console's service/port/group, ...).
 */
export function renderListBindings(view: HostView, domains: Domain[]): OutEnvelope[] {
  return domains.map((d) => ({ contents: [bindingsContent(view, d)], sections: [] }));
}

function bindingsContent(view: HostView, d: Domain): OutContent {
  const content = constraintsContent(d.constraints) as OutContent;
  const items = content.sections.flatMap((s) => s.items);
  const info = items.find((i) => i.resourceType === 'ldom_info')!;
  info.props.push(...domainSummaryProps(view, d));
  if (d.state === 'inactive' || !d.binding) return content;

  const ctx: SectionContext = { view };
  const attach = (type: string, bound: OvfItem[]) => {
    const it = items.find((i) => i.resourceType === type);
    if (it && bound.length) it.bindings = bound;
  };
  /** Per-device records go to the Item whose `key` equals the record's `name`/`dev`. */
  const attachByName = (type: string, key: string, lines: string[], recKey: string) => {
    for (const line of lines) {
      const props = recordProps(line);
      const name = props.find(([k]) => k === recKey)?.[1];
      const it = items.find((i) => i.resourceType === type && i.props.some(([k, v]) => k === key && v === name));
      if (it) (it.bindings ??= []).push({ resourceType: type, props });
    }
  };
  attach('cpu', recordItems(records.vcpuRecords(ctx, d), 'cpu'));
  attach('mau', recordItems(records.mauRecords(ctx, d), 'mau'));
  attach('memory', recordItems(records.memoryRecords(d), 'memory'));
  attachByName('physio_device', 'name', records.ioRecords(ctx, d).filter((l) => l.startsWith('|')), 'dev');
  attachByName('vsw', 'service_name', records.vswRecords(d), 'name');
  attachByName('network', 'vnet_name', records.vnetRecords(d), 'name');
  attachByName('disk', 'vdisk_name', records.vdiskRecords(ctx, d), 'name');
  const cons = records.vconsRecords(ctx, d);
  if (cons.length) {
    let it = items.find((i) => i.resourceType === 'console');
    if (!it) {
      it = { resourceType: 'console', props: [] };
      content.sections.push({ type: HARDWARE_SECTION, items: [it] });
    }
    it.bindings = [{ resourceType: 'console', props: recordProps(cons[0]) }];
  }
  return content;
}

const SERVICE_TYPES = new Set(['vcc', 'vsw', 'vds', 'vds_volume']);

/** The services a domain provides as constraints Items (vcc, vsw, vds, vds_volume, vdpcs). */
export function serviceItems(c: DomainConstraints): OvfItem[] {
  const items = constraintsContent(c)
    .sections.flatMap((s) => s.items)
    .filter((i) => SERVICE_TYPES.has(i.resourceType));
  for (const v of c.vdpcs ?? []) items.push({ resourceType: 'vdpcs', props: [['service_name', v.name]] });
  return items;
}

/**
 * list-services: one Envelope per domain, its service Items each in a VirtualHardwareSection as
 * list-constraints -x writes them. Without named domains, only domains providing a service.
 */
export function renderListServices(view: HostView, named: string[]): OvfEnvelope[] {
  const domains = named.length ? selectDomains(view, named) : view.domains.filter(providesServices);
  return domains.map((d) => ({
    contents: [{ id: d.constraints.name, sections: serviceItems(d.constraints).map((i) => ({ type: HARDWARE_SECTION, items: [i] })) }],
    sections: [],
  }));
}

const DEVICE_SECTIONS: Record<string, string> = { CORE: 'core', VCPU: 'cpu', MAU: 'mau', MEMORY: 'memory', IO: 'physio_device' };

/**
 * list-devices: one Envelope for the host, one Section per resource class (core, cpu, mau,
 * memory, physio_device), one Item per `-p` row with the row's fields as gprops.
 */
export function renderListDevices(view: HostView, opts: { all: boolean; classes: DeviceClass[] }): OvfEnvelope {
  const rows = devicesText(view, { all: opts.all, parseable: true, classes: opts.classes });
  const sections: OvfSection[] = [];
  let type = '';
  for (const line of rows.split('\n')) {
    const title = lookup(DEVICE_SECTIONS, line);
    if (title) {
      type = title;
      sections.push({ type: HARDWARE_SECTION, items: [] });
    } else if (line.startsWith('|') && sections.length) {
      sections[sections.length - 1].items.push({ resourceType: type, props: recordProps(line) });
    }
  }
  return { contents: [], sections };
}

/** list-variable: the domain's Content with one var Item (name, value) per variable shown. */
export function renderListVariable(d: Domain, names: string[]): OvfEnvelope {
  const vars = names.length ? d.constraints.variables.filter((v) => names.includes(v.name)) : d.constraints.variables;
  const items: OvfItem[] = vars.map((v) => ({ resourceType: 'var', props: [['name', v.name], ['value', v.value]] }));
  return { contents: [{ id: d.constraints.name, sections: items.length ? [{ type: HARDWARE_SECTION, items }] : [] }], sections: [] };
}

const SPCONFIG_MARKS: Record<string, string> = { current: 'current', 'next poweron': 'next', newer: 'newer' };

/**
 * list-spconfig: the lines `ldm list-spconfig [-r]` prints as spconfig Items in one Envelope-level
 * Section; `spconfig_status` is `current`, `next` (`[next poweron]`), `newer` (`-r`) or empty.
 */
export function renderListSpconfig(text: string): OvfEnvelope {
  const items: OvfItem[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const m = /^(\S+)(?: \[([a-z ]+)\])?$/.exec(line);
    const [name, mark] = m ? [m[1], m[2]] : [line.trim(), undefined];
    items.push({ resourceType: 'spconfig', props: [['spconfig_name', name], ['spconfig_status', mark ? (lookup(SPCONFIG_MARKS, mark) ?? mark) : '']] });
  }
  return { contents: [], sections: items.length ? [{ type: ALLOCATION_SECTION, items }] : [] };
}

// ---------------------------------------------------------------------------------------------
// Writing: compact documents, one line, no declaration (they travel inside an XMPP stream, §1.3)

// Same URIs as list-constraints -x (ovf.ts), declared on the root whenever a prefix is used (§2.4).
const NAMESPACES: [string, string][] = [
  ['xsi', 'http://www.w3.org/2001/XMLSchema-instance'],
  ['ovf', './schemas/envelope'],
  ['rasd', './schemas/CIM_ResourceAllocationSettingData'],
  ['gprop', './schemas/GenericProperty'],
  ['bind', './schemas/Binding'],
];

// Characters XML cannot carry (ovf.ts refuses them): a value from a guest must not fail a response.
const UNWRITABLE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;
const text = (s: string) => escapeText(s.replace(UNWRITABLE, '\uFFFD'));
function attr(s: string, q: '"' | "'"): string {
  const v = escapeAttr(s.replace(UNWRITABLE, '\uFFFD'));
  return q === "'" ? v.replace(/'/g, '&apos;') : v;
}

function namespaceAttrs(q: '"' | "'"): string {
  return NAMESPACES.map(([p, uri]) => ` xmlns:${p}=${q}${attr(uri, q)}${q}`).join('');
}

function writeItem(it: OutItem, q: '"' | "'", wrap = ''): string {
  let s = `<Item><rasd:OtherResourceType>${text(it.resourceType)}</rasd:OtherResourceType>`;
  if (it.uuid !== undefined) s += `<uuid>${text(it.uuid)}</uuid>`;
  if (it.address !== undefined) s += `<rasd:Address>${text(it.address)}</rasd:Address>`;
  if (it.allocationUnits !== undefined) s += `<rasd:AllocationUnits>${text(it.allocationUnits)}</rasd:AllocationUnits>`;
  for (const [k, v] of it.props) s += `<gprop:GenericProperty key=${q}${attr(k, q)}${q}>${text(v)}</gprop:GenericProperty>`;
  for (const b of it.bindings ?? []) s += `<bind:Binding>${writeItem(b, q)}</bind:Binding>`;
  return wrap + s + '</Item>';
}

function writeSection(s: OutSection, q: '"' | "'"): string {
  return `<Section xsi:type=${q}${attr(s.type, q)}${q}>${s.items.map((i) => writeItem(i, q)).join('')}</Section>`;
}

/** `<Envelope>` in one line: References, Envelope-level Sections, then Contents with plain `id`. */
export function writeEnvelope(env: OutEnvelope, q: '"' | "'" = '"'): string {
  let s = '<Envelope><References/>';
  for (const sec of env.sections) s += writeSection(sec, q);
  for (const c of env.contents) {
    const open = `<Content xsi:type=${q}ovf:VirtualSystem_Type${q} id=${q}${attr(c.id ?? '', q)}${q}`;
    s += c.sections.length ? `${open}>${c.sections.map((x) => writeSection(x, q)).join('')}</Content>` : `${open}/>`;
  }
  return s + '</Envelope>';
}

export interface DataResult {
  version: string;
  /** The object described: list output, or the request's object echoed (passwords left out). */
  envelope: OutEnvelope | null;
  ok: boolean;
  /** `resp_msg` lines; only for a failure (§3.2: success carries none). */
  messages: string[];
}

export interface CmdResult {
  action: string;
  options: string[];
  data: DataResult[];
  /** Set when the `<cmd>` itself could not be served (unknown action): command-level resp_msg. */
  message?: string;
}

function writeStatus(ok: boolean, messages: string[]): string {
  return `<response><status>${ok ? 'success' : 'failure'}</status>${messages.map((m) => `<resp_msg>${text(m)}</resp_msg>`).join('')}</response>`;
}

export function cmdOk(c: CmdResult): boolean {
  return c.message === undefined && c.data.every((d) => d.ok);
}

/** The response document (§3.1): each `<data>` with its object response, each `<cmd>`, overall. */
export function writeResponse(version: string, cmds: CmdResult[]): string {
  const prefixed = cmds.some((c) => c.data.some((d) => d.envelope !== null));
  let s = `<LDM_interface version="${attr(version, '"')}"${prefixed ? namespaceAttrs('"') : ''}>`;
  for (const c of cmds) {
    s += `<cmd><action>${text(c.action)}</action>`;
    for (const o of c.options) s += `<option>${text(o)}</option>`;
    for (const d of c.data) {
      s += `<data version="${attr(d.version, '"')}">`;
      if (d.envelope) s += writeEnvelope(d.envelope, '"');
      s += writeStatus(d.ok, d.ok ? [] : d.messages) + '</data>';
    }
    s += writeStatus(cmdOk(c), c.message !== undefined ? [c.message] : []) + '</cmd>';
  }
  return s + writeStatus(cmds.every(cmdOk), []) + '</LDM_interface>';
}

/** A document rejected as a whole: only the overall response, with the reason (§3.2). */
export function writeDocumentFailure(e: DocumentError): string {
  return `<LDM_interface version="${attr(e.version, '"')}">${writeStatus(false, [e.message])}</LDM_interface>`;
}

// ---------------------------------------------------------------------------------------------
// Events (§4)

export type EventClass = 'domain' | 'resource' | 'hardware';

/** Registration actions (§4.1) and the classes they switch. */
export const REGISTRATIONS: Record<string, { on: boolean; classes: EventClass[] }> = {
  'reg-domain-events': { on: true, classes: ['domain'] },
  'unreg-domain-events': { on: false, classes: ['domain'] },
  'reg-resource-events': { on: true, classes: ['resource'] },
  'unreg-resource-events': { on: false, classes: ['resource'] },
  'reg-hardware-events': { on: true, classes: ['hardware'] },
  'unreg-hardware-events': { on: false, classes: ['hardware'] },
  'reg-all-events': { on: true, classes: ['domain', 'resource', 'hardware'] },
  'unreg-all-events': { on: false, classes: ['domain', 'resource', 'hardware'] },
};

/** The registration that receives an event: progress rides on hardware registration (§4.4). */
export function eventClassOf(e: LdmEvent): EventClass {
  return e.class === 'progress' ? 'hardware' : e.class;
}


/** Resource events whose data carries the service concerned (§4.5), and that service's type. */
export const SERVICE_EVENTS: Record<string, string> = {
  'add-vdiskserverdevice': 'vds_volume',
  'remove-vdiskserverdevice': 'vds_volume',
  'set-vdiskserverdevice': 'vds_volume',
  'remove-vdiskserver': 'vds',
  'set-vconscon': 'vcc',
  'remove-vconscon': 'vcc',
  'set-vswitch': 'vsw',
  'remove-vswitch': 'vsw',
  'remove-vdpcs': 'vdpcs',
};

function serviceKey(it: OvfItem): string {
  const get = (k: string) => it.props.find(([x]) => x === k)?.[1] ?? '';
  return it.resourceType === 'vds_volume' ? `${get('vol_name')}@${get('service_name')}` : get('service_name');
}

/**
 * The service Items an event is about, from the domain's services before and after: the ones that
 * went away for `remove-*`, the ones that appeared or changed otherwise.
 */
export function changedServices(action: string, before: OvfItem[], after: OvfItem[]): OvfItem[] {
  const type = lookup(SERVICE_EVENTS, action);
  if (!type) return [];
  const of = (items: OvfItem[]) => new Map(items.filter((i) => i.resourceType === type).map((i) => [serviceKey(i), i]));
  const old = of(before);
  const now = of(after);
  if (action.startsWith('remove-')) return [...old].filter(([k]) => !now.has(k)).map(([, i]) => i);
  return [...now].filter(([k, i]) => JSON.stringify(old.get(k)) !== JSON.stringify(i)).map(([, i]) => i);
}

const EVENT_OPEN = "<LDM_event version='1.1'";

/**
 * One `<LDM_event>` (§4.2). A Content-only event (domain events, most resource events) is the
 * minimal form the Solaris fault manager's client reads: plain `id`, nothing declared, < 1 KB.
 * Events with Items declare their prefixes on the root.
 */
export function renderEvent(e: LdmEvent, services: OvfItem[] = []): string {
  const action = e.action;
  let env: OutEnvelope;
  if (e.class === 'hardware') {
    const sp = e.spconfig ?? { name: '', status: '' };
    const item: OvfItem = { resourceType: 'spconfig', props: [['spconfig_name', sp.name], ['spconfig_status', sp.status]] };
    env = { contents: [], sections: [{ type: ALLOCATION_SECTION, items: [item] }] };
  } else if (e.class === 'progress') {
    const p = e.progress ?? { percent: 0, status: '', source: '' };
    const item: OvfItem = { resourceType: 'ldom_info', props: [['progress', `${p.percent}%`], ['status', p.status], ['source', p.source]] };
    env = { contents: [{ id: e.domain ?? '', sections: [{ type: ALLOCATION_SECTION, items: [item] }] }], sections: [] };
  } else {
    const sections = services.map((i) => ({ type: HARDWARE_SECTION, items: [i] }));
    env = { contents: [{ id: e.domain ?? '', sections }], sections: [] };
  }
  const prefixed = env.sections.length > 0 || env.contents.some((c) => c.sections.length > 0);
  return (
    `${EVENT_OPEN}${prefixed ? namespaceAttrs("'") : ''}><cmd><action>${text(action)}</action>` +
    `<data version='3.0'>${writeEnvelope(env, "'")}</data></cmd></LDM_event>`
  );
}

// ---------------------------------------------------------------------------------------------
// The session

export interface InterfaceSessionOptions {
  manager: Manager;
  /** Authenticated user (SASL PLAIN) or the local peer's user. */
  user: string;
  uid: number | null;
  authorized: (a: Authorization) => boolean;
  /** Writes one whole document (one TLS record, §1.3). */
  send: (xml: string) => void;
  log: (s: string) => void;
}

/** What list actions render from: the view the command read, and what it printed. */
interface ListRun {
  view: () => Promise<HostView>;
  stdout: string;
  args: ReturnType<typeof parseArgs>;
}

/** list-devices operands as the command accepts them (listing.ts). */
const CLI_DEVICE_CLASSES: Record<string, DeviceClass> = { cpu: 'cpu', crypto: 'crypto', mau: 'crypto', memory: 'memory', mem: 'memory', io: 'io' };

const LIST_RENDERERS: Record<string, (r: ListRun) => Promise<OutEnvelope[]>> = {
  'list-domain': async (r) => {
    const view = await r.view();
    return renderListDomain(view, selectDomains(view, r.args.operands));
  },
  'list-bindings': async (r) => {
    const view = await r.view();
    return renderListBindings(view, selectDomains(view, r.args.operands));
  },
  'list-constraints': async (r) => envelopesFromXml(r.stdout),
  'list-services': async (r) => renderListServices(await r.view(), r.args.operands),
  'list-devices': async (r) => [
    renderListDevices(await r.view(), {
      all: r.args.options.has('-a'),
      classes: r.args.operands.map((c) => lookup(CLI_DEVICE_CLASSES, c)!),
    }),
  ],
  'list-variable': async (r) => {
    const ops = r.args.operands;
    const [d] = selectDomains(await r.view(), [ops[ops.length - 1]]);
    return [renderListVariable(d, ops.slice(0, -1))];
  },
  'list-spconfig': async (r) => [renderListSpconfig(r.stdout)],
};

/** A Manager whose view() remembers what it returned: list output shows what the command saw. */
function recordingManager(manager: Manager): { manager: Manager; last: () => HostView | undefined } {
  let last: HostView | undefined;
  const proxy = new Proxy(manager, {
    get(target, key) {
      if (key === 'view') return async () => (last = await target.view());
      const v = Reflect.get(target, key, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { manager: proxy, last: () => last };
}

/** Never echo a password back (migrate-domain's ldom_info, §6). */
function redact(env: OvfEnvelope): OvfEnvelope {
  const clean = (s: OvfSection): OvfSection => ({ ...s, items: s.items.map((i) => ({ ...i, props: i.props.filter(([k]) => k !== 'password') })) });
  return { contents: env.contents.map((c) => ({ ...c, sections: c.sections.map(clean) })), sections: env.sections.map(clean) };
}

function lines(s: string): string[] {
  return s.split('\n').filter((l) => l.trim() !== '');
}

export class InterfaceSession {
  private readonly registered = new Set<EventClass>();
  private unsubscribe: (() => void) | null = null;
  /** Responses go out in request order. */
  private requests: Promise<void> = Promise.resolve();
  /** Events go out in the order the manager emitted them. */
  private events: Promise<void> = Promise.resolve();
  /** Services per domain as last seen, to name the service a §4.5 resource event concerns. */
  private services = new Map<string, OvfItem[]>();
  private closed = false;

  constructor(private readonly opts: InterfaceSessionOptions) {}

  /** Handle one received document; sends the response (and, later, events) through `send`. */
  handle(xml: string): Promise<void> {
    const run = this.requests.then(() => this.process(xml));
    this.requests = run.catch(() => undefined);
    return run;
  }

  /** Unregister events; nothing is sent afterwards. */
  close(): void {
    this.closed = true;
    this.registered.clear();
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private send(xml: string): void {
    if (!this.closed) this.opts.send(xml);
  }

  private async process(xml: string): Promise<void> {
    const req = parseRequest(xml);
    if ('message' in req) return this.send(writeDocumentFailure(req));
    try {
      const cmds: CmdResult[] = [];
      for (const cmd of req.cmds) cmds.push(await this.runCmd(cmd));
      this.send(writeResponse(req.version, cmds));
    } catch (e) {
      this.opts.log(`xml interface: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      this.send(writeDocumentFailure({ version: req.version, message: `internal error: ${e instanceof Error ? e.message : String(e)}` }));
    }
  }

  private async runCmd(cmd: RequestCmd): Promise<CmdResult> {
    const result: CmdResult = { action: cmd.action, options: cmd.options, data: [] };
    const datas = cmd.data.length ? cmd.data : [null];
    const reg = lookup(REGISTRATIONS, cmd.action);
    if (reg) {
      const ok = await this.register(reg.on, reg.classes);
      const messages = ok ? [] : [authorizationFailed(this.opts.user, 'solaris.ldoms.read').message];
      // Registration data is empty (§3.3); whatever it held is not echoed, keeping the answer small.
      result.data = datas.map((d) => ({ version: d?.attrs.version ?? '3.0', envelope: null, ok, messages }));
      return result;
    }
    if (!resolveXmlAction(cmd.action) || !lookup(TRANSLATORS, cmd.action)) {
      result.message = `Unknown action: ${cmd.action}`;
      return result;
    }
    for (const d of datas) result.data.push(...(await this.runData(cmd, d)));
    return result;
  }

  private async runData(cmd: RequestCmd, el: XmlElement | null): Promise<DataResult[]> {
    const version = el?.attrs.version ?? '3.0';
    let env: OvfEnvelope | null = null;
    const failure = (messages: string[]): DataResult[] => [{ version, envelope: env && redact(env), ok: false, messages }];
    let t: Translation;
    try {
      env = el ? readData(el) : null;
      t = translateRequest(cmd.action, env, cmd.options);
    } catch (e) {
      if (e instanceof TranslationError || e instanceof XmlError) return failure([e.message]);
      throw e;
    }

    let out = '';
    let err = '';
    const rec = recordingManager(this.opts.manager);
    const ctx: CommandContext = {
      manager: rec.manager,
      user: this.opts.user,
      out: (s) => (out += s),
      err: (s) => (err += s),
      isTTY: false,
      prompt: async (question) => {
        if (t.password !== undefined) return t.password;
        throw new UserError(`The XML interface cannot answer the prompt "${question.trim()}": give the value in the request`);
      },
      readFile: async (path) => {
        const doc = t.files?.get(path);
        if (doc === undefined) throw new UserError(`${path}: files cannot be read through the XML interface`);
        return doc;
      },
    };
    const status = await runSpec(t.spec, t.argv, ctx, this.opts.authorized, this.opts.log);
    if (status !== 0) return failure(lines(err).length ? lines(err) : [`${cmd.action} failed`]);

    const render = lookup(LIST_RENDERERS, cmd.action);
    if (!render) return [{ version, envelope: env && redact(env), ok: true, messages: [] }];
    const run: ListRun = {
      view: async () => rec.last() ?? (await this.opts.manager.view()),
      stdout: out,
      args: parseArgs(t.spec, t.argv),
    };
    const envelopes = await render(run);
    return envelopes.map((e) => ({ version, envelope: e, ok: true, messages: [] }));
  }

  /** Registration needs solaris.ldoms.read (the reference names none, §9). */
  private async register(on: boolean, classes: EventClass[]): Promise<boolean> {
    if (on && !this.opts.authorized('solaris.ldoms.read')) return false;
    for (const c of classes) {
      if (on) this.registered.add(c);
      else this.registered.delete(c);
    }
    if (on && classes.includes('resource')) await this.refreshServices().catch(() => undefined);
    if (this.registered.size && !this.unsubscribe) this.unsubscribe = this.opts.manager.onEvent((e) => this.onEvent(e));
    if (!this.registered.size && this.unsubscribe) {
      this.unsubscribe();
      this.unsubscribe = null;
    }
    return true;
  }

  private async refreshServices(view?: HostView): Promise<void> {
    const v = view ?? (await this.opts.manager.view());
    this.services = new Map(v.domains.map((d) => [d.constraints.name, serviceItems(d.constraints)]));
  }

  private onEvent(e: LdmEvent): void {
    if (this.closed) return;
    const wanted = this.registered.has(eventClassOf(e));
    // Resource subscribers follow the services even through events they do not receive.
    const track = this.registered.has('resource') && (e.class === 'resource' || e.action === 'add-domain' || e.action === 'remove-domain');
    if (!wanted && !track) return;
    this.events = this.events
      .then(() => this.deliver(e, wanted, track))
      .catch((err) => this.opts.log(`xml interface: event ${e.action}: ${err instanceof Error ? err.message : String(err)}`));
  }

  private async deliver(e: LdmEvent, wanted: boolean, track: boolean): Promise<void> {
    let services: OvfItem[] = [];
    if (track) {
      const before = this.services.get(e.domain ?? '') ?? [];
      try {
        const view = await this.opts.manager.view();
        await this.refreshServices(view);
      } catch {
        // The host is unreachable (powered off): the event goes out without its service.
      }
      if (e.class === 'resource') services = changedServices(e.action, before, this.services.get(e.domain ?? '') ?? []);
    }
    if (wanted && this.registered.has(eventClassOf(e))) this.send(renderEvent(e, services));
  }
}
