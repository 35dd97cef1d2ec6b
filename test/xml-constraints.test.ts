import { emptyConstraints } from '../src/machine/hypervisor.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';

import type { DomainConstraints } from '../src/manager/types.js';
import { type DomainSpec, XmlError, constraintsToXml, xmlToConstraints } from '../src/xml/constraints.js';
import { XML_LIMITS, parseXml, readLdmDocument } from '../src/xml/ovf.js';
import {
  ILLUMOS_REQUEST,
  SKELETON_2_2,
  REQUEST_3_2_CPU,
  REG_REQUEST,
  FAILURE_RESPONSE,
  EVENT_EXAMPLE,
  MINIMAL_EVENT,
  PROGRESS_CONTENT,
  LDOM_INFO_EXAMPLE,
  CPU_ITEM,
  VDS_VOLUME_SECTION,
  NETWORK_ITEM,
  SPCONFIG_ENVELOPE,
  MIGRATION,
} from './helpers/reference-xml.js';

const G = 1024 * 1024 * 1024;
const M = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Samples copied byte for byte from /work/shared/reference/xml-interface.md (the fenced blocks of
// §2.2, §2.4, §3.3, §4.2, §4.4, §5.2 and §6; ILLUMOS_REQUEST is the one-line request of §1.3 step 5).















// The document list-constraints -x prints for a small guest (format pinned by this test).
const GOLDEN_LDG1 = `<?xml version="1.0"?>
<LDM_interface
 version="1.3"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
 xsi:noNamespaceSchemaLocation="./schemas/combined-v3.xsd"
 xmlns:ovf="./schemas/envelope"
 xmlns:rasd="./schemas/CIM_ResourceAllocationSettingData"
 xmlns:vssd="./schemas/CIM_VirtualSystemSettingData"
 xmlns:gprop="./schemas/GenericProperty"
 xmlns:bind="./schemas/Binding">
  <data version="3.0">
    <Envelope>
      <References/>
      <Content xsi:type="ovf:VirtualSystem_Type" id="ldg1">
        <Section xsi:type="ovf:ResourceAllocationSection_type">
          <Item>
            <rasd:OtherResourceType>ldom_info</rasd:OtherResourceType>
            <uuid>6c908858-12ef-e520-9eb3-f1cd3dbc3a59</uuid>
            <rasd:Address>00:14:4f:fa:ed:88</rasd:Address>
            <gprop:GenericProperty key="hostid">84faed88</gprop:GenericProperty>
            <gprop:GenericProperty key="master"></gprop:GenericProperty>
            <gprop:GenericProperty key="failure-policy">ignore</gprop:GenericProperty>
          </Item>
        </Section>
        <Section xsi:type="ovf:VirtualHardwareSection_Type">
          <Item>
            <rasd:OtherResourceType>cpu</rasd:OtherResourceType>
            <rasd:AllocationUnits>8</rasd:AllocationUnits>
            <gprop:GenericProperty key="whole-core">off</gprop:GenericProperty>
            <gprop:GenericProperty key="max-cores">unlimited</gprop:GenericProperty>
          </Item>
        </Section>
        <Section xsi:type="ovf:VirtualHardwareSection_Type">
          <Item>
            <rasd:OtherResourceType>mau</rasd:OtherResourceType>
            <rasd:AllocationUnits>0</rasd:AllocationUnits>
          </Item>
        </Section>
        <Section xsi:type="ovf:VirtualHardwareSection_Type">
          <Item>
            <rasd:OtherResourceType>memory</rasd:OtherResourceType>
            <rasd:AllocationUnits>2G</rasd:AllocationUnits>
          </Item>
        </Section>
        <Section xsi:type="ovf:VirtualHardwareSection_Type">
          <Item>
            <rasd:OtherResourceType>network</rasd:OtherResourceType>
            <rasd:Address>00:14:4f:f8:3a:91</rasd:Address>
            <gprop:GenericProperty key="vnet_name">vnet0</gprop:GenericProperty>
            <gprop:GenericProperty key="service_name">primary-vsw0</gprop:GenericProperty>
            <gprop:GenericProperty key="mode"></gprop:GenericProperty>
            <gprop:GenericProperty key="pvid">1</gprop:GenericProperty>
            <gprop:GenericProperty key="vid"></gprop:GenericProperty>
            <gprop:GenericProperty key="mtu">1500</gprop:GenericProperty>
            <gprop:GenericProperty key="linkprop"></gprop:GenericProperty>
            <gprop:GenericProperty key="id">0</gprop:GenericProperty>
          </Item>
        </Section>
        <Section xsi:type="ovf:VirtualHardwareSection_Type">
          <Item>
            <rasd:OtherResourceType>disk</rasd:OtherResourceType>
            <gprop:GenericProperty key="vdisk_name">vdisk0</gprop:GenericProperty>
            <gprop:GenericProperty key="service_name">primary-vds0</gprop:GenericProperty>
            <gprop:GenericProperty key="vol_name">vol0</gprop:GenericProperty>
            <gprop:GenericProperty key="timeout">0</gprop:GenericProperty>
            <gprop:GenericProperty key="id">0</gprop:GenericProperty>
          </Item>
        </Section>
        <Section xsi:type="ovf:VirtualHardwareSection_Type">
          <Item>
            <rasd:OtherResourceType>var</rasd:OtherResourceType>
            <gprop:GenericProperty key="name">auto-boot?</gprop:GenericProperty>
            <gprop:GenericProperty key="value">false</gprop:GenericProperty>
          </Item>
        </Section>
      </Content>
    </Envelope>
  </data>
</LDM_interface>
`;

// ---------------------------------------------------------------------------------------------
// Fixtures

/** What a document written from `c` can say about it (docs/xml-constraints.md, "Round trip"). */
function specOf(c: DomainConstraints): DomainSpec {
  const s: DomainSpec = {
    name: c.name,
    hostid: c.hostid,
    failurePolicy: c.failurePolicy,
    masters: c.masters,
    vcpus: c.vcpus,
    wholeCore: c.wholeCore,
    maxCores: c.maxCores,
    crypto: c.crypto,
    memory: c.memory,
    variables: c.variables,
    io: c.io,
    vcc: c.vcc,
    vsw: c.vsw.map(({ macAuto: _a, mac, ...rest }) => (mac ? { ...rest, mac } : rest)),
    vds: c.vds,
    vnets: c.vnets.map(({ macAuto: _a, serviceDomain: _d, mac, ...rest }) => (mac ? { ...rest, mac } : rest)),
    vdisks: c.vdisks.map(({ serviceDomain: _d, ...rest }) => rest),
    console: c.console,
  };
  if (c.uuid) s.uuid = c.uuid;
  if (c.mac) s.mac = c.mac;
  return s;
}

/** The collections a parsed domain always has, for specs built by hand. */
function bare(name: string, extra: Partial<DomainSpec> = {}): DomainSpec {
  return { name, variables: [], io: [], vcc: [], vsw: [], vds: [], vnets: [], vdisks: [], console: {}, ...extra };
}

function domain(name: string, extra: Partial<DomainConstraints> = {}): DomainConstraints {
  // Only what differs from a new domain's constraints.
  return {
    ...emptyConstraints(name),
    uuid: '',
    ...extra,
  };
}

const NVRAMRC = [
  'devalias vdisk1 /virtual-devices@100/channel-devices@200/disk@1',
  '." ChassisSerialNumber 0846AM0A7F " cr',
  ': probe-all  probe-all  ;   \\ keep <this> & "that"',
  '',
].join('\n');

const primary = domain('primary', {
  uuid: '0d5f2a1c-8c9e-e0a5-d4a1-bb8b1cc5b6e1',
  mac: '00:21:28:57:cd:16',
  macAuto: false,
  hostid: 0x8557cd16,
  vcpus: 8,
  crypto: 1,
  memory: 4 * G,
  io: ['pci@400', 'pci@500'],
  variables: [{ name: 'auto-boot?', value: 'true' }],
  vcc: [{ name: 'primary-vcc0', portMin: 5000, portMax: 5100 }],
  vsw: [
    {
      name: 'primary-vsw0', mac: '00:14:4f:f8:5c:3a', macAuto: true, netDev: 'e1000g0', defaultVlanId: 1, pvid: 1,
      vids: [], mtu: 1500, mode: '', linkprop: '', id: 0,
    },
    {
      name: 'primary-vsw1', mac: '00:14:4f:fc:00:01', macAuto: false, netDev: 'nxge0', defaultVlanId: 1, pvid: 12,
      vids: [21, 22, 300], mtu: 9000, mode: 'sc', linkprop: 'phys-state', id: 1,
    },
  ],
  vds: [
    {
      name: 'primary-vds0',
      volumes: [
        { name: 'vol0', backend: '/ldoms/ldg1/disk0.img', options: [], mpgroup: '' },
        { name: 'vol1', backend: '/dev/dsk/c1t1d0s2', options: ['ro', 'slice'], mpgroup: 'mp-a' },
        { name: 'iso', backend: '/export/iso/sol-10-u9-ga-sparc-dvd.iso', options: ['ro', 'excl'], mpgroup: '' },
      ],
    },
    { name: 'primary-vds1', volumes: [{ name: 'vol1', backend: '/dev/zvol/dsk/rpool/ldg1-b', options: [], mpgroup: 'mp-a' }] },
  ],
});

const ldg1 = domain('ldg1', {
  uuid: '6c908858-12ef-e520-9eb3-f1cd3dbc3a59',
  mac: '00:14:4f:fa:ed:88',
  hostid: 0x84faed88,
  failurePolicy: 'reset',
  masters: ['primary', 'ldg9'],
  vcpus: 16,
  wholeCore: true,
  maxCores: 2,
  crypto: 2,
  memory: 1965 * M,
  variables: [
    { name: 'auto-boot?', value: 'false' },
    { name: 'boot-device', value: '/virtual-devices@100/channel-devices@200/disk@0:a vdisk1' },
    { name: 'use-nvramrc?', value: 'true' },
    { name: 'nvramrc', value: NVRAMRC },
    { name: 'note', value: '  padded\tvalue with a CR\r\n' },
  ],
  vnets: [
    {
      name: 'vnet0', service: 'primary-vsw0', serviceDomain: 'primary', mac: '00:14:4f:f8:3a:91', macAuto: true,
      mode: '', pvid: 1, vids: [], mtu: 1500, linkprop: '', id: 0,
    },
    {
      name: 'vnet1', service: 'primary-vsw1', serviceDomain: 'primary', mac: '00:14:4f:fc:12:34', macAuto: false,
      mode: 'hybrid', pvid: 12, vids: [21, 300], mtu: 9000, linkprop: 'phys-state', id: 3,
    },
  ],
  vdisks: [
    { name: 'vdisk0', volume: 'vol0', service: 'primary-vds0', serviceDomain: 'primary', timeout: 0, id: 0 },
    { name: 'vdisk1', volume: 'vol1', service: 'primary-vds0', serviceDomain: 'primary', timeout: 30, id: 1 },
    { name: 'vdisk1b', volume: 'vol1', service: 'primary-vds1', serviceDomain: 'primary', timeout: 30, id: 2 },
  ],
  console: { group: 'ldg1', port: 5001, service: 'primary-vcc0' },
});

function assertXmlError(fn: () => unknown, pattern: RegExp): XmlError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof XmlError, `expected an XmlError, got ${String(caught)}`);
  assert.match(caught.message, pattern);
  return caught;
}

