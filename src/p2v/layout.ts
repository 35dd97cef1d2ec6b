// How the source's disks become virtual disks (reference A.3.2): one virtual disk per source disk,
// the same slices, each file system on the slice it lived on. SVM mirrors and a VxVM-encapsulated
// boot disk are unencapsulated: a mirror's file system goes on its first submirror's slice, a VxVM
// volume on the boot-disk slice of the same tag. /, /usr and /var grow by the 10 GB rule (or -m);
// a grown slice pushes the next ones along and the disk grows by as much. Slices are laid out in
// slice order from the start of the disk (the source's cylinder offsets are not collected).

import { M } from '../format/units.js';
import { autoResize, SYSTEM_MOUNTS } from './config.js';
import { bytes, deviceSlice, type PhysicalManifest, type SliceTag } from './manifest.js';

export class LayoutError extends Error {}

export type SliceUse = 'fs' | 'swap' | 'backup' | 'unused';

export interface TargetSlice {
  number: number;
  tag: SliceTag;
  use: SliceUse;
  /** Bytes from the start of the virtual disk. */
  offset: number;
  size: number;
  sourceSize: number;
  /** For `fs`: the mount point it holds. */
  mountPoint?: string;
  /** For `unused`: why (`submirror d12 of d10`, `not collected`, ...). */
  note?: string;
}

export interface TargetDisk {
  /** Position among the virtual disks: disk N, volume N. */
  index: number;
  /** Source disk, `c1t0d0`. */
  source: string;
  /** The guest's name for it: vdisk N is `c0dN` under vdc. */
  device: string;
  size: number;
  sourceSize: number;
  slices: TargetSlice[];
}

export interface TargetFs {
  mountPoint: string;
  /** Device on the source (`/dev/md/dsk/d10`) and in the domain (`/dev/dsk/c0d0s0`). */
  sourceDevice: string;
  device: string;
  disk: number;
  slice: number;
  size: number;
  used: number;
  /** Archive in the data directory (null for -a none until the user supplies one). */
  archive: string | null;
  /** True when `-x` left it out at collection: its slice stays empty, its vfstab line is commented out. */
  excluded: boolean;
}

export interface Layout {
  disks: TargetDisk[];
  fileSystems: TargetFs[];
  swap: { sourceDevice: string; device: string }[];
  /** Disk (index) holding `/`. */
  rootDisk: number;
  /** Source device path → domain device path, block and raw (`/dev/md/rdsk/d10` → `/dev/rdsk/c0d0s0`). */
  renames: Record<string, string>;
  /** What unencapsulation and resizing did, for the terminal (-v). */
  notes: string[];
}

export interface LayoutOptions {
  /** `-m mount-point:size`. */
  sizes: Map<string, number>;
  /** `-x no-auto-adjust-fs`. */
  noAutoAdjust: boolean;
  /** `-x remove-unused-slices`. */
  removeUnused: boolean;
}

export interface CollectedFs {
  mountPoint: string;
  device: string;
  size: number;
  archive: string | null;
}

const roundMb = (n: number): number => Math.ceil(n / M) * M;

/** Where a file system device lives on the source: disk and slice, after unencapsulation. */
function physicalSlice(m: PhysicalManifest, device: string, notes: string[]): { disk: string; slice: number; freed: { disk: string; slice: number; note: string }[] } {
  const plain = deviceSlice(device);
  const split = (s: string) => {
    const x = /^(.*)s([0-7])$/.exec(s)!;
    return { disk: x[1], slice: Number(x[2]) };
  };
  if (plain) return { ...split(plain), freed: [] };
  const md = /^\/dev\/md\/dsk\/(d\d+)$/.exec(device);
  if (md) {
    const mirror = m.svm?.mirrors.find((x) => x.name === md[1]);
    if (!mirror) throw new LayoutError(`${device}: metadevice ${md[1]} is not described in the collected configuration`);
    const [first, ...rest] = mirror.submirrors;
    notes.push(`${mirror.name}: unencapsulated to ${first.slice} (submirror ${first.name})${rest.length ? `; ${rest.map((r) => `${r.slice} (${r.name})`).join(', ')} no longer used` : ''}`);
    return { ...split(first.slice), freed: rest.map((r) => ({ ...split(r.slice), note: `submirror ${r.name} of ${mirror.name}` })) };
  }
  const vx = /^\/dev\/vx\/dsk\/([\w.-]+)\/([\w.-]+)$/.exec(device);
  if (vx && m.vxvm) {
    const vol = vx[2];
    const tag: string = vol === 'rootvol' ? 'root' : vol === 'swapvol' ? 'swap' : vol;
    const disk = m.disks.find((d) => d.name === m.vxvm!.bootDisk)!;
    const s = disk.slices.find((x) => x.tag === tag);
    if (!s) throw new LayoutError(`${device}: no slice tagged ${tag} on the encapsulated boot disk ${disk.name} to unencapsulate it to`);
    notes.push(`${vol}: unencapsulated to ${disk.name}s${s.number}`);
    return { disk: disk.name, slice: s.number, freed: [] };
  }
  throw new LayoutError(`${device}: not a device ldmp2v can place on a virtual disk`);
}

