// The collection phase (reference A.3.1): on the source, write the data directory — the system
// description, a copy of /etc/vfstab, and either one archive per mounted UFS file system (`-a flash`)
// or the list of file systems the user must archive by hand (`-a none`). `-x` leaves mount points out.
//
// Archive format: a flash archive cannot be produced without flarcreate, so each file system is a
// POSIX ustar file written here with Node alone (docs/ldmp2v.md). A `.tar` named as contents is
// copied as is; a file system with no contents gets an empty archive (two zero blocks), noted so.
// `-O` takes the flarcreate options that mean something for such an archive (parseFlarOptions).

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { bytes, p2vRefusals, type PhysicalManifest } from './manifest.js';
import { directoryEntries, readTar, TarError, writeTar, type TarEntry } from './ustar.js';

export { tarDirectory } from './ustar.js';

export type ArchiveMethod = 'flash' | 'none';

/** The flarcreate options `-O` accepts (flarcreate(1M) names). */
export interface FlarOptions {
  /** `-c`: compress the archives (gzip here; compress(1) on Solaris). */
  compress: boolean;
  /** `-x path`: leave these absolute paths (and what is below them) out of the archives. */
  exclude: string[];
  /** `-e text`: archive description. */
  description?: string;
  /** `-a author`. */
  author?: string;
  /** `-S`: skip the size check (accepted; there is no size estimate to skip here). */
  skipSizeCheck: boolean;
}

export interface CollectOptions {
  dir: string;
  /** Default `flash` [M]. */
  archive?: ArchiveMethod;
  exclude: string[];
  flar?: FlarOptions;
  /** Progress lines as they happen. */
  say?: (line: string) => void;
  /** More detail (`-v`). */
  verbose?: boolean;
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
/** Present while collect writes; a data directory holding it is the remains of an interrupted run. */
export const INCOMPLETE_MARK = '.collect-incomplete';

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

/** Splits a `-O` string as a shell would (quotes, backslashes), then reads flarcreate options. */
export function parseFlarOptions(text: string): FlarOptions {
  const words: string[] = [];
  let cur: string | null = null;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = null;
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      cur ??= '';
    } else if (c === '\\' && i + 1 < text.length) {
      cur = (cur ?? '') + text[++i];
    } else if (/\s/.test(c)) {
      if (cur !== null) words.push(cur);
      cur = null;
    } else cur = (cur ?? '') + c;
  }
  if (quote) throw new CollectError(`-O: unterminated ${quote} quote`);
  if (cur !== null) words.push(cur);
  const out: FlarOptions = { compress: false, exclude: [], skipSizeCheck: false };
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const value = (): string => {
      const v = words[++i];
      if (v === undefined) throw new CollectError(`-O: flarcreate option ${w} needs a value`);
      return v;
    };
    switch (w) {
      case '-c': out.compress = true; break;
      case '-S': out.skipSizeCheck = true; break;
      case '-x': {
        const p = value();
        if (!p.startsWith('/')) throw new CollectError(`-O: -x ${p}: expected an absolute path`);
        out.exclude.push(p.replace(/\/+$/, '') || '/');
        break;
      }
      case '-e': out.description = value(); break;
      case '-a': out.author = value(); break;
      case '-n':
        throw new CollectError('-O: -n is set by ldmp2v (it names each archive after its file system)');
      case '-R':
        throw new CollectError('-O: -R is set by ldmp2v (each file system is archived from its own mount point)');
      default:
        throw new CollectError(`-O: ${w}: not a flarcreate option ldmp2v can pass (use -c, -S, -x path, -e description, -a author)`);
    }
  }
  return out;
}