/** One domain's Sections in a bare Envelope, as the documentation's fragments are written. */
function envelope(content: string, id = 'ldg1'): string {
  return `<Envelope>\n<References/>\n<Content xsi:type="ovf:VirtualSystem_Type" id="${id}">\n${content}\n</Content>\n</Envelope>\n`;
}

function section(items: string, type = 'ovf:VirtualHardwareSection_Type'): string {
  return `<Section xsi:type="${type}">\n${items}\n</Section>`;
}

function item(type: string, props: Record<string, string>, extra = ''): string {
  const gprops = Object.entries(props).map(([k, v]) => `<gprop:GenericProperty key="${k}">${v}</gprop:GenericProperty>`);
  return `<Item><rasd:OtherResourceType>${type}</rasd:OtherResourceType>${extra}${gprops.join('')}</Item>`;
}

// ---------------------------------------------------------------------------------------------
// Output

test('list-constraints -x: exact document for a small guest', () => {
  const small = domain('ldg1', {
    uuid: '6c908858-12ef-e520-9eb3-f1cd3dbc3a59',
    mac: '00:14:4f:fa:ed:88',
    hostid: 0x84faed88,
    vcpus: 8,
    memory: 2 * G,
    variables: [{ name: 'auto-boot?', value: 'false' }],
    vnets: [
      {
        name: 'vnet0', service: 'primary-vsw0', serviceDomain: 'primary', mac: '00:14:4f:f8:3a:91', macAuto: true,
        mode: '', pvid: 1, vids: [], mtu: 1500, linkprop: '', id: 0,
      },
    ],
    vdisks: [{ name: 'vdisk0', volume: 'vol0', service: 'primary-vds0', serviceDomain: 'primary', timeout: 0, id: 0 }],
  });
  assert.equal(constraintsToXml([small]), GOLDEN_LDG1);
});

