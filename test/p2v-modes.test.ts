// prepare's other ways: disk back ends given with -B (the user's, never removed), ZFS volumes with
// -p and -x remove-unused-slices, -m sizes, and -R (the user restored the disks: only the OS image
// and the domain). After each, prepare -C leaves the host as it was.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { G, M } from '../src/format/units.js';
import { readImage } from '../src/guest/image.js';
import { readFileSystem } from '../src/p2v/backend.js';
import { TestHome } from './helpers/hosts.js';
import { hostState, manifestVariant, p2v, smallDisks, VOLUMIA, writeConf } from './helpers/p2v.js';

const home = new TestHome('ldmp2v-modes-');
const H = 'p2vm';
const backends = path.join(home.home, 'ldoms');
const watched = [backends, path.join(home.home, 'var'), path.join(home.home, 'dev'), path.join(home.home, 'user')];
const dir = (n: string) => path.join(home.home, 'p2v', n);
const state = () => hostState(home, H, watched);

before(async () => {
  await home.startHost(H);
  await home.setupControlDomain(H);
  fs.mkdirSync(backends);
  writeConf(home, { BACKEND_TYPE: 'file', BACKEND_SPARSE: 'yes', BACKEND_PREFIX: backends });
  let r = await p2v(home, H, ['collect', '-d', dir('volumia')], { LDMP2V_SOURCE: VOLUMIA });
  assert.equal(r.code, 0, r.stderr);
  r = await p2v(home, H, ['collect', '-d', dir('small')], { LDMP2V_SOURCE: manifestVariant(path.join(home.home, 'small'), smallDisks) });
  assert.equal(r.code, 0, r.stderr);
});
after(() => home.cleanup());

test('-b disk -B: the user\'s disks are written and used, and prepare -C leaves them', async () => {
  const user = path.join(home.home, 'user');
  fs.mkdirSync(user);
  const d0 = path.join(user, 'c3t0d0s2');
  const d1 = path.join(user, 'c3t1d0s2');
  fs.writeFileSync(d0, '');
  fs.truncateSync(d0, 100 * M);
  fs.writeFileSync(d1, '');
  fs.truncateSync(d1, 300 * M);
  const args = ['prepare', '-b', 'disk', '-B', `${d0}:small-boot:boot`, '-B', d1, '-x', 'no-auto-adjust-fs', '-d', dir('small'), 'smalld'];
  let r = await p2v(home, H, args);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `ldmp2v: back end ${d0} is 100M; disk 0 needs 256M\n`);
  fs.truncateSync(d0, 256 * M);
  const s0 = await state();

  r = await p2v(home, H, args);
  assert.equal(r.code, 0, r.stderr);
  const services = await home.ok(H, 'list-services', '-p');
  assert.match(services, new RegExp(`\\|vol=small-boot\\|opts=\\|dev=${d0}\\|`));
  assert.match(services, new RegExp(`\\|vol=smalld-vol1\\|opts=\\|dev=${d1}\\|`));
  const c = await home.ok(H, 'list-constraints', '-p', 'smalld');
  assert.match(c, /^VDISK\|name=boot\|vol=small-boot@primary-vds0\|/m);
  assert.match(c, /^VDISK\|name=disk1\|vol=smalld-vol1@primary-vds0\|/m);
  assert.match(c, /^\|boot-device=boot$/m);
  const img = readImage(d0);
  assert.ok(img.ok && img.image.hostname === 'volumia' && img.image.arch === 'sun4u');

  r = await p2v(home, H, ['prepare', '-C', 'smalld']);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /Removing file/);
  assert.match(r.stdout, /Removing volume small-boot@primary-vds0 \.\.\./);
  assert.deepEqual(await state(), s0, 'the user\'s disks are still there, the same size');
  fs.rmSync(user, { recursive: true });
});

