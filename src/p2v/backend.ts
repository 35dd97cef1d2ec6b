// Back-end devices of the virtual disks (reference A.4). `file` back ends are files at
// `/$BACKEND_PREFIX/<domain>/diskN`; ZFS is not modelled, so a `zvol` back end — the ZFS volume
// `$BACKEND_PREFIX/<domain>/diskN`, device /dev/zvol/dsk/... — is a file under
// `$LDOMS_HOME/dev/zvol/dsk/` (the model's /dev/zvol/dsk); a `disk` back end is named with -B and
// must exist beforehand. On a disk, each file system is an ustar archive at its slice's offset plus
// 8 KiB (UFS leaves the first 8 KiB of a slice to the label and boot block); the boot disk's first
// 8 KiB hold the OS image header (src/guest/image.ts).

import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatSize, M } from '../format/units.js';
import { IMAGE_HEADER_SIZE } from '../guest/image.js';
import { backendName, tempVdiskName, vdiskName, volumeName, type BackendSpec, type BackendType, type P2vConfig } from './config.js';
import type { Layout, TargetDisk, TargetSlice } from './layout.js';
import { BLOCK, readTar, writeTar, type TarEntry } from './ustar.js';

export class BackendError extends Error {}

/** Bytes a file system leaves at the start of its slice (label and boot block). */
export const FS_OFFSET = 8192;

export interface Backend {
  /** Disk index. */
  index: number;
  type: BackendType;
  /** What add-vdsdev is given: the real path of the back end. */
  path: string;
  /** How the user names it: the file, the ZFS volume (`tank/ldoms/volumia/disk0`), or the disk. */
  display: string;
  volume: string;
  vdisk: string;
  /** Name while attached to the control domain during prepare. */
  tempVdisk: string;
  size: number;
  /** True when ldmp2v makes (and -C removes) it; false for a user's disk or -R's restored disks. */
  create: boolean;
}

export function ldomsHome(): string {
  return process.env.LDOMS_HOME || path.join(os.homedir(), '.ldoms');
}

/** The model's /dev/zvol/dsk. */
export function zvolRoot(): string {
  return path.join(ldomsHome(), 'dev', 'zvol', 'dsk');
}

/**
 * Names every back end, volume and vdisk by -B or the documented defaults. `existing` (-R) means
 * the back ends were made and restored by the user: they are used, not created.
 */
export function resolveBackends(layout: Layout, conf: P2vConfig, domain: string, specs: BackendSpec[], existing = false): Backend[] {
  if (specs.length > layout.disks.length)
    throw new BackendError(`-B given ${specs.length} times but the domain gets ${layout.disks.length} virtual disk${layout.disks.length === 1 ? '' : 's'}`);
  const out = layout.disks.map((d): Backend => {
    const spec = specs[d.index] ?? {};
    const def = backendName(conf, domain, d.index);
    let display: string;
    let p: string;
    if (spec.backend !== undefined) {
      display = spec.backend;
      if (conf.backendType === 'zvol') {
        if (spec.backend.startsWith('/')) throw new BackendError(`-B ${spec.backend}: a ZFS volume is named by its dataset (pool/path), not a path`);
        p = path.join(zvolRoot(), spec.backend);
      } else {
        if (!spec.backend.startsWith('/')) throw new BackendError(`-B ${spec.backend}: expected an absolute path`);
        p = spec.backend;
      }
    } else {
      if (def === null) throw new BackendError(`disk ${d.index} (${d.source}): a disk back end must be named with -B backend:volume:vdisk`);
      display = def;
      p = conf.backendType === 'zvol' ? path.join(zvolRoot(), def) : def;
    }
    return {
      index: d.index,
      type: conf.backendType,
      path: path.resolve(p),
      display,
      volume: spec.volume ?? volumeName(domain, d.index),
      vdisk: spec.vdisk ?? vdiskName(d.index),
      tempVdisk: tempVdiskName(domain, d.index),
      size: d.size,
      create: conf.backendType !== 'disk' && !existing,
    };
  });
  const dup = (what: string, names: string[]) => {
    const seen = new Set<string>();
    for (const n of names) {
      if (seen.has(n)) throw new BackendError(`${what} ${n} is used for two disks`);
      seen.add(n);
    }
  };
  dup('back end', out.map((b) => b.path));
  dup('volume', out.map((b) => b.volume));
  dup('vdisk', out.map((b) => b.vdisk));
  for (const b of out) {
    if (!/^[A-Za-z0-9][\w.:+-]*$/.test(b.volume)) throw new BackendError(`volume name '${b.volume}' is not valid`);
    if (!/^[A-Za-z0-9][\w.:+-]*$/.test(b.vdisk)) throw new BackendError(`vdisk name '${b.vdisk}' is not valid`);
  }
  return out;
}

