// The LDM XML document layer (xml-interface.md §2): a hardened reader that turns text into a small
// element tree, the OVF model read from it (Envelope → Content → Section → Item), the
// <LDM_interface>/<LDM_event> → <cmd> → <data> wrappers, and the writer for the same shapes.
// constraints.ts maps domains onto this model; the XML interface can reuse it for requests.

import { XMLParser, XMLValidator } from 'fast-xml-parser';

export class XmlError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
    this.name = 'XmlError';
  }
}

/** Input caps checked before the parser sees the text: the daemon reads files and sockets from users. */
export const XML_LIMITS = { maxBytes: 4 * 1024 * 1024, maxDepth: 64 };

// ---------------------------------------------------------------------------------------------
// Element tree

export interface XmlElement {
  /** Qualified name as written (`rasd:OtherResourceType`). */
  name: string;
  /** Attributes as written (`xsi:type`, `ovf:id`), values decoded. */
  attrs: Record<string, string>;
  children: XmlNode[];
}
/** A text node is a plain string (entities decoded, CDATA kept raw). */
export type XmlNode = XmlElement | string;

/**
 * Namespace prefixes are ignored on purpose: the documentation's own examples use `xsi:`, `ovf:`,
 * `rasd:`, `gprop:` without declaring them, and the URIs changed between releases (§2.4).
 */
export function localName(qname: string): string {
  const colon = qname.indexOf(':');
  return colon < 0 ? qname : qname.slice(colon + 1);
}

export function childElements(el: XmlElement, local?: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children) if (typeof c !== 'string' && (local === undefined || localName(c.name) === local)) out.push(c);
  return out;
}

/** Text content of a leaf element (child elements, if any, are skipped). */
export function textOf(el: XmlElement): string {
  let s = '';
  for (const c of el.children) if (typeof c === 'string') s += c;
  return s;
}

/** `id`, or any `prefix:id` (`ovf:id` in events, migration and 3.2 requests, §2.3). */
export function attrByLocalName(el: XmlElement, local: string): string | undefined {
  if (el.attrs[local] !== undefined) return el.attrs[local];
  for (const [k, v] of Object.entries(el.attrs)) if (localName(k) === local) return v;
  return undefined;
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

// XML 1.0 Char production: these code units can never appear, raw or as a character reference.
const FORBIDDEN_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

/**
 * Reject what the parser should never be handed: any `<!DOCTYPE`/`<!ENTITY` (so no entity is ever
 * expanded, billion-laughs included) and nesting deeper than the cap, found by a linear scan
 * before any tree is built.
 */
function prescan(text: string): void {
  const bad = FORBIDDEN_CHAR.exec(text);
  if (bad) {
    const code = bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    throw new XmlError(`character U+${code} is not allowed in XML (line ${lineAt(text, bad.index)})`, lineAt(text, bad.index));
  }
  let depth = 0;
  let i = 0;
  while ((i = text.indexOf('<', i)) !== -1) {
    if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) return; // unterminated: the validator reports it with its line
      i = end + 3;
    } else if (text.startsWith('<![CDATA[', i)) {
      const end = text.indexOf(']]>', i + 9);
      if (end < 0) return;
      i = end + 3;
    } else if (text.startsWith('<!', i)) {
      const line = lineAt(text, i);
      const word = /^<!([A-Za-z]*)/.exec(text.slice(i, i + 16))![1];
      throw new XmlError(
        `<!${word}> declarations are not accepted: documents may not use DOCTYPE or ENTITY (line ${line})`,
        line,
      );
    } else if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i + 2);
      if (end < 0) return;
      i = end + 2;
    } else if (text[i + 1] === '/') {
      depth--;
      i += 2;
    } else {
      let j = i + 1;
      let quote = '';
      for (; j < text.length; j++) {
        const ch = text[j];
        if (quote) {
          if (ch === quote) quote = '';
          else if (ch === '<') {
            const line = lineAt(text, j);
            throw new XmlError(`not well-formed XML (line ${line}): '<' inside an attribute value`, line);
          }
        } else if (ch === '"' || ch === "'") quote = ch;
        else if (ch === '>' || ch === '<') break;
      }
      if (j >= text.length) return;
      if (text[j] === '<') {
        i = j; // malformed tag: keep counting, the validator reports it
        continue;
      }
      if (text[j - 1] !== '/' && ++depth > XML_LIMITS.maxDepth) {
        const line = lineAt(text, i);
        throw new XmlError(`elements are nested more than ${XML_LIMITS.maxDepth} deep (line ${line})`, line);
      }
      i = j + 1;
    }
  }
}