test('zvol back ends under -p, -x remove-unused-slices, -m and -x no-auto-adjust-fs', async () => {
  const s0 = await state();
  let r = await p2v(home, H, ['prepare', '-v', '-b', 'zvol', '-p', 'tank/p2v', '-s', '-x', 'remove-unused-slices', '-d', dir('volumia'), 'vz']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /  c1t1d0s0: left out \(submirror d12 of d10\)\n/);
  assert.match(r.stdout, /  c1t0d0s7: left out \(no file system\)\n/);
  assert.match(r.stdout, /  ZFS volume tank\/p2v\/vz\/disk0: 12G sparse\n/);
  const zvols = path.join(home.home, 'dev', 'zvol', 'dsk', 'tank', 'p2v', 'vz');
  // disk0: / grown to 10G plus 2G of swap; disk1: only /export/home's 20G, now at the start.
  assert.equal(fs.statSync(path.join(zvols, 'disk0')).size, 12 * G);
  assert.equal(fs.statSync(path.join(zvols, 'disk1')).size, 20 * G);
  const homeFs = readFileSystem(path.join(zvols, 'disk1'), { offset: 0, size: 20 * G });
  assert.ok(homeFs.some((e) => e.name === 'dana/notes.txt'));
  assert.match(await home.ok(H, 'list-services', '-p'), new RegExp(`\\|vol=vz-vol0\\|opts=\\|dev=${path.join(zvols, 'disk0')}\\|`));
  r = await p2v(home, H, ['prepare', '-C', 'vz']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Removing ZFS volume tank\/p2v\/vz\/disk1 \.\.\.\nRemoving ZFS volume tank\/p2v\/vz\/disk0 \.\.\.\n$/);
  assert.deepEqual(await state(), s0, 'the datasets ldmp2v made went too');

  r = await p2v(home, H, ['prepare', '-m', '/:12G', '-m', '/export/home:30G', '-d', dir('volumia'), 'vm']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(fs.statSync(path.join(backends, 'vm', 'disk0')).size, 42 * G);
  assert.equal(fs.statSync(path.join(backends, 'vm', 'disk1')).size, 46 * G);
  assert.equal((await p2v(home, H, ['prepare', '-C', 'vm'])).code, 0);
  r = await p2v(home, H, ['prepare', '-x', 'no-auto-adjust-fs', '-d', dir('volumia'), 'vm']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(fs.statSync(path.join(backends, 'vm', 'disk0')).size, 36 * G);
  assert.equal((await p2v(home, H, ['prepare', '-C', 'vm'])).code, 0);
  assert.deepEqual(await state(), s0);
});

test('-R guest-root: the restored root file system is modified, the domain made, the disks left to the user', async () => {
  const root = path.join(home.home, 'mnt');
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
  const vfstab = fs.readFileSync(path.join(dir('volumia'), 'vfstab'), 'utf8');
  fs.writeFileSync(path.join(root, 'etc', 'vfstab'), vfstab);
  fs.writeFileSync(path.join(root, 'etc', 'system'), '* Begin MDD root info (do not edit)\nrootdev:/pseudo/md@0:0,10,blk\n* End MDD root info (do not edit)\nset maxusers=512\n');
  fs.writeFileSync(path.join(root, 'etc', 'hostname.ce0'), 'volumia\n');
  fs.writeFileSync(path.join(root, 'etc', 'hostname.ce1'), 'volumia-bk\n');

  let r = await p2v(home, H, ['prepare', '-R', root, '-d', dir('volumia'), 'vr']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^ldmp2v: back end \S+\/vr\/disk0 does not exist \(with -R, create and restore the disks first, under their default names\)\n$/);
  // The user made and restored the disks (any size) under the default names.
  fs.mkdirSync(path.join(backends, 'vr'));
  for (const n of ['disk0', 'disk1']) {
    fs.writeFileSync(path.join(backends, 'vr', n), '');
    fs.truncateSync(path.join(backends, 'vr', n), 20 * G);
  }
  const s0 = await state();
  r = await p2v(home, H, ['prepare', '-R', root, '-c', '8', '-M', '4G', '-d', dir('volumia'), 'vr']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'Modifying guest domain OS image ...\nRemoving SVM configuration ...\nCreating domain vr ...\nAttaching vdisks to domain vr ...\n');
  const etc = (n: string) => fs.readFileSync(path.join(root, 'etc', n), 'utf8');
  assert.match(etc('vfstab'), /^\/dev\/dsk\/c0d0s0\t\/dev\/rdsk\/c0d0s0\t\/\tufs\t1\tno\tlogging$/m);
  assert.doesNotMatch(etc('vfstab'), /\/dev\/md\//);
  assert.equal(etc('system'), '* Begin MDD root info (do not edit)\n* End MDD root info (do not edit)\nset maxusers=512\n');
  assert.equal(etc('hostname.vnet1'), 'volumia-bk\n');
  assert.equal(fs.existsSync(path.join(root, 'etc', 'hostname.ce1')), false);
  const img = readImage(path.join(backends, 'vr', 'disk0'));
  assert.ok(img.ok && img.image.release === 'Solaris 9 9/05');
  const c = await home.ok(H, 'list-constraints', '-p', 'vr');
  assert.match(c, /^VCPU\|count=8$/m);
  assert.match(c, /^MEMORY\|size=4294967296$/m);

  r = await p2v(home, H, ['prepare', '-C', 'vr']);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /Removing file/);
  assert.deepEqual(await state(), s0, 'the restored disks stay');
});