/** Size of a back end that exists (a file, or a block device read to its end). */
function existingSize(p: string): number | null {
  try {
    const st = fs.statSync(p);
    if (st.isFile()) return st.size;
    if (st.isBlockDevice()) {
      const fd = fs.openSync(p, 'r');
      try {
        return Number(fs.fstatSync(fd).size) || null;
      } finally {
        fs.closeSync(fd);
      }
    }
    return null;
  } catch {
    return null;
  }
}

/** Nearest existing ancestor directory of a path (where new directories would be made). */
function existingAncestor(p: string): string {
  let d = path.dirname(p);
  while (!fs.existsSync(d)) d = path.dirname(d);
  return d;
}

/**
 * Checks made before anything is created: back ends to create must not exist and their place must
 * be writable, with room for non-sparse ones; given ones must exist and be large enough.
 */
export function checkBackends(backends: Backend[], sparse: boolean, restored = false): void {
  const need = new Map<string, number>();
  for (const b of backends) {
    if (b.create) {
      if (fs.existsSync(b.path) || isSymlink(b.path)) throw new BackendError(`back end ${b.display} already exists; ldmp2v never overwrites a back end (remove it, or name another with -B)`);
      const anc = existingAncestor(b.path);
      if (!fs.statSync(anc).isDirectory()) throw new BackendError(`cannot create back end ${b.display}: ${anc} is not a directory`);
      try {
        fs.accessSync(anc, fs.constants.W_OK);
      } catch {
        throw new BackendError(`cannot create back end ${b.display}: ${anc}: permission denied`);
      }
      if (!sparse) need.set(anc, (need.get(anc) ?? 0) + b.size);
    } else {
      const size = existingSize(b.path);
      if (size === null)
        throw new BackendError(
          restored
            ? `back end ${b.display} does not exist (with -R, create and restore the disks first, under their default names)`
            : `back end ${b.display} does not exist (a ${b.type} back end must be created before ldmp2v prepare)`,
        );
      // With -R the user chose the disk sizes; only the boot block must fit.
      if (restored && size < IMAGE_HEADER_SIZE) throw new BackendError(`back end ${b.display} is too small to hold a boot block`);
      if (!restored && size < b.size) throw new BackendError(`back end ${b.display} is ${formatSize(size)}; disk ${b.index} needs ${formatSize(b.size)}`);
    }
  }
  // Non-sparse back ends reserve their space: refuse now rather than fill the file system halfway.
  for (const [dir, bytes] of need) {
    const st = fs.statfsSync(dir);
    const free = Number(st.bavail) * Number(st.bsize);
    if (free < bytes) throw new BackendError(`${dir}: ${formatSize(free)} free, ${formatSize(bytes)} needed for non-sparse back ends (use -s or BACKEND_SPARSE="yes")`);
  }
}

function isSymlink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Directories to make for a back end, outermost first. */
export function missingDirs(p: string): string[] {
  const out: string[] = [];
  let d = path.dirname(p);
  while (!fs.existsSync(d)) {
    out.unshift(d);
    d = path.dirname(d);
  }
  return out;
}

/** Name of the temporary file a back end is built under (removed on failure or interruption). */
export function tempName(p: string): string {
  return path.join(path.dirname(p), `.${path.basename(p)}.ldmp2v-${randomUUID().slice(0, 8)}.tmp`);
}

/**
 * Makes a back end of `size` bytes under `tmp`, then links it into place: it appears whole or not
 * at all, and an existing name is never replaced. Sparse: ftruncate; otherwise zeros are written
 * (what mkfile does) — for a zvol the model reserves by the up-front space check, and stays sparse.
 */
