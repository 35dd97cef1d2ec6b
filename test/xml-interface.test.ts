// The <LDM_interface> protocol without a network: request checks, the action → argv translation
// table against every request example of xml-interface.md, the list renderers, the response and
// event documents (byte-exact where the reference prints one), and InterfaceSession end to end
// over an in-process stand-in for the manager that runs the real command table and rules.

import assert from 'node:assert/strict';
import { eventAction } from '../src/daemon/run-command.js';
import { resolveCommand } from '../src/commands/table.js';
import { describe, it } from 'node:test';

import { parseArgs } from '../src/commands/args.js';
import { COMMANDS, resolveXmlAction } from '../src/commands/table.js';
import type { Authorization } from '../src/commands/types.js';
import { bootRuntime, factoryPrimary } from '../src/machine/hypervisor.js';
import type { HostView } from '../src/manager/inventory.js';
import type { Draft, LdmEvent, Manager } from '../src/manager/manager.js';
import type { Domain, SpConfigListing } from '../src/manager/types.js';
import { loadPlatform } from '../src/platform/load.js';
import type { PlatformSpec } from '../src/platform/types.js';
import { constraintsToXml } from '../src/xml/constraints.js';
import {
  InterfaceSession,
  REQUEST_FILE,
  XML_ACTIONS,
  changedServices,
  domainSummaryProps,
  envelopesFromXml,
  parseRequest,
  readData,
  renderEvent,
  renderListBindings,
  renderListConstraints,
  renderListDevices,
  renderListDomain,
  renderListSpconfig,
  renderListVariable,
  translateRequest,
  writeDocumentFailure,
  writeEnvelope,
  writeResponse,
  type OutItem,
  type Request,
  type Translation,
} from '../src/xml/interface.js';
import type { OvfEnvelope, OvfItem } from '../src/xml/ovf.js';
import {
  SKELETON_2_2 as EX_SKELETON,
  REQUEST_3_2_CPU as EX_ADD_VCPU_32,
  REG_REQUEST as EX_REG_REQUEST,
  FAILURE_RESPONSE as EX_FAILURE_RESPONSE,
  EVENT_EXAMPLE as EX_EVENT,
  PROGRESS_CONTENT as EX_PROGRESS,
  LDOM_INFO_EXAMPLE as EX_LDOM_INFO,
  CPU_ITEM as EX_CPU,
  VDS_VOLUME_SECTION as EX_VDS_VOLUME,
  NETWORK_ITEM as EX_NETWORK,
  SPCONFIG_ENVELOPE as EX_SPCONFIG,
  MIGRATION as EX_MIGRATE,
} from './helpers/reference-xml.js';

// --- reference examples (xml-interface.md), byte for byte ------------------------------------




const EX_REG_RESPONSE = `<LDM_interface version="1.0">
  <cmd>
    <action>reg-domain-events</action>
    <data version="3.0">
      <response>
        <status>success</status>
      </response>
    </data>
    <response>
      <status>success</status>
    </response>
  </cmd>
  <response>
    <status>success</status>
  </response>
</LDM_interface>`;



/** §4.2 minimal domain event. */
const EX_DOMAIN_EVENT =
  "<LDM_event version='1.1'><cmd><action>start-domain</action><data version='3.0'><Envelope><References/><Content xsi:type='ovf:VirtualSystem_Type' id='ldg1'/></Envelope></data></cmd></LDM_event>";








// --- helpers -------------------------------------------------------------------------------

const compact = (xml: string) => xml.replace(/>\s+</g, '><').trim();

function request(action: string, data: string, options: string[] = []): string {
  return `<LDM_interface version="1.1"><cmd><action>${action}</action>${options.map((o) => `<option>${o}</option>`).join('')}<data version="3.0">${data}</data></cmd></LDM_interface>`;
}

/** A Content for `domain` holding the given Items (each in its own Section). */
function content(domain: string, ...items: string[]): string {
  return `<Envelope><References/><Content xsi:type="ovf:VirtualSystem_Type" id="${domain}">${items.map((i) => `<Section xsi:type="ovf:VirtualHardwareSection_Type">${i}</Section>`).join('')}</Content></Envelope>`;
}

function item(type: string, props: Record<string, string>, extra = ''): string {
  return `<Item><rasd:OtherResourceType>${type}</rasd:OtherResourceType>${extra}${Object.entries(props)
    .map(([k, v]) => `<gprop:GenericProperty key="${k}">${v}</gprop:GenericProperty>`)
    .join('')}</Item>`;
}

function parsed(xml: string): Request {
  const r = parseRequest(xml);
  assert.ok(!('message' in r), `request rejected: ${'message' in r ? r.message : ''}`);
  return r as Request;
}

/** Translate the first `<data>` of the first `<cmd>` of a request document. */
function translateDoc(xml: string): Translation {
  const r = parsed(xml);
  const cmd = r.cmds[0];
  return translateRequest(cmd.action, cmd.data.length ? readData(cmd.data[0]) : null, cmd.options);
}

/** The translation, checked against the CLI's own argument parser. */
function argvOf(xml: string, name: string): string[] {
  const t = translateDoc(xml);
  assert.equal(t.spec.name, name);
  parseArgs(t.spec, t.argv);
  return t.argv;
}

// --- requests ----------------------------------------------------------------------------------

describe('request documents', () => {
  const rejected = (xml: string) => {
    const r = parseRequest(xml);
    assert.ok('message' in r, 'expected a document failure');
    return r as { version: string; message: string };
  };

  it('accepts the reference requests with undeclared prefixes and echoes their version', () => {
    assert.equal(parsed(EX_REG_REQUEST).version, '1.0');
    assert.equal(parsed(EX_ADD_VCPU_32).version, '1.3');
    assert.deepEqual(parsed(EX_SKELETON).cmds[0].options, ['Place options for certain commands here']);
    // The illumos client's registration, whitespace and all (§1.3 step 5).
    const illumos = '<LDM_interface version="1.1">   <cmd>      <action>reg-domain-events</action>      <data version="3.0"> </data>   </cmd></LDM_interface>';
    const r = parsed(illumos);
    assert.equal(r.cmds[0].action, 'reg-domain-events');
    assert.equal(readData(r.cmds[0].data[0]), null);
  });

  it('rejects malformed documents, wrong roots, a missing version and a cmd without exactly one action', () => {
    assert.match(rejected('<LDM_interface version="1.1"><cmd>').message, /not well-formed/);
    assert.equal(rejected('<LDM_interface version="1.1"><cmd>').version, '1.1');
    assert.match(rejected(EX_EVENT).message, /unexpected root element <LDM_event>/);
    assert.match(rejected(EX_LDOM_INFO).message, /unexpected root element <Envelope>/);
    assert.match(rejected(EX_REG_REQUEST + EX_REG_REQUEST).message, /root/);
    assert.equal(rejected(EX_REG_REQUEST + EX_REG_REQUEST).version, '1.0');
    assert.match(rejected('<LDM_interface><cmd><action>list-domain</action></cmd></LDM_interface>').message, /no version attribute/);
    assert.match(rejected('<LDM_interface version="1.1"></LDM_interface>').message, /no <cmd>/);
    assert.match(rejected('<LDM_interface version="1.1"><cmd><data/></cmd></LDM_interface>').message, /has 0 <action> elements/);
    assert.match(
      rejected('<LDM_interface version="1.1"><cmd><action>a</action><action>b</action></cmd></LDM_interface>').message,
      /has 2 <action> elements/,
    );
    const bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><LDM_interface version="1.1"/>';
    assert.match(rejected(bomb).message, /DOCTYPE/);
    assert.match(rejected('<a>'.repeat(100)).message, /nested more than/);
  });

  it('writes a rejected document as an overall failure with its version', () => {
    assert.equal(
      writeDocumentFailure({ version: '1.0', message: 'x < y' }),
      '<LDM_interface version="1.0"><response><status>failure</status><resp_msg>x &lt; y</resp_msg></response></LDM_interface>',
    );
  });
});

