// Constraints travel as XML: what `ldm list-constraints -x` prints on one host, `ldm add-domain -i`
// (and `bind-domain -i`, `start-domain -i`) recreates on another, down to the UUID and the MAC
// addresses (xml-interface.md §2.3–2.5; docs/xml-constraints.md).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { TestHome } from './helpers/hosts.js';

const home = new TestHome('ldoms-xml-');
const A = 'a';
const B = 'b';
const disk = (n: number) => path.join(home.home, `d${n}.img`);
const file = (name: string) => path.join(home.home, name);

const NVRAMRC = 'devalias net /pci@500/network@0 & echo "<ok>"';

/** The same services on both hosts, and a control domain shrunk to leave room for guests. */
async function services(h: string): Promise<void> {
  await home.ok(h, 'add-vcc', 'port-range=5000-5100', 'primary-vcc0', 'primary');
  await home.ok(h, 'add-vds', 'primary-vds0', 'primary');
  await home.ok(h, 'add-vdsdev', disk(0), 'vol0@primary-vds0');
  await home.ok(h, 'add-vdsdev', 'options=ro,slice', disk(1), 'vol1@primary-vds0');
  await home.ok(h, 'add-vdsdev', 'mpgroup=mp1', disk(2), 'vol2@primary-vds0');
  await home.ok(h, 'add-vsw', 'net-dev=nxge0', 'pvid=10', 'vid=20,30', 'mtu=9000', 'primary-vsw0', 'primary');
  await home.ok(h, 'start-reconf', 'primary');
  await home.ok(h, 'set-crypto', '1', 'primary');
  await home.ok(h, 'set-vcpu', '8', 'primary');
  await home.ok(h, 'set-memory', '3872M', 'primary');
  const r = await home.run('ldoms', ['host', 'reboot', h]);
  assert.equal(r.code, 0, r.stderr);
}

/** Lines a fresh import generates anew: the UUID, the MAC addresses and the hostid derived from one. */
const GENERATED = /<uuid>|<rasd:Address>|key="hostid"/;
const withoutGenerated = (xml: string) =>
  xml
    .split('\n')
    .filter((l) => !GENERATED.test(l))
    .join('\n');

/** One `<data>` element per domain: name → text, in document order. */
function perDomain(xml: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of xml.matchAll(/^ {2}<data version="3\.0">\n[\s\S]*?^ {2}<\/data>\n/gm)) {
    const id = /<Content xsi:type="ovf:VirtualSystem_Type" id="([^"]+)">/.exec(m[0]);
    assert.ok(id, 'every <data> holds one domain');
    out.set(id[1], m[0]);
  }
  return out;
}

/** A document holding the given `<data>` elements, with the envelope of `like`. */
function document(like: string, data: string[]): string {
  const start = like.indexOf('  <data version="3.0">');
  const end = like.lastIndexOf('  </data>\n') + '  </data>\n'.length;
  return like.slice(0, start) + data.join('') + like.slice(end);
}

before(async () => {
  await home.startHost(A, '--platform', 't5240', '--cores', '4', '--memory', '32G');
  await home.startHost(B, '--platform', 't5240', '--cores', '4', '--memory', '32G');
  for (const n of [0, 1, 2]) {
    fs.writeFileSync(disk(n), '');
    fs.truncateSync(disk(n), 1 << 30);
  }
  await services(A);
  await services(B);

  await home.ok(A, 'add-domain', 'failure-policy=stop', 'mstr');
  await home.ok(A, 'add-vcpu', '8', 'mstr');
  await home.ok(A, 'add-memory', '1G', 'mstr');
  await home.ok(A, 'add-domain', 'failure-policy=reset', 'master=mstr', 'guest');
  await home.ok(A, 'add-vcpu', '16', 'guest');
  await home.ok(A, 'add-memory', '4G', 'guest');
  await home.ok(A, 'add-crypto', '2', 'guest');
  await home.ok(A, 'add-variable', 'auto-boot?=false', 'boot-device=disk net', `nvramrc=${NVRAMRC}`, 'guest');
  await home.ok(A, 'add-vnet', 'pvid=10', 'vid=20,30', 'mtu=9000', 'vnet0', 'primary-vsw0', 'guest');
  await home.ok(A, 'add-vdisk', 'timeout=30', 'vdisk0', 'vol0@primary-vds0', 'guest');
  await home.ok(A, 'add-vdisk', 'id=5', 'vdisk1', 'vol1@primary-vds0', 'guest');
  await home.ok(A, 'set-vcons', 'group=grp1', 'port=5010', 'guest');
});
after(() => home.cleanup());

