// ldmp2v on bad input and bad luck: missing files, refused sources, requests beyond the free
// resources, a step that fails, a run killed halfway. Every failure: a clear message, a non-zero
// exit, and the host exactly as it was (ldm listings and the back-end directory); a re-run works.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { TestHome } from './helpers/hosts.js';
import { collectOutput, hostState, manifestVariant, p2v, smallDisks, spawnP2v, VOLUMIA, writeConf } from './helpers/p2v.js';

const home = new TestHome('ldmp2v-prep-');
const H = 'p2vp';
const backends = path.join(home.home, 'ldoms');
const varDir = path.join(home.home, 'var');
const source = { LDMP2V_SOURCE: VOLUMIA };
const conf = { BACKEND_TYPE: 'file', BACKEND_SPARSE: 'yes', BACKEND_PREFIX: backends, BOOT_TIMEOUT: 30 };
const dir = (n: string) => path.join(home.home, 'p2v', n);
const state = () => hostState(home, H, [backends, varDir]);

before(async () => {
  await home.startHost(H);
  await home.setupControlDomain(H);
  fs.mkdirSync(backends);
  writeConf(home, conf);
  const r = await p2v(home, H, ['collect', '-d', dir('volumia')], source);
  assert.equal(r.code, 0, r.stderr);
});
after(() => home.cleanup());

test('collect: a missing or refused source, bad options: a message, a non-zero exit, no data directory', async () => {
  const d = dir('c1');
  let r = await p2v(home, H, ['collect', '-d', d]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'ldmp2v: this system is not a modelled physical source: set LDMP2V_SOURCE to its manifest (docs/ldmp2v.md)\n');
  r = await p2v(home, H, ['collect', '-d', d], { LDMP2V_SOURCE: '/nonexistent/volumia.json' });
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'ldmp2v: /nonexistent/volumia.json: cannot read manifest: ENOENT\n');
  const zfs = manifestVariant(path.join(home.home, 'zfs'), (m) => {
    m.release = 'Solaris 10 10/08';
    m.fileSystems[0] = { device: 'rpool/ROOT/s10', mountPoint: '/', type: 'zfs', size: '6G' };
  });
  r = await p2v(home, H, ['collect', '-d', d], { LDMP2V_SOURCE: zfs });
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'ldmp2v: volumia: the root file system is ZFS; ldmp2v converts only systems with a UFS root\n');
  r = await p2v(home, H, ['collect', '-a', 'ufsdump', '-d', d], source);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /-a ufsdump: not available in this release; use -a flash or -a none/);
  r = await p2v(home, H, ['collect', '-O', '-n myflar', '-d', d], source);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /-O: -n is set by ldmp2v/);
  r = await p2v(home, H, ['collect', '-x', '/export/home', '-x', '/opt', '-d', d], source);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'ldmp2v: -x /opt: not a mounted UFS file system of volumia\n');
  r = await p2v(home, H, ['collect'], source);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^ldmp2v: -d data-dir is required\nUsage:\n    ldmp2v collect \[-a flash\|none\]/);
  r = await p2v(home, H, ['collect', '-q', '-d', d], source);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^ldmp2v: illegal option -- q\n/);
  assert.equal(fs.existsSync(d), false, 'nothing written');

  for (const sub of ['collect', 'prepare', 'convert']) {
    const h = await p2v(home, H, [sub, '-h']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, new RegExp(`^Usage:\\n    ldmp2v ${sub} `));
  }
});

test('collect after an interrupted collection starts again; -O -c and -x shape the archives', async () => {
  const d = dir('c2');
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, '.collect-incomplete'), '1234\n');
  fs.writeFileSync(path.join(d, 'system.json.partial'), '{');
  const r = await p2v(home, H, ['collect', '-v', '-O', "-c -x /export/home/dana -e 'volumia before P2V'", '-d', d], source);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Removing the remains of an interrupted collection in .* \.\.\.\nCollecting system configuration \.\.\.\n/);
  assert.deepEqual(fs.readdirSync(d).sort(), ['archive', 'system.json', 'vfstab']);
  assert.deepEqual(fs.readdirSync(path.join(d, 'archive')).sort(), ['export-home.tar.gz', 'root.tar.gz']);
  const sys = JSON.parse(fs.readFileSync(path.join(d, 'system.json'), 'utf8'));
  assert.deepEqual(sys.collected.flarcreate, { compress: true, exclude: ['/export/home/dana'], skipSizeCheck: false, description: 'volumia before P2V' });
  const zlib = await import('node:zlib');
  const tar = zlib.gunzipSync(fs.readFileSync(path.join(d, 'archive', 'export-home.tar.gz')));
  assert.equal(tar.includes(Buffer.from('dana/')), false, '/export/home/dana left out');
  assert.equal(tar.length, 1024, 'nothing else is in the fixture: an empty archive');
});

