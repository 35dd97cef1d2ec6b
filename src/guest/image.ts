// OS images: a virtual-disk back end (a file) that holds a bootable modelled Solaris. The file's
// first 8 KiB are a header describing the installed OS (docs/images.md); the rest is the disk,
// left sparse. From the header follow what the OS supports (dynamic reconfiguration) and whether
// it can take part in the latest migration protocol.

import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { M } from '../format/units.js';
import type { OsCapabilities, OsImage } from './types.js';

export const IMAGE_HEADER_SIZE = 8192;
export const IMAGE_MAGIC = 'LDOMS-OS-IMAGE 1\n';
/** Smaller than any Solaris 10/11 install; also keeps the header a negligible part of the disk. */
export const MIN_IMAGE_SIZE = 64 * M;
/** Disks are made of 512-byte sectors (vdisk block size). */
export const SECTOR_SIZE = 512;

/** A refusal to create or describe an image; the message is what the user sees. */
export class ImageError extends Error {}

export type ImageRead =
  | { ok: true; image: OsImage }
  | { ok: false; reason: 'missing' | 'unreadable' | 'not-bootable' | 'corrupt'; message: string };

// ---------------------------------------------------------------------------------------------
// Releases

export interface ReleaseInfo {
  /** Canonical name, as stored in an image header. */
  name: string;
  family: 10 | 11;
  /** Solaris 10: update number (3/05 is 0); Solaris 11: the minor number (11/11 is 0). */
  update: number;
  /** `M/YY` for the releases named after their date. */
  date: string | null;
  /** Short alias printed by `ldoms image releases`. */
  short: string;
  /** `uname -v` of the release as shipped (the kernel patch of each Solaris 10 update; SPARC). */
  kernel: string;
}

/**
 * Every release an image may carry, oldest first. Solaris 10 releases keep the `Solaris 10` prefix
 * even from 9/10 on (branded "Oracle Solaris 10"); the alias is accepted by parseRelease.
 */
export const RELEASE_TABLE: readonly ReleaseInfo[] = [
  { name: 'Solaris 10 3/05', family: 10, update: 0, date: '3/05', short: 's10ga', kernel: 'Generic' },
  { name: 'Solaris 10 1/06', family: 10, update: 1, date: '1/06', short: 's10u1', kernel: 'Generic_118822-25' },
  { name: 'Solaris 10 6/06', family: 10, update: 2, date: '6/06', short: 's10u2', kernel: 'Generic_118833-17' },
  { name: 'Solaris 10 11/06', family: 10, update: 3, date: '11/06', short: 's10u3', kernel: 'Generic_125100-04' },
  { name: 'Solaris 10 8/07', family: 10, update: 4, date: '8/07', short: 's10u4', kernel: 'Generic_120011-14' },
  { name: 'Solaris 10 5/08', family: 10, update: 5, date: '5/08', short: 's10u5', kernel: 'Generic_127127-11' },
  { name: 'Solaris 10 10/08', family: 10, update: 6, date: '10/08', short: 's10u6', kernel: 'Generic_137137-09' },
  { name: 'Solaris 10 5/09', family: 10, update: 7, date: '5/09', short: 's10u7', kernel: 'Generic_139555-08' },
  { name: 'Solaris 10 10/09', family: 10, update: 8, date: '10/09', short: 's10u8', kernel: 'Generic_141444-09' },
  { name: 'Solaris 10 9/10', family: 10, update: 9, date: '9/10', short: 's10u9', kernel: 'Generic_142909-17' },
  { name: 'Solaris 10 8/11', family: 10, update: 10, date: '8/11', short: 's10u10', kernel: 'Generic_147440-01' },
  { name: 'Solaris 10 1/13', family: 10, update: 11, date: '1/13', short: 's10u11', kernel: 'Generic_147147-26' },
  { name: 'Oracle Solaris 11 11/11', family: 11, update: 0, date: '11/11', short: 's11', kernel: '11.0' },
  { name: 'Oracle Solaris 11.1', family: 11, update: 1, date: null, short: 's11.1', kernel: '11.1' },
  { name: 'Oracle Solaris 11.2', family: 11, update: 2, date: null, short: 's11.2', kernel: '11.2' },
  { name: 'Oracle Solaris 11.3', family: 11, update: 3, date: null, short: 's11.3', kernel: '11.3' },
  { name: 'Oracle Solaris 11.4', family: 11, update: 4, date: null, short: 's11.4', kernel: '11.4.0.15.0' },
];

