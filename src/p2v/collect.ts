// The collection phase (reference A.3.1): on the source, write the data directory — the system
// description, a copy of /etc/vfstab, and either one archive per mounted UFS file system (`-a flash`)
// or the list of file systems the user must archive by hand (`-a none`). `-x` leaves mount points out.
//
// Archive format: a flash archive cannot be produced without flarcreate, so each file system is a
// POSIX ustar file written here with Node alone (docs/ldmp2v.md). A `.tar` named as contents is
// copied as is; a file system with no contents gets an empty archive (two zero blocks), noted so.

import fs from 'node:fs';
import path from 'node:path';
import { bytes, p2vRefusals, type PhysicalManifest } from './manifest.js';

export type ArchiveMethod = 'flash' | 'none';

export interface CollectOptions {
  dir: string;
  /** Default `flash` [M]. */
  archive?: ArchiveMethod;
  exclude: string[];
}

export interface ArchivedFs {
  mountPoint: string;
  device: string;
  size: number;
  /** File name inside `<dir>/archive/`, null with `-a none`. */
  archive: string | null;
  /** True when the manifest gave no contents and the archive is empty. */
  empty: boolean;
}

export interface CollectResult {
  dir: string;
  archive: ArchiveMethod;
  fileSystems: ArchivedFs[];
  excluded: string[];
  /** Mount points the user must archive by hand (`-a none`). */
  manual: string[];
  /** Progress lines for the terminal (wording [M], reference A.6). */
  lines: string[];
}

export class CollectError extends Error {}

export const SYSTEM_FILE = 'system.json';
export const VFSTAB_FILE = 'vfstab';
export const ARCHIVE_DIR = 'archive';
export const MANUAL_FILE = 'manual-archive.txt';

/** `-a` argument; 2.0 accepts only flash and none (ufsdump was 1.2/1.3). */
export function parseArchiveMethod(arg: string): ArchiveMethod {
  if (arg === 'flash' || arg === 'none') return arg;
  if (arg === 'ufsdump') throw new CollectError("-a ufsdump: not available in this release; use -a flash or -a none");
  throw new CollectError(`-a ${arg}: expected flash or none`);
}

/** Archive file name of a mount point: `/` → `root.tar`, `/export/home` → `export-home.tar`. */
export function archiveName(mountPoint: string): string {
  return mountPoint === '/' ? 'root.tar' : `${mountPoint.slice(1).replace(/\//g, '-')}.tar`;
}

