// The conversion phase (reference A.3.3): bind and start the prepared domain, boot it from the
// Solaris 10 media and upgrade it — which replaces the sun4u packages with sun4v ones — then boot
// the upgraded disk and wait up to BOOT_TIMEOUT for Solaris. The installer is not modelled: the
// domain sits at OpenBoot while ldmp2v writes the upgraded release into the boot disk (its image
// header and the root file system's /etc/release), then it is restarted from the disk and
// OpenBoot boots the new Solaris (src/guest/os.ts). Each step checks where a previous run got to,
// so a failed or interrupted convert is simply run again.

import fs from 'node:fs';
import path from 'node:path';
import { encodeHeader, readImage, RELEASE_TABLE } from '../guest/image.js';
import type { OsImage } from '../guest/types.js';
import { ldomsHome, readFileSystem, writeFileSystem, writeHeader } from './backend.js';
import { Ldm } from './ldm.js';
import { busy, Ledger, readLedger } from './ledger.js';
import { checkIso, checkNetInstall, checkUpgradePath, INSTALL_SERVER_ENV, type Media } from './media.js';
import { Interrupted, type Progress } from './prepare.js';

export class ConvertError extends Error {}

export interface ConvertOptions {
  dataDir: string;
  domain: string;
  /** -i install-image. */
  iso?: string;
  /** -n interface. */
  netInterface?: string;
  /** -j. */
  jumpstart: boolean;
  /** Seconds to wait for Solaris (BOOT_TIMEOUT). */
  bootTimeout: number;
}

/** Polling period while waiting for the domain. */
const POLL_MS = 250;

/** The release line of /etc/release on a Solaris 10 SPARC system. */
function releaseLine(release: string): string {
  const info = RELEASE_TABLE.find((r) => r.name === release);
  const build = info ? `s10s_${info.update === 0 ? 'wos_74L2a' : `u${info.update}wos`}` : 's10s';
  const brand = info && info.update >= 9 ? 'Oracle Solaris' : 'Solaris';
  return `${`${brand} 10 ${info?.date ?? ''} ${build} SPARC`.padStart(45)}\n`;
}

