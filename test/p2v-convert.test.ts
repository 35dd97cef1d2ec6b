// ldmp2v convert: the install media are checked before anything changes (missing, not ISO 9660,
// x86, not Solaris 10; network image, JumpStart rules and profile); a domain that cannot be bound
// goes back to prepared; BOOT_TIMEOUT ends the wait with an error and a re-run finishes the job;
// a network install with Custom JumpStart converts a domain too.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { readImage } from '../src/guest/image.js';
import { writeInstallIso } from '../src/p2v/media.js';
import { TestHome } from './helpers/hosts.js';
import { manifestVariant, p2v, smallDisks, VOLUMIA, writeConf } from './helpers/p2v.js';

// The images boot in 20 modelled seconds: 3 s here, so a 1 s BOOT_TIMEOUT runs out.
process.env.LDOMS_BOOT_SCALE = '0.15';

const home = new TestHome('ldmp2v-conv-');
const H = 'p2vc';
const backends = path.join(home.home, 'ldoms');
const conf = { BACKEND_TYPE: 'file', BACKEND_SPARSE: 'yes', BACKEND_PREFIX: backends, BOOT_TIMEOUT: 30 };
const dir = (n: string) => path.join(home.home, 'p2v', n);
const iso = (n: string) => path.join(home.home, n);
const ledger = (d: string) => JSON.parse(fs.readFileSync(path.join(d, 'ldmp2v.ledger'), 'utf8'));

before(async () => {
  await home.startHost(H);
  await home.setupControlDomain(H);
  fs.mkdirSync(backends);
  writeConf(home, conf);
  let r = await p2v(home, H, ['collect', '-d', dir('volumia')], { LDMP2V_SOURCE: VOLUMIA });
  assert.equal(r.code, 0, r.stderr);
  r = await p2v(home, H, ['prepare', '-d', dir('volumia'), 'volumia']);
  assert.equal(r.code, 0, r.stderr);
  writeInstallIso(iso('s10u9.iso'), 'Solaris 10 9/10');
  writeInstallIso(iso('s10u8.iso'), 'Solaris 10 10/09');
});
after(() => home.cleanup());

/** A network install image as setup_install_server leaves it, with a JumpStart directory. */
function installServer(where: string, release: string, profile: string): string {
  const etc = path.join(where, 'Solaris_10', 'Product', 'SUNWsolnm', 'reloc', 'etc');
  fs.mkdirSync(etc, { recursive: true });
  fs.mkdirSync(path.join(where, 'Solaris_10', 'Tools', 'Boot'), { recursive: true });
  fs.mkdirSync(path.join(where, 'jumpstart'), { recursive: true });
  fs.writeFileSync(path.join(where, '.cdtoc'), 'PRODNAME=Solaris\nPRODVERS=10\nPRODDIR=Solaris_10/Product\n');
  fs.writeFileSync(path.join(etc, 'release'), release);
  fs.writeFileSync(path.join(where, 'jumpstart', 'rules.ok'), '# version=2 checksum=num\nany - - p2v.profile -\n');
  fs.writeFileSync(path.join(where, 'jumpstart', 'p2v.profile'), profile);
  return where;
}

