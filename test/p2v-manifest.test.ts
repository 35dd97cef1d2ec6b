import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { G, M } from '../src/format/units.js';
import { archiveName, collect, CollectError, parseArchiveMethod } from '../src/p2v/collect.js';
import {
  autoResize, backendName, ConfigError, DEFAULT_CONFIG, parseBackendSpec, parseConfig, resizedFsSize,
  tempVdiskName, vdiskName, volumeName,
} from '../src/p2v/config.js';
import { loadManifest, ManifestError, p2vRefusals, validateManifest, type PhysicalManifest } from '../src/p2v/manifest.js';

// dist/test/x.js → the source tree's test/fixtures/p2v
const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/p2v');
const EXAMPLE = path.join(FIXTURES, 'volumia.json');
const raw = (): any => JSON.parse(fs.readFileSync(EXAMPLE, 'utf8'));
const made: string[] = [];
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'p2v-'));
  made.push(d);
  return d;
};
after(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** Names and bodies of a ustar archive, to check what collect wrote. */
function untar(buf: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  for (let off = 0; off + 512 <= buf.length; ) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const str = (o: number, l: number) => h.subarray(o, o + l).toString('utf8').replace(/\0.*$/s, '');
    assert.equal(str(257, 5), 'ustar');
    let sum = 0;
    h.forEach((b, i) => (sum += i >= 148 && i < 156 ? 32 : b));
    assert.equal(parseInt(str(148, 8), 8), sum, 'header checksum');
    const prefix = str(345, 155);
    const name = (prefix ? `${prefix}/` : '') + str(0, 100);
    const size = parseInt(str(124, 12), 8);
    out.set(name, buf.subarray(off + 512, off + 512 + size).toString('utf8'));
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

test('the example manifest: Solaris 9 sun4u, two disks, SVM-mirrored root, two NICs', () => {
  const m = loadManifest(EXAMPLE);
  assert.equal(m.hostname, 'volumia');
  assert.equal(m.platform.arch, 'sun4u');
  assert.equal(m.release, 'Solaris 9 9/05');
  assert.deepEqual(m.disks.map((d) => d.name), ['c1t0d0', 'c1t1d0']);
  assert.deepEqual(m.svm?.mirrors[0].submirrors.map((s) => s.slice), ['c1t0d0s0', 'c1t1d0s0']);
  assert.equal(m.interfaces.length, 2);
  assert.equal(m.fileSystems[0].contents, path.join(FIXTURES, 'volumia-root'), 'contents resolved against the manifest');
  assert.deepEqual(p2vRefusals(m), []);
});

const bad: [string, (d: any) => void, RegExp][] = [
  ['hostname', (d) => delete d.hostname, /volumia\.json: hostname: missing/],
  ['hostid', (d) => (d.hostid = 'xyz'), /: hostid: 'xyz' is not eight hex digits/],
  ['platform.arch', (d) => (d.platform.arch = 'sun4m'), /: platform\.arch: 'sun4m' is not one of sun4u, sun4v/],
  ['release', (d) => (d.release = 'SunOS 5.9'), /: release: /],
  ['cpus', (d) => (d.cpus = 0), /: cpus: expected a positive integer/],
  ['memory', (d) => (d.memory = 'lots'), /: memory: 'lots' is not a size/],
  ['disk name', (d) => (d.disks[1].name = 'sd1'), /: disks\[1\]\.name: 'sd1' is not a disk name/],
  ['slice number', (d) => (d.disks[0].slices[3].number = 8), /: disks\[0\]\.slices\[3\]\.number: expected a slice number 0\.\.7/],
  ['duplicate slice', (d) => (d.disks[0].slices[1].number = 0), /: disks\[0\]\.slices\[1\]\.number: slice 0 listed twice/],
  ['slice tag', (d) => (d.disks[0].slices[0].tag = 'boot-ish'), /: disks\[0\]\.slices\[0\]\.tag: 'boot-ish' is not one of/],
  ['slice too big', (d) => (d.disks[0].slices[0].size = '40G'), /: disks\[0\]\.slices\[0\]\.size: 40G is larger than the disk/],
  ['submirror slice', (d) => (d.svm.mirrors[0].submirrors[1].slice = 'c1t1d0s4'), /: svm\.mirrors\[0\]\.submirrors\[1\]\.slice: 'c1t1d0s4'/],
  ['unknown metadevice', (d) => (d.fileSystems[0].device = '/dev/md/dsk/d20'), /: fileSystems\[0\]\.device: .*d20 not in svm\.mirrors/],
  ['missing slice', (d) => (d.fileSystems[2].device = '/dev/dsk/c1t1d0s6'), /: fileSystems\[2\]\.device: .*no such slice/],
  ['fs type', (d) => (d.fileSystems[2].type = 'vxfs'), /: fileSystems\[2\]\.type: 'vxfs' is not one of ufs, zfs, swap/],
  ['used > size', (d) => (d.fileSystems[0].used = '7G'), /: fileSystems\[0\]\.used: 7G is more than the size 6G/],
  ['no root', (d) => (d.fileSystems[0].mountPoint = '/old'), /: fileSystems: no file system is mounted on '\/'/],
  ['vfstab', (d) => delete d.vfstab, /: vfstab: expected the text/],
  ['mac', (d) => (d.interfaces[1].mac = '0:3:ba:4e:12'), /: interfaces\[1\]\.mac: /],
  ['ip', (d) => (d.interfaces[0].ip = '192.168.10.300'), /: interfaces\[0\]\.ip: '192\.168\.10\.300' is not a dotted IPv4 address/],
  ['vxvm without section', (d) => (d.fileSystems[2].device = '/dev/vx/dsk/datadg/vol01'), /: fileSystems\[2\]\.device: .*no vxvm section/],
];
for (const [what, mutate, expected] of bad) {
  test(`manifest validation: ${what}`, () => {
    const d = raw();
    mutate(d);
    assert.throws(() => validateManifest(d, EXAMPLE), (e: unknown) => e instanceof ManifestError && expected.test(e.message));
  });
}

test('loadManifest names the file for unreadable or non-JSON input', () => {
  const dir = tmp();
  const f = path.join(dir, 'm.json');
  fs.writeFileSync(f, '{ nope');
  assert.throws(() => loadManifest(f), /m\.json: not valid JSON/);
  assert.throws(() => loadManifest(path.join(dir, 'absent.json')), /absent\.json: cannot read manifest: ENOENT/);
});

function variant(mutate: (d: any) => void): PhysicalManifest {
  const d = raw();
  mutate(d);
  const m = validateManifest(d, EXAMPLE);
  // as loadManifest does: contents are relative to the manifest
  for (const f of m.fileSystems) if (f.contents) f.contents = path.resolve(FIXTURES, f.contents);
  return m;
}

test('a ZFS root is refused with a clear message', () => {
  const m = variant((d) => {
    d.release = 'Solaris 10 10/08';
    d.fileSystems[0] = { device: 'rpool/ROOT/s10', mountPoint: '/', type: 'zfs', size: '6G' };
  });
  assert.deepEqual(p2vRefusals(m), ['volumia: the root file system is ZFS; ldmp2v converts only systems with a UFS root']);
  assert.throws(() => collect(m, { dir: path.join(tmp(), 'd'), exclude: [] }), /root file system is ZFS/);
});

test('other limitations: release, sun4v before Solaris 10, LDoms sources, ZFS data, zones', () => {
  assert.match(p2vRefusals(variant((d) => (d.release = 'Solaris 11 11/11'))).join(), /Solaris 11 11\/11 is not supported/);
  assert.match(p2vRefusals(variant((d) => (d.release = 'Solaris 7'))).join(), /must run Solaris 8, 9 or 10/);
  assert.match(p2vRefusals(variant((d) => (d.platform.arch = 'sun4v'))).join(), /a sun4v source must run Solaris 10/);
  assert.match(
    p2vRefusals(variant((d) => Object.assign(d, { release: 'Solaris 10 5/09', logicalDomains: true, platform: { name: 'SUNW,T5140', arch: 'sun4v' } }))).join(),
    /must not be running Logical Domains/,
  );
  assert.deepEqual(p2vRefusals(variant((d) => Object.assign(d, { release: 'Solaris 10 5/09', platform: { name: 'SUNW,T5140', arch: 'sun4v' } }))), []);
  assert.match(p2vRefusals(variant((d) => d.fileSystems.push({ device: 'tank/data', mountPoint: '/data', type: 'zfs', size: '1G' }))).join(), /\/data is a ZFS file system/);
  assert.match(p2vRefusals(variant((d) => Object.assign(d, { release: 'Solaris 10 10/08', zones: ['web1'] }))).join(), /non-global zones \(web1\)/);
});

test('collect -a flash: system description, vfstab copy, one ustar per UFS file system', () => {
  const m = loadManifest(EXAMPLE);
  const dir = path.join(tmp(), 'volumia');
  const r = collect(m, { dir, archive: 'flash', exclude: [] });
  assert.deepEqual(r.fileSystems.map((f) => [f.mountPoint, f.archive, f.empty]), [['/', 'root.tar', false], ['/export/home', 'export-home.tar', false]]);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['archive', 'system.json', 'vfstab']);
  assert.equal(fs.readFileSync(path.join(dir, 'vfstab'), 'utf8'), m.vfstab);
  const sys = JSON.parse(fs.readFileSync(path.join(dir, 'system.json'), 'utf8'));
  assert.equal(sys.source.hostname, 'volumia');
  assert.equal(sys.collected.archive, 'flash');
  const root = untar(fs.readFileSync(path.join(dir, 'archive', 'root.tar')));
  assert.deepEqual([...root.keys()], ['etc/', 'etc/nodename']);
  assert.equal(root.get('etc/nodename'), 'volumia\n');
  const home = untar(fs.readFileSync(path.join(dir, 'archive', 'export-home.tar')));
  assert.equal(home.get('dana/notes.txt'), 'notes\n');
  assert.equal(r.lines.at(-1), 'Archive creation complete.');
});

test('collect: no contents gives an empty archive, noted as such; long paths use the ustar prefix', () => {
  const src = tmp();
  const deep = path.join(src, 'a'.repeat(60), 'b'.repeat(60));
  fs.mkdirSync(deep, { recursive: true });
  fs.writeFileSync(path.join(deep, 'f'), 'x');
  const m = variant((d) => {
    delete d.fileSystems[0].contents;
    d.fileSystems[2].contents = src;
  });
  const dir = path.join(tmp(), 'd');
  const r = collect(m, { dir, exclude: [] });
  assert.equal(r.archive, 'flash', 'flash is the default');
  assert.equal(r.fileSystems[0].empty, true);
  const empty = fs.readFileSync(path.join(dir, 'archive', 'root.tar'));
  assert.equal(empty.length, 1024);
  assert.equal(untar(empty).size, 0);
  const home = untar(fs.readFileSync(path.join(dir, 'archive', 'export-home.tar')));
  assert.equal(home.get(`${'a'.repeat(60)}/${'b'.repeat(60)}/f`), 'x');
});

test('collect -a none lists what to archive by hand; -x excludes mount points', () => {
  const m = loadManifest(EXAMPLE);
  const dir = path.join(tmp(), 'd');
  const r = collect(m, { dir, archive: 'none', exclude: ['/export/home'] });
  assert.deepEqual(r.manual, ['/']);
  assert.deepEqual(r.excluded, ['/export/home']);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['manual-archive.txt', 'system.json', 'vfstab']);
  assert.equal(fs.readFileSync(path.join(dir, 'manual-archive.txt'), 'utf8'), '/\n');
  assert.equal(r.lines.at(-1), 'The following file system(s) must be archived manually: /');

  const dir2 = path.join(tmp(), 'd');
  const r2 = collect(m, { dir: dir2, archive: 'flash', exclude: ['/export/home'] });
  assert.deepEqual(r2.fileSystems.map((f) => f.mountPoint), ['/']);
  assert.deepEqual(fs.readdirSync(path.join(dir2, 'archive')), ['root.tar']);
});

