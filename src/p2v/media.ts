// The Solaris 10 install media of the conversion phase (reference A.3.3), checked the way an
// installer recognises them:
//   -i  a DVD image: an ISO 9660 file whose primary volume descriptor names a Solaris 10 SPARC DVD,
//       volume ID `SOL_10_<M><YY>_SPARC` (SOL_10_910_SPARC is Solaris 10 9/10);
//   -n  a network install image, as setup_install_server lays it out: `.cdtoc` (PRODNAME=Solaris,
//       PRODVERS=10), `Solaris_10/Tools/Boot`, and the release line in
//       `Solaris_10/Product/SUNWsolnm/reloc/etc/release`. The modelled network has one install
//       server; LDMP2V_INSTALL_SERVER names its image directory;
//   -j  Custom JumpStart: `jumpstart/rules.ok` in that directory (the output of `check`), whose
//       first rule's profile says `install_type upgrade`.

import fs from 'node:fs';
import path from 'node:path';
import { compareReleases, parseRelease } from '../guest/image.js';

export class MediaError extends Error {}

export const SECTOR = 2048;
export const INSTALL_SERVER_ENV = 'LDMP2V_INSTALL_SERVER';
export const RELEASE_FILE = 'Solaris_10/Product/SUNWsolnm/reloc/etc/release';

export interface Media {
  method: 'iso' | 'network' | 'jumpstart';
  /** The ISO file or the install image directory. */
  location: string;
  /** Canonical release, `Solaris 10 9/10`. */
  release: string;
  /** -j: the profile's path. */
  profile?: string;
}

/** Volume ID of a Solaris 10 SPARC DVD for a release (`Solaris 10 9/10` → `SOL_10_910_SPARC`). */
export function volumeId(release: string): string {
  const r = parseRelease(release);
  const m = r && /^Solaris 10 (\d{1,2})\/(\d{2})$/.exec(r);
  if (!m) throw new MediaError(`${release}: not a Solaris 10 release`);
  return `SOL_10_${m[1]}${m[2]}_SPARC`;
}

/** The release a Solaris DVD volume ID names, or null. */
export function releaseOfVolumeId(id: string): string | null {
  const m = /^SOL_10_(\d{1,2})(\d{2})_SPARC$/.exec(id);
  if (!m) return null;
  return parseRelease(`Solaris 10 ${Number(m[1])}/${m[2]}`);
}

/** Reads and checks a DVD image (-i). */
export function checkIso(file: string): Media {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new MediaError(`${file}: ${code === 'ENOENT' ? 'no such install image' : code === 'EISDIR' ? 'is a directory, not an ISO image' : `cannot read: ${code}`}`);
  }
  const pvd = Buffer.alloc(SECTOR);
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) throw new MediaError(`${file}: is a directory, not an ISO image`);
    if (!st.isFile()) throw new MediaError(`${file}: not an ISO image file`);
    const n = fs.readSync(fd, pvd, 0, SECTOR, 16 * SECTOR);
    if (n < SECTOR) throw new MediaError(`${file}: not an ISO 9660 image (too short)`);
  } finally {
    fs.closeSync(fd);
  }
  if (pvd[0] !== 1 || pvd.subarray(1, 6).toString('latin1') !== 'CD001' || pvd[6] !== 1)
    throw new MediaError(`${file}: not an ISO 9660 image (no primary volume descriptor)`);
  const id = pvd.subarray(40, 72).toString('latin1').trim();
  if (/^SOL_\d+_\d+_X86$/i.test(id)) throw new MediaError(`${file}: volume ${id} is an x86 DVD; a SPARC one is needed`);
  const release = releaseOfVolumeId(id);
  if (!release) throw new MediaError(`${file}: volume '${id}' is not a Solaris 10 SPARC DVD (expected a volume ID like SOL_10_910_SPARC)`);
  return { method: 'iso', location: path.resolve(file), release };
}

