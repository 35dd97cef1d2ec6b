// OS images (docs/images.md): the header format and its validation, sparse creation, the release
// table, the DR capabilities the seed and ldm-cli.md §2.4 give each release, storage identity, and
// `ldoms image` through imageCommand.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { G, M } from '../src/format/units.js';
import { imageCommand } from '../src/guest/image-cli.js';
import {
  capabilities,
  compareReleases,
  createImage,
  defaultImage,
  IMAGE_HEADER_SIZE,
  IMAGE_MAGIC,
  ImageError,
  imageProblem,
  KNOWN_RELEASES,
  migrationCompatible,
  parseRelease,
  readImage,
  RELEASE_TABLE,
  storageIdentity,
} from '../src/guest/image.js';
import type { OsImage } from '../src/guest/types.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ldoms-image-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let seq = 0;
const fresh = (name = 'disk') => path.join(dir, `${name}-${++seq}.img`);

/** A file whose first bytes are `text`, padded with `\n` to the header size (or not, if `pad` is false). */
function rawHeader(text: string, pad = true, size = 64 * M): string {
  const file = fresh('raw');
  const bytes = Buffer.from(text, 'utf8');
  const buf = pad ? Buffer.alloc(IMAGE_HEADER_SIZE, '\n') : Buffer.alloc(bytes.length);
  bytes.copy(buf);
  fs.writeFileSync(file, buf);
  if (pad) fs.truncateSync(file, size);
  return file;
}

const valid = (): OsImage => defaultImage({ release: 'Solaris 10 10/09', imageId: '1b4e28ba-2fa1-11d2-883f-0016d3cca427' });