test('a guest exported on one host is recreated identically on another', async () => {
  const mstrXml = await home.ok(A, 'list-constraints', '-x', 'mstr');
  const guestXml = await home.ok(A, 'list-constraints', '-x', 'guest');
  fs.writeFileSync(file('mstr.xml'), mstrXml);
  fs.writeFileSync(file('guest.xml'), guestXml);

  // What must survive the trip is in the document: the UUID, the domain's and the vnet's MACs,
  // the variables (escaped), the master, the console group.
  const uuid = /^UUID\|uuid=(.+)$/m.exec(await home.ok(A, 'list-constraints', '-p', 'guest'));
  assert.ok(uuid);
  assert.ok(guestXml.includes(`<uuid>${uuid[1]}</uuid>`));
  assert.equal(guestXml.match(/<rasd:Address>00:14:4f:[0-9a-f:]{8}<\/rasd:Address>/g)?.length, 2);
  assert.ok(guestXml.includes('<gprop:GenericProperty key="value">devalias net /pci@500/network@0 &amp; echo "&lt;ok&gt;"</gprop:GenericProperty>'));
  assert.ok(guestXml.includes('<gprop:GenericProperty key="value">disk net</gprop:GenericProperty>'));
  assert.ok(guestXml.includes('<gprop:GenericProperty key="master">mstr</gprop:GenericProperty>'));
  assert.ok(guestXml.includes('<gprop:GenericProperty key="group">grp1</gprop:GenericProperty>'));

  // The master first: the guest's document names it.
  let r = await home.ldm(B, 'add-domain', '-i', file('guest.xml'));
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'LDom mstr not found\n');
  assert.notEqual((await home.ldm(B, 'list', 'guest')).code, 0, 'a refused document creates nothing');

  assert.equal(await home.ok(B, 'add-domain', '-i', file('mstr.xml')), '');
  assert.equal(await home.ok(B, 'add-domain', '-i', file('guest.xml')), '');
  assert.equal(await home.ok(B, 'list-constraints', '-x', 'mstr'), mstrXml);
  assert.equal(await home.ok(B, 'list-constraints', '-x', 'guest'), guestXml);
  for (const d of ['mstr', 'guest']) {
    assert.equal(await home.ok(B, 'list-constraints', '-p', d), await home.ok(A, 'list-constraints', '-p', d), `list-constraints -p ${d}`);
    assert.equal(await home.ok(B, 'list-constraints', d), await home.ok(A, 'list-constraints', d), `list-constraints ${d}`);
  }
  assert.equal(await home.ok(B, 'list-variable', 'guest'), `auto-boot?=false\nboot-device=disk net\nnvramrc=${NVRAMRC}\n`);

  // Once is enough.
  r = await home.ldm(B, 'add-domain', '-i', file('guest.xml'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /already exists/);
  assert.equal(await home.ok(B, 'list-constraints', '-x', 'guest'), guestXml);
});