test('collect errors: bad exclusions, missing contents, non-empty data dir, ufsdump', () => {
  const m = loadManifest(EXAMPLE);
  const fresh = () => path.join(tmp(), 'd');
  assert.throws(() => collect(m, { dir: fresh(), exclude: ['/'] }), /-x \/: the root file system cannot be excluded/);
  assert.throws(() => collect(m, { dir: fresh(), exclude: ['/opt'] }), /-x \/opt: not a mounted UFS file system of volumia/);
  const gone = variant((d) => (d.fileSystems[2].contents = '/nonexistent/p2v-tree'));
  const dir = fresh();
  assert.throws(() => collect(gone, { dir, exclude: [] }), (e: unknown) => e instanceof CollectError && /\/export\/home: contents \/nonexistent\/p2v-tree do not exist/.test(e.message));
  assert.equal(fs.existsSync(dir), false, 'nothing written on failure');
  assert.doesNotThrow(() => collect(gone, { dir: fresh(), exclude: ['/export/home'] }), 'an excluded file system is not read');
  const full = tmp();
  fs.writeFileSync(path.join(full, 'old'), '');
  assert.throws(() => collect(m, { dir: full, exclude: [] }), /data directory is not empty/);
  assert.throws(() => parseArchiveMethod('ufsdump'), /use -a flash or -a none/);
  assert.equal(parseArchiveMethod('none'), 'none');
  assert.equal(archiveName('/var/spool/mail'), 'var-spool-mail.tar');
});

