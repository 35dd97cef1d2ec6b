// The physical source of a P2V conversion, modelled as a JSON manifest (docs/ldmp2v.md). The
// manifest plays the part of the sun4u/sun4v server that `ldmp2v collect` runs on: its identity,
// disks with VTOC slices, file systems, /etc/vfstab, SVM mirrors or a VxVM-encapsulated boot disk,
// and network interfaces. Loading validates the shape; p2vRefusals() applies the tool's limits.

import fs from 'node:fs';
import path from 'node:path';
import { parseSize } from '../format/units.js';

export type Arch = 'sun4u' | 'sun4v';
export type FsType = 'ufs' | 'zfs' | 'swap';
/** VTOC partition tags as `prtvtoc`/`format` name them. */
export const SLICE_TAGS = [
  'unassigned', 'boot', 'root', 'swap', 'usr', 'backup', 'stand', 'var', 'home', 'alternates', 'reserved',
] as const;
export type SliceTag = (typeof SLICE_TAGS)[number];

export interface Slice {
  /** 0..7 (a VTOC label has eight slices; slice 2 is conventionally the whole disk). */
  number: number;
  size: string;
  tag: SliceTag;
}

export interface PhysicalDisk {
  /** `cNtNdN` or `cNdN`. */
  name: string;
  size: string;
  slices: Slice[];
}

export interface FileSystem {
  /** `/dev/dsk/c0t0d0s0`, `/dev/md/dsk/d10` (SVM) or `/dev/vx/dsk/rootdg/rootvol` (VxVM). */
  device: string;
  /** `-` for swap. */
  mountPoint: string;
  type: FsType;
  size: string;
  /** Bytes in use; defaults to `size` (what the auto-resize rule of prepare looks at). */
  used?: string;
  /** What the file system holds: a directory or a `.tar` file, relative to the manifest file. */
  contents?: string;
}

export interface SvmSubmirror {
  /** `d11`. */
  name: string;
  /** `c0t0d0s0`. */
  slice: string;
}

export interface SvmMirror {
  /** `d10`. */
  name: string;
  submirrors: SvmSubmirror[];
}

export interface VxvmEncapsulation {
  /** The encapsulated boot disk, `c0t0d0`. */
  bootDisk: string;
  /** Disk group of the boot disk, usually `rootdg`. */
  diskGroup: string;
}

export interface NetworkInterface {
  /** `bge0`, `ce0`, `hme0`. */
  name: string;
  mac: string;
  ip: string;
  netmask: string;
}

export interface PhysicalManifest {
  hostname: string;
  /** As `hostid` prints it: eight hex digits, optionally with `0x`. */
  hostid: string;
  platform: { name: string; arch: Arch };
  /** `Solaris 8`, `Solaris 9 9/05`, `Solaris 10 10/08`. */
  release: string;
  cpus: number;
  memory: string;
  disks: PhysicalDisk[];
  fileSystems: FileSystem[];
  /** The text of /etc/vfstab. */
  vfstab: string;
  svm?: { mirrors: SvmMirror[] };
  vxvm?: VxvmEncapsulation;
  interfaces: NetworkInterface[];
  /** Non-global zones installed on the source (Solaris 10 only). */
  zones?: string[];
  /** True for a sun4v source already running the Logical Domains Manager. */
  logicalDomains?: boolean;
}

/** A malformed manifest; the message names the file and the field. */
export class ManifestError extends Error {}

const DISK_RE = /^c\d+(t\d+)?d\d+$/;
const SLICE_RE = /^(c\d+(?:t\d+)?d\d+)s([0-7])$/;
const MAC_RE = /^[0-9a-f]{1,2}(:[0-9a-f]{1,2}){5}$/i;
const RELEASE_RE = /^Solaris (\d+)(?: (\d{1,2})\/(\d{2}))?$/;

/** Solaris major number of a release string (`Solaris 10 10/08` → 10), or null. */
export function releaseMajor(release: string): number | null {
  const m = RELEASE_RE.exec(release);
  return m ? Number(m[1]) : null;
}

/** Bytes of a validated size string. */
export function bytes(size: string): number {
  const n = parseSize(size);
  if (n === null) throw new ManifestError(`bad size '${size}'`);
  return n;
}