export function createBackend(b: Backend, tmp: string, sparse: boolean): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, 'wx', 0o600);
    if (sparse || b.type === 'zvol') fs.ftruncateSync(fd, b.size);
    else {
      const chunk = Buffer.alloc(8 * M);
      for (let off = 0; off < b.size; off += chunk.length) fs.writeSync(fd, chunk, 0, Math.min(chunk.length, b.size - off), off);
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.linkSync(tmp, b.path);
  } catch (e) {
    if (fd !== null) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new BackendError(`back end ${b.display} appeared while ldmp2v was creating it; left alone`);
    throw new BackendError(`cannot create back end ${b.display}: ${code === 'ENOSPC' ? 'no space left on device' : code ?? (e as Error).message}`);
  }
  // In place: from here on a failure must not be reported as "nothing created".
  fs.rmSync(tmp, { force: true });
}

function writeAt(p: string, data: Buffer, offset: number): void {
  const fd = fs.openSync(p, 'r+');
  try {
    let n = 0;
    while (n < data.length) n += fs.writeSync(fd, data, n, data.length - n, offset + n);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function fsSlice(disk: TargetDisk, mountPoint: string): TargetSlice {
  const s = disk.slices.find((x) => x.use === 'fs' && x.mountPoint === mountPoint);
  if (!s) throw new BackendError(`${mountPoint}: no slice on disk ${disk.index}`);
  return s;
}

/** Writes a file system (its entries, as an archive) onto its slice; refuses what does not fit. */
export function writeFileSystem(b: Backend, disk: TargetDisk, mountPoint: string, entries: TarEntry[]): void {
  const s = fsSlice(disk, mountPoint);
  const data = writeTar(entries);
  if (data.length > s.size - FS_OFFSET)
    throw new BackendError(`${mountPoint}: ${formatSize(data.length)} of data does not fit on slice ${s.number} (${formatSize(s.size)}) of ${b.display}`);
  writeAt(b.path, data, s.offset + FS_OFFSET);
}

/** Reads back the file system on a slice (what the guest would mount). */
export function readFileSystem(backendPath: string, slice: { offset: number; size: number; mountPoint?: string }): TarEntry[] {
  const fd = fs.openSync(backendPath, 'r');
  try {
    const chunks: Buffer[] = [];
    let off = slice.offset + FS_OFFSET;
    const end = slice.offset + slice.size;
    // Read whole blocks until the end marker: the archive is what newfs and restore left there.
    for (;;) {
      if (off + BLOCK > end) break;
      const h = Buffer.alloc(BLOCK);
      if (fs.readSync(fd, h, 0, BLOCK, off) < BLOCK) break;
      chunks.push(h);
      off += BLOCK;
      if (h.every((x) => x === 0)) {
        chunks.push(Buffer.alloc(BLOCK));
        break;
      }
      const size = parseInt(h.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
      const len = Math.ceil(size / BLOCK) * BLOCK;
      if (!Number.isSafeInteger(len) || off + len > end) break;
      const body = Buffer.alloc(len);
      if (len && fs.readSync(fd, body, 0, len, off) < len) break;
      chunks.push(body);
      off += len;
    }
    return readTar(Buffer.concat(chunks), `${backendPath} slice at ${slice.offset}${slice.mountPoint ? ` (${slice.mountPoint})` : ''}`);
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes the OS image header into the boot disk's first 8 KiB. */
export function writeHeader(b: Backend, header: Buffer): void {
  if (header.length !== IMAGE_HEADER_SIZE) throw new BackendError('internal: the image header must be 8 KiB');
  writeAt(b.path, header, 0);
}

/** "newfs": an empty file system (an archive with no entries) on every file-system slice. */
export function makeFileSystems(b: Backend, disk: TargetDisk): void {
  for (const s of disk.slices) if (s.use === 'fs') writeAt(b.path, Buffer.alloc(2 * BLOCK), s.offset + FS_OFFSET);
}

export function describe(layout: Layout, backends: Backend[]): string[] {
  return layout.disks.map((d) => {
    const b = backends[d.index];
    const fsList = d.slices.filter((s) => s.use === 'fs' || s.use === 'swap').map((s) => `s${s.number}=${s.use === 'fs' ? s.mountPoint : 'swap'}`);
    return `  ${b.vdisk}: ${b.display} (${formatSize(d.size)}), volume ${b.volume}, from ${d.source}: ${fsList.join(' ')}`;
  });
}
