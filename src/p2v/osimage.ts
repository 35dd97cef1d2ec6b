// "Modify the guest domain OS image" (reference A.3.2): what prepare changes in the restored root
// file system so that the source's Solaris runs as a logical domain and can be upgraded —
// /etc/vfstab device names, SVM and VxVM references, network interface names — and the OS image
// header the boot disk gets (src/guest/image.ts), which describes the installed OS to OpenBoot.

import { randomUUID } from 'node:crypto';
import { DEFAULT_IMAGE, parseRelease, RELEASE_TABLE, SUN4U_RELEASE_RE } from '../guest/image.js';
import type { OsImage } from '../guest/types.js';
import type { Layout } from './layout.js';
import type { PhysicalManifest } from './manifest.js';
import type { TarEntry } from './ustar.js';

export class OsImageError extends Error {}

/** Source NIC N becomes vnet N (add-vnet order). */
export function vnetName(index: number): string {
  return `vnet${index}`;
}

/** Prefix length of a dotted netmask (255.255.255.0 → 24); null if the mask is not contiguous. */
export function prefixLength(netmask: string): number | null {
  const n = netmask.split('.').reduce((a, o) => ((a << 8) | Number(o)) >>> 0, 0);
  const bits = n.toString(2).padStart(32, '0');
  if (!/^1*0*$/.test(bits)) return null;
  const zero = bits.indexOf('0');
  return zero < 0 ? 32 : zero;
}

export interface VfstabResult {
  text: string;
  /** One line per change, for -v. */
  changes: string[];
}

/**
 * /etc/vfstab for the domain: every device renamed to its virtual-disk slice; lines that still
 * name a volume-manager device, and lines of file systems left out at collection, commented out.
 */
export function rewriteVfstab(text: string, layout: Layout): VfstabResult {
  const changes: string[] = [];
  const excluded = new Set(layout.fileSystems.filter((f) => f.excluded).map((f) => f.mountPoint));
  const out = text.split('\n').map((line) => {
    if (line.trim() === '' || line.trimStart().startsWith('#')) return line;
    const fields = line.split(/(\s+)/); // keeps the separators, so the layout of the file stays
    const words = fields.filter((_, i) => i % 2 === 0);
    if (words.length < 3) return line;
    if (excluded.has(words[2])) {
      changes.push(`${words[2]}: not collected; commented out`);
      return `#ldmp2v: not collected: ${line}`;
    }
    let changed = false;
    for (const i of [0, 2]) {
      const dev = fields[i];
      const to = layout.renames[dev];
      if (to !== undefined && to !== dev) {
        fields[i] = to;
        changed = true;
      }
    }
    const next = fields.join('');
    if (/\/dev\/(md|vx)\//.test(fields[0]) || /\/dev\/(md|vx)\//.test(fields[2])) {
      changes.push(`${words[2]}: volume-manager device ${words[0]} has no place in the domain; commented out`);
      return `#ldmp2v: volume manager device: ${line}`;
    }
    if (changed) changes.push(`${words[2] === '-' ? 'swap' : words[2]}: ${words[0]} -> ${fields[0]}`);
    return next;
  });
  return { text: out.join('\n'), changes };
}

/** /etc/system lines that boot from, or load, SVM or VxVM. */
const VOLUME_MANAGER_SYSTEM_LINE = /^\s*(rootdev\s*:|set\s+md:|set\s+vx\w*:|forceload\s*:\s*(misc\/md_|drv\/md\b|drv\/vx))/;

export interface RootChanges {
  entries: TarEntry[];
  /** For the terminal (-v). */
  changes: string[];
  /** Whether SVM or VxVM configuration was removed (prints "Removing SVM configuration ..."). */
  removedSvm: boolean;
  removedVxvm: boolean;
}