const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** One pass over the five predefined entities and character references; anything else is an error. */
function decodeRefs(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&([^;&<\s]*);?/g, (whole, ref: string) => {
    if (!whole.endsWith(';')) throw new XmlError(`not well-formed XML: bare '&' in "${s.slice(0, 40)}"`);
    if (ref in PREDEFINED) return PREDEFINED[ref];
    const m = /^#(?:x([0-9a-fA-F]+)|([0-9]+))$/.exec(ref);
    if (!m) throw new XmlError(`undefined entity &${ref}; (only the five XML entities and character references are accepted)`);
    const code = m[1] !== undefined ? parseInt(m[1], 16) : parseInt(m[2], 10);
    const ok =
      code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) ||
      (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
    if (!ok) throw new XmlError(`character reference &${ref}; is not an XML character`);
    return String.fromCodePoint(code);
  });
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  // Entities are decoded by decodeRefs: one pass, no DOCTYPE entities, CDATA left alone.
  processEntities: false,
  cdataPropName: '#cdata',
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: XML_LIMITS.maxDepth + 1,
});

type FxpNode = Record<string, unknown>;

function convert(node: FxpNode): XmlNode | null {
  if ('#text' in node) return decodeRefs(String(node['#text']));
  if ('#cdata' in node) {
    const parts = node['#cdata'] as FxpNode[];
    return parts.map((p) => String(p['#text'] ?? '')).join('');
  }
  const name = Object.keys(node).find((k) => k !== ':@');
  if (name === undefined) return null;
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries((node[':@'] as Record<string, string>) ?? {})) {
    // Attribute-value normalisation (XML 1.0 §3.3.3): literal white space becomes a space.
    attrs[k] = decodeRefs(String(v).replace(/[\t\n\r]/g, ' '));
  }
  const children: XmlNode[] = [];
  for (const c of node[name] as FxpNode[]) {
    const n = convert(c);
    if (n === null) continue;
    const last = children[children.length - 1];
    if (typeof n === 'string' && typeof last === 'string') children[children.length - 1] = last + n;
    else children.push(n);
  }
  return { name, attrs, children };
}

/** Parse a whole document into its root element, or throw XmlError. */
export function parseXml(input: string): XmlElement {
  if (Buffer.byteLength(input, 'utf8') > XML_LIMITS.maxBytes) {
    throw new XmlError(`document is larger than ${XML_LIMITS.maxBytes / (1024 * 1024)} MiB`);
  }
  // XML 1.0 §2.11 end-of-line handling, so `&#13;` is the only way a CR reaches a value.
  const text = input.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  prescan(text);
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    const where = col !== undefined ? `line ${line}, column ${col}` : `line ${line}`;
    throw new XmlError(`not well-formed XML (${where}): ${msg}`, line);
  }
  let raw: FxpNode[];
  try {
    raw = parser.parse(text) as FxpNode[];
  } catch (e) {
    throw new XmlError(`not well-formed XML: ${(e as Error).message}`);
  }
  const top = raw.map(convert).filter((n): n is XmlNode => n !== null);
  const roots = top.filter((n): n is XmlElement => typeof n !== 'string');
  if (top.some((n) => typeof n === 'string' && n.trim() !== '')) throw new XmlError('not well-formed XML: text outside the root element');
  if (roots.length === 0) throw new XmlError('not well-formed XML: no root element');
  if (roots.length > 1) throw new XmlError(`not well-formed XML: more than one root element (<${roots[0].name}>, <${roots[1].name}>)`);
  return roots[0];
}

// ---------------------------------------------------------------------------------------------
// OVF model (§2.3, §5.2)

export interface OvfItem {
  /** `<rasd:OtherResourceType>`: ldom_info, cpu, memory, vds_volume, ... */
  resourceType: string;
  /** `<uuid>` (3.x ldom_info). */
  uuid?: string;
  /** `<rasd:Address>`: a MAC address. */
  address?: string;
  /** `<rasd:AllocationUnits>`: vCPU count, crypto units, memory size with unit. */
  allocationUnits?: string;
  /** `<gprop:GenericProperty key="...">`, in document order, keys unique. */
  props: [string, string][];
}

export interface OvfSection {
  /** `xsi:type`, e.g. `ovf:VirtualHardwareSection_Type`; informational only on input. */
  type: string;
  items: OvfItem[];
}