test('list-constraints -x: one <data> per domain, one Item per Section, two-space indentation', () => {
  const xml = constraintsToXml([primary, ldg1]);
  assert.ok(xml.startsWith('<?xml version="1.0"?>\n<LDM_interface\n version="1.3"\n'));
  assert.ok(xml.endsWith('</LDM_interface>\n'));
  assert.equal(xml.match(/<data version="3\.0">/g)?.length, 2);
  assert.equal(xml.match(/<Content /g)?.length, 2);
  assert.equal(xml.match(/<Section /g)?.length, xml.match(/<Item>/g)?.length);
  assert.match(xml, /<Content xsi:type="ovf:VirtualSystem_Type" id="primary">/);
  assert.match(xml, /<rasd:AllocationUnits>1965M<\/rasd:AllocationUnits>/);
  assert.match(xml, /<rasd:AllocationUnits>4G<\/rasd:AllocationUnits>/);
  // Lines that start an element are indented by a multiple of two (value text may span lines).
  for (const line of xml.split('\n')) {
    const m = /^( *)</.exec(line);
    if (m && !line.startsWith(' xmlns') && !line.startsWith(' xsi:') && !line.startsWith(' version')) {
      assert.equal(m[1].length % 2, 0, line);
    }
  }
  // A document prints with no domain at all too.
  assert.equal(constraintsToXml([]).split('\n').at(-2), '</LDM_interface>');
});

