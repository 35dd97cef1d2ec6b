// The XML interface as its real clients use it: a raw TLS socket speaking exactly like the Solaris
// fault manager's client (register for domain events; `ldm start`/`stop` on the host produce the
// events), request examples answered at three levels, and authorization for remote users.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TestHome } from './helpers/hosts.js';
import { connectXmpp } from './helpers/xmpp-client.js';
import { REQUEST_3_2_CPU } from './helpers/reference-xml.js';

const home = new TestHome();
const H = 'xc';
let address = '';

before(async () => {
  await home.startHost(H, '--platform', 't5240', '--cores', '4', '--memory', '32G');
  await home.setupControlDomain(H);
  address = home.address(H);
  await home.ok(H, 'add-domain', 'ldg1');
  await home.ok(H, 'add-vcpu', '4', 'ldg1');
  await home.ok(H, 'add-memory', '1G', 'ldg1');
});
after(() => home.cleanup());

const REG = '<LDM_interface version="1.1">   <cmd>      <action>reg-domain-events</action>      <data version="3.0"> </data>   </cmd></LDM_interface>';

test('the fault manager client: register, then ldm bind/start/stop/unbind produce domain events', async () => {
  const c = await connectXmpp({ host: address, mode: 'fma' });
  try {
    c.send(REG);
    const resp = await c.next();
    assert.ok(Buffer.byteLength(resp) < 1024, 'registration response under 1024 bytes');
    assert.match(resp, /^<LDM_interface[^>]*><cmd><action>reg-domain-events<\/action>.*<response><status>success<\/status><\/response><\/cmd><response><status>success<\/status><\/response><\/LDM_interface>$/);
    for (const [cmd, action] of [
      ['bind', 'bind-domain'],
      ['start', 'start-domain'],
      ['stop', 'stop-domain'],
      ['unbind', 'unbind-domain'],
    ]) {
      await home.ok(H, cmd, 'ldg1');
      const ev = await c.next(5000);
      assert.ok(Buffer.byteLength(ev) < 1024, 'domain event under 1024 bytes');
      assert.match(ev, new RegExp(`^<LDM_event version=.1\\.1.><cmd><action>${action}</action><data version=.3\\.0.><Envelope><References/><Content xsi:type=.ovf:VirtualSystem_Type. id=.ldg1./></Envelope></data></cmd></LDM_event>$`));
    }
  } finally {
    c.close();
  }
});

test('a list-domain request is answered at three levels with the domains as OVF data', async () => {
  const c = await connectXmpp({ host: address, mode: 'fma' });
  try {
    c.send('<LDM_interface version="1.0"><cmd><action>list-domain</action><data version="3.0"/></cmd></LDM_interface>');
    const resp = await c.next();
    assert.match(resp, /<Content[^>]*id="primary"/);
    assert.match(resp, /<Content[^>]*id="ldg1"/);
    assert.match(resp, /<\/cmd><response><status>success<\/status><\/response><\/LDM_interface>$/);
  } finally {
    c.close();
  }
});

test('a write action runs the same command as ldm, and a failure carries the ldm message', async () => {
  const c = await connectXmpp({ host: address, mode: 'fma' });
  try {
    c.send(
      '<LDM_interface version="1.0"><cmd><action>add-vcpu</action><data version="3.0"><Envelope><References/><Content xsi:type="ovf:VirtualSystem_Type" id="ldg1"><Section xsi:type="ovf:VirtualHardwareSection_Type"><Item><rasd:OtherResourceType>cpu</rasd:OtherResourceType><rasd:AllocationUnits>4</rasd:AllocationUnits></Item></Section></Content></Envelope></data></cmd></LDM_interface>',
    );
    assert.match(await c.next(), /<response><status>success<\/status><\/response><\/LDM_interface>$/);
    assert.match(await home.ok(H, 'list', 'ldg1'), /^ldg1 +inactive +------ +8 +1G$/m);
    c.send('<LDM_interface version="1.0"><cmd><action>start-domain</action><data version="3.0"><Envelope><References/><Content xsi:type="ovf:VirtualSystem_Type" id="nosuch"/></Envelope></data></cmd></LDM_interface>');
    const r = await c.next();
    assert.match(r, /<status>failure<\/status><resp_msg>LDom nosuch not found<\/resp_msg>/);
    c.send('<LDM_interface version="1.0"><cmd><action>ls</action><data version="3.0"/></cmd></LDM_interface>');
    assert.match(await c.next(), /<status>failure<\/status>/);
  } finally {
    c.close();
  }
});

