// POSIX ustar archives, written and read with Node alone: the "flash" archives of collect and the
// file systems prepare restores onto virtual disks. Writes directories, regular files and symbolic
// links (names split into prefix/name as POSIX allows; owner root; entries in the order given).
// Reads the same plus what other tar programs write for long names (pax `x`, GNU `L`/`K`).

import fs from 'node:fs';
import path from 'node:path';

export const BLOCK = 512;

export interface TarEntry {
  /** Relative path; directories end in `/`. */
  name: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** File contents (files only). */
  data?: Buffer;
  /** Link target (symlinks only). */
  link?: string;
}

export class TarError extends Error {}

/** Entries of a directory tree, sorted so an archive is reproducible. */
export function directoryEntries(root: string): TarEntry[] {
  const out: TarEntry[] = [];
  const walk = (rel: string): void => {
    for (const n of fs.readdirSync(path.join(root, rel)).sort()) {
      const r = rel ? `${rel}/${n}` : n;
      const full = path.join(root, r);
      const st = fs.lstatSync(full);
      const mtime = Math.floor(st.mtimeMs / 1000);
      if (st.isDirectory()) {
        out.push({ name: `${r}/`, type: 'dir', mode: st.mode & 0o7777, mtime });
        walk(r);
      } else if (st.isSymbolicLink()) {
        out.push({ name: r, type: 'symlink', mode: st.mode & 0o7777, mtime, link: fs.readlinkSync(full) });
      } else if (st.isFile()) {
        out.push({ name: r, type: 'file', mode: st.mode & 0o7777, mtime, data: fs.readFileSync(full) });
      }
    }
  };
  walk('');
  return out;
}

export function tarDirectory(root: string): Buffer {
  return writeTar(directoryEntries(root));
}

/** An archive of `entries`, ending in the two zero blocks. */
export function writeTar(entries: TarEntry[]): Buffer {
  const chunks: Buffer[] = [];
  for (const e of entries) {
    const data = e.type === 'file' ? (e.data ?? Buffer.alloc(0)) : Buffer.alloc(0);
    const type = e.type === 'dir' ? '5' : e.type === 'symlink' ? '2' : '0';
    chunks.push(header(e.name, e.mode, data.length, e.mtime, type, e.link ?? ''));
    if (data.length) {
      chunks.push(data);
      const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
      if (pad) chunks.push(Buffer.alloc(pad));
    }
  }
  chunks.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(chunks);
}

function header(name: string, mode: number, size: number, mtime: number, type: string, link: string): Buffer {
  const h = Buffer.alloc(BLOCK);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', name.endsWith('/') ? name.length - 2 : name.length - 1);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
    if (cut < 0 || Buffer.byteLength(prefix) > 155 || Buffer.byteLength(base) > 100)
      throw new TarError(`${name}: path too long for a ustar archive`);
  }
  if (Buffer.byteLength(link) > 100) throw new TarError(`${name}: link target too long for a ustar archive`);
  const put = (text: string, off: number, len: number): void => void h.write(text, off, len, 'utf8');
  const oct = (n: number, off: number, len: number): void => put(`${n.toString(8).padStart(len - 1, '0')}\0`, off, len);
  put(base, 0, 100);
  oct(mode & 0o7777, 100, 8);
  oct(0, 108, 8);
  oct(0, 116, 8);
  oct(size, 124, 12);
  oct(Math.max(0, mtime), 136, 12);
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

/**
 * The entries of an archive. `label` names it in errors. Stops at the first zero block (the end
 * marker); hard links and devices are skipped, as a UFS restore of them is not modelled.
 */
export function readTar(buf: Buffer, label: string): TarEntry[] {
  const out: TarEntry[] = [];
  let longName: string | null = null;
  let longLink: string | null = null;
  let off = 0;
  while (off + BLOCK <= buf.length) {
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) return out;
    const str = (o: number, l: number) => h.subarray(o, o + l).toString('utf8').replace(/\0.*$/s, '');
    const num = (o: number, l: number) => {
      const t = str(o, l).trim();
      return t === '' ? 0 : parseInt(t, 8);
    };
    let sum = 0;
    h.forEach((b, i) => (sum += i >= 148 && i < 156 ? 32 : b));
    if (num(148, 8) !== sum) throw new TarError(`${label}: corrupt archive (bad header checksum at byte ${off})`);
    const size = num(124, 12);
    if (!Number.isSafeInteger(size) || size < 0) throw new TarError(`${label}: corrupt archive (bad size at byte ${off})`);
    const dataStart = off + BLOCK;
    if (dataStart + size > buf.length) throw new TarError(`${label}: archive ends inside an entry`);
    const data = buf.subarray(dataStart, dataStart + size);
    off = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    const type = str(156, 1) || '0';
    if (type === 'x') {
      for (const rec of pax(data)) {
        if (rec[0] === 'path') longName = rec[1];
        if (rec[0] === 'linkpath') longLink = rec[1];
      }
      continue;
    }
    if (type === 'L' || type === 'K') {
      const v = data.toString('utf8').replace(/\0.*$/s, '');
      if (type === 'L') longName = v;
      else longLink = v;
      continue;
    }
    const prefix = str(257, 6).startsWith('ustar') ? str(345, 155) : '';
    const name = longName ?? (prefix ? `${prefix}/${str(0, 100)}` : str(0, 100));
    const link = longLink ?? str(157, 100);
    longName = longLink = null;
    const base = { name: name.replace(/^\.\//, ''), mode: num(100, 8), mtime: num(136, 12) };
    if (base.name === '' || base.name === '.' || base.name === './') continue;
    if (type === '5') out.push({ ...base, name: base.name.endsWith('/') ? base.name : `${base.name}/`, type: 'dir' });
    else if (type === '2') out.push({ ...base, type: 'symlink', link });
    else if (type === '0' || type === '7') out.push({ ...base, type: 'file', data: Buffer.from(data) });
    else if (type === 'g') continue;
  }
  throw new TarError(`${label}: archive has no end marker`);
}

/** pax extended header records, `LEN key=value\n`, LEN counted in bytes. */
function pax(data: Buffer): [string, string][] {
  const out: [string, string][] = [];
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = Number(data.subarray(i, sp).toString('latin1'));
    if (!Number.isInteger(len) || len <= 0 || i + len > data.length) break;
    const rec = data.subarray(sp + 1, i + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0) out.push([rec.slice(0, eq), rec.slice(eq + 1)]);
    i += len;
  }
  return out;
}

/** Bytes an archive occupies up to and including its end marker (what a restore reads). */
export function tarLength(buf: Buffer): number {
  let off = 0;
  while (off + BLOCK <= buf.length) {
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) return Math.min(buf.length, off + 2 * BLOCK);
    const size = parseInt(h.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
    off += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  return buf.length;
}