export async function convert(opts: ConvertOptions, ldm: Ldm, p: Progress): Promise<void> {
  const { domain } = opts;
  const dataDir = path.resolve(opts.dataDir);
  if (!fs.existsSync(dataDir)) throw new ConvertError(`${dataDir}: no such data directory`);
  const data = readLedger(dataDir);
  if (!data) throw new ConvertError(`${dataDir}: no domain was prepared from this data directory; run ldmp2v prepare first`);
  if (data.domain !== domain) throw new ConvertError(`${dataDir}: was used to prepare domain ${data.domain}, not ${domain}`);
  if (busy(data)) throw new ConvertError(`another ldmp2v (process ${data.pid}) is working on domain ${domain}`);
  if (data.status === 'preparing' || data.status === 'removing')
    throw new ConvertError(`the preparation of ${domain} did not finish; run ldmp2v prepare again (it removes what the unfinished run left)`);
  if (data.status === 'converted') throw new ConvertError(`domain ${domain} has already been converted (${data.convert?.toRelease ?? 'Solaris 10'})`);
  const host = await ldm.host();
  if (data.host !== host) throw new ConvertError(`domain ${domain} was prepared on host ${data.host}, not ${host}`);

  // The media first: a wrong one must not change anything.
  const boot = data.backends[data.layout.rootDisk];
  const img = readImage(boot.path);
  if (!img.ok) throw new ConvertError(`the boot disk of ${domain}: ${img.message}`);
  let media: Media;
  try {
    if (opts.iso !== undefined) media = checkIso(opts.iso);
    else media = checkNetInstall(process.env[INSTALL_SERVER_ENV], opts.jumpstart);
    const from = data.convert?.upgraded ? data.convert.fromRelease : img.image.release;
    checkUpgradePath(from, media.release);
  } catch (e) {
    throw new ConvertError((e as Error).message);
  }
  if (data.convert?.upgraded && data.convert.toRelease !== media.release)
    throw new ConvertError(`${domain} was already upgraded to ${data.convert.toRelease}; give the same media to finish, not ${media.release}`);
  const info = await ldm.domain(domain);
  if (!info) throw new ConvertError(`domain ${domain} no longer exists on host ${host}; run ldmp2v prepare -C ${domain}, then prepare it again`);
  if (opts.netInterface !== undefined) {
    const out = await ldm.ok('list-constraints', '-p', domain);
    const vnets = out.split('\n').filter((l) => l.startsWith('VNET|')).map((l) => /\|name=([^|]*)/.exec(l)?.[1]);
    if (!vnets.includes(opts.netInterface))
      throw new ConvertError(`-n ${opts.netInterface}: ${domain} has no such virtual network (it has ${vnets.length ? vnets.join(', ') : 'none'})`);
  }

  const ledger = new Ledger(data);
  ledger.data.convert = data.convert?.upgraded
    ? data.convert
    : { media: media.location, method: media.method, fromRelease: img.image.release, toRelease: media.release, upgraded: false };
  ledger.setStatus('converting');
  // Between steps the event loop runs, so a signal that came during a long step is seen.
  const step = async (): Promise<void> => {
    await new Promise((r) => setImmediate(r));
    if (p.interrupted()) throw new Interrupted();
  };
  try {
    if (info.state === 'inactive') {
      const r = await ldm.run(['bind-domain', domain]);
      if (r.code !== 0) throw new ConvertError(`cannot bind ${domain}:\n${(r.stderr || r.stdout).trim()}`);
    }
    await step();
    const rec = ledger.data.convert!;
    if (!rec.upgraded) {
      if ((await ldm.domain(domain))?.state !== 'active') p.say((await ldm.ok('start-domain', domain)).trim());
      await step();
      const from = `${img.image.release} (${img.image.arch ?? 'sun4v'})`;
      p.say(`Booting ${domain} from ${media.method === 'iso' ? media.location : `the install server (${opts.netInterface})`} ...`);
      if (media.method === 'jumpstart') p.say(`Using Custom JumpStart (${path.basename(media.profile!)})`);
      p.say(`Upgrading ${from} to ${media.release} (sun4v) ...`);
      upgrade(ledger, boot.path, img.image, media.release);
      rec.upgraded = true;
      ledger.save();
      p.say('Upgrade complete.');
      await step();
      // The domain now reboots from its disk.
      if ((await ldm.domain(domain))?.state === 'active') await ldm.ok('stop-domain', domain);
      await ldm.ok('set-variable', 'auto-boot?=true', `boot-device=${boot.vdisk}`, domain);
      p.say((await ldm.ok('start-domain', domain)).trim());
    } else {
      await ldm.ok('set-variable', 'auto-boot?=true', `boot-device=${boot.vdisk}`, domain);
      if ((await ldm.domain(domain))?.state !== 'active') p.say((await ldm.ok('start-domain', domain)).trim());
    }
    p.say('Waiting for Solaris to come up ...');
    const deadline = Date.now() + opts.bootTimeout * 1000;
    for (;;) {
      await step();
      const now = await ldm.domain(domain);
      if (now?.state === 'active' && now.flags[1] === 'n') break;
      if (!now || now.state !== 'active') throw new ConvertError(`domain ${domain} stopped while booting (state ${now?.state ?? 'gone'})`);
      if (Date.now() >= deadline)
        throw new ConvertError(`Solaris did not come up on ${domain} within ${opts.bootTimeout} second${opts.bootTimeout === 1 ? '' : 's'} (BOOT_TIMEOUT); look at its console${now.port === null ? '' : ` (${consoleAt(host, now.port)})`}, then run ldmp2v convert again to keep waiting`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    ledger.setStatus('converted');
    const port = (await ldm.domain(domain))?.port ?? null;
    p.say(`Domain ${domain} is running ${rec.toRelease} (sun4v)${port !== null ? `; its console: ${consoleAt(host, port)}` : ''}`);
  } catch (e) {
    // Stay resumable: the ledger keeps what was done; a clean failure before the upgrade goes back to "prepared".
    if (!ledger.data.convert!.upgraded) {
      const now = await ldm.domain(domain).catch(() => null);
      if (now && now.state !== 'inactive') {
        if (now.state === 'active') await ldm.run(['stop-domain', '-f', domain]);
        await ldm.run(['unbind-domain', domain]);
      }
      delete ledger.data.convert;
      ledger.setStatus('prepared');
    } else ledger.save();
    throw e;
  }
}

/** How to reach a console port: telnet to the host's address (vntsd), as `ldm list` users do. */
function consoleAt(host: string, port: number): string {
  try {
    const address = JSON.parse(fs.readFileSync(path.join(ldomsHome(), 'hosts', host, 'host.json'), 'utf8')).address;
    return `telnet ${address} ${port}`;
  } catch {
    return `console port ${port}`;
  }
}

/**
 * The upgrade: sun4v Solaris 10 packages replace the sun4u ones. The root file system gets the new
 * /etc/release; the boot disk's header the new release, kernel and platform group, with drd
 * (installed with the sun4v packages). Host name, addresses, workload and identity stay.
 */
function upgrade(ledger: Ledger, bootPath: string, image: OsImage, release: string): void {
  const layout = ledger.data.layout;
  if (ledger.data.mode === 'auto') {
    const disk = layout.disks[layout.rootDisk];
    const slice = disk.slices.find((s) => s.use === 'fs' && s.mountPoint === '/')!;
    const entries = readFileSystem(bootPath, slice);
    const rel = entries.find((e) => e.name === 'etc/release');
    const body = Buffer.from(`${releaseLine(release)}           Copyright (c) 2010, Oracle and/or its affiliates.\n                           All rights reserved.\n`);
    if (rel) rel.data = body;
    else {
      if (!entries.some((e) => e.name === 'etc/')) entries.push({ name: 'etc/', type: 'dir', mode: 0o755, mtime: Math.floor(Date.now() / 1000) });
      entries.push({ name: 'etc/release', type: 'file', mode: 0o444, mtime: Math.floor(Date.now() / 1000), data: body });
    }
    writeFileSystem(ledger.data.backends[layout.rootDisk], disk, '/', entries);
  }
  const info = RELEASE_TABLE.find((r) => r.name === release)!;
  const next: OsImage = { ...image, release, kernel: info.kernel, patches: [], drd: true, arch: 'sun4v' };
  writeHeader(ledger.data.backends[layout.rootDisk], encodeHeader(next));
}