test('bad media and bad arguments: refused before anything changes', async () => {
  const d = dir('volumia');
  const disk0 = path.join(backends, 'volumia', 'disk0');
  const headerOf = (f: string) => {
    const b = Buffer.alloc(8192);
    const fd = fs.openSync(f, 'r');
    fs.readSync(fd, b, 0, b.length, 0);
    fs.closeSync(fd);
    return b;
  };
  const header = headerOf(disk0);
  const constraints = await home.ok(H, 'list-constraints', 'volumia');
  const fail = async (args: string[], env: Record<string, string>, code: number, stderr: RegExp) => {
    const r = await p2v(home, H, ['convert', ...args], env);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, stderr, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
  };
  await fail(['-i', iso('nosuch.iso'), '-d', d, 'volumia'], {}, 1, /^ldmp2v: \S+\/nosuch\.iso: no such install image\n$/);
  await fail(['-i', home.home, '-d', d, 'volumia'], {}, 1, /: is a directory, not an ISO image\n$/);
  fs.writeFileSync(iso('notes.txt'), 'not a DVD\n');
  await fail(['-i', iso('notes.txt'), '-d', d, 'volumia'], {}, 1, /notes\.txt: not an ISO 9660 image \(too short\)\n$/);
  const x86 = Buffer.from(fs.readFileSync(iso('s10u9.iso')));
  x86.write('SOL_10_910_X86'.padEnd(32), 16 * 2048 + 40, 'latin1');
  fs.writeFileSync(iso('x86.iso'), x86);
  await fail(['-i', iso('x86.iso'), '-d', d, 'volumia'], {}, 1, /x86\.iso: volume SOL_10_910_X86 is an x86 DVD; a SPARC one is needed\n$/);
  x86.write('OPENSOLARIS_2009_06'.padEnd(32), 16 * 2048 + 40, 'latin1');
  fs.writeFileSync(iso('other.iso'), x86);
  await fail(['-i', iso('other.iso'), '-d', d, 'volumia'], {}, 1, /other\.iso: volume 'OPENSOLARIS_2009_06' is not a Solaris 10 SPARC DVD \(expected a volume ID like SOL_10_910_SPARC\)\n$/);

  await fail(['-n', 'vnet0', '-d', d, 'volumia'], {}, 1, /^ldmp2v: no install server answers on the network: set LDMP2V_INSTALL_SERVER to the network install image directory \(docs\/ldmp2v\.md\)\n$/);
  const server = path.join(home.home, 'install');
  fs.mkdirSync(path.join(server, 'Solaris_10', 'Tools', 'Boot'), { recursive: true });
  await fail(['-n', 'vnet0', '-d', d, 'volumia'], { LDMP2V_INSTALL_SERVER: server }, 1, /install: not a Solaris install image \(no \.cdtoc\)\n$/);
  installServer(server, '                   Oracle Solaris 10 9/10 s10s_u9wos_14a SPARC\n', 'install_type upgrade\n');
  fs.rmSync(path.join(server, 'jumpstart'), { recursive: true });
  await fail(['-n', 'vnet7', '-d', d, 'volumia'], { LDMP2V_INSTALL_SERVER: server }, 1, /^ldmp2v: -n vnet7: volumia has no such virtual network \(it has vnet0, vnet1\)\n$/);
  await fail(['-j', '-n', 'vnet0', '-d', d, 'volumia'], { LDMP2V_INSTALL_SERVER: server }, 1, /jumpstart\/rules\.ok: missing: -j needs a checked Custom JumpStart configuration/);
  installServer(server, '                   Oracle Solaris 10 9/10 s10s_u9wos_14a SPARC\n', 'install_type initial_install\n');
  await fail(['-j', '-n', 'vnet0', '-d', d, 'volumia'], { LDMP2V_INSTALL_SERVER: server }, 1, /p2v\.profile: install_type is initial_install; ldmp2v converts by an upgrade \(install_type upgrade\)\n$/);

  await fail(['-i', iso('s10u9.iso'), '-n', 'vnet0', '-d', d, 'volumia'], {}, 2, /^ldmp2v: -i and -n cannot be used together\n/);
  await fail(['-j', '-i', iso('s10u9.iso'), '-d', d, 'volumia'], {}, 2, /^ldmp2v: -j needs -n interface/);
  await fail(['-d', d, 'volumia'], {}, 2, /^ldmp2v: give the install media: -i install-image or -n interface\n/);
  await fail(['-i', iso('s10u9.iso'), '-d', d, 'other'], {}, 1, /: was used to prepare domain volumia, not other\n$/);
  await fail(['-i', iso('s10u9.iso'), '-d', dir('nothing'), 'volumia'], {}, 1, /nothing: no such data directory\n$/);

  assert.ok(headerOf(disk0).equals(header), 'the boot disk is untouched');
  assert.equal(await home.ok(H, 'list-constraints', 'volumia'), constraints);
  assert.match(await home.ok(H, 'list-domain', '-p', 'volumia'), /state=inactive/);
  assert.equal(ledger(dir('volumia')).status, 'prepared');
});