test('ldmp2v.conf parsing: keys, quotes, comments, defaults, the files alias, errors', () => {
  const { config, unknown } = parseConfig(
    '# P2V\nVDS="svc-vds1"\nVSW=\'svc-vsw1\'\nVCC=primary-vcc0 # inline\nBACKEND_TYPE="files"\nBACKEND_SPARSE="yes"\nBACKEND_PREFIX="/ldoms/p2v/"\nBOOT_TIMEOUT=120\nEXTRA=1\n',
  );
  assert.deepEqual(config, { vds: 'svc-vds1', vsw: 'svc-vsw1', vcc: 'primary-vcc0', backendType: 'file', backendSparse: true, backendPrefix: 'ldoms/p2v', bootTimeout: 120 });
  assert.deepEqual(unknown, ['EXTRA']);
  assert.deepEqual(parseConfig('').config, DEFAULT_CONFIG);
  assert.throws(() => parseConfig('BACKEND_TYPE="lofi"\n', 'c.conf'), (e: unknown) => e instanceof ConfigError && e.message === "c.conf:1: BACKEND_TYPE must be zvol, file or disk, not 'lofi'");
  assert.throws(() => parseConfig('\nBACKEND_SPARSE=maybe'), /:2: BACKEND_SPARSE must be yes or no/);
  assert.throws(() => parseConfig('BOOT_TIMEOUT=1m'), /BOOT_TIMEOUT must be a positive number of seconds/);
  assert.throws(() => parseConfig('VDS "x"'), /expected KEY=value/);
  assert.throws(() => parseConfig('VDS="x'), /unterminated quote/);
});

