// The preparation phase (reference A.3.2): on the control domain, from the data directory, create
// the back ends, restore the file systems onto them, modify the OS image so it runs as a logical
// domain, and create the domain through `ldm`. Everything is checked before the first change;
// every change is written to the ledger first, and undone if a later step fails or the run is
// interrupted. `-R` skips the disk work (the user restored the disks), `-C` removes a domain.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { ClientError } from '../cli/client.js';
import { formatSize } from '../format/units.js';
import { encodeHeader } from '../guest/image.js';
import {
  checkBackends, createBackend, describe, makeFileSystems, missingDirs, readFileSystem, resolveBackends, tempName,
  writeFileSystem, writeHeader, type Backend,
} from './backend.js';
import { ARCHIVE_DIR, archiveName, INCOMPLETE_MARK, SYSTEM_FILE, VFSTAB_FILE, type ArchiveMethod } from './collect.js';
import type { BackendSpec, P2vConfig } from './config.js';
import { Ldm } from './ldm.js';
import { busy, findDataDir, Ledger, readLedger, type LedgerData, type LedgerEntry } from './ledger.js';
import { planLayout, type CollectedFs, type Layout } from './layout.js';
import { bytes, p2vRefusals, validateManifest, type PhysicalManifest } from './manifest.js';
import { modifyRoot, preparedImage, rewriteVfstab } from './osimage.js';
import { directoryEntries, readTar, TarError, type TarEntry } from './ustar.js';

export class PrepareError extends Error {}

/** Thrown between steps once SIGINT/SIGTERM arrived. */
export class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

export interface Progress {
  say(line: string): void;
  /** -v detail. */
  detail(line: string): void;
  interrupted(): boolean;
}

export interface PrepareOptions {
  dataDir: string;
  domain: string;
  config: P2vConfig;
  backendSpecs: BackendSpec[];
  cpus?: number;
  memory?: number;
  sizes: Map<string, number>;
  keepHostid: boolean;
  keepMac: boolean;
  noAutoAdjust: boolean;
  removeUnused: boolean;
  /** -R guest-root. */
  guestRoot?: string;
}

export interface Collected {
  manifest: PhysicalManifest;
  method: ArchiveMethod;
  fileSystems: CollectedFs[];
  vfstab: string;
}