test('output is a document a namespace-aware reader accepts: every prefix it uses is declared', () => {
  const xml = constraintsToXml([primary]);
  const used = new Set([...xml.matchAll(/<\/?([a-z]+):/g)].map((m) => m[1]));
  for (const m of xml.matchAll(/ ([a-z]+):[A-Za-z]+="/g)) if (m[1] !== 'xmlns') used.add(m[1]);
  for (const prefix of used) assert.match(xml, new RegExp(`xmlns:${prefix}="`), prefix);
});

test('characters XML cannot carry are refused when writing', () => {
  const bad = domain('ldg1', { variables: [{ name: 'x', value: 'bell\u0007' }] });
  assertXmlError(() => constraintsToXml([bad]), /U\+0007 cannot be written/);
});

// ---------------------------------------------------------------------------------------------
// Round trip

test('round trip: every field a document carries comes back', () => {
  const specs = xmlToConstraints(constraintsToXml([primary, ldg1]));
  assert.deepEqual(specs, [specOf(primary), specOf(ldg1)]);
  assert.equal(specs[1].variables![3].value, NVRAMRC);
  assert.equal(specs[1].variables![4].value, '  padded\tvalue with a CR\r\n');
});

test('round trip: unset identity, unlimited and orphan max-cores, odd sizes, markup in names', () => {
  const cases = [
    domain('new'),
    domain('wc', { wholeCore: true, maxCores: null, vcpus: 64 }),
    domain('capped', { wholeCore: false, maxCores: 3 }),
    domain('bytes', { memory: 1000, crypto: 0 }),
    domain('k', { memory: 512 * 1024, console: { service: 'primary-vcc0' } }),
    domain('a&b<"c">', { variables: [{ name: 'x&y', value: ']]> & <!-- not a comment -->' }] }),
  ];
  assert.deepEqual(xmlToConstraints(constraintsToXml(cases)), cases.map(specOf));
});

// ---------------------------------------------------------------------------------------------
// Documentation samples

test('§2.4: the fully namespaced 3.2 add-vcpu request', () => {
  assert.deepEqual(xmlToConstraints(REQUEST_3_2_CPU), [bare('ldg1', { vcpus: 8, wholeCore: true })]);
});

test('§5.2 ldom_info example: undeclared prefixes, id attribute, progress keys ignored', () => {
  assert.deepEqual(xmlToConstraints(LDOM_INFO_EXAMPLE), [
    bare('primary', { mac: '00:03:ba:d8:ba:f6', hostid: 0x83d8baf6, masters: ['plum'], failurePolicy: 'reset' }),
  ]);
});

test('§5.2 cpu, vds_volume and network fragments inside a domain', () => {
  assert.deepEqual(xmlToConstraints(envelope(section(CPU_ITEM))), [bare('ldg1', { vcpus: 4 })]);

  const vds = section(item('vds', { service_name: 'primary-vds0' }));
  assert.deepEqual(xmlToConstraints(envelope(`${VDS_VOLUME_SECTION}\n${vds}`, 'primary')), [
    bare('primary', {
      vds: [
        {
          name: 'primary-vds0',
          volumes: [{ name: 'vdsdev0', backend: '/opt/SUNWldm/domain_disks/testdisk1', options: ['ro'], mpgroup: 'mpgroup-name' }],
        },
      ],
    }),
  ]);

  assert.deepEqual(xmlToConstraints(envelope(section(NETWORK_ITEM))), [
    bare('ldg1', { vnets: [{ name: 'ldg1-vnet0', service: 'primary-vsw0', mac: '00:14:4f:fc:00:01', linkprop: 'phys-state' }] }),
  ]);
});

test('§4.4 progress data, §4.2 minimal event and §3.3 response name a domain and nothing else', () => {
  assert.deepEqual(xmlToConstraints(`<Envelope>${PROGRESS_CONTENT}</Envelope>`), [bare('ldg1')]);
  assert.deepEqual(xmlToConstraints(MINIMAL_EVENT), [bare('ldg1')]);
  assert.deepEqual(xmlToConstraints(FAILURE_RESPONSE), [bare('nosuch')]);
});

test('§6 migration data names ldg1 twice: refused as input', () => {
  assertXmlError(() => xmlToConstraints(MIGRATION), /domain ldg1 is described more than once/);
});

test('§2.2 skeleton: its placeholder resource type is unknown', () => {
  assertXmlError(() => xmlToConstraints(SKELETON_2_2), /domain Domain name: unknown resource type "LDom Resource Type"/);
});

test('§4.2 event example and §5.2 spconfig: a Section outside any Content describes no domain', () => {
  assertXmlError(() => xmlToConstraints(EVENT_EXAMPLE), /<Section> outside any <Content>.*LDom Resource Type/);
  assertXmlError(() => xmlToConstraints(SPCONFIG_ENVELOPE), /<Section> outside any <Content>.*spconfig/);
});

test('§1.3 and §3.3 registration requests describe no domain', () => {
  assertXmlError(() => xmlToConstraints(ILLUMOS_REQUEST), /describes no domain/);
  assertXmlError(() => xmlToConstraints(REG_REQUEST), /describes no domain/);
  const doc = readLdmDocument(ILLUMOS_REQUEST);
  assert.equal(doc.cmds[0].action, 'reg-domain-events');
  assert.equal(doc.cmds[0].data[0].envelope, null);
});

// ---------------------------------------------------------------------------------------------
// Accepted spellings

test('_type, _Type, no xsi:type; id, ovf:id; declared or undeclared prefixes read alike', () => {
  const info = item('ldom_info', { hostid: '0x83d8baf6', 'failure-policy': 'stop' });
  const expected = [bare('ldg1', { hostid: 0x83d8baf6, failurePolicy: 'stop' })];
  for (const type of ['ovf:ResourceAllocationSection_type', 'ovf:ResourceAllocationSection_Type', 'ovf:VirtualHardwareSection_Type']) {
    assert.deepEqual(xmlToConstraints(envelope(section(info, type))), expected, type);
  }
  assert.deepEqual(xmlToConstraints(`<Envelope><Content ovf:id="ldg1"><Section>${info}</Section></Content></Envelope>`), expected);
  const declared =
    '<o:Envelope xmlns:o="urn:x" xmlns:r="urn:r" xmlns:g="urn:g"><o:Content o:id="ldg1"><o:Section><o:Item>' +
    '<r:OtherResourceType>ldom_info</r:OtherResourceType><g:GenericProperty key="hostid">83d8baf6</g:GenericProperty>' +
    '<g:GenericProperty key="failure-policy">stop</g:GenericProperty></o:Item></o:Section></o:Content></o:Envelope>';
  assert.deepEqual(xmlToConstraints(declared), expected);
});

test('memory sizes: 4G, 512M, 4294967296 bytes, lower-case unit; 1.2-era keys', () => {
  for (const [text, bytes] of [['4G', 4 * G], ['512M', 512 * M], ['4294967296', 4 * G], ['2g', 2 * G], [' 8192K ', 8 * M]] as const) {
    const doc = envelope(section(item('memory', {}, `<rasd:AllocationUnits>${text}</rasd:AllocationUnits>`)));
    assert.equal(xmlToConstraints(doc)[0].memory, bytes, text);
  }
  const legacy = envelope(
    [
      section(item('ldom_info', { mac_addr: '0:14:4F:FC:0:1' })),
      section(item('cpu', { number: '6' })),
      section(item('mau', { number: '1' })),
      section(item('memory', { size: '1G' })),
      section(item('vsw', { service_name: 'vsw1-ldg1', 'dev-path': 'bge0', mac_addr: 'auto-allocated' })),
    ].join('\n'),
  );
  assert.deepEqual(xmlToConstraints(legacy), [
    bare('ldg1', { mac: '00:14:4f:fc:00:01', vcpus: 6, crypto: 1, memory: G, vsw: [{ name: 'vsw1-ldg1', netDev: 'bge0' }] }),
  ]);
  const byLdomName = `<Envelope><Content>${section(item('ldom_info', { ldom_name: 'old' }))}</Content></Envelope>`;
  assert.deepEqual(xmlToConstraints(byLdomName), [bare('old')]);
});

test('LDM_interface with several cmds and data blocks: every domain, in document order', () => {
  const one = (name: string, cpus: number) =>
    `<data version="3.0"><Envelope><References/><Content xsi:type="ovf:VirtualSystem_Type" id="${name}">` +
    `${section(item('cpu', {}, `<rasd:AllocationUnits>${cpus}</rasd:AllocationUnits>`))}</Content></Envelope></data>`;
  const doc =
    `<?xml version="1.0"?>\n<LDM_interface version="1.0">\n` +
    `<cmd><action>add-domain</action>${one('a', 1)}${one('b', 2)}</cmd>\n` +
    `<cmd><action>add-domain</action><option>x</option>${one('c', 3)}</cmd>\n</LDM_interface>`;
  assert.deepEqual(
    xmlToConstraints(doc).map((s) => [s.name, s.vcpus]),
    [['a', 1], ['b', 2], ['c', 3]],
  );
  assert.deepEqual(readLdmDocument(doc).cmds[1].options, ['x']);
  // A volume may precede its vds; comments, CDATA and character references are read as XML says.
  const tricky = envelope(
    [
      section(item('vds_volume', { vol_name: 'v', service_name: 's', block_dev: '/d', vol_opts: 'excl' })),
      '<!-- <Section><Item><rasd:OtherResourceType>gpu</rasd:OtherResourceType></Item></Section> -->',
      section(item('vds', { service_name: 's' })),
      section(item('var', { name: 'v1', value: '<![CDATA[a &amp; <b>]]>&#x41;&#10;&amp;' })),
    ].join('\n'),
  );
  const spec = xmlToConstraints(tricky)[0];
  assert.deepEqual(spec.vds, [{ name: 's', volumes: [{ name: 'v', backend: '/d', options: ['excl'] }] }]);
  assert.deepEqual(spec.variables, [{ name: 'v1', value: 'a &amp; <b>A\n&' }]);
});

// ---------------------------------------------------------------------------------------------
// Errors

test('not well-formed XML names the line', () => {
  const e = assertXmlError(() => xmlToConstraints('<Envelope>\n  <Content id="a">\n</Envelope>\n'), /^not well-formed XML \(line 3/);
  assert.equal(e.line, 3);
  assertXmlError(() => xmlToConstraints(''), /not well-formed XML/);
  assertXmlError(() => xmlToConstraints('<Envelope/><Envelope/>'), /more than one root element/);
  assertXmlError(() => xmlToConstraints('<Envelope>&nbsp;</Envelope>'), /undefined entity &nbsp;/);
  assertXmlError(() => xmlToConstraints('<Envelope>&#0;</Envelope>'), /not an XML character/);
  assertXmlError(() => xmlToConstraints('<ldom/>'), /unexpected root element <ldom>/);
});

test('missing domain name', () => {
  assertXmlError(() => xmlToConstraints(envelope(section(item('var', { name: 'a' })), '')), /<Content> has no domain name/);
  assertXmlError(() => xmlToConstraints('<Envelope><Content xsi:type="ovf:VirtualSystem_Type"/></Envelope>'), /no domain name/);
});

test('unknown and unsupported resource types', () => {
  assertXmlError(() => xmlToConstraints(envelope(section(item('gpu', {})))), /domain ldg1: unknown resource type "gpu"/);
  assertXmlError(() => xmlToConstraints(envelope(section(item('vdpcc', {})))), /vdpcc resource is not a domain constraint/);
  assertXmlError(() => xmlToConstraints(envelope(section('<Item><gprop:GenericProperty key="a">b</gprop:GenericProperty></Item>'))), /has no <rasd:OtherResourceType>/);
});

test('bad numbers, sizes and values', () => {
  const units = (type: string, v: string) => envelope(section(item(type, {}, `<rasd:AllocationUnits>${v}</rasd:AllocationUnits>`)));
  assertXmlError(() => xmlToConstraints(units('cpu', 'eight')), /domain ldg1, cpu resource: "eight" is not a valid number/);
  assertXmlError(() => xmlToConstraints(units('mau', '-1')), /mau resource: "-1" is not a valid number/);
  assertXmlError(() => xmlToConstraints(units('memory', '4X')), /memory resource: "4X" is not a valid size/);
  assertXmlError(() => xmlToConstraints(units('memory', '')), /<rasd:AllocationUnits> is missing/);
  assertXmlError(() => xmlToConstraints(envelope(section(item('vcc', { service_name: 'c', min_port: '5000', max_port: '6k' })))), /"6k" is not a valid number \(max_port\)/);
  assertXmlError(() => xmlToConstraints(envelope(section(item('network', { vnet_name: 'n', service_name: 's', vid: '1,x' })))), /"x" is not a valid number \(vid\)/);
  assertXmlError(() => xmlToConstraints(envelope(section(item('ldom_info', { hostid: 'xyz' })))), /"xyz" is not a host ID/);
  assertXmlError(() => xmlToConstraints(envelope(section(item('ldom_info', { 'failure-policy': 'explode' })))), /"explode" is not a valid failure-policy/);
  assertXmlError(() => xmlToConstraints(envelope(section(item('ldom_info', {}, '<uuid>nope</uuid>')))), /"nope" is not a UUID/);
  assertXmlError(() => xmlToConstraints(envelope(section(item('ldom_info', {}, '<rasd:Address>00:14:4f</rasd:Address>')))), /"00:14:4f" is not a MAC address/);
  assertXmlError(() => xmlToConstraints(envelope(section(item('vsw', { service_name: 'v', mode: 'routed' })))), /"routed" is not a valid mode/);
  assertXmlError(() => xmlToConstraints(envelope(section(item('vds_volume', { vol_name: 'v', service_name: 's', block_dev: '/d', vol_opts: 'rw' })))), /"rw" is not a volume option/);
});

test('missing required properties, dangling volumes, repeated singletons and keys', () => {
  assertXmlError(() => xmlToConstraints(envelope(section(item('disk', { vdisk_name: 'd', service_name: 's' })))), /disk resource: property "vol_name" is missing/);
  assertXmlError(() => xmlToConstraints(envelope(section(item('vds_volume', { vol_name: 'v', service_name: 's', block_dev: '/d' })))), /volume v: this domain has no vds "s"/);
  const cpu = section(item('cpu', {}, '<rasd:AllocationUnits>1</rasd:AllocationUnits>'));
  assertXmlError(() => xmlToConstraints(envelope(`${cpu}\n${cpu}`)), /domain ldg1: more than one cpu resource/);
  const twice = '<Item><rasd:OtherResourceType>var</rasd:OtherResourceType><gprop:GenericProperty key="name">a</gprop:GenericProperty><gprop:GenericProperty key="name">b</gprop:GenericProperty></Item>';
  assertXmlError(() => xmlToConstraints(envelope(section(twice))), /property "name" is given twice/);
});

test('duplicate domain name across data blocks', () => {
  const doc = `<LDM_interface version="1.3"><data version="3.0">${envelope('', 'x')}</data><data version="3.0">${envelope('', 'x')}</data></LDM_interface>`;
  assertXmlError(() => xmlToConstraints(doc), /^domain x is described more than once in the document$/);
});

// ---------------------------------------------------------------------------------------------
// Hostile input

test('billion laughs: refused before any expansion, quickly', () => {
  const lol = [
    '<?xml version="1.0"?>',
    '<!DOCTYPE lolz [',
    ' <!ENTITY lol "lol">',
    ...Array.from({ length: 9 }, (_, i) => ` <!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`),
    ']>',
    '<Envelope><Content id="&lol9;"/></Envelope>',
  ].join('\n');
  const t0 = performance.now();
  const e = assertXmlError(() => xmlToConstraints(lol), /<!DOCTYPE> declarations are not accepted/);
  assert.ok(performance.now() - t0 < 500);
  assert.equal(e.line, 2);
  assertXmlError(() => xmlToConstraints('<!ENTITY x "y"><Envelope/>'), /<!ENTITY> declarations are not accepted/);
  // The same words inside a comment or CDATA are only text.
  assert.deepEqual(xmlToConstraints('<!-- <!DOCTYPE x> --><Envelope><Content id="a"><![CDATA[<!ENTITY]]></Content></Envelope>'), [bare('a')]);
});

test('10000-deep nesting: refused quickly; the cap is 64 levels', () => {
  const deep = '<Envelope>' + '<a>'.repeat(10000) + '</a>'.repeat(10000) + '</Envelope>';
  const t0 = performance.now();
  assertXmlError(() => xmlToConstraints(deep), /nested more than 64 deep/);
  assert.ok(performance.now() - t0 < 500);
  const nest = (n: number) => '<a>'.repeat(n) + '<b/>' + '</a>'.repeat(n);
  assert.equal(XML_LIMITS.maxDepth, 64);
  assert.equal(parseXml(nest(64)).name, 'a');
  assertXmlError(() => parseXml(nest(65)), /nested more than 64 deep/);
  // Attribute values with '>' or quotes do not fool the depth count.
  assert.equal(parseXml(`<a x="/>" y='">'>${nest(63)}</a>`).attrs.x, '/>');
});

test('documents over 4 MiB are refused before parsing', () => {
  const big = `<Envelope><Content id="x">${' '.repeat(XML_LIMITS.maxBytes)}</Content></Envelope>`;
  const t0 = performance.now();
  assertXmlError(() => xmlToConstraints(big), /larger than 4 MiB/);
  assert.ok(performance.now() - t0 < 500);
});
