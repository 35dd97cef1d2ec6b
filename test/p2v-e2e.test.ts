// ldmp2v end to end: the example source (a Solaris 9 sun4u V440, SVM-mirrored root, two disks, two
// NICs) is collected, prepared into a domain on a T5240 and converted from a Solaris 10 9/10 DVD
// image; the domain boots on its console to a login prompt with the original host name and
// addresses. `prepare -C` then leaves the host exactly as it was.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { G } from '../src/format/units.js';
import { readImage } from '../src/guest/image.js';
import { readFileSystem } from '../src/p2v/backend.js';
import { writeInstallIso } from '../src/p2v/media.js';
import { TestHome } from './helpers/hosts.js';
import { hostState, p2v, VOLUMIA, writeConf, type HostState } from './helpers/p2v.js';
import { Terminal } from './helpers/tmux.js';

// Boots in a twentieth of the modelled time (the image says 20 s).
process.env.LDOMS_BOOT_SCALE = '0.05';

const home = new TestHome('ldmp2v-e2e-');
const H = 'p2v';
const backends = path.join(home.home, 'ldoms');
const data = path.join(home.home, 'p2v', 'volumia');
const iso = path.join(home.home, 'sol-10-u9-ga-sparc-dvd.iso');
const source = { LDMP2V_SOURCE: VOLUMIA };
let term: Terminal | null = null;
let before0: HostState;

before(async () => {
  await home.startHost(H);
  await home.setupControlDomain(H);
  fs.mkdirSync(backends);
  writeConf(home, { VDS: 'primary-vds0', VSW: 'primary-vsw0', VCC: 'primary-vcc0', BACKEND_TYPE: 'file', BACKEND_SPARSE: 'yes', BACKEND_PREFIX: backends, BOOT_TIMEOUT: 30 });
  writeInstallIso(iso, 'Solaris 10 9/10');
  before0 = await hostState(home, H, [backends, path.join(home.home, 'var')]);
});
after(async () => {
  term?.close();
  await home.cleanup();
});