/** Applies the OS-image modifications to the root file system's entries. */
export function modifyRoot(entries: TarEntry[], m: PhysicalManifest, vfstab: string, now = Math.floor(Date.now() / 1000)): RootChanges {
  const changes: string[] = [];
  // Copies: the caller's entries stay as they were (prepare -R compares before and after).
  const list = entries.map((e) => ({ ...e }));
  const byName = new Map(list.map((e) => [e.name, e]));
  const put = (name: string, data: string, mode = 0o644): void => {
    const e = byName.get(name);
    if (e && e.type === 'file') {
      e.data = Buffer.from(data);
      e.mtime = now;
      return;
    }
    if (e) list.splice(list.indexOf(e), 1);
    ensureDirs(name);
    const n: TarEntry = { name, type: 'file', mode, mtime: now, data: Buffer.from(data) };
    list.push(n);
    byName.set(name, n);
  };
  const ensureDirs = (name: string): void => {
    const parts = name.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const d = `${parts.slice(0, i).join('/')}/`;
      if (!byName.has(d)) {
        const e: TarEntry = { name: d, type: 'dir', mode: 0o755, mtime: now };
        list.push(e);
        byName.set(d, e);
      }
    }
  };
  const text = (name: string): string | null => {
    const e = byName.get(name);
    return e && e.type === 'file' ? e.data!.toString('utf8') : null;
  };

  put('etc/vfstab', vfstab);
  changes.push('/etc/vfstab rewritten for the virtual disks');
  if (text('etc/nodename')?.trim() !== m.hostname) put('etc/nodename', `${m.hostname}\n`);

  const system = text('etc/system');
  let removedSvm = Boolean(m.svm && m.svm.mirrors.length);
  let removedVxvm = Boolean(m.vxvm);
  if (system !== null) {
    const lines = system.split('\n');
    const kept = lines.filter((l) => !VOLUME_MANAGER_SYSTEM_LINE.test(l));
    if (kept.length !== lines.length) {
      const gone = lines.filter((l) => VOLUME_MANAGER_SYSTEM_LINE.test(l));
      if (gone.some((l) => /md/.test(l))) removedSvm = true;
      if (gone.some((l) => /vx/.test(l))) removedVxvm = true;
      put('etc/system', kept.join('\n'));
      changes.push(`/etc/system: removed ${gone.map((l) => l.trim()).join('; ')}`);
    }
  }
  if (removedSvm) {
    // The state database replicas and the metadevices are gone: empty configuration files.
    put('etc/lvm/mddb.cf', '#metadevice database location file do not hand edit\n');
    put('etc/lvm/md.cf', '# metadevice configuration file\n# do not hand edit\n');
    changes.push('SVM: metadevice configuration and state database locations cleared');
  }
  if (removedVxvm) {
    // VxVM's documented way to keep vxconfigd from starting at boot.
    put('etc/vx/reconfig.d/state.d/install-db', '');
    changes.push('VxVM: disabled (/etc/vx/reconfig.d/state.d/install-db)');
  }

  // /etc/hostname.<nic> → /etc/hostname.vnetN, as the NICs become virtual networks in order.
  m.interfaces.forEach((nic, i) => {
    const from = `etc/hostname.${nic.name}`;
    const to = `etc/hostname.${vnetName(i)}`;
    const body = text(from);
    if (body !== null) {
      const e = byName.get(from)!;
      list.splice(list.indexOf(e), 1);
      byName.delete(from);
    }
    // A second run (prepare -R again) finds the file renamed already.
    put(to, body ?? text(to) ?? `${i === 0 ? m.hostname : nic.ip}\n`);
    changes.push(`/etc/hostname.${nic.name} -> /etc/hostname.${vnetName(i)}`);
  });
  return { entries: list, changes, removedSvm, removedVxvm };
}

/** The release string a header carries for the source's OS (sun4u may be older than Solaris 10). */
export function sourceImageRelease(m: PhysicalManifest): string {
  if (m.platform.arch === 'sun4u' && SUN4U_RELEASE_RE.test(m.release)) return m.release;
  const r = parseRelease(m.release);
  if (r === null || !r.startsWith('Solaris 10'))
    throw new OsImageError(`${m.hostname}: release '${m.release}' does not name a Solaris 10 update (e.g. 'Solaris 10 10/08')`);
  return r;
}

/** Header of the prepared boot disk: the source's OS, its host name and addresses on vnets. */
export function preparedImage(m: PhysicalManifest): OsImage {
  const release = sourceImageRelease(m);
  const info = RELEASE_TABLE.find((r) => r.name === release);
  const hostid = m.hostid.replace(/^0x/i, '').toLowerCase();
  return {
    format: 1,
    imageId: randomUUID(),
    release,
    kernel: info?.kernel ?? 'Generic',
    patches: [],
    // drd is a sun4v service; a sun4u OS has none until the upgrade installs it.
    drd: m.platform.arch === 'sun4v' && info !== undefined && info.update >= 3,
    bootSeconds: DEFAULT_IMAGE.bootSeconds,
    hostname: m.hostname,
    workload: { ...DEFAULT_IMAGE.workload },
    interfaces: m.interfaces.map((nic, i) => {
      const bits = prefixLength(nic.netmask);
      if (bits === null) throw new OsImageError(`${m.hostname}: ${nic.name}: netmask ${nic.netmask} is not a contiguous mask`);
      return { name: vnetName(i), ip: `${nic.ip}/${bits}` };
    }),
    arch: m.platform.arch,
    source: { hostname: m.hostname, hostid, model: m.platform.name, arch: m.platform.arch, release: m.release },
  };
}