export function collect(manifest: PhysicalManifest, opts: CollectOptions): CollectResult {
  const method = opts.archive ?? 'flash';
  const refusals = p2vRefusals(manifest);
  if (refusals.length > 0) throw new CollectError(refusals.join('\n'));

  // Everything is checked before the first write, so a refused collect leaves nothing behind.
  const ufs = manifest.fileSystems.filter((f) => f.type === 'ufs');
  for (const x of opts.exclude) {
    if (x === '/') throw new CollectError('-x /: the root file system cannot be excluded');
    if (!ufs.some((f) => f.mountPoint === x)) throw new CollectError(`-x ${x}: not a mounted UFS file system of ${manifest.hostname}`);
  }
  const kept = ufs.filter((f) => !opts.exclude.includes(f.mountPoint));
  if (method === 'flash') {
    for (const f of kept) {
      if (f.contents === undefined) continue;
      let st: fs.Stats;
      try {
        st = fs.statSync(f.contents);
      } catch {
        throw new CollectError(`${f.mountPoint}: contents ${f.contents} do not exist`);
      }
      if (!st.isDirectory() && !(st.isFile() && f.contents.endsWith('.tar')))
        throw new CollectError(`${f.mountPoint}: contents ${f.contents} are neither a directory nor a .tar file`);
    }
  }
  if (fs.existsSync(opts.dir)) {
    if (!fs.statSync(opts.dir).isDirectory()) throw new CollectError(`${opts.dir}: exists and is not a directory`);
    if (fs.readdirSync(opts.dir).length > 0) throw new CollectError(`${opts.dir}: data directory is not empty`);
  }

  const lines = ['Collecting system configuration ...'];
  fs.mkdirSync(opts.dir, { recursive: true });
  const fileSystems: ArchivedFs[] = kept.map((f) => ({
    mountPoint: f.mountPoint,
    device: f.device,
    size: bytes(f.size),
    archive: method === 'flash' ? archiveName(f.mountPoint) : null,
    empty: method === 'flash' && f.contents === undefined,
  }));
  let manual: string[] = [];
  if (method === 'flash') {
    lines.push('Archiving file systems ...');
    const adir = path.join(opts.dir, ARCHIVE_DIR);
    fs.mkdirSync(adir);
    for (const f of kept) {
      const out = path.join(adir, archiveName(f.mountPoint));
      if (f.contents === undefined) fs.writeFileSync(out, Buffer.alloc(1024));
      else if (fs.statSync(f.contents).isDirectory()) fs.writeFileSync(out, tarDirectory(f.contents));
      else fs.copyFileSync(f.contents, out);
    }
    lines.push('Archive creation complete.');
  } else {
    manual = kept.map((f) => f.mountPoint);
    fs.writeFileSync(path.join(opts.dir, MANUAL_FILE), manual.map((m) => `${m}\n`).join(''));
    lines.push(`The following file system(s) must be archived manually: ${manual.join(' ')}`);
  }

  const system = {
    collected: { archive: method, excluded: opts.exclude },
    source: manifest,
    fileSystems,
  };
  fs.writeFileSync(path.join(opts.dir, SYSTEM_FILE), `${JSON.stringify(system, null, 2)}\n`);
  fs.writeFileSync(path.join(opts.dir, VFSTAB_FILE), manifest.vfstab);
  return { dir: opts.dir, archive: method, fileSystems, excluded: [...opts.exclude], manual, lines };
}

// ---------------------------------------------------------------------------------------------
// Minimal ustar writer: directories, regular files and symbolic links, names split into
// prefix/name as POSIX allows; owner root. Entries sorted so an archive is reproducible.

const BLOCK = 512;

export function tarDirectory(root: string): Buffer {
  const chunks: Buffer[] = [];
  const walk = (rel: string): void => {
    const names = fs.readdirSync(path.join(root, rel)).sort();
    for (const n of names) {
      const r = rel ? `${rel}/${n}` : n;
      const full = path.join(root, r);
      const st = fs.lstatSync(full);
      if (st.isDirectory()) {
        chunks.push(header(`${r}/`, st.mode, 0, st.mtimeMs, '5', ''));
        walk(r);
      } else if (st.isSymbolicLink()) {
        chunks.push(header(r, st.mode, 0, st.mtimeMs, '2', fs.readlinkSync(full)));
      } else if (st.isFile()) {
        const data = fs.readFileSync(full);
        chunks.push(header(r, st.mode, data.length, st.mtimeMs, '0', ''), data);
        const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
        if (pad) chunks.push(Buffer.alloc(pad));
      }
    }
  };
  walk('');
  chunks.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(chunks);
}

function header(name: string, mode: number, size: number, mtimeMs: number, type: string, link: string): Buffer {
  const h = Buffer.alloc(BLOCK);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', name.endsWith('/') ? name.length - 2 : name.length - 1);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
    if (cut < 0 || Buffer.byteLength(prefix) > 155 || Buffer.byteLength(base) > 100)
      throw new CollectError(`${name}: path too long for a ustar archive`);
  }
  if (Buffer.byteLength(link) > 100) throw new CollectError(`${name}: link target too long for a ustar archive`);
  const put = (text: string, off: number, len: number): void => void h.write(text, off, len, 'utf8');
  const oct = (n: number, off: number, len: number): void => put(`${n.toString(8).padStart(len - 1, '0')}\0`, off, len);
  put(base, 0, 100);
  oct(mode & 0o7777, 100, 8);
  oct(0, 108, 8);
  oct(0, 116, 8);
  oct(size, 124, 12);
  oct(Math.floor(mtimeMs / 1000), 136, 12);
  put('        ', 148, 8);
  put(type, 156, 1);
  put(link, 157, 100);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  put('root', 265, 32);
  put('root', 297, 32);
  put(prefix, 345, 155);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return h;
}