test('remote users: SASL PLAIN, a read-only user lists but cannot write, wrong passwords refused', async () => {
  const pwFile = `${home.home}/pw`;
  const { writeFileSync } = await import('node:fs');
  writeFileSync(pwFile, 'sekrit\n', { mode: 0o600 });
  const add = await home.run('ldoms', ['user', 'add', 'reader', '--password-file', pwFile]);
  assert.equal(add.code, 0, add.stderr);
  assert.equal((await home.run('ldoms', ['auth', 'grant', 'reader', 'solaris.ldoms.read'])).code, 0);
  const other = address === '127.0.0.250' ? '127.0.0.251' : '127.0.0.250';
  const c = await connectXmpp({ host: address, mode: 'generic', user: 'reader', password: 'sekrit', localAddress: other });
  try {
    c.send('<LDM_interface version="1.0"><cmd><action>list-domain</action><data version="3.0"/></cmd></LDM_interface>');
    assert.match(await c.next(), /<status>success<\/status><\/response><\/LDM_interface>$/);
    c.send('<LDM_interface version="1.0"><cmd><action>reg-domain-events</action><data version="3.0"/></cmd></LDM_interface>');
    assert.match(await c.next(), /<status>success/);
    c.send('<LDM_interface version="1.0"><cmd><action>remove-domain</action><data version="3.0"><Envelope><References/><Content xsi:type="ovf:VirtualSystem_Type" id="ldg1"/></Envelope></data></cmd></LDM_interface>');
    assert.match(await c.next(), /Authorization failed/);
    assert.match(await home.ok(H, 'list'), /^ldg1 /m);
  } finally {
    c.close();
  }
  const t0 = Date.now();
  await assert.rejects(connectXmpp({ host: address, mode: 'generic', user: 'reader', password: 'wrong', localAddress: other }));
  assert.ok(Date.now() - t0 >= 900, 'a wrong password is answered slowly');
});

// The reference's request examples (xml-interface.md §2.4, §3.3, §5.2), replayed against the live
// daemon in the order a user would send them; each answered at all three levels.
const doc = (action: string, data: string, version = '1.0') =>
  `<LDM_interface version="${version}"><cmd><action>${action}</action><data version="3.0">${data}</data></cmd></LDM_interface>`;
const content = (id: string, section: string) =>
  `<Envelope><References/><Content xsi:type="ovf:VirtualSystem_Type" id="${id}"><Section xsi:type="ovf:VirtualHardwareSection_Type">${section}</Section></Content></Envelope>`;