// --- translation -----------------------------------------------------------------------------

describe('translation of the reference request examples', () => {
  it('§2.2 skeleton: an unknown action', () => {
    assert.throws(() => translateDoc(EX_SKELETON), /^Error: Unknown action: Place command here$/);
  });

  it('§2.4 add-vcpu with wcore: whole cores', () => {
    assert.deepEqual(argvOf(EX_ADD_VCPU_32, 'add-vcpu'), ['-c', '1', 'ldg1']);
  });

  it('§5.2 cpu Item', () => {
    const xml = request('add-vcpu', `<Envelope><References/><Content xsi:type="ovf:VirtualSystem_Type" id="ldg1"><Section xsi:type="ovf:VirtualHardwareSection_Type">${EX_CPU}</Section></Content></Envelope>`);
    assert.deepEqual(argvOf(xml, 'add-vcpu'), ['4', 'ldg1']);
    assert.deepEqual(argvOf(xml.replace('add-vcpu', 'set-vcpu'), 'set-vcpu'), ['4', 'ldg1']);
    assert.deepEqual(argvOf(xml.replace('add-vcpu', 'remove-vcpu'), 'remove-vcpu'), ['4', 'ldg1']);
  });

  it('§5.2 ldom_info: add-domain and set-domain properties (progress/status/source are output only)', () => {
    const want = ['mac-addr=00:03:ba:d8:ba:f6', 'hostid=83d8baf6', 'master=plum', 'failure-policy=reset', 'primary'];
    assert.deepEqual(argvOf(request('add-domain', EX_LDOM_INFO), 'add-domain'), want);
    assert.deepEqual(argvOf(request('set-domain', EX_LDOM_INFO), 'set-domain'), want);
  });

  it('§4.4 progress Content as set-domain data: nothing to set', () => {
    assert.deepEqual(argvOf(request('set-domain', EX_PROGRESS), 'set-domain'), ['ldg1']);
  });

  it('§5.2 vds_volume: the add-vdsdev command line the reference gives', () => {
    // "= ldm add-vdsdev options=ro mpgroup=mpgroup-name /opt/SUNWldm/domain_disks/testdisk1 vdsdev0@primary-vds0"
    const xml = request('add-vdiskserverdevice', `<Envelope><References/>${EX_VDS_VOLUME}</Envelope>`);
    assert.deepEqual(argvOf(xml, 'add-vdsdev'), ['options=ro', 'mpgroup=mpgroup-name', '/opt/SUNWldm/domain_disks/testdisk1', 'vdsdev0@primary-vds0']);
    assert.deepEqual(argvOf(request('remove-vdiskserverdevice', `<Envelope><References/>${EX_VDS_VOLUME}</Envelope>`, ['-f']), 'remove-vdsdev'), [
      '-f',
      'vdsdev0@primary-vds0',
    ]);
  });

  it('§5.2 network', () => {
    const xml = request('add-vnet', content('ldg1', EX_NETWORK));
    assert.deepEqual(argvOf(xml, 'add-vnet'), ['mac-addr=00:14:4f:fc:00:01', 'linkprop=phys-state', 'ldg1-vnet0', 'primary-vsw0', 'ldg1']);
    assert.deepEqual(argvOf(request('remove-vnet', content('ldg1', EX_NETWORK)), 'remove-vnet'), ['ldg1-vnet0', 'ldg1']);
  });

  it('§5.2 vcc: port-range=5000-6000 primary-vcc0 primary', () => {
    const vcc = item('vcc', { service_name: 'primary-vcc0', min_port: '5000', max_port: '6000' });
    assert.deepEqual(argvOf(request('add-vconscon', content('primary', vcc)), 'add-vcc'), ['port-range=5000-6000', 'primary-vcc0', 'primary']);
    assert.deepEqual(argvOf(request('set-vconscon', content('primary', vcc)), 'set-vcc'), ['port-range=5000-6000', 'primary-vcc0']);
  });

  it('§5.2 spconfig', () => {
    assert.deepEqual(argvOf(request('set-spconfig', EX_SPCONFIG), 'set-spconfig'), ['primary']);
    assert.deepEqual(argvOf(request('add-spconfig', EX_SPCONFIG), 'add-spconfig'), ['primary']);
    assert.deepEqual(argvOf(request('remove-spconfig', EX_SPCONFIG, ['-r']), 'remove-spconfig'), ['-r', 'primary']);
    assert.deepEqual(argvOf(request('add-spconfig', EX_SPCONFIG, ['-r autosave1']), 'add-spconfig'), ['-r', 'autosave1', 'primary']);
  });

  it('§3.3 registration is not a command of the table', () => {
    assert.throws(() => translateDoc(EX_REG_REQUEST), /Unknown action: reg-domain-events/);
  });

  it('§6 migration: base64 user and password; the printed placeholders are not base64', () => {
    assert.equal(resolveXmlAction('migrate-domain')?.name, 'migrate-domain');
    assert.throws(() => translateDoc(request('migrate-domain', EX_MIGRATE)), /username is not base64-encoded/);
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const t = translateDoc(request('migrate-domain', EX_MIGRATE.replace('user-name', b64('root')).replace('>password<', `>${b64('secret pw')}<`)));
    assert.deepEqual(t.argv, ['ldg1', 'root@target-host:ldg1']);
    assert.equal(t.password, 'secret pw');
  });
});

