// The parts of ldmp2v that need no host: the disk layout (unencapsulation of SVM and VxVM, resize,
// left-out slices and disks), the OS-image modifications, install-media recognition, the ustar
// reader, and the P2V fields of the OS image header.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { G, M } from '../src/format/units.js';
import { decodeHeader, encodeHeader, imageProblem } from '../src/guest/image.js';
import { planLayout, type CollectedFs } from '../src/p2v/layout.js';
import { validateManifest, type PhysicalManifest } from '../src/p2v/manifest.js';
import { checkIso, releaseOfVolumeId, volumeId, writeInstallIso } from '../src/p2v/media.js';
import { modifyRoot, preparedImage, prefixLength, rewriteVfstab } from '../src/p2v/osimage.js';
import { readTar, writeTar, type TarEntry } from '../src/p2v/ustar.js';
import { VOLUMIA } from './helpers/p2v.js';

const raw = (): any => JSON.parse(fs.readFileSync(VOLUMIA, 'utf8'));
const manifest = (mutate: (d: any) => void = () => undefined): PhysicalManifest => {
  const d = raw();
  mutate(d);
  return validateManifest(d, 'm.json');
};
const collected = (m: PhysicalManifest, except: string[] = []): CollectedFs[] =>
  m.fileSystems.filter((f) => f.type === 'ufs' && !except.includes(f.mountPoint)).map((f) => ({ mountPoint: f.mountPoint, device: f.device, size: 0, archive: null }));
const plain = { sizes: new Map<string, number>(), noAutoAdjust: false, removeUnused: false };

test('layout of the example: SVM root on the first submirror, / grown to 10G, slices in order', () => {
  const m = manifest();
  const l = planLayout(m, collected(m), plain);
  assert.deepEqual(l.disks.map((d) => [d.source, d.device, d.size]), [['c1t0d0', 'c0d0', 40 * G], ['c1t1d0', 'c0d1', 36 * G]]);
  assert.deepEqual(l.disks[0].slices.map((s) => [s.number, s.use, s.offset / M, s.size / M]), [
    [0, 'fs', 0, 10240], [1, 'swap', 10240, 2048], [2, 'backup', 0, 40960], [7, 'unused', 12288, 32],
  ]);
  assert.deepEqual(l.disks[1].slices.map((s) => [s.number, s.use, s.note ?? '']), [
    [0, 'unused', 'submirror d12 of d10'], [2, 'backup', ''], [5, 'fs', ''], [7, 'unused', 'no file system'],
  ]);
  assert.equal(l.rootDisk, 0);
  assert.equal(l.renames['/dev/md/rdsk/d10'], '/dev/rdsk/c0d0s0');
  assert.equal(l.renames['/dev/rdsk/c1t1d0s5'], '/dev/rdsk/c0d1s5');
});

test('remove-unused-slices drops slices, and disks left with nothing', () => {
  const m = manifest((d) => {
    d.disks.push({ name: 'c2t0d0', size: '8G', slices: [{ number: 2, size: '8G', tag: 'backup' }, { number: 0, size: '8G', tag: 'unassigned' }] });
  });
  const l = planLayout(m, collected(m), { ...plain, removeUnused: true });
  assert.deepEqual(l.disks.map((d) => [d.source, d.size / G]), [['c1t0d0', 12], ['c1t1d0', 20]]);
  assert.ok(l.notes.includes('c2t0d0: left out (no file system or swap on it)'));
  const kept = planLayout(m, collected(m), plain);
  assert.equal(kept.disks.length, 3, 'kept without the option, as c0d2');
  assert.equal(kept.disks[2].device, 'c0d2');
});

test('a VxVM-encapsulated boot disk: volumes go to the slices of their tags; VxVM is disabled in the image', () => {
  const m = manifest((d) => {
    delete d.svm;
    d.vxvm = { bootDisk: 'c1t0d0', diskGroup: 'rootdg' };
    d.fileSystems[0].device = '/dev/vx/dsk/rootdg/rootvol';
    d.fileSystems[1].device = '/dev/vx/dsk/rootdg/swapvol';
    d.vfstab = '/dev/vx/dsk/rootdg/swapvol\t-\t-\tswap\t-\tno\t-\n/dev/vx/dsk/rootdg/rootvol\t/dev/vx/rdsk/rootdg/rootvol\t/\tufs\t1\tno\t-\n/dev/vx/dsk/rootdg/optvol\t/dev/vx/rdsk/rootdg/optvol\t/opt\tufs\t2\tyes\t-\n';
  });
  const l = planLayout(m, collected(m), plain);
  const v = rewriteVfstab(m.vfstab, l);
  assert.equal(
    v.text,
    '/dev/dsk/c0d0s1\t-\t-\tswap\t-\tno\t-\n/dev/dsk/c0d0s0\t/dev/rdsk/c0d0s0\t/\tufs\t1\tno\t-\n' +
      '#ldmp2v: volume manager device: /dev/vx/dsk/rootdg/optvol\t/dev/vx/rdsk/rootdg/optvol\t/opt\tufs\t2\tyes\t-\n',
  );
  const system = 'rootdev:/pseudo/vxio@0:0\nset vxio:vol_rootdev_is_volume=1\nforceload: drv/vxdmp\nset maxusers=64\n';
  const r = modifyRoot([{ name: 'etc/', type: 'dir', mode: 0o755, mtime: 0 }, { name: 'etc/system', type: 'file', mode: 0o644, mtime: 0, data: Buffer.from(system) }], m, v.text, 1);
  const files = new Map(r.entries.map((e) => [e.name, e.data?.toString()]));
  assert.equal(files.get('etc/system'), 'set maxusers=64\n');
  assert.equal(files.get('etc/vx/reconfig.d/state.d/install-db'), '');
  assert.ok(r.entries.some((e) => e.name === 'etc/vx/reconfig.d/state.d/' && e.type === 'dir'));
  assert.equal(r.removedVxvm, true);
  assert.equal(r.removedSvm, false);
});