export const KNOWN_RELEASES: readonly string[] = RELEASE_TABLE.map((r) => r.name);

function findRelease(family: number, pick: (r: ReleaseInfo) => boolean): string | null {
  return RELEASE_TABLE.find((r) => r.family === family && pick(r))?.name ?? null;
}

/**
 * The canonical name of a release, or null. Case and spacing are free; an `Oracle ` or `Sun `
 * prefix is optional. Accepted: `Solaris 10 10/09`, `10 10/09`, `10/09` (every date is unique),
 * `s10u8`, `Solaris 10 u8`, `Solaris 10 update 8`, `s10ga` (3/05); `Oracle Solaris 11 11/11`,
 * `Solaris 11`, `s11`, `11.0` (all 11/11), `Solaris 11.2`, `s11.2`, `11.2`, `s11u2`.
 * A bare `Solaris 10` or `s10` names no release (which update?) and is refused.
 */
export function parseRelease(text: string): string | null {
  const t = text.trim().replace(/\s+/g, ' ').toLowerCase().replace(/^(oracle |sun )/, '');
  let m = /^(?:solaris )?(10|11) (\d{1,2})\/(\d{2})$/.exec(t);
  if (m) {
    const date = `${Number(m[2])}/${m[3]}`;
    return findRelease(Number(m[1]), (r) => r.date === date);
  }
  m = /^(\d{1,2})\/(\d{2})$/.exec(t);
  if (m) {
    const date = `${Number(m[1])}/${m[2]}`;
    return RELEASE_TABLE.find((r) => r.date === date)?.name ?? null;
  }
  m = /^(?:s|solaris ?)(10|11) ?(?:u|update ?)(\d{1,2})$/.exec(t);
  if (m) return findRelease(Number(m[1]), (r) => r.update === Number(m[2]));
  if (/^(?:s|solaris ?)10 ?ga$/.test(t)) return findRelease(10, (r) => r.update === 0);
  const s11 = /^(?:s|solaris ?)?11(?:\.(\d))?$/.exec(t);
  if (s11) return findRelease(11, (r) => r.update === Number(s11[1] ?? 0));
  return null;
}

function releaseIndex(release: string): number {
  const name = parseRelease(release);
  return name === null ? -1 : KNOWN_RELEASES.indexOf(name);
}

/** Orders two releases (any accepted spelling) oldest first; throws RangeError on an unknown one. */
export function compareReleases(a: string, b: string): number {
  const ia = releaseIndex(a);
  const ib = releaseIndex(b);
  if (ia < 0) throw new RangeError(`unknown release: ${a}`);
  if (ib < 0) throw new RangeError(`unknown release: ${b}`);
  return Math.sign(ia - ib);
}

function atLeast(release: string, min: string): boolean {
  const i = releaseIndex(release);
  return i >= 0 && i >= KNOWN_RELEASES.indexOf(min);
}

// ---------------------------------------------------------------------------------------------
// What the OS supports

/** The crypto-unit DR patch for Solaris 10 5/08 – 5/09 (seed, "Crypto units"). */
export const CRYPTO_DR_PATCH = '142245';

function hasPatch(image: OsImage, id: string, minRevision: number): boolean {
  return image.patches.some((p) => {
    const [pid, rev] = p.split('-');
    return pid === id && Number(rev) >= minRevision;
  });
}

/**
 * Dynamic reconfiguration the image's OS supports. Nothing without drd, the daemon every DR
 * operation goes through (ldm-cli.md §2.4).
 */
export function capabilities(image: OsImage): OsCapabilities {
  if (!image.drd || releaseIndex(image.release) < 0) return { cpuDr: false, memoryDr: false, cryptoDr: false, ioDr: false };
  return {
    // ldm-cli.md §2.4: vCPU DR on every Solaris 10 and 11.
    cpuDr: true,
    // ldm-cli.md §2.4: memory DR is new in Oracle VM Server for SPARC 2.0, whose guests start at
    // Solaris 10 9/10 (the release the seed names for the 2.0 migration functionality).
    memoryDr: atLeast(image.release, 'Solaris 10 9/10'),
    // Seed ("Crypto units") and migration.md §4.7: Solaris 10 10/09 or later, or Solaris 10 5/08
    // or later with patch 142245-01 or a later revision. ldm-cli.md §2.4 says Solaris 10 1/13 [D];
    // the seed is the original document and stands (docs/images.md).
    cryptoDr:
      atLeast(image.release, 'Solaris 10 10/09') ||
      (atLeast(image.release, 'Solaris 10 5/08') && hasPatch(image, CRYPTO_DR_PATCH, 1)),
    // ldm-cli.md §2.4: virtual I/O DR from Solaris 10 10/08.
    ioDr: atLeast(image.release, 'Solaris 10 10/08'),
  };
}

