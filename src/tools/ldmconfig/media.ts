// The Solaris OS media the guests are installed from (`ldmconfig -c` checks it alone). In this
// model the media is an OS image file (docs/images.md): installing it on a guest disk writes the
// same Solaris, with the guest's own host name and identity, onto the new disk image.

import { randomUUID } from 'node:crypto';
import { compareReleases, createImage, readImage } from '../../guest/image.js';
import type { OsImage } from '../../guest/types.js';

/** Oldest Solaris a sun4v guest domain runs (the first release with Logical Domains support) [M]. */
export const MIN_GUEST_RELEASE = 'Solaris 10 11/06';

export type MediaCheck = { ok: true; image: OsImage } | { ok: false; problem: string };

export function checkMedia(file: string): MediaCheck {
  if (!file.startsWith('/')) return { ok: false, problem: `The Solaris OS media must be given as an absolute path (got "${file}")` };
  const r = readImage(file);
  if (!r.ok) {
    const why =
      r.reason === 'not-bootable' ? `${file} is not Solaris OS media: it holds no installable Solaris` : r.reason === 'corrupt' ? `${r.message}` : `Cannot read the Solaris OS media ${r.message}`;
    return { ok: false, problem: why };
  }
  if (compareReleases(r.image.release, MIN_GUEST_RELEASE) < 0) {
    return { ok: false, problem: `${file} holds ${r.image.release}: guest domains need ${MIN_GUEST_RELEASE} or later` };
  }
  return { ok: true, image: r.image };
}

/** The lines `-c` and the summary print about valid media. */
export function describeMedia(file: string, image: OsImage): string[] {
  return [
    `Media:      ${file}`,
    `Release:    ${image.release} (${image.kernel})`,
    `Patches:    ${image.patches.length ? image.patches.join(' ') : 'none'}`,
    `DR daemon:  ${image.drd ? 'drd enabled' : 'drd disabled (no dynamic reconfiguration in the guests)'}`,
  ];
}

/** Install the media's Solaris on a new disk image for guest `hostname` (a fresh install: its own id, no interfaces). */
export function installFromMedia(file: string, media: OsImage, hostname: string, size: number): void {
  createImage(file, { ...media, imageId: randomUUID(), hostname, interfaces: [] }, size);
}