export interface OvfContent {
  /** Domain name (`id` or `ovf:id`); undefined when the document gives none. */
  id: string | undefined;
  sections: OvfSection[];
}

export interface OvfEnvelope {
  contents: OvfContent[];
  /** Sections directly in `<Envelope>`: resources that belong to no domain (spconfig, ...). */
  sections: OvfSection[];
}

export function prop(item: OvfItem, key: string): string | undefined {
  for (const [k, v] of item.props) if (k === key) return v;
  return undefined;
}

function readItem(el: XmlElement): OvfItem {
  const item: OvfItem = { resourceType: '', props: [] };
  const seen = new Set<string>();
  for (const c of childElements(el)) {
    const local = localName(c.name);
    if (local === 'OtherResourceType') item.resourceType = textOf(c).trim();
    else if (local === 'uuid') item.uuid = textOf(c).trim();
    else if (local === 'Address') item.address = textOf(c).trim();
    else if (local === 'AllocationUnits') item.allocationUnits = textOf(c).trim();
    else if (local === 'GenericProperty') {
      const key = attrByLocalName(c, 'key');
      const what = item.resourceType || 'an';
      if (key === undefined) throw new XmlError(`${what} <Item>: a <gprop:GenericProperty> has no key attribute`);
      if (seen.has(key)) throw new XmlError(`${what} <Item>: property "${key}" is given twice`);
      seen.add(key);
      item.props.push([key, textOf(c)]);
    }
    // Other RASD children (Caption, Binding, ...) carry nothing a constraint needs.
  }
  return item;
}

function readSection(el: XmlElement): OvfSection {
  return { type: attrByLocalName(el, 'type') ?? '', items: childElements(el, 'Item').map(readItem) };
}

function readContent(el: XmlElement): OvfContent {
  const id = attrByLocalName(el, 'id');
  return { id: id === undefined || id.trim() === '' ? undefined : id, sections: childElements(el, 'Section').map(readSection) };
}

/** Envelope children, or the children of a `<data>` that omits the Envelope. */
function readEnvelopeChildren(el: XmlElement, into: OvfEnvelope): void {
  for (const c of childElements(el)) {
    const local = localName(c.name);
    if (local === 'Envelope') readEnvelopeChildren(c, into);
    else if (local === 'Content') into.contents.push(readContent(c));
    else if (local === 'Section') into.sections.push(readSection(c));
  }
}

export function readEnvelope(el: XmlElement): OvfEnvelope {
  const env: OvfEnvelope = { contents: [], sections: [] };
  readEnvelopeChildren(el, env);
  return env;
}

// ---------------------------------------------------------------------------------------------
// <LDM_interface> / <LDM_event> wrappers (§2.2, §4.2)

export interface LdmData {
  version: string | undefined;
  /** null when the `<data>` carries no Envelope, Content or Section (e.g. event registration). */
  envelope: OvfEnvelope | null;
}

export interface LdmCmd {
  /** null for `<data>` directly under the root (list-constraints -x output) or a bare Envelope. */
  action: string | null;
  /** `<option>` and 3.4+ `<options>` texts. */
  options: string[];
  data: LdmData[];
}

export interface LdmDocument {
  /** Local name of the root: `LDM_interface`, `LDM_event` or `Envelope`. */
  root: string;
  version: string | undefined;
  cmds: LdmCmd[];
}

function readData(el: XmlElement): LdmData {
  const env: OvfEnvelope = { contents: [], sections: [] };
  readEnvelopeChildren(el, env);
  const empty = env.contents.length === 0 && env.sections.length === 0;
  return { version: el.attrs.version, envelope: empty ? null : env };
}

/** Read a request, response, event or bare `<Envelope>` document. */
export function readLdmDocument(xml: string): LdmDocument {
  const root = parseXml(xml);
  const rootName = localName(root.name);
  if (rootName === 'Envelope') {
    return { root: rootName, version: undefined, cmds: [{ action: null, options: [], data: [{ version: undefined, envelope: readEnvelope(root) }] }] };
  }
  if (rootName !== 'LDM_interface' && rootName !== 'LDM_event') {
    throw new XmlError(`unexpected root element <${root.name}>: expected <LDM_interface> or <Envelope>`);
  }
  const cmds: LdmCmd[] = [];
  const loose = childElements(root, 'data').map(readData);
  if (loose.length) cmds.push({ action: null, options: [], data: loose });
  for (const cmd of childElements(root, 'cmd')) {
    const actions = childElements(cmd, 'action');
    cmds.push({
      action: actions.length ? textOf(actions[0]).trim() : null,
      options: [...childElements(cmd, 'option'), ...childElements(cmd, 'options')].map((o) => textOf(o).trim()),
      data: childElements(cmd, 'data').map(readData),
    });
  }
  return { root: rootName, version: root.attrs.version, cmds };
}