test('a domain that cannot be bound stays prepared; BOOT_TIMEOUT ends the wait and a re-run finishes', async () => {
  const d = dir('volumia');
  const disk0 = path.join(backends, 'volumia', 'disk0');
  // Another domain takes all but two of the free CPUs.
  await home.ok(H, 'add-domain', 'hog');
  await home.ok(H, 'add-vcpu', '118', 'hog');
  await home.ok(H, 'add-memory', '1G', 'hog');
  await home.ok(H, 'bind-domain', 'hog');
  let r = await p2v(home, H, ['convert', '-i', iso('s10u9.iso'), '-d', d, 'volumia']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^ldmp2v: cannot bind volumia:\n.+/);
  assert.match(await home.ok(H, 'list-domain', '-p', 'volumia'), /state=inactive/);
  assert.equal(ledger(d).status, 'prepared');
  const still = readImage(disk0);
  assert.ok(still.ok && still.image.release === 'Solaris 9 9/05', 'not upgraded');
  await home.ok(H, 'unbind-domain', 'hog');
  await home.ok(H, 'remove-domain', 'hog');

  writeConf(home, { ...conf, BOOT_TIMEOUT: 1 });
  r = await p2v(home, H, ['convert', '-i', iso('s10u8.iso'), '-d', d, 'volumia']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^ldmp2v: Solaris did not come up on volumia within 1 second \(BOOT_TIMEOUT\); look at its console \(telnet 127\.0\.0\.\d+ 50\d\d\), then run ldmp2v convert again to keep waiting\n$/);
  assert.match(r.stdout, /Upgrading Solaris 9 9\/05 \(sun4u\) to Solaris 10 10\/09 \(sun4v\) \.\.\.\nUpgrade complete\.\nLDom volumia started\nWaiting for Solaris to come up \.\.\.\n$/);
  assert.equal(ledger(d).status, 'converting');
  writeConf(home, conf);
  r = await p2v(home, H, ['convert', '-i', iso('s10u9.iso'), '-d', d, 'volumia']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'ldmp2v: volumia was already upgraded to Solaris 10 10/09; give the same media to finish, not Solaris 10 9/10\n');
  r = await p2v(home, H, ['convert', '-i', iso('s10u8.iso'), '-d', d, 'volumia']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Waiting for Solaris to come up \.\.\.\nDomain volumia is running Solaris 10 10\/09 \(sun4v\); its console: telnet /);
  assert.match(await home.ok(H, 'list-domain', '-o', 'domain', 'volumia'), /Solaris running/);
  assert.equal(ledger(d).status, 'converted');
  r = await p2v(home, H, ['prepare', '-C', 'volumia']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Cleaning up domain volumia \.\.\.\n/);
  assert.equal((await home.ldm(H, 'list-domain', 'volumia')).code, 1, 'gone');
});

test('convert -j -n: Custom JumpStart from the network install server; an older release is refused', async () => {
  const src = manifestVariant(path.join(home.home, 'sun4v'), (m) => {
    smallDisks(m);
    m.hostname = 'webfarm1';
    m.release = 'Solaris 10 10/09';
    m.platform = { name: 'SUNW,Sun-Fire-T200', arch: 'sun4v' };
  });
  let r = await p2v(home, H, ['collect', '-d', dir('web')], { LDMP2V_SOURCE: src });
  assert.equal(r.code, 0, r.stderr);
  r = await p2v(home, H, ['prepare', '-c', '8', '-M', '2G', '-d', dir('web'), 'web']);
  assert.equal(r.code, 0, r.stderr);
  const profile = 'install_type upgrade\nroot_device c0d0s0\n';

  let server = installServer(path.join(home.home, 'install-u5'), '                        Solaris 10 5/08 s10s_u5wos_10 SPARC\n', profile);
  r = await p2v(home, H, ['convert', '-j', '-n', 'vnet0', '-d', dir('web'), 'web'], { LDMP2V_INSTALL_SERVER: server });
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'ldmp2v: cannot upgrade Solaris 10 10/09 to the older Solaris 10 5/08\n');

  server = installServer(path.join(home.home, 'install-u9'), '                   Oracle Solaris 10 9/10 s10s_u9wos_14a SPARC\n', profile);
  r = await p2v(home, H, ['convert', '-j', '-n', 'vnet0', '-d', dir('web'), 'web'], { LDMP2V_INSTALL_SERVER: server });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n').slice(0, 5), [
    'LDom web started',
    'Booting web from the install server (vnet0) ...',
    'Using Custom JumpStart (p2v.profile)',
    'Upgrading Solaris 10 10/09 (sun4v) to Solaris 10 9/10 (sun4v) ...',
    'Upgrade complete.',
  ]);
  const img = readImage(path.join(backends, 'web', 'disk0'));
  assert.ok(img.ok);
  assert.equal(img.image.release, 'Solaris 10 9/10');
  assert.equal(img.image.hostname, 'webfarm1');
  assert.match(await home.ok(H, 'list-domain', '-p', 'web'), /state=active\|flags=-n----\|cons=\d+\|ncpu=8\|mem=2147483648/);
  r = await p2v(home, H, ['prepare', '-C', 'web']);
  assert.equal(r.code, 0, r.stderr);
});