test('the reference request examples, replayed live', async () => {
  await home.ok(H, 'add-domain', 'ldg9');
  const c = await connectXmpp({ host: address, mode: 'fma' });
  const ok = async (xml: string) => {
    c.send(xml);
    const r = await c.next();
    assert.match(r, /<\/cmd><response><status>success<\/status><\/response><\/LDM_interface>$/, r);
    return r;
  };
  try {
    // §2.4: the fully namespaced add-vcpu request, with its wcore (whole cores). Its `<?xml?>`
    // declaration is left out: on an XMPP stream documents are children of <stream:stream>, where an
    // XML declaration is not well-formed (the stream itself starts with one).
    await ok(REQUEST_3_2_CPU.replace('<?xml version="1.0"?>\n', '').replace('ovf:id="ldg1"', 'ovf:id="ldg9"'));
    assert.match(await home.ok(H, 'list-constraints', '-p', 'ldg9'), /^CORE\|count=1$/m);
    // §5.2 memory, vds_volume, network, var; §5.2 spconfig; list actions.
    await ok(doc('add-memory', content('ldg9', '<Item><rasd:OtherResourceType>memory</rasd:OtherResourceType><rasd:AllocationUnits>4G</rasd:AllocationUnits></Item>')));
    await ok(
      doc(
        'add-vdiskserverdevice',
        '<Envelope><Section xsi:type="ovf:VirtualHardwareSection_Type"><Item><rasd:OtherResourceType>vds_volume</rasd:OtherResourceType><gprop:GenericProperty key="vol_name">vdsdev0</gprop:GenericProperty><gprop:GenericProperty key="service_name">primary-vds0</gprop:GenericProperty><gprop:GenericProperty key="block_dev">/opt/SUNWldm/domain_disks/testdisk1</gprop:GenericProperty><gprop:GenericProperty key="vol_opts">ro</gprop:GenericProperty><gprop:GenericProperty key="mpgroup">mpgroup-name</gprop:GenericProperty></Item></Section></Envelope>',
      ),
    );
    assert.match(await home.ok(H, 'list-services', '-p'), /^\|vol=vdsdev0\|opts=ro\|dev=\/opt\/SUNWldm\/domain_disks\/testdisk1\|mpgroup=mpgroup-name/m);
    await ok(
      doc(
        'add-vnet',
        content('ldg9', '<Item><rasd:OtherResourceType>network</rasd:OtherResourceType><gprop:GenericProperty key="linkprop">phys-state</gprop:GenericProperty><gprop:GenericProperty key="vnet_name">ldg1-vnet0</gprop:GenericProperty><gprop:GenericProperty key="service_name">primary-vsw0</gprop:GenericProperty><rasd:Address>00:14:4f:fc:00:01</rasd:Address></Item>'),
      ),
    );
    assert.match(await home.ok(H, 'list', '-o', 'network', '-p', 'ldg9'), /^VNET\|name=ldg1-vnet0\|dev=network@0\|service=primary-vsw0@primary\|mac-addr=00:14:4f:fc:00:01\|/m);
    await ok(doc('add-variable', content('ldg9', '<Item><rasd:OtherResourceType>var</rasd:OtherResourceType><gprop:GenericProperty key="name">test_var</gprop:GenericProperty><gprop:GenericProperty key="value">test1</gprop:GenericProperty></Item>')));
    assert.equal(await home.ok(H, 'list-variable', 'test_var', 'ldg9'), 'test_var=test1\n');
    await ok(doc('add-spconfig', '<Envelope><Section xsi:type="ovf:ResourceAllocationSection_type"><Item><rasd:OtherResourceType>spconfig</rasd:OtherResourceType><gprop:GenericProperty key="spconfig_name">xmlcfg</gprop:GenericProperty></Item></Section></Envelope>'));
    assert.match(await ok(doc('list-spconfig', '')), /key="spconfig_name">xmlcfg<\/gprop:GenericProperty><gprop:GenericProperty key="spconfig_status">current</);
    for (const a of ['list-bindings', 'list-constraints', 'list-services', 'list-devices', 'list-variable']) await ok(doc(a, a === 'list-variable' ? '<Envelope><References/><Content xsi:type="ovf:VirtualSystem_Type" id="ldg9"/></Envelope>' : ''));
    // §5.2 ldom_info: a master that does not exist is the object's failure, with ldm's message.
    c.send(
      doc(
        'set-domain',
        '<Envelope><References/><Content xsi:type="ovf:VirtualSystem_Type" id="ldg9"><Section xsi:type="ovf:ResourceAllocationSection_type"><Item><rasd:OtherResourceType>ldom_info</rasd:OtherResourceType><gprop:GenericProperty key="master">plum</gprop:GenericProperty><gprop:GenericProperty key="failure-policy">reset</gprop:GenericProperty></Item></Section></Content></Envelope>',
      ),
    );
    assert.match(await c.next(), /<response><status>failure<\/status><resp_msg>LDom plum not found<\/resp_msg><\/response><\/data><response><status>failure<\/status><\/response><\/cmd><response><status>failure<\/status><\/response><\/LDM_interface>$/);
    // §3.3: registration and unregistration, compact.
    assert.equal(
      await ok(doc('reg-domain-events', '')),
      '<LDM_interface version="1.0"><cmd><action>reg-domain-events</action><data version="3.0"><response><status>success</status></response></data><response><status>success</status></response></cmd><response><status>success</status></response></LDM_interface>',
    );
    await ok(doc('unreg-domain-events', ''));
  } finally {
    c.close();
  }
});