/** Reads what collect wrote; refuses a directory collect did not finish. */
export function loadCollected(dataDir: string): Collected {
  if (!fs.existsSync(dataDir) || !fs.statSync(dataDir).isDirectory()) throw new PrepareError(`${dataDir}: no such data directory`);
  if (fs.existsSync(path.join(dataDir, INCOMPLETE_MARK))) throw new PrepareError(`${dataDir}: the collection did not finish; run ldmp2v collect again on the source`);
  const sysFile = path.join(dataDir, SYSTEM_FILE);
  let doc: any;
  try {
    doc = JSON.parse(fs.readFileSync(sysFile, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new PrepareError(`${dataDir}: no collected system (${SYSTEM_FILE} is missing); run ldmp2v collect -d ${dataDir} on the source first`);
    throw new PrepareError(`${sysFile}: ${code ? `cannot read: ${code}` : 'not valid JSON'}`);
  }
  let manifest: PhysicalManifest;
  try {
    manifest = validateManifest(doc?.source, sysFile);
  } catch (e) {
    throw new PrepareError((e as Error).message);
  }
  const refusals = p2vRefusals(manifest);
  if (refusals.length) throw new PrepareError(refusals.join('\n'));
  const method = doc?.collected?.archive;
  if (method !== 'flash' && method !== 'none') throw new PrepareError(`${sysFile}: collected.archive: expected flash or none`);
  if (!Array.isArray(doc.fileSystems)) throw new PrepareError(`${sysFile}: fileSystems: expected an array`);
  const fileSystems: CollectedFs[] = doc.fileSystems.map((f: any, i: number) => {
    if (typeof f?.mountPoint !== 'string' || !manifest.fileSystems.some((x) => x.mountPoint === f.mountPoint && x.type === 'ufs'))
      throw new PrepareError(`${sysFile}: fileSystems[${i}]: not a UFS file system of the source`);
    return { mountPoint: f.mountPoint, device: String(f.device), size: Number(f.size), archive: typeof f.archive === 'string' ? f.archive : null };
  });
  let vfstab: string;
  try {
    vfstab = fs.readFileSync(path.join(dataDir, VFSTAB_FILE), 'utf8');
  } catch {
    throw new PrepareError(`${dataDir}: ${VFSTAB_FILE} is missing`);
  }
  return { manifest, method, fileSystems, vfstab };
}

/** The archive of each collected file system, read and parsed (so a bad one stops prepare before any change). */
function loadArchives(dataDir: string, c: Collected): Map<string, TarEntry[]> {
  const out = new Map<string, TarEntry[]>();
  const missing: string[] = [];
  for (const f of c.fileSystems) {
    const name = f.archive ?? archiveName(f.mountPoint);
    const file = path.join(dataDir, ARCHIVE_DIR, name);
    let buf: Buffer;
    try {
      buf = fs.readFileSync(file);
    } catch {
      missing.push(`${f.mountPoint} (${file})`);
      continue;
    }
    try {
      if (buf[0] === 0x1f && buf[1] === 0x8b) buf = zlib.gunzipSync(buf);
      out.set(f.mountPoint, readTar(buf, file));
    } catch (e) {
      throw new PrepareError(e instanceof TarError ? e.message : `${file}: cannot decompress: ${(e as Error).message}`);
    }
  }
  if (missing.length) {
    const hint = c.method === 'none' ? ' (collected with -a none: put a tar archive of each there, or restore the disks yourself and use prepare -R)' : '';
    throw new PrepareError(`missing archive${missing.length > 1 ? 's' : ''} for ${missing.join(', ')}${hint}`);
  }
  return out;
}

const DOMAIN_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Macs as ldm prints them: `0:3:ba:4e:12:a0` → `00:03:ba:4e:12:a0`. */
function normalMac(mac: string): string {
  return mac.split(':').map((o) => o.padStart(2, '0').toLowerCase()).join(':');
}

/**
 * Before a run: a ledger left by a failed or interrupted run is undone; one of a finished
 * prepare means the data directory is taken.
 */
async function clearLeftovers(dataDir: string, domain: string, ldm: Ldm, p: Progress): Promise<void> {
  const old = readLedger(dataDir);
  if (!old) return;
  if (busy(old)) throw new PrepareError(`${dataDir}: another ldmp2v (process ${old.pid}) is working on domain ${old.domain}`);
  if (old.status === 'preparing' || old.status === 'removing') {
    if (old.host !== (await ldm.host())) throw new PrepareError(`${dataDir}: an unfinished prepare of ${old.domain} on host ${old.host}; run ldmp2v prepare -C ${old.domain} there`);
    p.say(`Removing what an unfinished ldmp2v prepare of ${old.domain} left behind ...`);
    await undo(new Ledger(old), ldm, p);
    return;
  }
  throw new PrepareError(
    old.domain === domain
      ? `domain ${domain} was already prepared from ${dataDir}; run ldmp2v prepare -C ${domain} to start again`
      : `${dataDir}: holds domain ${old.domain} (prepared on host ${old.host}); run ldmp2v prepare -C ${old.domain} first`,
  );
}

export async function prepare(opts: PrepareOptions, ldm: Ldm, p: Progress): Promise<void> {
  const { domain, config } = opts;
  if (!DOMAIN_RE.test(domain)) throw new PrepareError(`'${domain}' is not a valid domain name`);
  const dataDir = path.resolve(opts.dataDir);
  const c = loadCollected(dataDir);
  const m = c.manifest;
  const rootMode = opts.guestRoot !== undefined;
  if (rootMode) {
    const gr = path.resolve(opts.guestRoot!);
    if (!fs.existsSync(gr) || !fs.statSync(gr).isDirectory()) throw new PrepareError(`-R ${opts.guestRoot}: no such directory`);
    if (!fs.existsSync(path.join(gr, 'etc'))) throw new PrepareError(`-R ${opts.guestRoot}: no etc directory: not the guest's root file system`);
  }

  // Everything that can be checked is checked before the first change.
  const layout = planLayout(m, c.fileSystems, {
    sizes: opts.sizes,
    noAutoAdjust: opts.noAutoAdjust,
    removeUnused: opts.removeUnused,
  });
  const backends = resolveBackends(layout, config, domain, opts.backendSpecs, rootMode);
  const image = preparedImage(m);
  const vfstab = rewriteVfstab(c.vfstab, layout);
  const archives = rootMode ? new Map<string, TarEntry[]>() : loadArchives(dataDir, c);

  const host = await ldm.host();
  await clearLeftovers(dataDir, domain, ldm, p);
  if (await ldm.domain(domain)) throw new PrepareError(`domain ${domain} already exists on host ${host}`);
  const other = findDataDir(host, domain);
  if (other && other !== dataDir && readLedger(other)) throw new PrepareError(`domain ${domain} is recorded as prepared from ${other}; run ldmp2v prepare -C ${domain} first`);
  const services = await ldm.services();
  const vds = services.vds.get(config.vds);
  if (!vds) throw new PrepareError(`virtual disk service ${config.vds} (VDS in ldmp2v.conf) does not exist on host ${host}`);
  if (m.interfaces.length && !services.vsw.has(config.vsw)) throw new PrepareError(`virtual switch ${config.vsw} (VSW in ldmp2v.conf) does not exist on host ${host}`);
  if (!services.vcc.has(config.vcc)) throw new PrepareError(`virtual console concentrator ${config.vcc} (VCC in ldmp2v.conf) does not exist on host ${host}`);
  for (const b of backends) {
    if (vds.volumes.has(b.volume)) throw new PrepareError(`volume ${b.volume}@${config.vds} already exists`);
    for (const [vol, dev] of vds.volumes) if (path.resolve(dev) === b.path) throw new PrepareError(`back end ${b.display} is already exported as ${vol}@${config.vds}`);
  }
  const primaryDisks = rootMode ? [] : await ldm.vdisks('primary');
  for (const b of backends) if (primaryDisks.includes(b.tempVdisk)) throw new PrepareError(`the control domain already has a vdisk ${b.tempVdisk}`);
  checkBackends(backends, config.backendSparse, rootMode);

  const cpus = opts.cpus ?? m.cpus;
  const memory = opts.memory ?? bytes(m.memory);
  const free = await ldm.free();
  if (cpus > free.vcpus)
    throw new PrepareError(`${opts.cpus === undefined ? `${m.hostname} had ${cpus} CPUs` : `-c ${cpus}`}: only ${free.vcpus} virtual CPUs are free on host ${host}${opts.cpus === undefined ? ' (give fewer with -c)' : ''}`);
  if (memory > free.memory)
    throw new PrepareError(`${opts.memory === undefined ? `${m.hostname} had ${formatSize(memory)} of memory` : `-M ${formatSize(memory)}`}: only ${formatSize(free.memory)} of memory is free on host ${host}${opts.memory === undefined ? ' (give less with -M)' : ''}`);

  for (const n of layout.notes) p.detail(n);
  for (const l of describe(layout, backends)) p.detail(l);

  const ledger = Ledger.create({
    format: 1, domain, host, dataDir, mode: rootMode ? 'root' : 'auto', status: 'preparing', pid: process.pid,
    created: new Date().toISOString(), config, layout, backends, cpus, memory, entries: [],
  });
  // Between steps the event loop runs, so a signal that came during a long step is seen.
  const step = async (): Promise<void> => {
    await new Promise((r) => setImmediate(r));
    if (p.interrupted()) throw new Interrupted();
  };
  try {
    if (rootMode) {
      modifyGuestRoot(path.resolve(opts.guestRoot!), m, vfstab.text, image, backends[layout.rootDisk], p);
      await exportVolumes(ledger, backends, config, ldm, step, false);
    } else await restoreDisks(ledger, layout, backends, archives, m, vfstab, image, config, ldm, p, step);
    await step();
    await createDomain(ledger, opts, m, backends[layout.rootDisk], backends, cpus, memory, ldm, p, step);
    ledger.setStatus('prepared');
  } catch (e) {
    p.say(e instanceof Interrupted ? 'Interrupted; removing what this run created ...' : 'Removing what this run created ...');
    try {
      await undo(ledger, ldm, p);
    } catch (u) {
      throw new PrepareError(`${(e as Error).message}\n${(u as Error).message}`);
    }
    throw e;
  }
}

/**
 * One recorded step: the intent is written first; a step that fails outright created nothing and
 * is marked so (only a step cut off by a kill stays pending, to be checked and undone later).
 */
async function recorded(ledger: Ledger, entry: LedgerEntry, run: () => Promise<unknown> | unknown): Promise<void> {
  const done = ledger.intend(entry);
  try {
    await run();
  } catch (e) {
    // A lost connection to ldmd leaves it unknown whether the command ran: keep it pending.
    if (!(e instanceof ClientError)) {
      entry.state = 'undone';
      ledger.save();
    }
    throw e;
  }
  done();
}

async function exportVolumes(ledger: Ledger, backends: Backend[], config: P2vConfig, ldm: Ldm, step: () => Promise<void>, temp: boolean): Promise<void> {
  for (const b of backends) {
    await recorded(ledger, { kind: 'vdsdev', volume: b.volume, vds: config.vds, state: 'pending' }, () => ldm.ok('add-vdsdev', b.path, `${b.volume}@${config.vds}`));
    if (temp) await recorded(ledger, { kind: 'vdisk', name: b.tempVdisk, domain: 'primary', state: 'pending' }, () => ldm.ok('add-vdisk', b.tempVdisk, `${b.volume}@${config.vds}`, 'primary'));
    await step();
  }
}

async function restoreDisks(
  ledger: Ledger, layout: Layout, backends: Backend[], archives: Map<string, TarEntry[]>, m: PhysicalManifest,
  vfstab: { text: string; changes: string[] }, image: ReturnType<typeof preparedImage>, config: P2vConfig, ldm: Ldm, p: Progress, step: () => Promise<void>,
): Promise<void> {
  p.say('Resizing file systems ...');
  await step();
  p.say('Creating vdisks ...');
  for (const b of backends) {
    if (!b.create) continue;
    for (const d of missingDirs(b.path)) await recorded(ledger, { kind: 'dir', path: d, state: 'pending' }, () => fs.mkdirSync(d));
    const tmp = tempName(b.path);
    p.detail(`${b.type === 'zvol' ? 'ZFS volume' : 'file'} ${b.display}: ${formatSize(b.size)}${config.backendSparse ? ' sparse' : ''}`);
    await recorded(ledger, { kind: 'backend', path: b.path, display: b.display, backendType: b.type, tmp, state: 'pending' }, () => createBackend(b, tmp, config.backendSparse));
    await step();
  }
  await exportVolumes(ledger, backends, config, ldm, step, true);
  p.say('Creating file systems ...');
  for (const d of layout.disks) makeFileSystems(backends[d.index], d);
  await step();
  p.say('Populating file systems ...');
  for (const f of layout.fileSystems) {
    if (f.excluded) continue;
    p.detail(`${f.mountPoint} -> ${backends[f.disk].vdisk} slice ${f.slice}`);
    writeFileSystem(backends[f.disk], layout.disks[f.disk], f.mountPoint, archives.get(f.mountPoint)!);
    await step();
  }
  p.say('Modifying guest domain OS image ...');
  const root = layout.fileSystems.find((f) => f.mountPoint === '/')!;
  const rootDisk = layout.disks[root.disk];
  const rootSlice = rootDisk.slices.find((s) => s.use === 'fs' && s.mountPoint === '/')!;
  const entries = readFileSystem(backends[root.disk].path, rootSlice);
  const changed = modifyRoot(entries, m, vfstab.text);
  for (const l of [...vfstab.changes, ...changed.changes]) p.detail(l);
  writeFileSystem(backends[root.disk], rootDisk, '/', changed.entries);
  writeHeader(backends[root.disk], encodeHeader(image));
  if (changed.removedSvm) p.say('Removing SVM configuration ...');
  if (changed.removedVxvm) p.say('Removing VxVM configuration ...');
  await step();
  p.say('Unmounting guest file systems ...');
  for (const b of backends) {
    await ldm.ok('remove-vdisk', b.tempVdisk, 'primary');
    const e = ledger.data.entries.find((x) => x.kind === 'vdisk' && x.domain === 'primary' && x.name === b.tempVdisk);
    if (e) e.state = 'undone';
    ledger.save();
  }
}

/** -R: the user restored the disks; prepare changes the mounted root file system and the boot block. */
function modifyGuestRoot(root: string, m: PhysicalManifest, vfstab: string, image: ReturnType<typeof preparedImage>, boot: Backend, p: Progress): void {
  p.say('Modifying guest domain OS image ...');
  // Only /etc is looked at (and changed): a mounted root file system may be large.
  const before: TarEntry[] = directoryEntries(path.join(root, 'etc')).map((e) => ({ ...e, name: `etc/${e.name}` }));
  const changed = modifyRoot(before, m, vfstab);
  for (const l of changed.changes) p.detail(l);
  const keep = new Set(changed.entries.map((e) => e.name));
  for (const e of before) if (!keep.has(e.name) && e.type === 'file') fs.rmSync(path.join(root, e.name));
  for (const e of changed.entries) {
    const target = path.join(root, e.name);
    if (e.type === 'dir') fs.mkdirSync(target, { recursive: true });
    else if (e.type === 'file') {
      const old = before.find((x) => x.name === e.name);
      if (!old || !old.data!.equals(e.data!)) fs.writeFileSync(target, e.data!, { mode: e.mode });
    }
  }
  // The boot block of the user's boot disk: the header that tells OpenBoot what is installed.
  writeHeader(boot, encodeHeader(image));
  if (changed.removedSvm) p.say('Removing SVM configuration ...');
  if (changed.removedVxvm) p.say('Removing VxVM configuration ...');
}

async function createDomain(
  ledger: Ledger, opts: PrepareOptions, m: PhysicalManifest, boot: Backend, backends: Backend[], cpus: number, memory: number,
  ldm: Ldm, p: Progress, step: () => Promise<void>,
): Promise<void> {
  const { domain, config } = opts;
  p.say(`Creating domain ${domain} ...`);
  const hostid = m.hostid.replace(/^0x/i, '');
  await recorded(ledger, { kind: 'domain', name: domain, state: 'pending' }, () => ldm.ok('add-domain', ...(opts.keepHostid ? [`hostid=0x${hostid}`] : []), domain));
  await ldm.ok('add-vcpu', String(cpus), domain);
  await ldm.ok('add-memory', formatSize(memory), domain);
  await ldm.ok('set-vcons', `service=${config.vcc}`, domain);
  for (const [i, nic] of m.interfaces.entries()) {
    await ldm.ok('add-vnet', ...(opts.keepMac ? [`mac-addr=${normalMac(nic.mac)}`] : []), `vnet${i}`, config.vsw, domain);
    await step();
  }
  await ldm.ok('set-variable', 'auto-boot?=false', `boot-device=${boot.vdisk}`, domain);
  p.say(`Attaching vdisks to domain ${domain} ...`);
  for (const b of backends) {
    await recorded(ledger, { kind: 'vdisk', name: b.vdisk, domain, state: 'pending' }, () => ldm.ok('add-vdisk', b.vdisk, `${b.volume}@${config.vds}`, domain));
    await step();
  }
}

/**
 * Removes what the ledger records, newest first, then the ledger. Each removal first checks the
 * thing is there (a step killed before it ran left nothing). A user's back end is never in it.
 */
export async function undo(ledger: Ledger, ldm: Ldm, p: Progress): Promise<void> {
  const d = ledger.data;
  const failures: string[] = [];
  const attempt = async (what: string, f: () => Promise<void> | void): Promise<void> => {
    try {
      await f();
    } catch (e) {
      failures.push(`${what}: ${(e as Error).message}`);
    }
  };
  const entries = [...d.entries].reverse().filter((e) => e.state !== 'undone');
  const dom = entries.find((e) => e.kind === 'domain');
  if (dom && dom.kind === 'domain') {
    await attempt(`domain ${dom.name}`, async () => {
      const info = await ldm.domain(dom.name);
      if (!info) return;
      if (info.state === 'active') await ldm.ok('stop-domain', '-f', dom.name);
      if (info.state !== 'inactive') await ldm.ok('unbind-domain', dom.name);
      const have = await ldm.vdisks(dom.name);
      for (const e of entries) {
        if (e.kind === 'vdisk' && e.domain === dom.name && have.includes(e.name)) {
          p.say(`Removing vdisk ${e.name} ...`);
          await ldm.ok('remove-vdisk', e.name, dom.name);
        }
      }
      p.say(`Removing domain ${dom.name} ...`);
      await ldm.ok('remove-domain', dom.name);
    });
  }
  for (const e of entries) {
    switch (e.kind) {
      case 'vdisk':
        if (e.domain === 'primary')
          await attempt(`vdisk ${e.name}`, async () => {
            if ((await ldm.vdisks('primary')).includes(e.name)) {
              p.say(`Removing vdisk ${e.name} from primary ...`);
              await ldm.ok('remove-vdisk', e.name, 'primary');
            }
          });
        break;
      case 'vdsdev':
        await attempt(`volume ${e.volume}@${e.vds}`, async () => {
          if ((await ldm.services()).vds.get(e.vds)?.volumes.has(e.volume)) {
            p.say(`Removing volume ${e.volume}@${e.vds} ...`);
            await ldm.ok('remove-vdsdev', `${e.volume}@${e.vds}`);
          }
        });
        break;
      case 'backend':
        await attempt(`back end ${e.display}`, () => {
          fs.rmSync(e.tmp, { force: true });
          if (fs.existsSync(e.path)) {
            p.say(`Removing ${e.backendType === 'zvol' ? 'ZFS volume' : 'file'} ${e.display} ...`);
            fs.rmSync(e.path);
          }
        });
        break;
      case 'dir':
        await attempt(`directory ${e.path}`, () => {
          if (!fs.existsSync(e.path)) return;
          if (fs.readdirSync(e.path).length) {
            p.say(`Leaving ${e.path}: not empty`);
            return;
          }
          fs.rmdirSync(e.path);
        });
        break;
      case 'domain':
        break;
    }
  }
  if (failures.length) {
    ledger.save();
    throw new PrepareError(`could not remove everything ldmp2v created:\n${failures.join('\n')}\nrun the command again, or ldmp2v prepare -C ${d.domain}`);
  }
  ledger.remove();
}

/** `prepare -C domain`. */
export async function cleanupDomain(domain: string, ldm: Ldm, p: Progress): Promise<void> {
  const host = await ldm.host();
  const dataDir = findDataDir(host, domain);
  const data: LedgerData | null = dataDir ? readLedger(dataDir) : null;
  if (!data || data.domain !== domain || data.host !== host) {
    const exists = await ldm.domain(domain);
    throw new PrepareError(exists ? `domain ${domain} was not created by ldmp2v on host ${host}; nothing removed` : `no domain ${domain} prepared by ldmp2v on host ${host}`);
  }
  if (busy(data)) throw new PrepareError(`another ldmp2v (process ${data.pid}) is working on domain ${domain}`);
  p.say(`Cleaning up domain ${domain} ...`);
  const ledger = new Ledger(data);
  ledger.setStatus('removing');
  await undo(ledger, ldm, p);
}