test('prepare: missing or unusable input and too-large requests change nothing', async () => {
  const s0 = await state();
  const expect = async (args: string[], code: number, stderr: RegExp) => {
    const r = await p2v(home, H, ['prepare', ...args]);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, stderr, args.join(' '));
    assert.equal(r.stdout, '', `${args.join(' ')}: no progress before the checks pass`);
  };
  await expect(['-d', dir('none'), 'volumia'], 1, /^ldmp2v: \/.*\/p2v\/none: no such data directory\n$/);
  fs.mkdirSync(dir('empty'));
  await expect(['-d', dir('empty'), 'volumia'], 1, /: no collected system \(system\.json is missing\); run ldmp2v collect -d .* on the source first\n$/);
  const manual = await p2v(home, H, ['collect', '-a', 'none', '-d', dir('manual')], source);
  assert.equal(manual.stdout.trim().split('\n').at(-1), 'The following file system(s) must be archived manually: / /export/home');
  await expect(['-d', dir('manual'), 'volumia'], 1, /^ldmp2v: missing archives for \/ \(.*\/archive\/root\.tar\), \/export\/home \(.*\/archive\/export-home\.tar\) \(collected with -a none: put a tar archive of each there, or restore the disks yourself and use prepare -R\)\n$/);
  await expect(['-c', '500', '-d', dir('volumia'), 'volumia'], 1, /^ldmp2v: -c 500: only 120 virtual CPUs are free on host p2vp\n$/);
  await expect(['-M', '500G', '-d', dir('volumia'), 'volumia'], 1, /^ldmp2v: -M 500G: only \d+M of memory is free on host p2vp\n$/);
  await expect(['-b', 'disk', '-d', dir('volumia'), 'volumia'], 1, /^ldmp2v: disk 0 \(c1t0d0\): a disk back end must be named with -B backend:volume:vdisk\n$/);
  await expect(['-b', 'disk', '-B', '/dev/dsk/c9t9d0s2', '-B', '/dev/dsk/c9t9d1s2', '-d', dir('volumia'), 'volumia'], 1,
    /^ldmp2v: back end \/dev\/dsk\/c9t9d0s2 does not exist \(a disk back end must be created before ldmp2v prepare\)\n$/);
  await expect(['-m', '/:1G', '-d', dir('volumia'), 'volumia'], 1, /^ldmp2v: -m \/:1024M: smaller than the 3072M in use\n$/);
  await expect(['-m', '/opt:1G', '-d', dir('volumia'), 'volumia'], 1, /^ldmp2v: -m \/opt: not a file system collected from volumia\n$/);
  await expect(['-o', 'keep-everything', '-d', dir('volumia'), 'volumia'], 2, /^ldmp2v: -o keep-everything: expected keep-hostid or keep-mac\nUsage:\n/);
  await expect(['-R', '/mnt', '-b', 'file', '-d', dir('volumia'), 'volumia'], 2, /^ldmp2v: -b cannot be used with -R\n/);
  await expect(['-C', 'volumia', '-d', dir('volumia')], 2, /^ldmp2v: -d cannot be used with -C\n/);
  await expect(['-d', dir('volumia')], 2, /^ldmp2v: missing domain name\n/);

  // A back end of the user's at the default name is never overwritten.
  fs.mkdirSync(path.join(backends, 'volumia'));
  fs.writeFileSync(path.join(backends, 'volumia', 'disk1'), 'mine');
  await expect(['-d', dir('volumia'), 'volumia'], 1, /^ldmp2v: back end \/.*\/volumia\/disk1 already exists; ldmp2v never overwrites a back end \(remove it, or name another with -B\)\n$/);
  assert.equal(fs.readFileSync(path.join(backends, 'volumia', 'disk1'), 'utf8'), 'mine');
  fs.rmSync(path.join(backends, 'volumia'), { recursive: true });

  // A domain of the user's of the same name; a configuration naming services that do not exist.
  await home.ok(H, 'add-domain', 'volumia');
  await expect(['-d', dir('volumia'), 'volumia'], 1, /^ldmp2v: domain volumia already exists on host p2vp\n$/);
  const notOurs = await p2v(home, H, ['prepare', '-C', 'volumia']);
  assert.equal(notOurs.code, 1);
  assert.equal(notOurs.stderr, 'ldmp2v: domain volumia was not created by ldmp2v on host p2vp; nothing removed\n');
  assert.ok(await home.ok(H, 'list-domain', 'volumia'), 'the user\'s domain stays');
  await home.ok(H, 'remove-domain', 'volumia');
  writeConf(home, { ...conf, VDS: 'nosuch-vds0' });
  await expect(['-d', dir('volumia'), 'volumia'], 1, /^ldmp2v: virtual disk service nosuch-vds0 \(VDS in ldmp2v\.conf\) does not exist on host p2vp\n$/);
  writeConf(home, { ...conf, BACKEND_TYPE: 'lofi' });
  await expect(['-d', dir('volumia'), 'volumia'], 1, /ldmp2v\.conf:1: BACKEND_TYPE must be zvol, file or disk, not 'lofi'\n$/);
  writeConf(home, conf);

  assert.deepEqual(await state(), s0);
  assert.deepEqual(fs.readdirSync(dir('volumia')).sort(), ['archive', 'system.json', 'vfstab'], 'no ledger left in the data directory');
});