describe('translation table', () => {
  it('has an entry for every XML action of the command table, and only for those', () => {
    const table = COMMANDS.filter((c) => c.xmlAction !== null).map((c) => c.xmlAction ?? c.name);
    for (const a of table) assert.ok(XML_ACTIONS.includes(a), `no translation for ${a}`);
    for (const a of XML_ACTIONS) assert.ok(table.includes(a), `${a} is not in the command table`);
  });

  it('refuses aliases, CLI-only subcommands and prototype names', () => {
    for (const a of ['add-vds', 'ls', 'list', 'create', 'rm-vdisk', 'add-crypto', 'add-vsw', 'panic-domain', 'set-vdisk', 'add-policy', 'list-io', 'start-reconf', 'constructor', 'toString', '__proto__']) {
      assert.throws(() => translateRequest(a, null), new RegExp(`^Error: Unknown action: ${a.replace(/_/g, '_')}$`), a);
    }
  });

  const t = (action: string, data: string | null, options: string[] = []) => {
    const doc = request(action, data ?? '', options);
    const r = translateDoc(doc);
    parseArgs(r.spec, r.argv);
    return r.argv;
  };
  const C = (d: string, ...items: string[]) => content(d, ...items);

  it('domains', () => {
    assert.deepEqual(t('add-domain', C('ldg1')), ['ldg1']);
    assert.deepEqual(t('remove-domain', C('ldg1')), ['ldg1']);
    assert.deepEqual(t('remove-domain', null, ['-a']), ['-a']);
    assert.deepEqual(t('bind-domain', C('ldg1')), ['ldg1']);
    assert.deepEqual(t('unbind-domain', C('ldg1')), ['ldg1']);
    assert.deepEqual(t('start-domain', C('ldg1')), ['ldg1']);
    assert.deepEqual(t('stop-domain', C('ldg1'), ['-f']), ['-f', 'ldg1']);
    assert.deepEqual(t('cancel-operation', C('ldg1'), ['reconf']), ['reconf', 'ldg1']);
    assert.deepEqual(t('remove-reconf', C('primary')), ['primary']);
    // set-domain passes empty values: `master=` clears the masters.
    assert.deepEqual(t('set-domain', C('ldg1', item('ldom_info', { master: '' }))), ['master=', 'ldg1']);
    assert.deepEqual(t('add-domain', C('ldg1', item('ldom_info', { master: '' }))), ['ldg1']);
  });

  it('add-domain with a full constraints Content goes through -i with the Content as the file', () => {
    const doc = C('ldg1', item('cpu', {}, '<rasd:AllocationUnits>8</rasd:AllocationUnits>'), item('memory', {}, '<rasd:AllocationUnits>2G</rasd:AllocationUnits>'));
    const tr = translateDoc(request('add-domain', doc));
    assert.deepEqual(tr.argv, ['-i', REQUEST_FILE]);
    const file = tr.files!.get(REQUEST_FILE)!;
    // The file is a list-constraints -x style document the constraints codec reads back.
    const env = envelopesFromXml(file);
    assert.equal(env[0].contents[0].id, 'ldg1');
    assert.deepEqual(env[0].contents[0].sections.flatMap((s) => s.items.map((i) => [i.resourceType, i.allocationUnits])), [
      ['cpu', '8'],
      ['memory', '2G'],
    ]);
    assert.deepEqual(translateDoc(request('bind-domain', doc)).argv, ['-i', REQUEST_FILE]);
    assert.deepEqual(translateDoc(request('start-domain', doc)).argv, ['-i', REQUEST_FILE]);
    assert.deepEqual(translateDoc(request('set-domain', doc)).argv, ['-i', REQUEST_FILE]);
    // A uuid cannot be given as a property: also -i.
    assert.deepEqual(translateDoc(request('add-domain', C('ldg1', item('ldom_info', {}, '<uuid>6c908858-12ef-e520-9eb3-f1cd3dbc3a59</uuid>')))).argv, ['-i', REQUEST_FILE]);
  });

  it('cpu, crypto, memory, io', () => {
    const units = (n: string) => `<rasd:AllocationUnits>${n}</rasd:AllocationUnits>`;
    assert.deepEqual(t('set-vcpu', C('ldg1', item('cpu', { wcore: '0' }, units('16')))), ['16', 'ldg1']);
    assert.deepEqual(t('set-vcpu', C('ldg1', item('cpu', { 'whole-core': 'off', 'max-cores': 'unlimited' }, units('16')))), ['16', 'ldg1']);
    assert.deepEqual(t('add-mau', C('ldg1', item('mau', {}, units('1')))), ['1', 'ldg1']);
    assert.deepEqual(t('remove-mau', C('ldg1', item('mau', {}, units('1')))), ['1', 'ldg1']);
    assert.deepEqual(t('set-memory', C('ldg1', item('memory', {}, units('4G')))), ['4G', 'ldg1']);
    assert.deepEqual(t('add-memory', C('ldg1', item('memory', {}, units('512M'))), ['--auto-adj']), ['--auto-adj', '512M', 'ldg1']);
    assert.deepEqual(t('add-io', C('primary', item('physio_device', { name: 'pci@500' }))), ['pci@500', 'primary']);
    assert.deepEqual(t('remove-io', C('primary', item('physio_device', { name: 'pci_1' }))), ['pci_1', 'primary']);
  });

  it('disk services and disks', () => {
    assert.deepEqual(t('add-vdiskserver', C('primary', item('vds', { service_name: 'primary-vds0' }))), ['primary-vds0', 'primary']);
    assert.deepEqual(t('remove-vdiskserver', `<Envelope><Section>${item('vds', { service_name: 'primary-vds0' })}</Section></Envelope>`, ['-f']), ['-f', 'primary-vds0']);
    const disk = item('disk', { vdisk_name: 'vdisk0', service_name: 'primary-vds0', vol_name: 'vol0', timeout: '30' });
    assert.deepEqual(t('add-vdisk', C('ldg1', disk)), ['timeout=30', 'vdisk0', 'vol0@primary-vds0', 'ldg1']);
    assert.deepEqual(t('remove-vdisk', C('ldg1', disk)), ['vdisk0', 'ldg1']);
  });

  it('switches', () => {
    const vsw = item('vsw', { service_name: 'primary-vsw0', dev_path: 'nxge0', linkprop: '', mode: 'sc', pvid: '12', vid: '20,30' }, '<rasd:Address>00:14:4f:fc:00:01</rasd:Address>');
    assert.deepEqual(t('add-vswitch', C('primary', vsw)), ['mac-addr=00:14:4f:fc:00:01', 'net-dev=nxge0', 'mode=sc', 'pvid=12', 'vid=20,30', 'primary-vsw0', 'primary']);
    assert.deepEqual(t('set-vswitch', C('primary', vsw)), ['mac-addr=00:14:4f:fc:00:01', 'net-dev=nxge0', 'linkprop=', 'mode=sc', 'pvid=12', 'vid=20,30', 'primary-vsw0']);
    // 1.2 spelled dev_path `dev-path`.
    assert.deepEqual(t('add-vswitch', C('primary', item('vsw', { service_name: 'sw1', 'dev-path': 'e1000g0' }))), ['net-dev=e1000g0', 'sw1', 'primary']);
    assert.deepEqual(t('remove-vswitch', C('primary', item('vsw', { service_name: 'sw1' }))), ['sw1']);
    const vnet = item('network', { vnet_name: 'vnet1', service_name: 'sw2', pvid: '' });
    assert.deepEqual(t('set-vnet', C('ldg1', vnet)), ['pvid=', 'vswitch=sw2', 'vnet1', 'ldg1']);
  });

  it('consoles, Netra DPS, variables, listings', () => {
    assert.deepEqual(t('remove-vconscon', C('primary', item('vcc', { service_name: 'primary-vcc0' }))), ['primary-vcc0']);
    assert.deepEqual(t('set-vconsole', C('ldg1', item('console', { port: '5001', group: 'g1', service_name: 'primary-vcc0' }))), [
      'port=5001',
      'group=g1',
      'service=primary-vcc0',
      'ldg1',
    ]);
    assert.deepEqual(t('add-vdpcs', C('primary', item('vdpcs', { service_name: 'dps0' }))), ['dps0', 'primary']);
    assert.deepEqual(t('remove-vdpcs', C('primary', item('vdpcs', { service_name: 'dps0' }))), ['dps0']);
    assert.deepEqual(t('add-vdpcc', C('ldg1', item('vdpcc', { vdpcc_name: 'c0', service_name: 'dps0' }))), ['c0', 'dps0', 'ldg1']);
    assert.deepEqual(t('remove-vdpcc', C('ldg1', item('vdpcc', { vdpcc_name: 'c0', service_name: 'dps0' }))), ['c0', 'ldg1']);
    const vars = [item('var', { name: 'auto-boot?', value: 'false' }), item('var', { name: 'boot-device', value: ' disk net ' })];
    assert.deepEqual(t('add-variable', C('ldg1', ...vars)), ['auto-boot?=false', 'boot-device= disk net ', 'ldg1']);
    assert.deepEqual(t('set-variable', C('ldg1', ...vars)), ['auto-boot?=false', 'boot-device= disk net ', 'ldg1']);
    assert.deepEqual(t('remove-variable', C('ldg1', ...vars)), ['auto-boot?', 'boot-device', 'ldg1']);
    assert.deepEqual(t('list-variable', C('ldg1')), ['ldg1']);
    assert.deepEqual(t('list-variable', C('ldg1', vars[0])), ['auto-boot?', 'ldg1']);
    assert.deepEqual(t('list-domain', null), []);
    assert.deepEqual(t('list-domain', `<Envelope><Content id="a"/><Content ovf:id="b"/></Envelope>`), ['a', 'b']);
    assert.deepEqual(t('list-bindings', C('ldg1')), ['ldg1']);
    assert.deepEqual(t('list-services', null), []);
    assert.deepEqual(t('list-constraints', C('ldg1')), ['-x', 'ldg1']);
    assert.deepEqual(t('list-devices', null, ['-a']), ['-a']);
    assert.deepEqual(t('list-devices', `<Envelope><Section>${item('cpu', {})}${item('memory', {})}</Section></Envelope>`), ['cpu', 'memory']);
    assert.deepEqual(t('list-spconfig', null), []);
    assert.deepEqual(t('list-spconfig', null, ['-r']), ['-r']);
  });

  it('puts -- before an operand the parser would read as an option or property', () => {
    assert.deepEqual(t('remove-vdisk', C('ldg1', item('disk', { vdisk_name: '-f' }))), ['--', '-f', 'ldg1']);
    assert.deepEqual(t('remove-vdisk', C('ldg1', item('disk', { vdisk_name: 'a=b' }))), ['--', 'a=b', 'ldg1']);
  });

  it('reports objects the action cannot take', () => {
    const fail = (action: string, data: string | null, re: RegExp, options: string[] = []) => assert.throws(() => translateDoc(request(action, data ?? '', options)), re);
    fail('add-vcpu', null, /add-vcpu takes one cpu resource \(found 0\)/);
    fail('add-vcpu', C('ldg1', item('memory', {})), /add-vcpu takes a cpu resource, not memory/);
    fail('add-vcpu', C('ldg1', item('cpu', {})), /<rasd:AllocationUnits> is missing/);
    fail('add-vcpu', C('ldg1', item('cpu', { 'whole-core': 'on' }, '<rasd:AllocationUnits>8</rasd:AllocationUnits>')), /whole-core=on needs/);
    fail('add-vnet', C('ldg1', item('network', { vnet_name: 'v' })), /network resource: property "service_name" is missing/);
    fail('add-vnet', C('ldg1', item('network', { vnet_name: 'v', service_name: 's', speed: 'fast' })), /network resource: unknown property "speed"/);
    fail('add-vnet', C('ldg1', item('network', { vnet_name: 'v', service_name: 's', constructor: 'x' })), /unknown property "constructor"/);
    fail('unbind-domain', `<Envelope><Content id="a"/><Content id="b"/></Envelope>`, /unbind-domain takes one domain/);
    fail('unbind-domain', `<Envelope><Content/></Envelope>`, /has no domain name/);
    fail('list-devices', `<Envelope><Section>${item('vsw', {})}</Section></Envelope>`, /not vsw/);
    fail('list-domain', null, /Invalid option: a=b/, ['a=b']);
    fail('add-vdisk', C('ldg1', '<Item><gprop:GenericProperty key="vdisk_name">x</gprop:GenericProperty></Item>'), /no <rasd:OtherResourceType>/);
  });
});