test('bind-domain -i and start-domain -i create, bind and start a domain from a document', async () => {
  const guestXml = fs.readFileSync(file('guest.xml'), 'utf8');

  // Renamed only, the document still carries the guest's MACs, which are taken on this host.
  fs.writeFileSync(file('taken.xml'), guestXml.replace('id="guest"', 'id="guest2"'));
  let r = await home.ldm(B, 'bind-domain', '-i', file('taken.xml'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^MAC address 00:14:4f:[0-9a-f:]{8} is already in use\n$/);
  assert.notEqual((await home.ldm(B, 'list', 'guest2')).code, 0);

  const g2 = withoutGenerated(guestXml.replace('id="guest"', 'id="guest2"'));
  fs.writeFileSync(file('guest2.xml'), g2);
  assert.equal(await home.ok(B, 'bind-domain', '-i', file('guest2.xml')), '');
  assert.match(await home.ok(B, 'list'), /^guest2 +bound +------ +5010 +16 +4G$/m);
  const x2 = await home.ok(B, 'list-constraints', '-x', 'guest2');
  assert.equal(withoutGenerated(x2), g2);
  assert.match(x2, /<uuid>[0-9a-f-]{36}<\/uuid>/);
  assert.notEqual(/<uuid>(.+)<\/uuid>/.exec(x2)![1], /<uuid>(.+)<\/uuid>/.exec(guestXml)![1], 'a fresh UUID');
  const vnetMac = /^ {4}vnet0 +primary-vsw0@primary +network@0 +(00:14:4f:[0-9a-f:]{8})$/m.exec(await home.ok(B, 'list-bindings', 'guest2'));
  assert.ok(vnetMac, 'guest2 is bound with its vnet');
  assert.ok(!guestXml.includes(vnetMac[1]), 'a fresh vnet MAC');

  // A console group is served on one port: a new port needs a group of its own.
  const g3 = withoutGenerated(
    guestXml.replace('id="guest"', 'id="guest3"').replace('key="port">5010<', 'key="port">5011<').replace('key="group">grp1<', 'key="group">grp3<'),
  );
  fs.writeFileSync(file('guest3.xml'), g3);
  assert.equal(await home.ok(B, 'start-domain', '-i', file('guest3.xml')), 'LDom guest3 started\n');
  assert.match(await home.ok(B, 'list'), /^guest3 +active +-t---- +5011 +16 +4G +\d+\.\d% +\d+[smhd]$/m);
  assert.equal(withoutGenerated(await home.ok(B, 'list-constraints', '-x', 'guest3')), g3);
  assert.equal(await home.ok(B, 'list-variable', 'guest3'), `auto-boot?=false\nboot-device=disk net\nnvramrc=${NVRAMRC}\n`);

  // The domains these came from are untouched.
  assert.equal(await home.ok(B, 'list-constraints', '-x', 'guest'), guestXml);
  assert.match(await home.ok(B, 'list'), /^guest +inactive +------ +16 +4G$/m);
});

test('list-constraints -x of every domain, re-imported, prints the same document', async () => {
  const full = await home.ok(A, 'list-constraints', '-x');
  const domains = perDomain(full);
  assert.deepEqual([...domains.keys()], ['primary', 'mstr', 'guest']);
  assert.equal(document(full, [...domains.values()]), full, 'the document splits into its domains and back');
  assert.equal(domains.get('guest'), perDomain(fs.readFileSync(file('guest.xml'), 'utf8')).get('guest'));

  // The control domain exists on every host: a document naming it is refused as a whole, even
  // when the domains before it would have been created.
  await home.ok(A, 'remove-domain', 'guest');
  await home.ok(A, 'remove-domain', 'mstr');
  const guests = [domains.get('mstr')!, domains.get('guest')!];
  fs.writeFileSync(file('with-primary.xml'), document(full, [...guests, domains.get('primary')!]));
  const r = await home.ldm(A, 'add-domain', '-i', file('with-primary.xml'));
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'LDom primary already exists\n');
  assert.equal(await home.ok(A, 'list-constraints', '-x'), document(full, [domains.get('primary')!]));

  fs.writeFileSync(file('guests.xml'), document(full, guests));
  assert.equal(await home.ok(A, 'add-domain', '-i', file('guests.xml')), '');
  assert.equal(await home.ok(A, 'list-constraints', '-x'), full);
  assert.equal(await home.ok(A, 'list-constraints', '-x', 'mstr', 'guest'), document(full, guests));

  // Host b holds the same two, imported one by one: only its control domain differs, and that
  // only in what each host generates for itself.
  const fromB = perDomain(await home.ok(B, 'list-constraints', '-x', 'primary', 'mstr', 'guest'));
  assert.equal(fromB.get('mstr'), domains.get('mstr'));
  assert.equal(fromB.get('guest'), domains.get('guest'));
  assert.equal(withoutGenerated(fromB.get('primary')!), withoutGenerated(domains.get('primary')!));
  assert.notEqual(fromB.get('primary'), domains.get('primary'));
});