test('collect, prepare, convert: volumia boots as a sun4v domain with its name and addresses; prepare -C restores the host', async () => {
  // --- collection, "on the source"
  let r = await p2v(home, H, ['collect', '-d', data], source);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'Collecting system configuration ...\nArchiving file systems ...\nArchive creation complete.\n');
  assert.deepEqual(fs.readdirSync(data).sort(), ['archive', 'system.json', 'vfstab']);

  // --- preparation, on the control domain
  r = await p2v(home, H, ['prepare', '-o', 'keep-hostid', '-o', 'keep-mac', '-d', data, 'volumia']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.deepEqual(r.stdout.trim().split('\n'), [
    'Resizing file systems ...',
    'Creating vdisks ...',
    'Creating file systems ...',
    'Populating file systems ...',
    'Modifying guest domain OS image ...',
    'Removing SVM configuration ...',
    'Unmounting guest file systems ...',
    'Creating domain volumia ...',
    'Attaching vdisks to domain volumia ...',
  ]);

  // The back ends: documented names; disk0 grew by the 4G that took / from 6G to 10G; sparse.
  const disk0 = path.join(backends, 'volumia', 'disk0');
  const disk1 = path.join(backends, 'volumia', 'disk1');
  assert.equal(fs.statSync(disk0).size, 40 * G);
  assert.equal(fs.statSync(disk1).size, 36 * G);
  assert.ok(fs.statSync(disk0).blocks * 512 < 64 * 1024 * 1024, 'sparse');
  const services = await home.ok(H, 'list-services', '-p');
  assert.match(services, new RegExp(`\\|vol=volumia-vol0\\|opts=\\|dev=${disk0}\\|`));
  assert.match(services, new RegExp(`\\|vol=volumia-vol1\\|opts=\\|dev=${disk1}\\|`));

  // The boot disk holds the source's sun4u Solaris 9, renamed for the domain.
  const img = readImage(disk0);
  assert.ok(img.ok);
  assert.equal(img.image.release, 'Solaris 9 9/05');
  assert.equal(img.image.arch, 'sun4u');
  assert.equal(img.image.hostname, 'volumia');
  assert.deepEqual(img.image.interfaces, [{ name: 'vnet0', ip: '192.168.10.21/24' }, { name: 'vnet1', ip: '10.1.0.21/16' }]);
  // / is on slice 0 of disk0 (SVM mirror d10 unencapsulated to its first submirror c1t0d0s0).
  const root = new Map(readFileSystem(disk0, { offset: 0, size: 10 * G }).map((e) => [e.name, e.data?.toString('utf8')]));
  assert.equal(root.get('etc/nodename'), 'volumia\n');
  assert.equal(
    root.get('etc/vfstab'),
    '#device\t\tdevice\t\tmount\t\tFS\tfsck\tmount\tmount\n#to mount\tto fsck\t\tpoint\t\ttype\tpass\tat boot\toptions\n#\n' +
      'fd\t-\t/dev/fd\tfd\t-\tno\t-\n/proc\t-\t/proc\tproc\t-\tno\t-\n' +
      '/dev/dsk/c0d0s1\t-\t-\tswap\t-\tno\t-\n' +
      '/dev/dsk/c0d0s0\t/dev/rdsk/c0d0s0\t/\tufs\t1\tno\tlogging\n' +
      '/dev/dsk/c0d1s5\t/dev/rdsk/c0d1s5\t/export/home\tufs\t2\tyes\tlogging\n' +
      'swap\t-\t/tmp\ttmpfs\t-\tyes\t-\n',
  );
  assert.match(root.get('etc/lvm/mddb.cf')!, /^#metadevice database location file/);
  assert.equal(root.get('etc/hostname.vnet0'), 'volumia\n');
  assert.ok(root.has('etc/hostname.vnet1'));
  // /export/home on slice 5 of disk1, after the 6G slice 0 (the second submirror, now unused).
  const homeFs = new Map(readFileSystem(disk1, { offset: 6 * G, size: 20 * G }).map((e) => [e.name, e.data?.toString('utf8')]));
  assert.equal(homeFs.get('dana/notes.txt'), 'notes\n');

  // The domain, made through ldm: the source's CPUs, memory, host ID and MACs.
  const bindings = await home.ok(H, 'list-bindings', '-p', 'volumia');
  const constraints = await home.ok(H, 'list-constraints', '-p', 'volumia');
  assert.match(constraints, /^VCPU\|count=4$/m);
  assert.match(constraints, /^MEMORY\|size=8589934592$/m);
  assert.match(bindings, /^VNET\|name=vnet0\|dev=network@0\|service=primary-vsw0@primary\|mac-addr=00:03:ba:4e:12:a0\|/m);
  assert.match(bindings, /^VNET\|name=vnet1\|dev=network@1\|service=primary-vsw0@primary\|mac-addr=00:03:ba:4e:12:a1\|/m);
  assert.match(bindings, /^VDISK\|name=disk0\|vol=volumia-vol0@primary-vds0\|/m);
  assert.match(bindings, /^VDISK\|name=disk1\|vol=volumia-vol1@primary-vds0\|/m);
  assert.match(await home.ok(H, 'list-variable', 'volumia'), /auto-boot\?=false\nboot-device=disk0/);
  assert.doesNotMatch(await home.ok(H, 'list-bindings', 'primary'), /volumia-disk/, 'the temporary vdisks are gone from primary');

  // Unconverted, the sun4u OS does not boot on sun4v: OpenBoot finds no sun4v boot loader.
  await home.ok(H, 'bind-domain', 'volumia');
  assert.match(await home.ok(H, 'list-domain', '-l', 'volumia'), /HOSTID\n +0x83a1b2c4/);
  await home.ok(H, 'start-domain', 'volumia');
  const port = /cons=(\d+)/.exec(await home.ok(H, 'list-domain', '-p', 'volumia'))![1];
  term = Terminal.start(['telnet', home.address(H), port]);
  await term.waitFor(/Connecting to console "volumia"/);
  term.type('');
  await term.waitFor(/\{0\} ok ?$/m);
  term.type('boot');
  await term.waitFor(/Can't open \/platform\/sun4v\/ufsboot\n\nBoot load failed\n\{0\} ok ?$/m);

  // --- conversion (the domain is already running OpenBoot: convert takes it from there)
  r = await p2v(home, H, ['convert', '-i', iso, '-d', data, 'volumia']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), [
    `Booting volumia from ${iso} ...`,
    'Upgrading Solaris 9 9/05 (sun4u) to Solaris 10 9/10 (sun4v) ...',
    'Upgrade complete.',
    'LDom volumia started',
    'Waiting for Solaris to come up ...',
    `Domain volumia is running Solaris 10 9/10 (sun4v); its console: telnet ${home.address(H)} ${port}`,
  ]);
  const upgraded = readImage(disk0);
  assert.ok(upgraded.ok);
  assert.equal(upgraded.image.release, 'Solaris 10 9/10');
  assert.equal(upgraded.image.arch, 'sun4v');
  assert.equal(upgraded.image.source?.release, 'Solaris 9 9/05');
  const etcRelease = readFileSystem(disk0, { offset: 0, size: 10 * G }).find((e) => e.name === 'etc/release');
  assert.match(etcRelease!.data!.toString(), /Oracle Solaris 10 9\/10 s10s_u9wos SPARC/);

  // The console: the original host name at the login prompt, its addresses on the vnets.
  const mark = term.screen().length;
  term.type('');
  await term.waitFor(/volumia console login: ?$/m, 15_000, mark);
  term.type('root');
  await term.waitFor(/Password: ?$/m, 15_000, mark);
  term.type('secret');
  await term.waitFor(/^# ?$/m, 15_000, mark);
  term.type('ifconfig -a');
  let screen = await term.waitFor(/vnet1: [^\n]*\n\s+inet 10\.1\.0\.21 netmask ffff0000 broadcast 10\.1\.255\.255\n# ?$/m, 15_000, mark);
  assert.match(screen.slice(mark), /vnet0: flags=\S+ mtu 1500 index 2\n\s+inet 192\.168\.10\.21 netmask ffffff00 broadcast 192\.168\.10\.255/);
  let m2 = term.screen().length;
  term.type('uname -a');
  await term.waitFor(/SunOS volumia 5\.10 Generic_142909-17 sun4v sparc SUNW,T5240/, 15_000, m2);
  m2 = term.screen().length;
  term.type('hostid');
  screen = await term.waitFor(/^83a1b2c4$/m, 15_000, m2);
  term.close();
  term = null;

  assert.match(await home.ok(H, 'list-domain', '-p', 'volumia'), /state=active\|flags=-n----/);
  const bound = await home.ok(H, 'list-bindings', 'volumia');
  assert.match(bound, /NETWORK\n +NAME .*\n +vnet0 +primary-vsw0@primary +network@0 +00:03:ba:4e:12:a0\n +vnet1 +primary-vsw0@primary +network@1 +00:03:ba:4e:12:a1\n/);
  assert.match(bound, /DISK\n +NAME .*\n +disk0 +volumia-vol0@primary-vds0 +disk@0 +primary\n +disk1 +volumia-vol1@primary-vds0 +disk@1 +primary\n/);
  assert.match(bound, /VCONS\n +NAME .*\n +volumia +primary-vcc0@primary +\d+\n/);
  assert.match(await home.ok(H, 'list-variable', 'volumia'), /auto-boot\?=true\nboot-device=disk0/);
  const again = await p2v(home, H, ['convert', '-i', iso, '-d', data, 'volumia']);
  assert.equal(again.code, 1);
  assert.equal(again.stderr, 'ldmp2v: domain volumia has already been converted (Solaris 10 9/10)\n');

  // --- cleanup: everything ldmp2v made goes, and only that
  r = await p2v(home, H, ['prepare', '-C', 'volumia']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), [
    'Cleaning up domain volumia ...',
    'Removing vdisk disk1 ...',
    'Removing vdisk disk0 ...',
    'Removing domain volumia ...',
    'Removing volume volumia-vol1@primary-vds0 ...',
    'Removing volume volumia-vol0@primary-vds0 ...',
    `Removing file ${disk1} ...`,
    `Removing file ${disk0} ...`,
  ]);
  assert.deepEqual(await hostState(home, H, [backends, path.join(home.home, 'var')]), before0);
  assert.deepEqual(fs.readdirSync(data).sort(), ['archive', 'system.json', 'vfstab'], 'the collected data stays');
  const gone = await p2v(home, H, ['prepare', '-C', 'volumia']);
  assert.equal(gone.code, 1);
  assert.equal(gone.stderr, `ldmp2v: no domain volumia prepared by ldmp2v on host ${H}\n`);
});