// --- fixtures: a view of a small host ------------------------------------------------------------

const T5240 = loadPlatform('t5240');

/** A control domain shrunk to one core, one MAU and 4 GB, as after the usual setup. */
function shrunkPrimary(p: PlatformSpec): Domain {
  const f = factoryPrimary(p);
  const strands = f.binding!.strands.slice(0, p.cpu.strandsPerCore);
  const mblocks: { ra: number; pa: number; size: number }[] = [];
  let left = 4 * 1024 ** 3;
  for (const m of f.binding!.mblocks) {
    if (left <= 0) break;
    const size = Math.min(m.size, left);
    mblocks.push({ ...m, size });
    left -= size;
  }
  const memory = mblocks.reduce((n, m) => n + m.size, 0);
  return {
    constraints: { ...f.constraints, vcpus: strands.length, crypto: 1, memory },
    state: 'active',
    binding: { ...f.binding!, strands, crypto: [0], mblocks },
    runtime: bootRuntime('primary', Date.now() - 90_000),
    delayedReconfig: false,
    migration: '',
    memoryDr: false,
  };
}

/**
 * The manager's interface as commands and the session use it, over in-memory domains: mutate runs
 * the real rules on a draft and emits the events Manager.apply emits (lifecycle by state, resource
 * events named after the subcommand for every other domain it changed).
 */
class HostDouble {
  domains: Domain[];
  sp: SpConfigListing = { configs: ['factory-default'], current: 'factory-default', nextPoweron: 'factory-default', modified: false };
  readonly listeners = new Set<(e: LdmEvent) => void>();
  views = 0;

  constructor(readonly platform: PlatformSpec) {
    this.domains = [shrunkPrimary(platform)];
  }

  get manager(): Manager {
    return this as unknown as Manager;
  }

  async view(): Promise<HostView> {
    this.views++;
    return { platform: this.platform, domains: structuredClone(this.domains), pmPolicy: 'performance', now: Date.now(), managerVersion: '2.0' };
  }