test('back-end naming defaults', () => {
  const zvol = { ...DEFAULT_CONFIG };
  assert.equal(backendName(zvol, 'volumia', 0), 'tank/ldoms/volumia/disk0');
  assert.equal(backendName({ ...zvol, backendType: 'file' }, 'volumia', 1), '/tank/ldoms/volumia/disk1');
  assert.equal(backendName({ ...zvol, backendType: 'disk' }, 'volumia', 0), null);
  assert.equal(volumeName('volumia', 1), 'volumia-vol1');
  assert.equal(vdiskName(0), 'disk0');
  assert.equal(tempVdiskName('volumia', 0), 'volumia-disk0');
  assert.deepEqual(parseBackendSpec('::vdisk001'), { vdisk: 'vdisk001' });
  assert.deepEqual(parseBackendSpec('/ldoms/ldom1/vol001:vol001'), { backend: '/ldoms/ldom1/vol001', volume: 'vol001' });
  assert.throws(() => parseBackendSpec('a:b:c:d'), /expected backend:volume:vdisk/);
});

test('auto-resize: /, /usr, /var under 10 GB together grow to 10 GB in proportion', () => {
  assert.equal(resizedFsSize(3 * G, 6 * G), 10 * G, 'root-only source');
  assert.equal(resizedFsSize(3 * G, 12 * G), 12 * G, 'already 10 GB or more');
  assert.equal(resizedFsSize(1 * G, 2 * G, 4 * G), 5 * G);
  assert.equal(resizedFsSize(0, 1 * G, 3 * G), Math.ceil(10 * 1024 / 3) * M, 'rounded up to a megabyte');
  const out = autoResize([
    { mountPoint: '/', size: 2 * G, used: G },
    { mountPoint: '/usr', size: 2 * G, used: G },
    { mountPoint: '/var', size: 1 * G, used: G },
    { mountPoint: '/export/home', size: 20 * G, used: G },
  ]);
  assert.deepEqual(out.map((f) => f.size), [4 * G, 4 * G, 2 * G, 20 * G]);
});