describe('create and read', () => {
  test('round trip keeps every field', () => {
    const file = fresh();
    const image = defaultImage({
      release: 's10u9',
      patches: ['142245-02', '141444-09'],
      drd: false,
      bootSeconds: 0.5,
      hostname: 'ldg1.example.com',
      workload: { workingSet: 512 * M, dirtyRate: 16 * M },
      interfaces: [{ name: 'vnet0', ip: '192.168.1.10' }, { name: 'vnet1', ip: 'fe80::1/64' }],
      kernel: 'Generic_142909-17',
    });
    createImage(file, image, 64 * M);
    assert.deepEqual(readImage(file), { ok: true, image });
    const st = fs.statSync(file);
    assert.equal(st.size, 64 * M);
    assert.equal(st.mode & 0o777, 0o644);
  });

  test('layout: magic line, JSON, newline padding to 8192 bytes', () => {
    const file = fresh();
    const image = valid();
    createImage(file, image, 64 * M);
    const head = Buffer.alloc(IMAGE_HEADER_SIZE + 16);
    const fd = fs.openSync(file, 'r');
    fs.readSync(fd, head, 0, head.length, 0);
    fs.closeSync(fd);
    assert.equal(IMAGE_HEADER_SIZE, 8192);
    const text = head.subarray(0, IMAGE_HEADER_SIZE).toString('utf8');
    assert.ok(text.startsWith('LDOMS-OS-IMAGE 1\n'));
    const json = text.slice(IMAGE_MAGIC.length).replace(/\n+$/, '');
    assert.deepEqual(JSON.parse(json), image);
    assert.match(text.slice(IMAGE_MAGIC.length + json.length), /^\n+$/);
    // The disk after the header is untouched (sparse zeros).
    assert.ok(head.subarray(IMAGE_HEADER_SIZE).every((b) => b === 0));
  });

  test('a 20G image is sparse', () => {
    const file = fresh();
    createImage(file, valid(), 20 * G);
    const st = fs.statSync(file);
    assert.equal(st.size, 20 * G);
    assert.ok(st.blocks * 512 <= 1 * M, `allocated ${st.blocks * 512} bytes`);
  });

  test('refuses to overwrite without force; force replaces', () => {
    const file = fresh();
    createImage(file, valid(), 64 * M);
    const other = defaultImage({ release: 's11.4' });
    assert.throws(() => createImage(file, other, 64 * M), (e: unknown) => e instanceof ImageError && /already exists/.test(e.message));
    assert.equal((readImage(file) as { image: OsImage }).image.release, 'Solaris 10 10/09');
    createImage(file, other, 128 * M, { force: true });
    assert.deepEqual(readImage(file), { ok: true, image: other });
    assert.equal(fs.statSync(file).size, 128 * M);
    // No temporary files left behind.
    assert.deepEqual(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp')), []);
  });

  test('refuses bad sizes, invalid images and unwritable places, leaving nothing', () => {
    const file = fresh();
    for (const size of [64 * M - 512, 0, -1, 64 * M + 1, 1.5 * G + 0.5, Number.NaN]) {
      assert.throws(() => createImage(file, valid(), size), ImageError, `size ${size}`);
    }
    assert.throws(() => createImage(file, { ...valid(), release: 'Solaris 9' }, 64 * M), /invalid image: unknown release/);
    assert.throws(() => createImage(path.join(dir, 'nosuchdir', 'x.img'), valid(), 64 * M), /cannot create .*no such file or directory/);
    const tooBig = { ...valid(), patches: Array.from({ length: 1000 }, (_, i) => `${String(100000 + i)}-01`) };
    assert.throws(() => createImage(file, tooBig, 64 * M), /too large/);
    assert.equal(fs.existsSync(file), false);
  });
});

describe('readImage failures', () => {
  test('missing', () => {
    const r = readImage(path.join(dir, 'nosuch.img'));
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.reason, 'missing');
    assert.equal(readImage(path.join(dir, 'nosuch', 'x.img')).ok === false && (readImage(path.join(dir, 'nosuch', 'x.img')) as { reason: string }).reason, 'missing');
  });

  test('unreadable: a directory', () => {
    const r = readImage(dir);
    assert.deepEqual(r.ok === false && [r.reason, /is a directory/.test(r.message)], ['unreadable', true]);
  });

  test('unreadable: no permission', { skip: process.getuid?.() === 0 ? 'root reads everything' : false }, () => {
    const file = fresh();
    createImage(file, valid(), 64 * M);
    fs.chmodSync(file, 0);
    const r = readImage(file);
    assert.equal(r.ok === false && r.reason, 'unreadable');
  });

  test('not-bootable: an empty disk, a short file, other data', () => {
    const empty = fresh();
    fs.writeFileSync(empty, '');
    const zeros = fresh();
    fs.writeFileSync(zeros, '');
    fs.truncateSync(zeros, 64 * M);
    const text = fresh();
    fs.writeFileSync(text, 'hello\n');
    const almost = rawHeader('LDOMS-OS-IMAGE1\n{}');
    for (const f of [empty, zeros, text, almost]) {
      const r = readImage(f);
      assert.equal(r.ok === false && r.reason, 'not-bootable', f);
      assert.ok(!r.ok && r.message.includes(f));
    }
  });

  test('corrupt: bad JSON, truncated header, other format version, trailing garbage', () => {
    const good = JSON.stringify(valid());
    const cases: [string, RegExp][] = [
      [rawHeader(IMAGE_MAGIC + '{"format":1,'), /not valid JSON/],
      [rawHeader(IMAGE_MAGIC + good + '\nxx'), /not valid JSON/],
      [rawHeader(IMAGE_MAGIC + good, false), /ends inside/],
      [rawHeader('LDOMS-OS-IMAGE 2\n' + good), /unsupported format version 2/],
      [rawHeader(IMAGE_MAGIC + '[1,2]'), /not a JSON object/],
      [rawHeader(IMAGE_MAGIC), /not valid JSON/],
    ];
    for (const [file, why] of cases) {
      const r = readImage(file);
      assert.equal(r.ok === false && r.reason, 'corrupt', String(why));
      assert.match(!r.ok ? r.message : '', why);
    }
    // A header followed by zeros instead of newline padding was overwritten.
    const file = fresh();
    createImage(file, valid(), 64 * M);
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.alloc(100), 0, 100, IMAGE_HEADER_SIZE - 100);
    fs.closeSync(fd);
    assert.equal((readImage(file) as { reason: string }).reason, 'corrupt');
  });

  test('corrupt: every field is validated', () => {
    const base = valid() as unknown as Record<string, unknown>;
    const bad: [string, unknown, RegExp][] = [
      ['format', 2, /unsupported format/],
      ['format', '1', /unsupported format/],
      ['imageId', '', /imageId/],
      ['imageId', 7, /imageId/],
      ['imageId', 'a b', /imageId/],
      ['release', 'Solaris 9 9/05', /unknown release/],
      ['release', 's10u8', /must be written "Solaris 10 10\/09"/],
      ['release', 10, /release must be a string/],
      ['kernel', '', /kernel/],
      ['kernel', 'Generic\n', /kernel/],
      ['kernel', 'x'.repeat(65), /kernel/],
      ['patches', '142245-01', /patches must be a list/],
      ['patches', ['142245-1'], /invalid patch ID/],
      ['patches', ['142245'], /invalid patch ID/],
      ['patches', [142245], /invalid patch ID/],
      ['patches', ['142245-01', '142245-01'], /twice/],
      ['drd', 'yes', /drd/],
      ['bootSeconds', -1, /bootSeconds/],
      ['bootSeconds', '20', /bootSeconds/],
      ['bootSeconds', 86401, /bootSeconds/],
      ['bootSeconds', null, /bootSeconds/],
      ['hostname', '', /hostname/],
      ['hostname', 'bad_name', /hostname/],
      ['hostname', '-x', /hostname/],
      ['hostname', 'a..b', /hostname/],
      ['workload', { workingSet: 1 }, /workload/],
      ['workload', { workingSet: 1, dirtyRate: -1 }, /dirtyRate/],
      ['workload', { workingSet: 1.5, dirtyRate: 1 }, /workingSet/],
      ['workload', { workingSet: 1, dirtyRate: 1, extra: 1 }, /workload/],
      ['interfaces', {}, /interfaces must be a list/],
      ['interfaces', [{ name: 'vnet0' }], /name, ip/],
      ['interfaces', [{ name: 'vnet', ip: '10.0.0.1' }], /interface name/],
      ['interfaces', [{ name: 'vnet0', ip: '10.0.0.300' }], /invalid address/],
      ['interfaces', [{ name: 'vnet0', ip: '10.0.0.1/33' }], /invalid address/],
      ['interfaces', [{ name: 'vnet0', ip: '10.0.0.1' }, { name: 'vnet0', ip: '10.0.0.2' }], /twice/],
    ];
    for (const [field, value, why] of bad) {
      const header = { ...base, [field]: value };
      assert.match(imageProblem(header) ?? 'accepted', why, `${field}=${JSON.stringify(value)}`);
      const r = readImage(rawHeader(IMAGE_MAGIC + JSON.stringify(header)));
      assert.equal(r.ok === false && r.reason, 'corrupt', `${field}=${JSON.stringify(value)}`);
    }
    const { hostname: _, ...missing } = base;
    assert.match(imageProblem(missing) ?? '', /missing field "hostname"/);
    assert.match(imageProblem({ ...base, colour: 'blue' }) ?? '', /unknown field "colour"/);
    assert.equal(imageProblem(base), null);
    assert.equal(imageProblem({ ...base, interfaces: [{ name: 'e1000g0', ip: '10.1.2.3/24' }, { name: 'net0', ip: '::1' }] }), null);
  });
});