  onEvent(l: (e: LdmEvent) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  emit(e: LdmEvent): void {
    for (const l of this.listeners) l(e);
  }

  async spListingFresh(): Promise<SpConfigListing> {
    return structuredClone(this.sp);
  }

  async addSpConfig(name: string): Promise<void> {
    this.sp = { ...this.sp, configs: [...this.sp.configs, name], current: name, nextPoweron: name };
    this.emit({ class: 'hardware', action: 'add-spconfig', spconfig: { name, status: 'current' } });
  }

  async mutate<T>(fn: (draft: Draft, view: HostView) => T | Promise<T>, opts: { action?: string } = {}): Promise<T> {
    const before = this.domains;
    const draft: Draft = {
      platform: this.platform,
      domains: before.map((d) => ({ ...structuredClone({ constraints: d.constraints, state: d.state, binding: d.binding }), runtime: d.runtime })),
      delayed: null,
      pmPolicy: 'performance',
    };
    const result = await fn(draft, await this.view());
    const now = Date.now();
    this.domains = draft.domains.map((d) => ({
      constraints: d.constraints,
      state: d.state,
      binding: d.state === 'inactive' ? null : d.binding,
      runtime: d.state === 'active' ? (d.runtime ?? bootRuntime(d.constraints.name, now)) : null,
      delayedReconfig: false,
      migration: '',
      memoryDr: false,
    }));
    const order = ['inactive', 'bound', 'active'];
    const touched = new Set<string>();
    for (const b of before) {
      if (!this.domains.some((d) => d.constraints.name === b.constraints.name)) {
        this.emit({ class: 'domain', action: 'remove-domain', domain: b.constraints.name });
        touched.add(b.constraints.name);
      }
    }
    for (const d of this.domains) {
      const name = d.constraints.name;
      const prev = before.find((b) => b.constraints.name === name);
      if (!prev) this.emit({ class: 'domain', action: 'add-domain', domain: name });
      const a = order.indexOf(prev?.state ?? 'inactive');
      const z = order.indexOf(d.state);
      for (let i = a; i < z; i++) this.emit({ class: 'domain', action: i === 0 ? 'bind-domain' : 'start-domain', domain: name });
      for (let i = a; i > z; i--) this.emit({ class: 'domain', action: i === 2 ? 'stop-domain' : 'unbind-domain', domain: name });
      if (!prev || a !== z) touched.add(name);
    }
    const lifecycle = ['add-domain', 'remove-domain', 'bind-domain', 'unbind-domain', 'start-domain', 'stop-domain'];
    if (opts.action && !lifecycle.includes(opts.action)) {
      for (const d of this.domains) {
        const prev = before.find((b) => b.constraints.name === d.constraints.name);
        if (!touched.has(d.constraints.name) && JSON.stringify(prev?.constraints) !== JSON.stringify(d.constraints)) {
          this.emit({ class: 'resource', action: opts.action, domain: d.constraints.name });
        }
      }
    }
    return result;
  }
}

interface Harness {
  host: HostDouble;
  session: InterfaceSession;
  sent: string[];
  /** Send a request, return its response. */
  ask(xml: string): Promise<string>;
}

function harness(opts: { auths?: Authorization[]; host?: HostDouble } = {}): Harness {
  const host = opts.host ?? new HostDouble(T5240);
  const sent: string[] = [];
  const auths = opts.auths ?? ['solaris.ldoms.read', 'solaris.ldoms.write'];
  const session = new InterfaceSession({
    manager: host.manager,
    user: 'tester',
    uid: 1000,
    authorized: (a) => auths.includes(a),
    send: (xml) => sent.push(xml),
    log: () => undefined,
  });
  return {
    host,
    session,
    sent,
    async ask(xml) {
      const n = sent.length;
      await session.handle(xml);
      const responses = sent.slice(n).filter((s) => s.startsWith('<LDM_interface'));
      assert.equal(responses.length, 1, 'exactly one response per request');
      return responses[0];
    },
  };
}

/** Wait until queued events have gone out. */
const settle = () => new Promise((r) => setTimeout(r, 20));

function responseOf(xml: string) {
  const r = parseRequest(xml);
  assert.ok(!('message' in r));
  return r;
}

const statusRe = (s: string) => new RegExp(`<response><status>${s}</status></response></LDM_interface>$`);

// --- list renderers --------------------------------------------------------------------------------

describe('list output in the OVF model', () => {
  const props = (it: OvfItem) => Object.fromEntries(it.props);

  it('list-domain: ldom_info gprops named after ldm list -p keys', async () => {
    const host = new HostDouble(T5240);
    const view = await host.view();
    const [env] = renderListDomain(view, view.domains);
    assert.equal(env.contents[0].id, 'primary');
    const info = env.contents[0].sections[0].items[0];
    assert.equal(info.resourceType, 'ldom_info');
    assert.deepEqual(info.props.map(([k]) => k), ['state', 'flags', 'cons', 'ncpu', 'mem', 'util', 'uptime', 'softstate']);
    const p = props(info);
    assert.equal(p.state, 'active');
    assert.equal(p.flags, '-n-c--');
    assert.equal(p.cons, 'SP');
    assert.equal(p.ncpu, '8');
    assert.equal(p.mem, String(4 * 1024 ** 3));
    assert.match(p.uptime, /^(89|9\d)$/);
    assert.equal(p.softstate, 'Solaris running');
    assert.equal(
      writeEnvelope(env),
      '<Envelope><References/><Content xsi:type="ovf:VirtualSystem_Type" id="primary"><Section xsi:type="ovf:ResourceAllocationSection_type"><Item><rasd:OtherResourceType>ldom_info</rasd:OtherResourceType>' +
        '<gprop:GenericProperty key="state">active</gprop:GenericProperty><gprop:GenericProperty key="flags">-n-c--</gprop:GenericProperty><gprop:GenericProperty key="cons">SP</gprop:GenericProperty>' +
        `<gprop:GenericProperty key="ncpu">8</gprop:GenericProperty><gprop:GenericProperty key="mem">4294967296</gprop:GenericProperty><gprop:GenericProperty key="util">${p.util}</gprop:GenericProperty>` +
        `<gprop:GenericProperty key="uptime">${p.uptime}</gprop:GenericProperty><gprop:GenericProperty key="softstate">Solaris running</gprop:GenericProperty></Item></Section></Content></Envelope>`,
    );
  });

  it('list-domain of an inactive domain: empty fields as -p prints them', async () => {
    const host = new HostDouble(T5240);
    await host.mutate((draft) => {
      draft.domains.push({ ...structuredClone({ constraints: { ...host.domains[0].constraints, name: 'ldg1', vcpus: 4, memory: 2 * 1024 ** 3, io: [] } }), state: 'inactive', binding: null });
    });
    const view = await host.view();
    const d = view.domains[1];
    assert.deepEqual(domainSummaryProps(view, d), [
      ['state', 'inactive'],
      ['flags', ''],
      ['cons', ''],
      ['ncpu', '4'],
      ['mem', String(2 * 1024 ** 3)],
      ['util', ''],
      ['uptime', ''],
      ['softstate', ''],
    ]);
  });

  it('list-constraints: the Content list-constraints -x prints', async () => {
    const view = await new HostDouble(T5240).view();
    const [env] = renderListConstraints(view.domains);
    assert.deepEqual(env, envelopesFromXml(constraintsToXml([view.domains[0].constraints]))[0]);
  });

  it('list-bindings: constraints plus bound strands, memory blocks, MAU and console', async () => {
    const view = await new HostDouble(T5240).view();
    const [env] = renderListBindings(view, view.domains);
    const items = env.contents[0].sections.flatMap((s) => s.items) as OutItem[];
    const of = (t: string) => items.find((i) => i.resourceType === t)!;
    assert.equal(props(of('ldom_info')).state, 'active');
    assert.equal(props(of('ldom_info')).hostid, view.domains[0].constraints.hostid.toString(16).padStart(8, '0'));
    const cpu = of('cpu').bindings!;
    assert.equal(cpu.length, 8);
    assert.deepEqual(cpu[3].props.map(([k]) => k), ['vid', 'pid', 'cid', 'util', 'strand']);
    assert.deepEqual(props(cpu[3]), { ...props(cpu[3]), vid: '3', pid: '3', cid: '0' });
    assert.deepEqual(of('mau').bindings!.map(props), [{ id: '0', cpuset: '0,1,2,3,4,5,6,7' }]);
    const mem = of('memory').bindings!;
    assert.deepEqual(mem[0].props.map(([k]) => k), ['ra', 'pa', 'size']);
    assert.equal(mem.reduce((n, m) => n + Number(props(m).size), 0), 4 * 1024 ** 3);
    assert.deepEqual(props(of('console').bindings![0]), { type: 'SP', service: '', port: '', group: '' });
    const io = items.filter((i) => i.resourceType === 'physio_device');
    assert.ok(io.length > 0 && io.every((i) => i.bindings?.length === 1));
    assert.match(writeEnvelope(env), /<bind:Binding><Item><rasd:OtherResourceType>cpu<\/rasd:OtherResourceType><gprop:GenericProperty key="vid">0<\/gprop:GenericProperty>/);
  });

  it('list-devices: one Section per class, one Item per -p row', async () => {
    const view = await new HostDouble(T5240).view();
    const env = renderListDevices(view, { all: false, classes: [] });
    assert.deepEqual(env.contents, []);
    const types = env.sections.map((s) => s.items[0].resourceType);
    assert.deepEqual(types, ['core', 'cpu', 'mau', 'memory', 'physio_device'].filter((t) => types.includes(t)));
    const cpus = env.sections.find((s) => s.items[0].resourceType === 'cpu')!.items;
    // Eight strands are bound to the control domain, the rest are free.
    assert.equal(cpus.length, T5240.cpu.chips * T5240.cpu.coresPerChip * T5240.cpu.strandsPerCore - 8);
    assert.deepEqual(props(cpus[0]), { pid: '8', free: '100', pm: '' });
    const all = renderListDevices(view, { all: true, classes: ['memory'] });
    assert.deepEqual(all.sections.length, 1);
    assert.ok(all.sections[0].items.some((i) => props(i).bound === 'primary'));
  });

  it('list-spconfig: current, next and newer marks', () => {
    const env = renderListSpconfig('factory-default\ninitial [current]\nspare [next poweron]\n');
    assert.deepEqual(env.sections[0].items.map(props), [
      { spconfig_name: 'factory-default', spconfig_status: '' },
      { spconfig_name: 'initial', spconfig_status: 'current' },
      { spconfig_name: 'spare', spconfig_status: 'next' },
    ]);
    assert.deepEqual(renderListSpconfig('initial [newer]\n').sections[0].items.map(props), [{ spconfig_name: 'initial', spconfig_status: 'newer' }]);
    // The §5.2 example's Section, compact.
    assert.equal(
      writeEnvelope({ contents: [], sections: renderListSpconfig('primary [current]\n').sections }),
      compact(EX_SPCONFIG).replace('<Envelope>', '<Envelope><References/>'),
    );
  });

  it('list-variable: var Items, all or the ones named', async () => {
    const view = await new HostDouble(T5240).view();
    const d = structuredClone(view.domains[0]);
    d.constraints.variables = [
      { name: 'auto-boot?', value: 'false' },
      { name: 'nvramrc', value: 'a\nb' },
    ];
    assert.deepEqual(renderListVariable(d, []).contents[0].sections[0].items.map(props), [
      { name: 'auto-boot?', value: 'false' },
      { name: 'nvramrc', value: 'a\nb' },
    ]);
    assert.deepEqual(renderListVariable(d, ['nvramrc']).contents[0].sections[0].items.length, 1);
  });
});

// --- responses and events ----------------------------------------------------------------------

describe('response documents', () => {
  it('§3.3 registration response, compact, byte for byte', () => {
    const xml = writeResponse('1.0', [{ action: 'reg-domain-events', options: [], data: [{ version: '3.0', envelope: null, ok: true, messages: [] }] }]);
    assert.equal(xml, compact(EX_REG_RESPONSE));
    assert.ok(Buffer.byteLength(xml) < 1024);
  });

  it('§3.3 failure response shape, compact, with prefixes declared', () => {
    const env: OvfEnvelope = { contents: [{ id: 'nosuch', sections: [] }], sections: [] };
    const xml = writeResponse('1.1', [{ action: 'start-domain', options: [], data: [{ version: '3.0', envelope: env, ok: false, messages: ['…ldmd error text…'] }] }]);
    const declared =
      ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:ovf="./schemas/envelope" xmlns:rasd="./schemas/CIM_ResourceAllocationSettingData"' +
      ' xmlns:gprop="./schemas/GenericProperty" xmlns:bind="./schemas/Binding"';
    assert.equal(xml, compact(EX_FAILURE_RESPONSE).replace('<LDM_interface version="1.1">', `<LDM_interface version="1.1"${declared}>`));
  });

  it('a cmd with an unknown action fails at the command level with its reason', () => {
    const xml = writeResponse('1.1', [{ action: 'add-vds', options: [], data: [], message: 'Unknown action: add-vds' }]);
    assert.equal(
      xml,
      '<LDM_interface version="1.1"><cmd><action>add-vds</action><response><status>failure</status><resp_msg>Unknown action: add-vds</resp_msg></response></cmd><response><status>failure</status></response></LDM_interface>',
    );
  });

  it('values XML cannot carry are replaced, not fatal', () => {
    const env: OvfEnvelope = { contents: [{ id: 'a', sections: [{ type: 't', items: [{ resourceType: 'var', props: [['name', 'x\u0001y']] }] }] }], sections: [] };
    assert.match(writeEnvelope(env), /x\uFFFDy/);
  });
});

describe('events', () => {
  it('§4.2 minimal domain event, byte for byte, under 1 KB even for the longest name', () => {
    assert.equal(renderEvent({ class: 'domain', action: 'start-domain', domain: 'ldg1' }), EX_DOMAIN_EVENT);
    const long = renderEvent({ class: 'domain', action: 'remove-domain', domain: 'x'.repeat(256) });
    assert.ok(Buffer.byteLength(long) < 1024, `${Buffer.byteLength(long)} bytes`);
    assert.doesNotMatch(long, /xmlns|ovf:id|\n|<failure/);
  });

  it('resource events: Content only, or Content with the service Section (§4.5)', () => {
    assert.equal(
      renderEvent({ class: 'resource', action: 'add-vcpu', domain: 'ldg1' }),
      EX_DOMAIN_EVENT.replace('start-domain', 'add-vcpu'),
    );
    const vsw: OvfItem = { resourceType: 'vsw', props: [['service_name', 'primary-vsw0']] };
    const xml = renderEvent({ class: 'resource', action: 'remove-vswitch', domain: 'primary' }, [vsw]);
    assert.equal(
      xml,
      "<LDM_event version='1.1' xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance' xmlns:ovf='./schemas/envelope' xmlns:rasd='./schemas/CIM_ResourceAllocationSettingData' xmlns:gprop='./schemas/GenericProperty' xmlns:bind='./schemas/Binding'>" +
        "<cmd><action>remove-vswitch</action><data version='3.0'><Envelope><References/><Content xsi:type='ovf:VirtualSystem_Type' id='primary'>" +
        "<Section xsi:type='ovf:VirtualHardwareSection_Type'><Item><rasd:OtherResourceType>vsw</rasd:OtherResourceType><gprop:GenericProperty key='service_name'>primary-vsw0</gprop:GenericProperty></Item></Section>" +
        '</Content></Envelope></data></cmd></LDM_event>',
    );
    // Named after the subcommand; set-vdsdev is spelled as §4.5 spells it (the command table says so).
    assert.equal(eventAction(resolveCommand('set-vdsdev')!), 'set-vdiskserverdevice');
    assert.match(renderEvent({ class: 'resource', action: 'set-vdiskserverdevice', domain: 'primary' }), /<action>set-vdiskserverdevice<\/action>/);
  });

  it('hardware events: only a Section with the spconfig Item', () => {
    const xml = renderEvent({ class: 'hardware', action: 'add-spconfig', spconfig: { name: 'primary', status: 'current' } });
    assert.ok(xml.endsWith(`<cmd><action>add-spconfig</action><data version='3.0'>${compact(EX_SPCONFIG).replace('<Envelope>', '<Envelope><References/>').replace(/"/g, "'")}</data></cmd></LDM_event>`), xml);
    assert.doesNotMatch(xml, /<Content/);
  });

  it('progress events: Content with ldom_info progress/status/source (§4.4)', () => {
    const xml = renderEvent({ class: 'progress', action: 'migration-process', domain: 'ldg1', progress: { percent: 45, status: 'ongoing', source: 'dt90-319' } });
    assert.ok(xml.includes(`<data version='3.0'><Envelope><References/>${compact(EX_PROGRESS).replace(/"/g, "'")}</Envelope>`), xml);
    assert.match(xml, /^<LDM_event version='1.1' xmlns:xsi=/);
  });

  it('changedServices: removed, changed and added services of the event type', () => {
    const sw = (name: string, pvid: string): OvfItem => ({ resourceType: 'vsw', props: [['service_name', name], ['pvid', pvid]] });
    const vol = (name: string): OvfItem => ({ resourceType: 'vds_volume', props: [['vol_name', name], ['service_name', 'vds0'], ['block_dev', '/d']] });
    assert.deepEqual(changedServices('remove-vswitch', [sw('a', '1'), sw('b', '1')], [sw('a', '1')]), [sw('b', '1')]);
    assert.deepEqual(changedServices('set-vswitch', [sw('a', '1'), sw('b', '1')], [sw('a', '1'), sw('b', '2')]), [sw('b', '2')]);
    assert.deepEqual(changedServices('add-vdiskserverdevice', [vol('v0')], [vol('v0'), vol('v1')]), [vol('v1')]);
    assert.deepEqual(changedServices('add-vcpu', [sw('a', '1')], []), []);
  });
});

// --- the session end to end ----------------------------------------------------------------------

describe('InterfaceSession', () => {
  it('answers the §3.3 registration with the §3.3 response and then sends domain events', async () => {
    const h = harness();
    assert.equal(await h.ask(EX_REG_REQUEST), compact(EX_REG_RESPONSE));
    assert.equal(h.host.listeners.size, 1);
    h.host.emit({ class: 'domain', action: 'start-domain', domain: 'ldg1' });
    h.host.emit({ class: 'resource', action: 'add-vcpu', domain: 'ldg1' });
    h.host.emit({ class: 'hardware', action: 'add-spconfig', spconfig: { name: 'x', status: 'current' } });
    await settle();
    assert.deepEqual(h.sent.slice(1), [EX_DOMAIN_EVENT]);
    // The illumos form of the request, answered with the version it sent.
    const r = await h.ask('<LDM_interface version="1.1">   <cmd>      <action>reg-domain-events</action>      <data version="3.0"> </data>   </cmd></LDM_interface>');
    assert.equal(r, compact(EX_REG_RESPONSE).replace('version="1.0"', 'version="1.1"'));
    assert.ok(Buffer.byteLength(r) < 1024);
    h.session.close();
    assert.equal(h.host.listeners.size, 0);
    h.host.emit({ class: 'domain', action: 'stop-domain', domain: 'ldg1' });
    await settle();
    assert.equal(h.sent.length, 3);
  });

  it('unregistration stops events and releases the subscription', async () => {
    const h = harness();
    await h.ask(request('reg-all-events', ''));
    await h.ask(request('unreg-hardware-events', ''));
    h.host.emit({ class: 'hardware', action: 'add-spconfig', spconfig: { name: 'x', status: 'current' } });
    h.host.emit({ class: 'progress', action: 'migration-process', domain: 'ldg1', progress: { percent: 5, status: 'ongoing', source: 'h' } });
    h.host.emit({ class: 'domain', action: 'bind-domain', domain: 'ldg1' });
    await settle();
    assert.equal(h.sent.filter((s) => s.startsWith('<LDM_event')).length, 1);
    await h.ask(request('unreg-all-events', ''));
    assert.equal(h.host.listeners.size, 0);
  });

  it('rejects bad documents as a whole and unknown actions per command', async () => {
    const h = harness();
    assert.match(await h.ask('garbage'), /^<LDM_interface version="1.1"><response><status>failure<\/status><resp_msg>not well-formed XML[^<]*<\/resp_msg><\/response><\/LDM_interface>$/);
    assert.match(await h.ask('<LDM_interface version="7.7"><cmd>'), /^<LDM_interface version="7.7"><response><status>failure<\/status>/);
    assert.match(await h.ask(EX_EVENT), /^<LDM_interface version="1.1"><response><status>failure<\/status><resp_msg>unexpected root element &lt;LDM_event&gt;/);
    const r = await h.ask(EX_SKELETON);
    assert.equal(
      r,
      '<LDM_interface version="1.0"><cmd><action>Place command here</action><option>Place options for certain commands here</option><response><status>failure</status><resp_msg>Unknown action: Place command here</resp_msg></response></cmd><response><status>failure</status></response></LDM_interface>',
    );
    assert.match(await h.ask(request('add-vds', content('primary', item('vds', { service_name: 'v' })))), /<resp_msg>Unknown action: add-vds<\/resp_msg>/);
    assert.match(await h.ask(request('toString', '')), /<resp_msg>Unknown action: toString<\/resp_msg>/);
  });

  it('lists domains: one <data> per domain for an empty <data>', async () => {
    const h = harness();
    const r = await h.ask(request('list-domain', ''));
    assert.match(r, /^<LDM_interface version="1.1" xmlns:xsi=/);
    const doc = responseOf(r);
    assert.equal(doc.cmds[0].data.length, 1);
    const env = readData(doc.cmds[0].data[0])!;
    assert.equal(env.contents[0].id, 'primary');
    assert.match(r, /<gprop:GenericProperty key="state">active<\/gprop:GenericProperty>/);
    assert.match(r, /<\/Envelope><response><status>success<\/status><\/response><\/data><response><status>success<\/status><\/response><\/cmd>/);
    assert.match(r, statusRe('success'));
    assert.doesNotMatch(r, /\n/);
    // A domain that does not exist: the CLI's message, the request's object echoed.
    const bad = await h.ask(request('list-domain', content('nosuch')));
    assert.match(bad, /<Content xsi:type="ovf:VirtualSystem_Type" id="nosuch"\/><\/Envelope><response><status>failure<\/status><resp_msg>LDom nosuch not found<\/resp_msg><\/response><\/data>/);
    assert.match(bad, statusRe('failure'));
  });

  it('builds a guest from XML requests through the command table, with events', async () => {
    const h = harness();
    await h.ask(request('reg-all-events', ''));
    const events = () => h.sent.filter((s) => s.startsWith('<LDM_event')).map((s) => /<action>([^<]+)<\/action>/.exec(s)![1] + ':' + /id='([^']*)'/.exec(s)?.[1]);
    const ok = async (xml: string) => {
      const r = await h.ask(xml);
      assert.match(r, statusRe('success'), r);
      return r;
    };
    await ok(request('add-vconscon', content('primary', item('vcc', { service_name: 'primary-vcc0', min_port: '5000', max_port: '5100' }))));
    await ok(request('add-vdiskserver', content('primary', item('vds', { service_name: 'primary-vds0' }))));
    await ok(request('add-vdiskserverdevice', `<Envelope><References/>${EX_VDS_VOLUME}</Envelope>`));
    await ok(request('add-vswitch', content('primary', item('vsw', { service_name: 'primary-vsw0', dev_path: 'nxge0' }))));
    // A complete domain in one request: add-domain -i with the request's Content.
    const guest = content(
      'ldg1',
      item('ldom_info', { 'failure-policy': 'stop' }),
      item('cpu', {}, '<rasd:AllocationUnits>8</rasd:AllocationUnits>'),
      item('memory', {}, '<rasd:AllocationUnits>2G</rasd:AllocationUnits>'),
      EX_NETWORK,
      item('disk', { vdisk_name: 'vdisk0', service_name: 'primary-vds0', vol_name: 'vdsdev0' }),
      item('var', { name: 'auto-boot?', value: 'false' }),
    );
    await ok(request('add-domain', guest));
    const ldg1 = h.host.domains.find((d) => d.constraints.name === 'ldg1')!;
    assert.equal(ldg1.constraints.vcpus, 8);
    assert.equal(ldg1.constraints.memory, 2 * 1024 ** 3);
    assert.equal(ldg1.constraints.failurePolicy, 'stop');
    assert.deepEqual(ldg1.constraints.vnets.map((v) => [v.name, v.service, v.mac, v.linkprop]), [['ldg1-vnet0', 'primary-vsw0', '00:14:4f:fc:00:01', 'phys-state']]);
    assert.deepEqual(ldg1.constraints.vdisks.map((v) => v.name), ['vdisk0']);
    assert.deepEqual(ldg1.constraints.variables, [{ name: 'auto-boot?', value: 'false' }]);
    await ok(request('add-vcpu', content('ldg1', EX_CPU)));
    assert.equal(h.host.domains[1].constraints.vcpus, 12);
    // Two commands in one document, answered in order.
    const two = `<LDM_interface version="1.1"><cmd><action>bind-domain</action><data version="3.0">${content('ldg1')}</data></cmd><cmd><action>start-domain</action><data version="3.0">${content('ldg1')}</data></cmd></LDM_interface>`;
    const r = await ok(two);
    assert.equal(responseOf(r).cmds.map((c) => c.action).join(), 'bind-domain,start-domain');
    assert.equal(h.host.domains[1].state, 'active');
    await ok(request('set-vswitch', content('primary', item('vsw', { service_name: 'primary-vsw0', pvid: '7' }))));
    await settle();
    assert.deepEqual(events(), [
      'add-vconscon:primary',
      'add-vdiskserver:primary',
      'add-vdiskserverdevice:primary',
      'add-vswitch:primary',
      'add-domain:ldg1',
      'add-vcpu:ldg1',
      'bind-domain:ldg1',
      'start-domain:ldg1',
      'set-vswitch:primary',
    ]);
    // §4.5: the set-vswitch and add-vdiskserverdevice events name the service concerned.
    const setVsw = h.sent.find((s) => s.includes('<action>set-vswitch</action>') && s.startsWith('<LDM_event'))!;
    assert.match(setVsw, /<rasd:OtherResourceType>vsw<\/rasd:OtherResourceType><rasd:Address>[^<]+<\/rasd:Address><gprop:GenericProperty key='service_name'>primary-vsw0<\/gprop:GenericProperty>/);
    assert.match(setVsw, /key='pvid'>7</);
    const addVol = h.sent.find((s) => s.includes('<action>add-vdiskserverdevice</action>') && s.startsWith('<LDM_event'))!;
    assert.match(addVol, /key='vol_name'>vdsdev0</);
    const domainEvent = h.sent.find((s) => s.includes('<action>start-domain</action>') && s.startsWith('<LDM_event'))!;
    assert.equal(domainEvent, EX_DOMAIN_EVENT);

    // list-bindings of the running guest: the console port and the vnet's switch are bound.
    const lb = await ok(request('list-bindings', content('ldg1')));
    assert.match(lb, /<rasd:OtherResourceType>console<\/rasd:OtherResourceType><bind:Binding><Item><rasd:OtherResourceType>console<\/rasd:OtherResourceType><gprop:GenericProperty key="type"><\/gprop:GenericProperty><gprop:GenericProperty key="service">primary-vcc0@primary<\/gprop:GenericProperty><gprop:GenericProperty key="port">5000<\/gprop:GenericProperty>/);
    assert.match(lb, /key="service">primary-vsw0@primary</);
    // list-constraints returns what ldm list-constraints -x prints for the domain.
    const lc = responseOf(await ok(request('list-constraints', content('ldg1'))));
    assert.deepEqual(readData(lc.cmds[0].data[0]), envelopesFromXml(constraintsToXml([h.host.domains[1].constraints]))[0]);
    // list-services: only the service domain.
    const ls = responseOf(await ok(request('list-services', '')));
    assert.deepEqual(ls.cmds[0].data.map((d) => readData(d)!.contents[0].id), ['primary']);
    assert.deepEqual(
      readData(ls.cmds[0].data[0])!.contents[0].sections.map((s) => s.items[0].resourceType),
      ['vcc', 'vsw', 'vds', 'vds_volume'],
    );
    // list-variable.
    assert.match(await ok(request('list-variable', content('ldg1'))), /<gprop:GenericProperty key="name">auto-boot\?<\/gprop:GenericProperty><gprop:GenericProperty key="value">false</);
  });

  it('object failures carry the CLI message, one resp_msg per line; other objects still run', async () => {
    const h = harness();
    const doc = `<LDM_interface version="1.1"><cmd><action>add-domain</action><data version="3.0">${content('a')}</data><data version="3.0">${content('primary')}</data><data version="3.0">${content('b')}</data></cmd></LDM_interface>`;
    const r = await h.ask(doc);
    const datas = [...r.matchAll(/<data version="3.0">(.*?)<\/data>/g)].map((m) => m[1]);
    assert.equal(datas.length, 3);
    assert.match(datas[0], /<response><status>success<\/status><\/response>$/);
    assert.match(datas[1], /<response><status>failure<\/status><resp_msg>[^<]*primary[^<]*<\/resp_msg><\/response>$/);
    assert.match(datas[2], /<response><status>success<\/status><\/response>$/);
    assert.match(r, /<\/data><response><status>failure<\/status><\/response><\/cmd><response><status>failure<\/status><\/response><\/LDM_interface>$/);
    assert.deepEqual(h.host.domains.map((d) => d.constraints.name), ['primary', 'a', 'b']);
    // A usage error: every stderr line of the CLI is a resp_msg.
    const usage = await h.ask(request('add-memory', content('a', item('memory', {}, '<rasd:AllocationUnits>1G</rasd:AllocationUnits>')), ['-z']));
    assert.match(usage, /<resp_msg>Invalid option: -z<\/resp_msg><resp_msg>Usage:<\/resp_msg><resp_msg>    ldm add-memory \[--auto-adj\] size\[unit\] ldom<\/resp_msg>/);
    // A translation error is an object failure too.
    assert.match(await h.ask(request('add-vcpu', content('a'))), /<resp_msg>add-vcpu takes one cpu resource \(found 0\)<\/resp_msg>/);
  });

  it('files and prompts are not reachable through options', async () => {
    const h = harness();
    const r = await h.ask(request('start-domain', '', ['-i /etc/passwd']));
    assert.match(r, /<resp_msg>\/etc\/passwd: files cannot be read through the XML interface<\/resp_msg>/);
  });

  it('a read-only user lists and registers, every write is refused with the CLI authorization message', async () => {
    const h = harness({ auths: ['solaris.ldoms.read'] });
    assert.match(await h.ask(request('list-domain', '')), statusRe('success'));
    assert.equal(await h.ask(EX_REG_REQUEST), compact(EX_REG_RESPONSE));
    const r = await h.ask(request('add-domain', content('x')));
    assert.match(r, /<resp_msg>Authorization failed: user tester does not have the solaris.ldoms.write authorization<\/resp_msg>/);
    assert.deepEqual(h.host.domains.map((d) => d.constraints.name), ['primary']);
    const none = harness({ auths: [] });
    const reg = await none.ask(EX_REG_REQUEST);
    assert.match(reg, /<data version="3.0"><response><status>failure<\/status><resp_msg>Authorization failed: user tester does not have the solaris.ldoms.read authorization<\/resp_msg><\/response><\/data><response><status>failure<\/status><\/response><\/cmd>/);
    assert.equal(none.host.listeners.size, 0);
    assert.match(await none.ask(request('list-domain', '')), /solaris.ldoms.read authorization/);
  });

  it('hardware events from add-spconfig, and list-spconfig', async () => {
    const h = harness();
    await h.ask(request('reg-hardware-events', ''));
    const r = await h.ask(request('add-spconfig', EX_SPCONFIG));
    assert.match(r, statusRe('success'));
    await settle();
    const ev = h.sent.filter((s) => s.startsWith('<LDM_event'));
    assert.equal(ev.length, 1);
    assert.match(ev[0], /<action>add-spconfig<\/action>.*key='spconfig_name'>primary<.*key='spconfig_status'>current</);
    const list = await h.ask(request('list-spconfig', ''));
    assert.match(list, /key="spconfig_name">factory-default<\/gprop:GenericProperty><gprop:GenericProperty key="spconfig_status"><\/gprop:GenericProperty>/);
    assert.match(list, /key="spconfig_name">primary<\/gprop:GenericProperty><gprop:GenericProperty key="spconfig_status">current</);
  });

  it('responses go out in request order even when handle() is not awaited', async () => {
    const h = harness();
    const all = [h.session.handle(request('add-domain', content('a'))), h.session.handle(request('list-domain', content('a'))), h.session.handle(request('remove-domain', content('a')))];
    await Promise.all(all);
    assert.deepEqual(
      h.sent.map((s) => /<action>([^<]+)/.exec(s)![1]),
      ['add-domain', 'list-domain', 'remove-domain'],
    );
    assert.ok(h.sent.every((s) => s.endsWith('<response><status>success</status></response></LDM_interface>')));
  });
});