/** `c0t0d0s0` of a `/dev/dsk/c0t0d0s0` device, null for metadevices and volumes. */
export function deviceSlice(device: string): string | null {
  const m = /^\/dev\/dsk\/(c\d+(?:t\d+)?d\d+s[0-7])$/.exec(device);
  return m ? m[1] : null;
}

export function loadManifest(file: string): PhysicalManifest {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ManifestError(`${file}: cannot read manifest: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ManifestError(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  const m = validateManifest(doc, file);
  // Contents are named relative to the manifest so that a manifest and its trees travel together.
  const base = path.dirname(path.resolve(file));
  for (const f of m.fileSystems) if (f.contents !== undefined) f.contents = path.resolve(base, f.contents);
  return m;
}

/** Checks the shape and the cross-references of a parsed manifest; `file` only labels messages. */
export function validateManifest(doc: unknown, file: string): PhysicalManifest {
  const fail = (field: string, msg: string): never => {
    throw new ManifestError(`${file}: ${field}: ${msg}`);
  };
  const obj = (v: unknown, field: string): Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : fail(field, 'expected an object');
  const arr = (v: unknown, field: string): unknown[] => (Array.isArray(v) ? v : fail(field, 'expected an array'));
  const str = (v: unknown, field: string): string =>
    typeof v === 'string' && v.length > 0 ? v : fail(field, v === undefined ? 'missing' : 'expected a non-empty string');
  const size = (v: unknown, field: string): string => {
    const s = str(v, field);
    if (parseSize(s) === null || parseSize(s) === 0) fail(field, `'${s}' is not a size (e.g. 512M, 36G)`);
    return s;
  };
  const oneOf = <T extends string>(v: unknown, field: string, allowed: readonly T[]): T => {
    const s = str(v, field);
    return (allowed as readonly string[]).includes(s) ? (s as T) : fail(field, `'${s}' is not one of ${allowed.join(', ')}`);
  };
  const dotted = (v: unknown, field: string): string => {
    const s = str(v, field);
    const parts = s.split('.');
    if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255))
      fail(field, `'${s}' is not a dotted IPv4 address`);
    return s;
  };

  const root = obj(doc, '(top level)');
  const hostname = str(root.hostname, 'hostname');
  if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,62}$/.test(hostname)) fail('hostname', `'${hostname}' is not a host name`);
  const hostid = str(root.hostid, 'hostid');
  if (!/^(0x)?[0-9a-f]{8}$/i.test(hostid)) fail('hostid', `'${hostid}' is not eight hex digits`);
  const p = obj(root.platform, 'platform');
  const platform = { name: str(p.name, 'platform.name'), arch: oneOf(p.arch, 'platform.arch', ['sun4u', 'sun4v'] as const) };
  const release = str(root.release, 'release');
  if (!RELEASE_RE.test(release)) fail('release', `'${release}' is not of the form 'Solaris 9' or 'Solaris 10 10/08'`);
  const cpus = root.cpus;
  if (typeof cpus !== 'number' || !Number.isInteger(cpus) || cpus < 1) fail('cpus', 'expected a positive integer');
  const memory = size(root.memory, 'memory');

  const disks = arr(root.disks, 'disks').map((d, i): PhysicalDisk => {
    const f = `disks[${i}]`;
    const o = obj(d, f);
    const name = str(o.name, `${f}.name`);
    if (!DISK_RE.test(name)) fail(`${f}.name`, `'${name}' is not a disk name like c0t0d0`);
    const dsize = size(o.size, `${f}.size`);
    const seen = new Set<number>();
    const slices = arr(o.slices, `${f}.slices`).map((s, j): Slice => {
      const sf = `${f}.slices[${j}]`;
      const so = obj(s, sf);
      const number = so.number;
      if (typeof number !== 'number' || !Number.isInteger(number) || number < 0 || number > 7)
        fail(`${sf}.number`, 'expected a slice number 0..7');
      if (seen.has(number as number)) fail(`${sf}.number`, `slice ${number} listed twice`);
      seen.add(number as number);
      const ssize = size(so.size, `${sf}.size`);
      if (bytes(ssize) > bytes(dsize)) fail(`${sf}.size`, `${ssize} is larger than the disk (${dsize})`);
      return { number: number as number, size: ssize, tag: oneOf(so.tag, `${sf}.tag`, SLICE_TAGS) };
    });
    return { name, size: dsize, slices };
  });
  if (disks.length === 0) fail('disks', 'at least one disk is needed');
  const diskNames = new Set<string>();
  disks.forEach((d, i) => {
    if (diskNames.has(d.name)) fail(`disks[${i}].name`, `disk ${d.name} listed twice`);
    diskNames.add(d.name);
  });
  const sliceExists = (s: string): boolean => {
    const m = SLICE_RE.exec(s);
    return !!m && disks.some((d) => d.name === m[1] && d.slices.some((x) => x.number === Number(m[2])));
  };

  let svm: PhysicalManifest['svm'];
  if (root.svm !== undefined) {
    const so = obj(root.svm, 'svm');
    const mirrors = arr(so.mirrors, 'svm.mirrors').map((mm, i): SvmMirror => {
      const f = `svm.mirrors[${i}]`;
      const mo = obj(mm, f);
      const name = str(mo.name, `${f}.name`);
      if (!/^d\d+$/.test(name)) fail(`${f}.name`, `'${name}' is not a metadevice name like d10`);
      const submirrors = arr(mo.submirrors, `${f}.submirrors`).map((sm, j): SvmSubmirror => {
        const sf = `${f}.submirrors[${j}]`;
        const smo = obj(sm, sf);
        const sname = str(smo.name, `${sf}.name`);
        if (!/^d\d+$/.test(sname)) fail(`${sf}.name`, `'${sname}' is not a metadevice name like d11`);
        const slice = str(smo.slice, `${sf}.slice`);
        if (!sliceExists(slice)) fail(`${sf}.slice`, `'${slice}' is not a slice of a listed disk`);
        return { name: sname, slice };
      });
      if (submirrors.length < 1 || submirrors.length > 4) fail(`${f}.submirrors`, 'a mirror has 1 to 4 submirrors');
      return { name, submirrors };
    });
    svm = { mirrors };
  }

  let vxvm: VxvmEncapsulation | undefined;
  if (root.vxvm !== undefined) {
    const vo = obj(root.vxvm, 'vxvm');
    const bootDisk = str(vo.bootDisk, 'vxvm.bootDisk');
    if (!diskNames.has(bootDisk)) fail('vxvm.bootDisk', `'${bootDisk}' is not a listed disk`);
    vxvm = { bootDisk, diskGroup: vo.diskGroup === undefined ? 'rootdg' : str(vo.diskGroup, 'vxvm.diskGroup') };
  }

  const mounts = new Set<string>();
  const fileSystems = arr(root.fileSystems, 'fileSystems').map((x, i): FileSystem => {
    const f = `fileSystems[${i}]`;
    const o = obj(x, f);
    const type = oneOf(o.type, `${f}.type`, ['ufs', 'zfs', 'swap'] as const);
    const device = str(o.device, `${f}.device`);
    if (type !== 'zfs') {
      const slice = deviceSlice(device);
      const md = /^\/dev\/md\/dsk\/(d\d+)$/.exec(device);
      const vx = /^\/dev\/vx\/dsk\/[\w.-]+\/[\w.-]+$/.test(device);
      if (slice !== null) {
        if (!sliceExists(slice)) fail(`${f}.device`, `${device}: no such slice on the listed disks`);
      } else if (md) {
        if (!svm?.mirrors.some((mm) => mm.name === md[1])) fail(`${f}.device`, `${device}: metadevice ${md[1]} not in svm.mirrors`);
      } else if (vx) {
        if (!vxvm) fail(`${f}.device`, `${device}: VxVM volume but no vxvm section`);
      } else fail(`${f}.device`, `'${device}' is not /dev/dsk/cXtXdXsN, /dev/md/dsk/dN or /dev/vx/dsk/group/volume`);
    }
    const mountPoint = str(o.mountPoint, `${f}.mountPoint`);
    if (type === 'swap' ? mountPoint !== '-' : !mountPoint.startsWith('/'))
      fail(`${f}.mountPoint`, type === 'swap' ? "swap has mount point '-'" : `'${mountPoint}' is not an absolute path`);
    if (type !== 'swap') {
      if (mounts.has(mountPoint)) fail(`${f}.mountPoint`, `${mountPoint} mounted twice`);
      mounts.add(mountPoint);
    }
    const fsize = size(o.size, `${f}.size`);
    const out: FileSystem = { device, mountPoint, type, size: fsize };
    if (o.used !== undefined) {
      const used = str(o.used, `${f}.used`);
      const n = parseSize(used);
      if (n === null) fail(`${f}.used`, `'${used}' is not a size`);
      if ((n as number) > bytes(fsize)) fail(`${f}.used`, `${used} is more than the size ${fsize}`);
      out.used = used;
    }
    if (o.contents !== undefined) {
      if (type === 'swap') fail(`${f}.contents`, 'swap has no contents');
      out.contents = str(o.contents, `${f}.contents`);
    }
    return out;
  });
  if (!mounts.has('/')) fail('fileSystems', "no file system is mounted on '/'");

  const vfstab = typeof root.vfstab === 'string' ? root.vfstab : fail('vfstab', 'expected the text of /etc/vfstab');

  const nicNames = new Set<string>();
  const interfaces = arr(root.interfaces, 'interfaces').map((x, i): NetworkInterface => {
    const f = `interfaces[${i}]`;
    const o = obj(x, f);
    const name = str(o.name, `${f}.name`);
    if (!/^[a-z]+\d+$/.test(name)) fail(`${f}.name`, `'${name}' is not an interface name like bge0`);
    if (nicNames.has(name)) fail(`${f}.name`, `interface ${name} listed twice`);
    nicNames.add(name);
    const mac = str(o.mac, `${f}.mac`);
    if (!MAC_RE.test(mac)) fail(`${f}.mac`, `'${mac}' is not a MAC address like 0:3:ba:12:34:56`);
    return { name, mac, ip: dotted(o.ip, `${f}.ip`), netmask: dotted(o.netmask, `${f}.netmask`) };
  });

  const out: PhysicalManifest = {
    hostname, hostid, platform, release, cpus: cpus as number, memory, disks, fileSystems, vfstab, interfaces,
  };
  if (svm) out.svm = svm;
  if (vxvm) out.vxvm = vxvm;
  if (root.zones !== undefined) out.zones = arr(root.zones, 'zones').map((z, i) => str(z, `zones[${i}]`));
  if (root.logicalDomains !== undefined) {
    if (typeof root.logicalDomains !== 'boolean') fail('logicalDomains', 'expected true or false');
    out.logicalDomains = root.logicalDomains as boolean;
  }
  return out;
}

/**
 * The reasons ldmp2v cannot convert this source (empty when it can). Sources: reference A.2
 * (sun4u from Solaris 8; non-LDoms sun4v on Solaris 10; no ZFS root, no Solaris 11), A.3.1 (UFS
 * only) and the [M] limitation list of A.5 (plain disks, SVM, VxVM-encapsulated boot disk only;
 * non-global zones not handled).
 */
export function p2vRefusals(m: PhysicalManifest): string[] {
  const out: string[] = [];
  const major = releaseMajor(m.release);
  const root = m.fileSystems.find((f) => f.mountPoint === '/');
  if (root?.type === 'zfs') out.push(`${m.hostname}: the root file system is ZFS; ldmp2v converts only systems with a UFS root`);
  else if (root && root.type !== 'ufs') out.push(`${m.hostname}: the root file system is ${root.type}, not UFS`);
  if (major === null || major < 8 || major > 10)
    out.push(`${m.hostname}: ${m.release} is not supported; the source must run Solaris 8, 9 or 10`);
  else if (m.platform.arch === 'sun4v' && major !== 10)
    out.push(`${m.hostname}: a sun4v source must run Solaris 10 (it runs ${m.release})`);
  if (m.platform.arch === 'sun4v' && m.logicalDomains)
    out.push(`${m.hostname}: a sun4v source must not be running Logical Domains`);
  for (const f of m.fileSystems)
    if (f.type === 'zfs' && f.mountPoint !== '/')
      out.push(`${m.hostname}: ${f.mountPoint} is a ZFS file system; only UFS file systems can be converted`);
  for (const f of m.fileSystems) {
    const vx = /^\/dev\/vx\/dsk\/([\w.-]+)\//.exec(f.device);
    if (vx && m.vxvm && vx[1] !== m.vxvm.diskGroup)
      out.push(`${m.hostname}: ${f.device} is a VxVM volume outside the encapsulated boot disk; only the boot disk may be under VxVM`);
  }
  if (m.zones && m.zones.length > 0)
    out.push(`${m.hostname}: non-global zones (${m.zones.join(', ')}) cannot be upgraded by ldmp2v`);
  return out;
}
