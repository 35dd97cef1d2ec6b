// The XML interface as its real clients use it: a raw TLS socket speaking exactly like the Solaris
// fault manager's client (register for domain events; `ldm start`/`stop` on the host produce the
// events), request examples answered at three levels, and authorization for remote users.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TestHome } from './helpers/hosts.js';
import { connectXmpp } from './helpers/xmpp-client.js';

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