/**
 * Whether the OS supports the latest migration functionality. Seed ("CPU") and migration.md §4.1:
 * older than Solaris 10 9/10 prints `Domain <name> is not running an operating system that is
 * compatible with the latest migration functionality.` and gets the whole-core rules.
 */
export function migrationCompatible(image: OsImage): boolean {
  return atLeast(image.release, 'Solaris 10 9/10');
}

// ---------------------------------------------------------------------------------------------
// Validation

const FIELDS = ['format', 'imageId', 'release', 'kernel', 'patches', 'drd', 'bootSeconds', 'hostname', 'workload', 'interfaces'];
/** Fields an image may have; only P2V images (ldmp2v, docs/ldmp2v.md) carry them. */
const OPTIONAL_FIELDS = ['arch', 'source'];
/**
 * Releases older than Solaris 10 never ran on sun4v; a sun4u image (a P2V source's OS before its
 * upgrade) may carry them: `Solaris 8`, `Solaris 9 9/05`.
 */
export const SUN4U_RELEASE_RE = /^Solaris (8|9)(?: (1[0-2]|[1-9])\/(\d{2}))?$/;
const PATCH_RE = /^\d{6}-\d{2}$/;
const HOSTNAME_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const INTERFACE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,14}\d$/;
/** A day: anything longer is a mistake, not a slow disk. */
export const MAX_BOOT_SECONDS = 86400;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isPrintable(s: string, max: number): boolean {
  return s.length > 0 && s.length <= max && /^[\x21-\x7e]+( [\x21-\x7e]+)*$/.test(s);
}

function isIp(text: string): boolean {
  const [addr, prefix, ...more] = text.split('/');
  const kind = net.isIP(addr);
  if (kind === 0 || more.length) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (kind === 4 ? 32 : 128);
}

/** What is wrong with a would-be OsImage, or null if nothing is. Checks every field. */
export function imageProblem(value: unknown): string | null {
  if (!isObject(value)) return 'the header is not a JSON object';
  for (const k of Object.keys(value)) if (!FIELDS.includes(k) && !OPTIONAL_FIELDS.includes(k)) return `unknown field "${k}"`;
  for (const k of FIELDS) if (!(k in value)) return `missing field "${k}"`;
  const v = value as Record<string, unknown>;
  if (v.format !== 1) return `unsupported format ${JSON.stringify(v.format)} (expected 1)`;
  if (typeof v.imageId !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/.test(v.imageId)) return 'imageId must be 1-64 characters of A-Z a-z 0-9 . _ : -';
  if ('arch' in v && v.arch !== 'sun4u' && v.arch !== 'sun4v') return 'arch must be "sun4u" or "sun4v"';
  if ('source' in v) {
    const problem = sourceProblem(v.source);
    if (problem) return problem;
  }
  if (typeof v.release !== 'string') return 'release must be a string';
  if (v.arch === 'sun4u' && SUN4U_RELEASE_RE.test(v.release)) {
    // a pre-Solaris 10 sun4u OS: valid, checked no further
  } else if (!KNOWN_RELEASES.includes(v.release)) {
    const canonical = parseRelease(v.release);
    return canonical ? `release "${v.release}" must be written "${canonical}"` : `unknown release "${v.release}"`;
  }
  if (typeof v.kernel !== 'string' || !isPrintable(v.kernel, 64)) return 'kernel must be 1-64 printable characters';
  if (!Array.isArray(v.patches)) return 'patches must be a list';
  for (const p of v.patches) if (typeof p !== 'string' || !PATCH_RE.test(p)) return `invalid patch ID ${JSON.stringify(p)} (expected NNNNNN-NN)`;
  if (new Set(v.patches).size !== v.patches.length) return 'patches lists a patch twice';
  if (typeof v.drd !== 'boolean') return 'drd must be true or false';
  if (typeof v.bootSeconds !== 'number' || !Number.isFinite(v.bootSeconds) || v.bootSeconds < 0 || v.bootSeconds > MAX_BOOT_SECONDS) {
    return `bootSeconds must be a number of seconds from 0 to ${MAX_BOOT_SECONDS}`;
  }
  if (typeof v.hostname !== 'string' || v.hostname.length > 255 || !v.hostname.split('.').every((l) => HOSTNAME_LABEL.test(l))) {
    return `invalid hostname ${JSON.stringify(v.hostname)}`;
  }
  const w = v.workload;
  if (!isObject(w) || Object.keys(w).length !== 2) return 'workload must be { workingSet, dirtyRate }';
  for (const k of ['workingSet', 'dirtyRate']) {
    const n = w[k];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) return `workload.${k} must be a whole number of bytes`;
  }
  if (!Array.isArray(v.interfaces)) return 'interfaces must be a list';
  const names = new Set<string>();
  for (const i of v.interfaces) {
    if (!isObject(i) || Object.keys(i).length !== 2 || typeof i.name !== 'string' || typeof i.ip !== 'string') return 'each interface must be { name, ip }';
    if (!INTERFACE_NAME.test(i.name)) return `invalid interface name ${JSON.stringify(i.name)}`;
    if (!isIp(i.ip)) return `invalid address ${JSON.stringify(i.ip)} for interface ${i.name}`;
    if (names.has(i.name)) return `interface ${i.name} is listed twice`;
    names.add(i.name);
  }
  return null;
}