test('a file system left out at collection: its vfstab line is commented out, its slice stays empty', () => {
  const m = manifest();
  const l = planLayout(m, collected(m, ['/export/home']), plain);
  const v = rewriteVfstab(m.vfstab, l);
  assert.match(v.text, /^#ldmp2v: not collected: \/dev\/dsk\/c1t1d0s5\t\/dev\/rdsk\/c1t1d0s5\t\/export\/home\t/m);
  assert.equal(l.disks[1].slices.find((s) => s.number === 5)!.use, 'unused');
  assert.throws(() => planLayout(m, collected(m, ['/']), plain), /the root file system was not collected/);
});

test('the prepared image header: the source OS (sun4u, Solaris 9) with its addresses on vnets', () => {
  const img = preparedImage(manifest());
  assert.equal(imageProblem(img), null);
  assert.equal(img.release, 'Solaris 9 9/05');
  assert.equal(img.arch, 'sun4u');
  assert.equal(img.drd, false);
  assert.deepEqual(img.source, { hostname: 'volumia', hostid: '83a1b2c4', model: 'SUNW,Sun-Fire-V440', arch: 'sun4u', release: 'Solaris 9 9/05' });
  const back = decodeHeader(encodeHeader(img), 'x');
  assert.ok(back.ok);
  assert.deepEqual(back.image, img);
  // A Solaris 9 OS never ran on sun4v: only a sun4u image may carry it.
  assert.equal(imageProblem({ ...img, arch: 'sun4v' }), 'unknown release "Solaris 9 9/05"');
  assert.equal(imageProblem({ ...img, arch: 'sun4m' }), 'arch must be "sun4u" or "sun4v"');
  assert.equal(imageProblem({ ...img, source: { ...img.source, hostid: 'xyz' } }), 'source.hostid must be eight lower-case hex digits');
  assert.equal(prefixLength('255.255.240.0'), 20);
  assert.equal(prefixLength('255.0.255.0'), null);
  assert.throws(() => preparedImage(manifest((d) => (d.interfaces[1].netmask = '255.0.255.0'))), /netmask 255\.0\.255\.0 is not a contiguous mask/);
  assert.throws(() => preparedImage(manifest((d) => Object.assign(d, { release: 'Solaris 10', platform: { name: 'SUNW,T5140', arch: 'sun4v' } }))), /does not name a Solaris 10 update/);
});

test('install media: DVD volume IDs and minimal ISO images', () => {
  assert.equal(volumeId('Solaris 10 9/10'), 'SOL_10_910_SPARC');
  assert.equal(volumeId('s10u11'), 'SOL_10_113_SPARC');
  assert.equal(releaseOfVolumeId('SOL_10_1008_SPARC'), 'Solaris 10 10/08');
  assert.equal(releaseOfVolumeId('SOL_10_1299_SPARC'), null);
  assert.throws(() => volumeId('Oracle Solaris 11.1'), /not a Solaris 10 release/);
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'p2v-iso-')), 'sol.iso');
  writeInstallIso(f, 'Solaris 10 5/09');
  assert.deepEqual(checkIso(f), { method: 'iso', location: f, release: 'Solaris 10 5/09' });
  fs.rmSync(path.dirname(f), { recursive: true });
});

test('ustar: round trip; pax and GNU long names from other tar programs; corrupt archives refused', () => {
  const entries: TarEntry[] = [
    { name: 'etc/', type: 'dir', mode: 0o755, mtime: 1000 },
    { name: 'etc/motd', type: 'file', mode: 0o644, mtime: 1000, data: Buffer.from('Sun Microsystems Inc.   SunOS 5.9\n') },
    { name: 'bin', type: 'symlink', mode: 0o777, mtime: 1000, link: './usr/bin' },
  ];
  assert.deepEqual(readTar(writeTar(entries), 't'), entries);
  // A pax header carrying a long path (as GNU tar --format=pax writes it).
  const long = `${'d'.repeat(120)}/${'f'.repeat(120)}`;
  const rec = ` path=${long}\n`;
  let len = rec.length + 3;
  len = rec.length + String(len).length;
  const paxData = Buffer.from(`${len}${rec}`);
  const tar = writeTar([{ name: 'PaxHeaders/x', type: 'file', mode: 0o644, mtime: 0, data: paxData }, { name: 'short', type: 'file', mode: 0o644, mtime: 0, data: Buffer.from('x') }]);
  tar[156] = 'x'.charCodeAt(0);
  // Re-checksum the pax header after changing its type.
  tar.fill(' ', 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += tar[i];
  tar.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  const read = readTar(tar, 'pax');
  assert.deepEqual(read.map((e) => e.name), [long]);
  const bad = writeTar(entries);
  bad[600] ^= 0xff;
  assert.throws(() => readTar(bad, 'bad.tar'), /bad\.tar: corrupt archive \(bad header checksum at byte 512\)/);
  assert.throws(() => readTar(writeTar(entries).subarray(0, 1030), 'cut.tar'), /cut\.tar: archive ends inside an entry/);
  assert.throws(() => readTar(writeTar(entries).subarray(0, 600), 'short.tar'), /short\.tar: archive has no end marker/);
});