describe('defaults', () => {
  test('defaultImage fills every field', () => {
    const a = defaultImage({ release: '10/08' });
    const b = defaultImage({ release: '10/08' });
    assert.deepEqual({ ...a, imageId: '' }, {
      format: 1,
      imageId: '',
      release: 'Solaris 10 10/08',
      kernel: 'Generic_137137-09',
      patches: [],
      drd: true,
      bootSeconds: 20,
      hostname: 'solaris',
      workload: { workingSet: 256 * M, dirtyRate: 4 * M },
      interfaces: [],
    });
    assert.match(a.imageId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(a.imageId, b.imageId);
    assert.equal(defaultImage({ release: 's11' }).kernel, '11.0');
    assert.throws(() => defaultImage({ release: 'Solaris 9' }), ImageError);
    assert.throws(() => defaultImage({ release: 's10u8', hostname: 'no_underscores' }), /hostname/);
  });

  test('every release has a kernel string of its family', () => {
    for (const r of RELEASE_TABLE) {
      assert.match(r.kernel, r.family === 10 ? /^Generic(_\d{6}-\d{2})?$/ : /^11\.\d/, r.name);
      assert.equal(parseRelease(r.short), r.name);
      assert.equal(parseRelease(r.name), r.name);
    }
  });
});

describe('releases', () => {
  test('the known list, in order', () => {
    assert.deepEqual(KNOWN_RELEASES, [
      'Solaris 10 3/05', 'Solaris 10 1/06', 'Solaris 10 6/06', 'Solaris 10 11/06', 'Solaris 10 8/07',
      'Solaris 10 5/08', 'Solaris 10 10/08', 'Solaris 10 5/09', 'Solaris 10 10/09', 'Solaris 10 9/10',
      'Solaris 10 8/11', 'Solaris 10 1/13', 'Oracle Solaris 11 11/11', 'Oracle Solaris 11.1',
      'Oracle Solaris 11.2', 'Oracle Solaris 11.3', 'Oracle Solaris 11.4',
    ]);
  });

  test('parseRelease aliases', () => {
    const cases: [string, string | null][] = [
      ['Solaris 10 10/09', 'Solaris 10 10/09'],
      ['Oracle Solaris 10 9/10', 'Solaris 10 9/10'],
      ['Sun Solaris 10 5/08', 'Solaris 10 5/08'],
      ['  solaris   10  10/08 ', 'Solaris 10 10/08'],
      ['s10u8', 'Solaris 10 10/09'],
      ['S10U11', 'Solaris 10 1/13'],
      ['Solaris 10 u6', 'Solaris 10 10/08'],
      ['Solaris 10 update 9', 'Solaris 10 9/10'],
      ['10/09', 'Solaris 10 10/09'],
      ['05/08', 'Solaris 10 5/08'],
      ['s10ga', 'Solaris 10 3/05'],
      ['Oracle Solaris 11 11/11', 'Oracle Solaris 11 11/11'],
      ['11/11', 'Oracle Solaris 11 11/11'],
      ['Solaris 11', 'Oracle Solaris 11 11/11'],
      ['s11', 'Oracle Solaris 11 11/11'],
      ['11.0', 'Oracle Solaris 11 11/11'],
      ['Oracle Solaris 11.4', 'Oracle Solaris 11.4'],
      ['s11.2', 'Oracle Solaris 11.2'],
      ['s11u3', 'Oracle Solaris 11.3'],
      ['11.1', 'Oracle Solaris 11.1'],
      ['Solaris 10', null],
      ['s10', null],
      ['Solaris 9', null],
      ['Solaris 10 10/07', null],
      ['Solaris 11 10/09', null],
      ['s10u12', null],
      ['s11.5', null],
      ['', null],
      ['10/09 x', null],
    ];
    for (const [text, want] of cases) assert.equal(parseRelease(text), want, JSON.stringify(text));
  });

  test('compareReleases orders by the list, any spelling', () => {
    assert.equal(compareReleases('s10u8', 'Solaris 10 9/10'), -1);
    assert.equal(compareReleases('Oracle Solaris 11 11/11', '1/13'), 1);
    assert.equal(compareReleases('10/09', 's10u8'), 0);
    const shuffled = [...KNOWN_RELEASES].reverse();
    assert.deepEqual(shuffled.sort(compareReleases), [...KNOWN_RELEASES]);
    assert.throws(() => compareReleases('Solaris 9', 's10u8'), RangeError);
  });
});

describe('capabilities', () => {
  const caps = (release: string, patches: string[] = [], drd = true) => capabilities(defaultImage({ release, patches, drd }));

  test("the seed's crypto-unit DR rule", () => {
    assert.equal(caps('Solaris 10 10/08').cryptoDr, false);
    assert.equal(caps('Solaris 10 5/08', ['142245-01']).cryptoDr, true);
    assert.equal(caps('Solaris 10 10/08', ['142245-02']).cryptoDr, true);
    assert.equal(caps('Solaris 10 5/09', ['142245-01']).cryptoDr, true);
    assert.equal(caps('Solaris 10 10/09').cryptoDr, true);
    assert.equal(caps('Solaris 10 8/07', ['142245-01']).cryptoDr, false);
    assert.equal(caps('Solaris 10 10/08', ['142245-00']).cryptoDr, false);
    assert.equal(caps('Solaris 10 10/08', ['142246-01']).cryptoDr, false);
    assert.equal(caps('Oracle Solaris 11.1').cryptoDr, true);
  });

  test('the whole table', () => {
    const row = (r: string) => {
      const c = caps(r);
      return [c.cpuDr, c.ioDr, c.memoryDr, c.cryptoDr].map((b) => (b ? 1 : 0)).join('');
    };
    assert.equal(row('Solaris 10 3/05'), '1000');
    assert.equal(row('Solaris 10 5/08'), '1000');
    assert.equal(row('Solaris 10 10/08'), '1100');
    assert.equal(row('Solaris 10 5/09'), '1100');
    assert.equal(row('Solaris 10 10/09'), '1101');
    assert.equal(row('Solaris 10 9/10'), '1111');
    assert.equal(row('Solaris 10 1/13'), '1111');
    assert.equal(row('Oracle Solaris 11 11/11'), '1111');
    assert.equal(row('Oracle Solaris 11.4'), '1111');
  });

  test('drd off: nothing', () => {
    for (const r of KNOWN_RELEASES) {
      assert.deepEqual(caps(r, ['142245-01'], false), { cpuDr: false, memoryDr: false, cryptoDr: false, ioDr: false }, r);
    }
  });

  test('migration compatibility starts at Solaris 10 9/10', () => {
    const compatible = KNOWN_RELEASES.filter((r) => migrationCompatible(defaultImage({ release: r })));
    assert.deepEqual(compatible, KNOWN_RELEASES.slice(KNOWN_RELEASES.indexOf('Solaris 10 9/10')));
    assert.equal(migrationCompatible(defaultImage({ release: 's10u8', patches: ['142245-01'] })), false);
  });
});

describe('storage identity', () => {
  test('same file by another path is the same storage; a copy is not', () => {
    const file = fresh();
    createImage(file, valid(), 64 * M);
    const link = path.join(dir, `link-${++seq}.img`);
    fs.symlinkSync(file, link);
    const hard = path.join(dir, `hard-${++seq}.img`);
    fs.linkSync(file, hard);
    const copy = fresh('copy');
    fs.copyFileSync(file, copy);
    const id = storageIdentity(file);
    assert.match(id ?? '', /^\d+:\d+$/);
    assert.equal(storageIdentity(link), id);
    assert.equal(storageIdentity(hard), id);
    assert.equal(storageIdentity(path.join(dir, '.', path.basename(file))), id);
    assert.notEqual(storageIdentity(copy), id);
    // The copy still says it is the same image: content identity is not storage identity.
    assert.equal((readImage(copy) as { image: OsImage }).image.imageId, valid().imageId);
  });

  test('a path that reaches nothing has no identity', () => {
    assert.equal(storageIdentity(path.join(dir, 'nosuch.img')), null);
    const dangling = path.join(dir, `dangling-${++seq}.img`);
    fs.symlinkSync(path.join(dir, 'gone.img'), dangling);
    assert.equal(storageIdentity(dangling), null);
  });
});

describe('ldoms image', () => {
  async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await imageCommand(argv, (s) => (out += s), (s) => (err += s));
    return { code, out, err };
  }

  test('create then show -p', async () => {
    const file = fresh();
    const c = await run('create', file, '--release', 's10u6', '--patch', '142245-01', '--patch=120011-14', '--size', '1G',
      '--boot-time', '2.5', '--hostname', 'ldg1', '--working-set', '1G', '--dirty-rate', '32M/s', '--kernel', 'Generic_137137-09',
      '--interface', 'vnet0=192.168.10.5');
    assert.deepEqual([c.code, c.err], [0, '']);
    assert.match(c.out, /^.*: Solaris 10 10\/08 \(Generic_137137-09\), 1G sparse, image [0-9a-f-]{36}\n$/);
    const s = await run('show', '-p', file);
    assert.equal(s.code, 0);
    const kv = Object.fromEntries(s.out.trimEnd().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    assert.deepEqual({ ...kv, image_id: '' }, {
      file,
      size: String(G),
      release: 'Solaris 10 10/08',
      kernel: 'Generic_137137-09',
      patches: '142245-01,120011-14',
      hostname: 'ldg1',
      drd: 'true',
      boot_seconds: '2.5',
      working_set: String(G),
      dirty_rate: String(32 * M),
      interfaces: 'vnet0:192.168.10.5',
      image_id: '',
      storage: storageIdentity(file),
      cpu_dr: 'true',
      memory_dr: 'false',
      crypto_dr: 'true',
      io_dr: 'true',
      migration_compatible: 'false',
    });
  });

  test('create with defaults; human show', async () => {
    const file = fresh();
    assert.equal((await run('create', file, '--release', 'Solaris 10 10/08', '--no-drd')).code, 0);
    assert.equal(fs.statSync(file).size, 20 * G);
    const s = await run('show', file);
    assert.equal(s.code, 0);
    for (const line of [
      /^SIZE +20G$/m, /^RELEASE +Solaris 10 10\/08$/m, /^KERNEL +Generic_137137-09$/m, /^PATCHES +-$/m, /^DRD +disabled$/m,
      /^BOOT TIME +20s$/m, /^WORKING SET +256M$/m, /^DIRTY RATE +4M\/s$/m, /^HOSTNAME +solaris$/m,
      /^CPU DR +no$/m, /^CRYPTO DR +no$/m, new RegExp(`^STORAGE +${storageIdentity(file)}$`, 'm'),
    ]) assert.match(s.out, line);
  });

  test('releases lists the table', async () => {
    const r = await run('releases');
    assert.equal(r.code, 0);
    const lines = r.out.trimEnd().split('\n');
    assert.match(lines[0], /^RELEASE +ALIAS +KERNEL/);
    assert.equal(lines.length, KNOWN_RELEASES.length + 1);
    assert.match(r.out, /^Solaris 10 10\/08 +s10u6 +Generic_137137-09 +yes +yes +no +142245-01 +older$/m);
    assert.match(r.out, /^Solaris 10 9\/10 +s10u9 +Generic_142909-17 +yes +yes +yes +yes +latest$/m);
  });

  test('bad input: one clear message, exit 1, nothing created', async () => {
    const existing = fresh();
    createImage(existing, valid(), 64 * M);
    const target = path.join(dir, 'never.img');
    const cases: [string[], RegExp][] = [
      [[], /missing subcommand/],
      [['frobnicate'], /unknown subcommand: frobnicate/],
      [['create'], /missing FILE/],
      [['create', target], /missing --release/],
      [['create', target, '--release'], /--release needs a value/],
      [['create', target, '--release', 'Solaris 9'], /unknown release "Solaris 9"; known releases:\n {4}Solaris 10 3\/05\n[\s\S]*Oracle Solaris 11.4\n/],
      [['create', target, '--release', 's10u8', '--release', 's10u9'], /--release given twice/],
      [['create', target, '--release', 's10u8', '--size', 'big'], /invalid --size size: big/],
      [['create', target, '--release', 's10u8', '--size', '32M'], /--size must be at least 64M \(got 32M\)/],
      [['create', target, '--release', 's10u8', '--size', '67108865'], /multiple of 512/],
      [['create', target, '--release', 's10u8', '--working-set', '1X'], /invalid --working-set size/],
      [['create', target, '--release', 's10u8', '--dirty-rate', 'fast'], /invalid --dirty-rate size/],
      [['create', target, '--release', 's10u8', '--boot-time', '-3'], /invalid --boot-time: -3/],
      [['create', target, '--release', 's10u8', '--boot-time', 'soon'], /invalid --boot-time/],
      [['create', target, '--release', 's10u8', '--boot-time', '100000'], /at most 86400/],
      [['create', target, '--release', 's10u8', '--patch', '142245'], /invalid patch ID 142245/],
      [['create', target, '--release', 's10u8', '--hostname', 'a_b'], /invalid hostname "a_b"/],
      [['create', target, '--release', 's10u8', '--kernel', ''], /kernel/],
      [['create', target, '--release', 's10u8', '--interface', 'vnet0'], /invalid --interface vnet0/],
      [['create', target, '--release', 's10u8', '--interface', 'vnet0=1.2.3'], /invalid address "1.2.3"/],
      [['create', target, '--release', 's10u8', '--colour', 'blue'], /unknown option --colour/],
      [['create', target, '--release', 's10u8', '--force=yes'], /takes no value/],
      [['create', target, 'other', '--release', 's10u8'], /unexpected argument other/],
      [['create', existing, '--release', 's10u8'], /already exists \(use --force to overwrite it\)/],
      [['create', path.join(dir, 'nodir', 'x.img'), '--release', 's10u8'], /cannot create .*no such file or directory/],
      [['show'], /missing FILE/],
      [['show', '-x', existing], /unknown option -x/],
      [['show', path.join(dir, 'nosuch.img')], /nosuch\.img: no such file or directory/],
      [['show', dir], /is a directory/],
      [['show', rawHeader('plain data')], /no OS image/],
      [['show', rawHeader(IMAGE_MAGIC + '{')], /corrupt OS image header: not valid JSON/],
      [['releases', 'extra'], /unexpected argument extra/],
    ];
    for (const [argv, why] of cases) {
      const r = await run(...argv);
      assert.equal(r.code, 1, argv.join(' '));
      assert.equal(r.out, '', argv.join(' '));
      assert.match(r.err, /^ldoms image: /, argv.join(' '));
      assert.match(r.err, why, argv.join(' '));
    }
    assert.equal(fs.existsSync(target), false);
    assert.equal((readImage(existing) as { image: OsImage }).image.release, 'Solaris 10 10/09');
  });

  test('--force overwrites; help goes to out', async () => {
    const file = fresh();
    createImage(file, valid(), 64 * M);
    const r = await run('create', file, '--release', 's11.4', '--size', '64M', '--force');
    assert.equal(r.code, 0);
    assert.equal((readImage(file) as { image: OsImage }).image.release, 'Oracle Solaris 11.4');
    const h = await run('--help');
    assert.deepEqual([h.code, h.err], [0, '']);
    assert.match(h.out, /ldoms image create FILE --release R/);
  });

  test('with one sink, errors go to it', async () => {
    let all = '';
    assert.equal(await imageCommand(['show'], (s) => (all += s)), 1);
    assert.match(all, /missing FILE/);
  });
});