test('a step that fails undoes the whole run; the run can then be repeated', async () => {
  // Another domain already uses the MAC of the source's second NIC: add-vnet with -o keep-mac fails
  // after the back ends, volumes and the domain were made.
  await home.ok(H, 'add-domain', 'other');
  await home.ok(H, 'add-vnet', 'mac-addr=00:03:ba:4e:12:a1', 'vnet0', 'primary-vsw0', 'other');
  const s0 = await state();
  let r = await p2v(home, H, ['prepare', '-o', 'keep-mac', '-d', dir('volumia'), 'volumia']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^ldmp2v: ldm add-vnet mac-addr=00:03:ba:4e:12:a1 vnet1 primary-vsw0 volumia failed:\n.*00:03:ba:4e:12:a1/);
  assert.match(r.stdout, /Creating domain volumia \.\.\.\nRemoving what this run created \.\.\.\nRemoving domain volumia \.\.\.\nRemoving volume volumia-vol1@primary-vds0 \.\.\.\nRemoving volume volumia-vol0@primary-vds0 \.\.\.\nRemoving file \S+\/volumia\/disk1 \.\.\.\nRemoving file \S+\/volumia\/disk0 \.\.\.\n$/);
  assert.deepEqual(await state(), s0);

  r = await p2v(home, H, ['prepare', '-d', dir('volumia'), 'volumia']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(await home.ok(H, 'list-bindings', '-p', 'volumia'), /^VNET\|name=vnet1\|/m);
  // A second prepare from the same data directory is refused until -C.
  r = await p2v(home, H, ['prepare', '-d', dir('volumia'), 'volumia2']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /: holds domain volumia \(prepared on host p2vp\); run ldmp2v prepare -C volumia first\n$/);
  r = await p2v(home, H, ['prepare', '-C', 'volumia']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await state(), s0);
  await home.ok(H, 'remove-domain', 'other');
});

/** Waits until `ldmp2v` is writing a back end (its temporary file exists). */
async function whileWriting(dirName: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (fs.existsSync(dirName) && fs.readdirSync(dirName).some((n) => n.endsWith('.tmp'))) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  assert.fail('ldmp2v never started writing a back end');
}

test('killed mid-prepare: SIGTERM undoes at once; after SIGKILL the next run removes the leftovers', async () => {
  const small = manifestVariant(path.join(home.home, 'small'), smallDisks);
  let r = await p2v(home, H, ['collect', '-d', dir('small')], { LDMP2V_SOURCE: small });
  assert.equal(r.code, 0, r.stderr);
  // Non-sparse back ends are written out with zeros: slow enough to be caught in the act.
  writeConf(home, { ...conf, BACKEND_SPARSE: 'no' });
  const s0 = await state();
  const args = ['prepare', '-x', 'no-auto-adjust-fs', '-d', dir('small'), 'small'];

  let child = spawnP2v(home, H, args);
  let out = collectOutput(child);
  await whileWriting(path.join(backends, 'small'));
  child.kill('SIGTERM');
  r = await out;
  assert.equal(r.code, 130, r.stderr);
  assert.equal(r.stderr, 'ldmp2v: SIGTERM received; stopping after the current step\nldmp2v: interrupted; what this run created was removed\n');
  assert.match(r.stdout, /Interrupted; removing what this run created \.\.\.\nRemoving file \S+\/small\/disk0 \.\.\.\n$/);
  assert.deepEqual(await state(), s0);

  child = spawnP2v(home, H, args);
  out = collectOutput(child);
  await whileWriting(path.join(backends, 'small'));
  child.kill('SIGKILL');
  await out;
  assert.notDeepEqual(await state(), s0, 'a killed run leaves things behind');
  assert.match(fs.readFileSync(path.join(dir('small'), 'ldmp2v.ledger'), 'utf8'), /"status": "preparing"/);
  const conv = await p2v(home, H, ['convert', '-i', '/nonexistent.iso', '-d', dir('small'), 'small']);
  assert.equal(conv.code, 1);
  assert.equal(conv.stderr, 'ldmp2v: the preparation of small did not finish; run ldmp2v prepare again (it removes what the unfinished run left)\n');

  // The re-run (sparse this time, with -s) first removes what the killed one left.
  r = await p2v(home, H, ['prepare', '-s', ...args.slice(1)]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Removing what an unfinished ldmp2v prepare of small left behind \.\.\.\nResizing file systems \.\.\.\n/);
  assert.deepEqual(fs.readdirSync(path.join(backends, 'small')).sort(), ['disk0', 'disk1'], 'no temporary file left');
  r = await p2v(home, H, ['prepare', '-C', 'small']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await state(), s0);
  writeConf(home, conf);
});