// ---------------------------------------------------------------------------------------------
// Writer

/** The 3.2 request header (§2.4): prefixes declared so namespace-aware readers (libxml2) accept it. */
const LDM_INTERFACE_ATTRS: [string, string][] = [
  ['version', '1.3'],
  ['xmlns:xsi', 'http://www.w3.org/2001/XMLSchema-instance'],
  ['xsi:noNamespaceSchemaLocation', './schemas/combined-v3.xsd'],
  ['xmlns:ovf', './schemas/envelope'],
  ['xmlns:rasd', './schemas/CIM_ResourceAllocationSettingData'],
  ['xmlns:vssd', './schemas/CIM_VirtualSystemSettingData'],
  ['xmlns:gprop', './schemas/GenericProperty'],
  ['xmlns:bind', './schemas/Binding'],
];

function checkChars(s: string): void {
  const bad = FORBIDDEN_CHAR.exec(s);
  if (bad) {
    const code = bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    throw new XmlError(`character U+${code} cannot be written in XML (in "${s.slice(0, 40)}")`);
  }
}

export function escapeText(s: string): string {
  checkChars(s);
  // CR as a reference: a raw one would be turned into LF by every reader (end-of-line handling).
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
}

export function escapeAttr(s: string): string {
  checkChars(s);
  return s
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
    .replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
}

const INDENT = '  ';

function itemLines(item: OvfItem, pad: string): string[] {
  const p = pad + INDENT;
  const lines = [`${pad}<Item>`, `${p}<rasd:OtherResourceType>${escapeText(item.resourceType)}</rasd:OtherResourceType>`];
  if (item.uuid !== undefined) lines.push(`${p}<uuid>${escapeText(item.uuid)}</uuid>`);
  if (item.address !== undefined) lines.push(`${p}<rasd:Address>${escapeText(item.address)}</rasd:Address>`);
  if (item.allocationUnits !== undefined) lines.push(`${p}<rasd:AllocationUnits>${escapeText(item.allocationUnits)}</rasd:AllocationUnits>`);
  for (const [k, v] of item.props) lines.push(`${p}<gprop:GenericProperty key="${escapeAttr(k)}">${escapeText(v)}</gprop:GenericProperty>`);
  lines.push(`${pad}</Item>`);
  return lines;
}

function sectionLines(section: OvfSection, pad: string): string[] {
  return [
    `${pad}<Section xsi:type="${escapeAttr(section.type)}">`,
    ...section.items.flatMap((it) => itemLines(it, pad + INDENT)),
    `${pad}</Section>`,
  ];
}

/** An `<Envelope>` pretty-printed at `depth` levels of two-space indentation. */
export function envelopeLines(env: OvfEnvelope, depth: number): string[] {
  const pad = INDENT.repeat(depth);
  const p = pad + INDENT;
  const lines = [`${pad}<Envelope>`, `${p}<References/>`];
  for (const s of env.sections) lines.push(...sectionLines(s, p));
  for (const c of env.contents) {
    const open = `${p}<Content xsi:type="ovf:VirtualSystem_Type" id="${escapeAttr(c.id ?? '')}"`;
    if (c.sections.length === 0) lines.push(`${open}/>`);
    else lines.push(`${open}>`, ...c.sections.flatMap((s) => sectionLines(s, p + INDENT)), `${p}</Content>`);
  }
  lines.push(`${pad}</Envelope>`);
  return lines;
}

/** `<?xml?>` + `<LDM_interface>` with one `<data version="3.0">` per envelope; ends with a newline. */
export function writeLdmInterface(envelopes: OvfEnvelope[]): string {
  const attrs = LDM_INTERFACE_ATTRS.map(([k, v]) => `\n ${k}="${escapeAttr(v)}"`).join('');
  const lines = ['<?xml version="1.0"?>', `<LDM_interface${attrs}>`];
  for (const env of envelopes) lines.push(`${INDENT}<data version="3.0">`, ...envelopeLines(env, 2), `${INDENT}</data>`);
  lines.push('</LDM_interface>');
  return lines.join('\n') + '\n';
}