/**
 * The target layout. `collected` are the file systems collect archived (or listed with -a none);
 * every other UFS file system of the manifest was excluded with -x.
 */
export function planLayout(m: PhysicalManifest, collected: CollectedFs[], opts: LayoutOptions): Layout {
  const notes: string[] = [];
  const kept = new Set(collected.map((c) => c.mountPoint));
  for (const mp of opts.sizes.keys()) {
    if (!kept.has(mp)) throw new LayoutError(`-m ${mp}: not a file system collected from ${m.hostname}`);
  }

  // Which slice holds what.
  interface Use { use: SliceUse; mountPoint?: string; note?: string }
  const uses = new Map<string, Use>();
  const key = (disk: string, slice: number) => `${disk}s${slice}`;
  const fsPlaces: { f: (typeof m.fileSystems)[number]; disk: string; slice: number }[] = [];
  for (const f of m.fileSystems) {
    if (f.type === 'zfs') continue;
    const p = physicalSlice(m, f.device, notes);
    const k = key(p.disk, p.slice);
    if (uses.has(k) && uses.get(k)!.use !== 'unused') throw new LayoutError(`${f.device}: slice ${k} is used twice`);
    if (f.type === 'swap') uses.set(k, { use: 'swap' });
    else if (kept.has(f.mountPoint)) uses.set(k, { use: 'fs', mountPoint: f.mountPoint });
    else uses.set(k, { use: 'unused', note: `${f.mountPoint} not collected` });
    for (const fr of p.freed) if (!uses.has(key(fr.disk, fr.slice))) uses.set(key(fr.disk, fr.slice), { use: 'unused', note: fr.note });
    fsPlaces.push({ f, disk: p.disk, slice: p.slice });
  }

  // New file-system sizes: -m first, then the 10 GB rule over what -m left alone.
  const sized = collected.map((c) => {
    const f = m.fileSystems.find((x) => x.mountPoint === c.mountPoint)!;
    const used = f.used !== undefined ? bytes(f.used) : bytes(f.size);
    return { mountPoint: c.mountPoint, size: bytes(f.size), used };
  });
  for (const s of sized) {
    const want = opts.sizes.get(s.mountPoint);
    if (want === undefined) continue;
    if (want < s.used) throw new LayoutError(`-m ${s.mountPoint}:${want / M}M: smaller than the ${Math.ceil(s.used / M)}M in use`);
    if (want !== s.size) notes.push(`${s.mountPoint}: ${s.size / M}M -> ${roundMb(want) / M}M (-m)`);
    s.size = roundMb(want);
  }
  if (!opts.noAutoAdjust) {
    const free = sized.filter((s) => !opts.sizes.has(s.mountPoint));
    const fixedSystem = sized.filter((s) => opts.sizes.has(s.mountPoint) && (SYSTEM_MOUNTS as readonly string[]).includes(s.mountPoint));
    // -m'd system file systems count toward the 10 GB but are not changed.
    const resized = autoResize([...free, ...fixedSystem]).slice(0, free.length);
    free.forEach((s, i) => {
      if (resized[i].size !== s.size) notes.push(`${s.mountPoint}: ${s.size / M}M -> ${resized[i].size / M}M (auto-adjust to 10G for /, /usr, /var)`);
      s.size = resized[i].size;
    });
  }
  const newSize = new Map(sized.map((s) => [s.mountPoint, s.size]));

  // Disks and slices.
  const disks: TargetDisk[] = [];
  for (const d of m.disks) {
    const slices: TargetSlice[] = [];
    let growth = 0;
    let removed = 0;
    for (const s of [...d.slices].sort((a, b) => a.number - b.number)) {
      const u = uses.get(key(d.name, s.number)) ?? (s.tag === 'backup' && s.number === 2 ? { use: 'backup' as const } : { use: 'unused' as const, note: s.tag === 'unassigned' ? 'no file system' : `${s.tag}, no file system` });
      const sourceSize = bytes(s.size);
      if (u.use === 'unused' && opts.removeUnused) {
        removed += sourceSize;
        notes.push(`${d.name}s${s.number}: left out (${u.note})`);
        continue;
      }
      let size = sourceSize;
      if (u.use === 'fs') {
        const fsNew = newSize.get(u.mountPoint!)!;
        const fsOld = bytes(m.fileSystems.find((x) => x.mountPoint === u.mountPoint)!.size);
        if (fsNew !== fsOld) size = Math.max(M, roundMb(sourceSize + fsNew - fsOld));
        growth += size - sourceSize;
      }
      const t: TargetSlice = { number: s.number, tag: s.tag, use: u.use, offset: 0, size, sourceSize };
      if (u.mountPoint) t.mountPoint = u.mountPoint;
      if (u.note) t.note = u.note;
      slices.push(t);
    }
    const used = slices.filter((s) => s.use === 'fs' || s.use === 'swap');
    if (opts.removeUnused && used.length === 0) {
      notes.push(`${d.name}: left out (no file system or swap on it)`);
      continue;
    }
    let off = 0;
    for (const s of slices) {
      if (s.use === 'backup') continue;
      s.offset = off;
      off += s.size;
    }
    const sourceSize = bytes(d.size);
    const size = roundMb(opts.removeUnused ? off : Math.max(off, sourceSize + growth - removed));
    for (const s of slices) if (s.use === 'backup') s.size = size;
    const index = disks.length;
    disks.push({ index, source: d.name, device: `c0d${index}`, size, sourceSize, slices });
  }

  const renames: Record<string, string> = {};
  const diskIndex = new Map(disks.map((d) => [d.source, d.index]));
  // Every slice of a kept disk, in case vfstab names one no file system here does.
  for (const d of m.disks) {
    const i = diskIndex.get(d.name);
    if (i === undefined) continue;
    for (const s of d.slices) {
      renames[`/dev/dsk/${d.name}s${s.number}`] = `/dev/dsk/c0d${i}s${s.number}`;
      renames[`/dev/rdsk/${d.name}s${s.number}`] = `/dev/rdsk/c0d${i}s${s.number}`;
    }
  }
  const fileSystems: TargetFs[] = [];
  const swap: Layout['swap'] = [];
  for (const p of fsPlaces) {
    const i = diskIndex.get(p.disk);
    const collectedFs = collected.find((c) => c.mountPoint === p.f.mountPoint);
    if (i === undefined) {
      if (p.f.type === 'swap' || collectedFs) throw new LayoutError(`${p.f.device}: its disk ${p.disk} was left out`);
      continue;
    }
    const dev = `/dev/dsk/c0d${i}s${p.slice}`;
    renames[p.f.device] = dev;
    renames[p.f.device.replace('/dsk/', '/rdsk/')] = dev.replace('/dsk/', '/rdsk/');
    if (p.f.type === 'swap') {
      swap.push({ sourceDevice: p.f.device, device: dev });
      continue;
    }
    const f = p.f;
    fileSystems.push({
      mountPoint: f.mountPoint,
      sourceDevice: f.device,
      device: dev,
      disk: i,
      slice: p.slice,
      size: newSize.get(f.mountPoint) ?? bytes(f.size),
      used: f.used !== undefined ? bytes(f.used) : bytes(f.size),
      archive: collectedFs?.archive ?? null,
      excluded: !collectedFs,
    });
  }
  const root = fileSystems.find((f) => f.mountPoint === '/');
  if (!root || root.excluded) throw new LayoutError('the root file system was not collected');
  return { disks, fileSystems, swap, rootDisk: root.disk, renames, notes };
}