function sourceProblem(value: unknown): string | null {
  if (!isObject(value)) return 'source must be { hostname, hostid, model, arch, release }';
  const keys = ['hostname', 'hostid', 'model', 'arch', 'release'];
  for (const k of Object.keys(value)) if (!keys.includes(k)) return `unknown field "source.${k}"`;
  for (const k of keys) if (typeof value[k] !== 'string') return `source.${k} must be a string`;
  if (!/^[0-9a-f]{8}$/.test(value.hostid as string)) return 'source.hostid must be eight lower-case hex digits';
  if (value.arch !== 'sun4u' && value.arch !== 'sun4v') return 'source.arch must be "sun4u" or "sun4v"';
  for (const k of ['hostname', 'model', 'release']) if (!isPrintable(value[k] as string, 64)) return `source.${k} must be 1-64 printable characters`;
  return null;
}

// ---------------------------------------------------------------------------------------------
// Defaults

export const DEFAULT_IMAGE = {
  bootSeconds: 20,
  hostname: 'solaris',
  workload: { workingSet: 256 * M, dirtyRate: 4 * M },
} as const;

/** An image for `release` (any accepted spelling) with every field not given filled in. */
export function defaultImage(opts: Partial<OsImage> & { release: string }): OsImage {
  const release = parseRelease(opts.release);
  if (release === null) throw new ImageError(`unknown release "${opts.release}"`);
  const info = RELEASE_TABLE.find((r) => r.name === release)!;
  const image: OsImage = {
    format: 1,
    imageId: opts.imageId ?? randomUUID(),
    release,
    kernel: opts.kernel ?? info.kernel,
    patches: [...(opts.patches ?? [])],
    drd: opts.drd ?? true,
    bootSeconds: opts.bootSeconds ?? DEFAULT_IMAGE.bootSeconds,
    hostname: opts.hostname ?? DEFAULT_IMAGE.hostname,
    workload: { ...DEFAULT_IMAGE.workload, ...opts.workload },
    interfaces: (opts.interfaces ?? []).map((i) => ({ name: i.name, ip: i.ip })),
  };
  const problem = imageProblem(image);
  if (problem) throw new ImageError(problem);
  return image;
}

// ---------------------------------------------------------------------------------------------
// The file

/** The 8 KiB header: magic line, the JSON on one line, `\n` padding. */
export function encodeHeader(image: OsImage): Buffer {
  const text = IMAGE_MAGIC + JSON.stringify(image) + '\n';
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > IMAGE_HEADER_SIZE) throw new ImageError(`the image description is too large for the ${IMAGE_HEADER_SIZE}-byte header`);
  const header = Buffer.alloc(IMAGE_HEADER_SIZE, '\n');
  bytes.copy(header);
  return header;
}