export function collect(manifest: PhysicalManifest, opts: CollectOptions): CollectResult {
  const method = opts.archive ?? 'flash';
  const flar = opts.flar;
  const lines: string[] = [];
  const say = (l: string): void => {
    lines.push(l);
    opts.say?.(l);
  };
  const refusals = p2vRefusals(manifest);
  if (refusals.length > 0) throw new CollectError(refusals.join('\n'));
  if (flar && method !== 'flash') throw new CollectError('-O: flarcreate options apply to -a flash only');

  // Everything is checked before the first write, so a refused collect leaves nothing behind.
  const ufs = manifest.fileSystems.filter((f) => f.type === 'ufs');
  for (const x of opts.exclude) {
    if (x === '/') throw new CollectError('-x /: the root file system cannot be excluded');
    if (!ufs.some((f) => f.mountPoint === x)) throw new CollectError(`-x ${x}: not a mounted UFS file system of ${manifest.hostname}`);
  }
  const kept = ufs.filter((f) => !opts.exclude.includes(f.mountPoint));
  for (const x of flar?.exclude ?? []) {
    if (!kept.some((f) => x === f.mountPoint || x.startsWith(f.mountPoint === '/' ? '/' : `${f.mountPoint}/`)))
      throw new CollectError(`-O: -x ${x}: not in a file system being archived`);
    if (kept.some((f) => f.mountPoint === x)) throw new CollectError(`-O: -x ${x}: a whole file system; leave it out with ldmp2v -x instead`);
  }
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
  let created = false;
  if (fs.existsSync(opts.dir)) {
    if (!fs.statSync(opts.dir).isDirectory()) throw new CollectError(`${opts.dir}: exists and is not a directory`);
    const present = fs.readdirSync(opts.dir);
    if (present.includes(INCOMPLETE_MARK)) {
      say(`Removing the remains of an interrupted collection in ${opts.dir} ...`);
      for (const n of present) fs.rmSync(path.join(opts.dir, n), { recursive: true, force: true });
    } else if (present.length > 0) throw new CollectError(`${opts.dir}: data directory is not empty`);
  } else {
    try {
      fs.mkdirSync(opts.dir, { recursive: true });
    } catch (e) {
      throw new CollectError(`${opts.dir}: cannot create the data directory: ${(e as NodeJS.ErrnoException).code ?? e}`);
    }
    created = true;
  }

  try {
    fs.writeFileSync(path.join(opts.dir, INCOMPLETE_MARK), `${process.pid}\n`);
    say('Collecting system configuration ...');
    const suffix = flar?.compress ? '.gz' : '';
    const fileSystems: ArchivedFs[] = kept.map((f) => ({
      mountPoint: f.mountPoint,
      device: f.device,
      size: bytes(f.size),
      archive: method === 'flash' ? archiveName(f.mountPoint) + suffix : null,
      empty: method === 'flash' && f.contents === undefined,
    }));
    let manual: string[] = [];
    if (method === 'flash') {
      say('Archiving file systems ...');
      const adir = path.join(opts.dir, ARCHIVE_DIR);
      fs.mkdirSync(adir);
      for (const [i, f] of kept.entries()) {
        const out = path.join(adir, fileSystems[i].archive!);
        let entries: TarEntry[] | null = null;
        let raw: Buffer;
        if (f.contents === undefined) raw = Buffer.alloc(1024);
        else if (fs.statSync(f.contents).isDirectory()) entries = directoryEntries(f.contents);
        else raw = fs.readFileSync(f.contents);
        const drop = (flar?.exclude ?? []).filter((x) => x.startsWith(f.mountPoint === '/' ? '/' : `${f.mountPoint}/`));
        if (drop.length > 0) {
          // Excluding paths means rewriting a given archive as well.
          entries ??= readTar(raw!, f.contents!);
          entries = entries.filter((e) => {
            const abs = `${f.mountPoint === '/' ? '' : f.mountPoint}/${e.name.replace(/\/$/, '')}`;
            return !drop.some((x) => abs === x || abs.startsWith(`${x}/`));
          });
        }
        const data = entries ? writeTar(entries) : raw!;
        fs.writeFileSync(out, flar?.compress ? zlib.gzipSync(data) : data);
        if (opts.verbose) say(`  ${f.mountPoint} -> ${ARCHIVE_DIR}/${fileSystems[i].archive} (${data.length} bytes)`);
      }
      say('Archive creation complete.');
    } else {
      manual = kept.map((f) => f.mountPoint);
      fs.writeFileSync(path.join(opts.dir, MANUAL_FILE), manual.map((m) => `${m}\n`).join(''));
      say(`The following file system(s) must be archived manually: ${manual.join(' ')}`);
    }

    const collected: Record<string, unknown> = { archive: method, excluded: opts.exclude };
    if (flar) collected.flarcreate = flar;
    const system = { collected, source: manifest, fileSystems };
    fs.writeFileSync(path.join(opts.dir, VFSTAB_FILE), manifest.vfstab);
    // system.json last: prepare trusts a data directory only once it is there and the mark is gone.
    fs.writeFileSync(path.join(opts.dir, SYSTEM_FILE), `${JSON.stringify(system, null, 2)}\n`);
    fs.rmSync(path.join(opts.dir, INCOMPLETE_MARK));
    return { dir: opts.dir, archive: method, fileSystems, excluded: [...opts.exclude], manual, lines };
  } catch (e) {
    // Leave the data directory as it was found: empty, or absent.
    for (const n of fs.existsSync(opts.dir) ? fs.readdirSync(opts.dir) : []) fs.rmSync(path.join(opts.dir, n), { recursive: true, force: true });
    if (created) fs.rmSync(opts.dir, { recursive: true, force: true });
    if (e instanceof CollectError) throw e;
    if (e instanceof TarError) throw new CollectError(e.message);
    throw new CollectError(`${opts.dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}: collection failed; nothing was kept`);
  }
}