/** Reads and checks the install server's image (-n), and with `jumpstart` its JumpStart rules (-j). */
export function checkNetInstall(dir: string | undefined, jumpstart: boolean): Media {
  if (!dir) throw new MediaError(`no install server answers on the network: set ${INSTALL_SERVER_ENV} to the network install image directory (docs/ldmp2v.md)`);
  const where = path.resolve(dir);
  if (!fs.existsSync(where) || !fs.statSync(where).isDirectory()) throw new MediaError(`${where}: no such network install image directory (${INSTALL_SERVER_ENV})`);
  let cdtoc: string;
  try {
    cdtoc = fs.readFileSync(path.join(where, '.cdtoc'), 'utf8');
  } catch {
    throw new MediaError(`${where}: not a Solaris install image (no .cdtoc)`);
  }
  const toc = new Map(cdtoc.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => [l.split('=')[0], l.slice(l.indexOf('=') + 1)] as [string, string]));
  if (toc.get('PRODNAME') !== 'Solaris' || toc.get('PRODVERS') !== '10')
    throw new MediaError(`${where}: .cdtoc names ${toc.get('PRODNAME') ?? '?'} ${toc.get('PRODVERS') ?? '?'}, not Solaris 10`);
  if (!fs.existsSync(path.join(where, 'Solaris_10', 'Tools', 'Boot')))
    throw new MediaError(`${where}: no Solaris_10/Tools/Boot: not a network install image (made by setup_install_server)`);
  let rel: string;
  try {
    rel = fs.readFileSync(path.join(where, RELEASE_FILE), 'utf8');
  } catch {
    throw new MediaError(`${where}: no ${RELEASE_FILE}`);
  }
  const first = rel.split('\n').find((l) => l.trim()) ?? '';
  const m = /Solaris 10 (\d{1,2}\/\d{2})\b.*\bSPARC\b/.exec(first);
  const release = m ? parseRelease(`Solaris 10 ${m[1]}`) : null;
  if (!release) throw new MediaError(`${where}: ${RELEASE_FILE} does not name a Solaris 10 SPARC release ('${first.trim()}')`);
  if (!jumpstart) return { method: 'network', location: where, release };

  const js = path.join(where, 'jumpstart');
  let rules: string;
  try {
    rules = fs.readFileSync(path.join(js, 'rules.ok'), 'utf8');
  } catch {
    throw new MediaError(`${js}/rules.ok: missing: -j needs a checked Custom JumpStart configuration (run check in ${js})`);
  }
  const rule = rules.split('\n').map((l) => l.trim()).find((l) => l && !l.startsWith('#'));
  const words = rule?.split(/\s+/) ?? [];
  if (words.length < 5) throw new MediaError(`${js}/rules.ok: no rule of the form 'keyword value begin profile finish'`);
  const profile = path.join(js, words[3]);
  let text: string;
  try {
    text = fs.readFileSync(profile, 'utf8');
  } catch {
    throw new MediaError(`${profile}: the JumpStart profile of the rule is missing`);
  }
  const type = /^\s*install_type\s+(\S+)/m.exec(text)?.[1];
  if (type !== 'upgrade') throw new MediaError(`${profile}: install_type is ${type ?? 'not set'}; ldmp2v converts by an upgrade (install_type upgrade)`);
  return { method: 'jumpstart', location: where, release, profile };
}

/** The media must not be older than the Solaris 10 the source already runs. */
export function checkUpgradePath(from: string, to: string): void {
  if (!/^Solaris 10 /.test(from)) return;
  if (compareReleases(to, from) < 0) throw new MediaError(`cannot upgrade ${from} to the older ${to}`);
}

/**
 * Writes a minimal ISO 9660 image naming a Solaris 10 SPARC DVD: the system area, a primary volume
 * descriptor with the volume ID, and the set terminator (what `mkisofs -V SOL_10_910_SPARC` starts
 * with). For tests and for trying ldmp2v out.
 */
export function writeInstallIso(file: string, release: string): void {
  const id = volumeId(release);
  const buf = Buffer.alloc(18 * SECTOR);
  const pvd = buf.subarray(16 * SECTOR, 17 * SECTOR);
  pvd[0] = 1;
  pvd.write('CD001', 1, 'latin1');
  pvd[6] = 1;
  pvd.write('SunOS'.padEnd(32), 8, 'latin1');
  pvd.write(id.padEnd(32), 40, 'latin1');
  pvd.writeUInt32LE(18, 80);
  pvd.writeUInt32BE(18, 84);
  pvd.writeUInt16LE(1, 120);
  pvd.writeUInt16BE(1, 122);
  pvd.writeUInt16LE(1, 124);
  pvd.writeUInt16BE(1, 126);
  pvd.writeUInt16LE(SECTOR, 128);
  pvd.writeUInt16BE(SECTOR, 130);
  pvd[881] = 1;
  const term = buf.subarray(17 * SECTOR, 18 * SECTOR);
  term[0] = 255;
  term.write('CD001', 1, 'latin1');
  term[6] = 1;
  fs.writeFileSync(file, buf);
}