/** Reads the header at the start of `bytes` (the file's first IMAGE_HEADER_SIZE bytes or fewer). */
export function decodeHeader(bytes: Buffer, file: string): ImageRead {
  const magicLen = Buffer.byteLength(IMAGE_MAGIC);
  const notBootable = (): ImageRead => ({ ok: false, reason: 'not-bootable', message: `${file}: no OS image (the disk has no boot header)` });
  const corrupt = (why: string): ImageRead => ({ ok: false, reason: 'corrupt', message: `${file}: corrupt OS image header: ${why}` });
  const first = bytes.subarray(0, magicLen).toString('latin1');
  if (first !== IMAGE_MAGIC) {
    const other = /^LDOMS-OS-IMAGE (\S+)\n/.exec(bytes.subarray(0, 64).toString('latin1'));
    return other ? corrupt(`unsupported format version ${other[1]}`) : notBootable();
  }
  if (bytes.length < IMAGE_HEADER_SIZE) return corrupt(`the file ends inside the ${IMAGE_HEADER_SIZE}-byte header`);
  // Only newline padding may follow the JSON: anything else means the header was overwritten.
  const text = bytes.subarray(magicLen, IMAGE_HEADER_SIZE).toString('utf8').replace(/\n+$/, '');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return corrupt('not valid JSON');
  }
  const problem = imageProblem(value);
  return problem ? corrupt(problem) : { ok: true, image: value as OsImage };
}

function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'ENOTDIR':
      return 'a path component is not a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOSPC':
      return 'no space left on device';
    case 'EROFS':
      return 'read-only file system';
    default:
      return e instanceof Error ? e.message : String(e);
  }
}

/** Reads and checks the OS image a back-end file holds. Never throws. */
export function readImage(file: string): ImageRead {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : 'unreadable';
    return { ok: false, reason, message: `${file}: ${errnoText(e)}` };
  }
  // Opening a FIFO would block and a directory has no bytes: only files and disks can be back ends.
  if (!st.isFile() && !st.isBlockDevice()) {
    return { ok: false, reason: 'unreadable', message: `${file}: ${st.isDirectory() ? 'is a directory' : 'not a regular file or disk'}` };
  }
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    return { ok: false, reason: 'unreadable', message: `${file}: ${errnoText(e)}` };
  }
  try {
    const buf = Buffer.alloc(IMAGE_HEADER_SIZE);
    let n = 0;
    while (n < buf.length) {
      const got = fs.readSync(fd, buf, n, buf.length - n, n);
      if (got === 0) break;
      n += got;
    }
    return decodeHeader(buf.subarray(0, n), file);
  } catch (e) {
    return { ok: false, reason: 'unreadable', message: `${file}: ${errnoText(e)}` };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Creates a sparse image file of `sizeBytes` with `image`'s header. It is built under a temporary
 * name and linked into place, so the file appears complete or not at all; without `force` an
 * existing file is never replaced (link fails on an existing name, so no window for a race).
 */
export function createImage(file: string, image: OsImage, sizeBytes: number, opts: { force?: boolean } = {}): void {
  const problem = imageProblem(image);
  if (problem) throw new ImageError(`invalid image: ${problem}`);
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < MIN_IMAGE_SIZE) throw new ImageError(`an image must be at least 64M (got ${sizeBytes} bytes)`);
  if (sizeBytes % SECTOR_SIZE !== 0) throw new ImageError(`an image size must be a multiple of ${SECTOR_SIZE} bytes (got ${sizeBytes})`);
  const header = encodeHeader(image);
  if (!opts.force && fs.existsSync(file)) throw new ImageError(`${file} already exists`);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`);
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, 'wx', 0o644);
    fs.fchmodSync(fd, 0o644); // exactly 0644 whatever the umask
    fs.ftruncateSync(fd, sizeBytes);
    fs.writeSync(fd, header, 0, header.length, 0);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    if (opts.force) fs.renameSync(tmp, file);
    else {
      fs.linkSync(tmp, file);
      fs.unlinkSync(tmp);
    }
  } catch (e) {
    if (fd !== null) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new ImageError(`${file} already exists`);
    throw new ImageError(`cannot create ${file}: ${errnoText(e)}`);
  }
}

/**
 * The identity of the storage a back-end path reaches: `dev:ino` of the file its real path names.
 * Live migration requires every volume the domain uses to reach the same storage on the target as
 * on the source (seed, "Virtual I/O"; migration.md §4.5): the paths may differ, the storage may
 * not. Two hosts modelled on one machine share its file system, so two paths (a symlink, a bind
 * mount, another host's directory linking to the file) reach the same storage exactly when they
 * resolve to the same inode; a copy is other storage even though its header (and imageId) is the
 * same. Null when the path reaches nothing.
 */
export function storageIdentity(file: string): string | null {
  try {
    const st = fs.statSync(fs.realpathSync(file), { bigint: true });
    return `${st.dev}:${st.ino}`;
  } catch {
    return null;
  }
}
