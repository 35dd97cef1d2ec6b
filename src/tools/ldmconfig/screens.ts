// The assistant's screens (§B.3): checking the system, the questions with their defaults, and the
// summary. Only this file talks to the terminal library; every check is plan.ts's or storage.ts's.

import { confirm, input, select } from '@inquirer/prompts';
import { formatSize, parseSize } from '../../format/units.js';
import { installedMemory } from '../../platform/catalog.js';
import type { PlatformSpec } from '../../platform/types.js';
import type { OsImage } from '../../guest/types.js';
import type { Inspection } from './host.js';
import { checkMedia, describeMedia } from './media.js';
import {
  configNameProblem,
  diskImagePath,
  diskSizeProblem,
  factoryMemory,
  guestCountProblem,
  guestMemoryProblem,
  guestName,
  guestShares,
  guestVcpusProblem,
  planCommands,
  planGuestStart,
  planResave,
  primaryMemorySize,
  renderPlan,
  storageDirProblem,
  totalStrands,
  DEFAULT_PRIMARY_MEMORY,
  VCC,
  VCC_PORT_RANGE,
  VDS,
  VSW,
  type ConfigAnswers,
} from './plan.js';
import { storageDirHostProblem } from './storage.js';

export const TITLE = 'Oracle VM Server for SPARC Configuration Assistant';

export interface Media {
  file: string;
  image: OsImage;
}

export function screenTitle(n: number, total: number, text: string): string {
  const head = `Step ${n} of ${total}: ${text}`;
  return `\n${head}\n${'-'.repeat(head.length)}\n`;
}

export const STEPS = ['Checking the system', 'Solaris OS media', 'Guest domains', 'Network', 'Storage', 'Configuration name', 'Summary', 'Deploying'];

/** Screen 1: what the assistant found. */
export function describeSystem(ins: Inspection, address: string): string {
  const p = ins.platform;
  const cores = p.cpu.chips * p.cpu.coresPerChip;
  const crypto = cores * p.cpu.cryptoUnitsPerCore;
  const current = ins.configs.map((c) => `${c.name}${c.current ? ' [current]' : ''}${c.nextPoweron ? ' [next poweron]' : ''}`).join(', ');
  return [
    `Host:                     ${ins.host} (${address})`,
    `Platform:                 ${p.model}`,
    `Processors:               ${p.cpu.chips} x ${p.cpu.type}, ${cores} cores, ${totalStrands(p)} virtual CPUs${crypto ? `, ${crypto} crypto units` : ''}`,
    `Memory:                   ${formatSize(installedMemory(p))} installed, ${formatSize(factoryMemory(p))} for domains`,
    `Network devices:          ${p.netDevices.map((d) => d.name).join(' ') || 'none'}`,
    `Logical Domains Manager:  ${ins.version}`,
    `SP configurations:        ${current}`,
    `Domains:                  ${ins.domains.join(' ')}`,
    '',
  ].join('\n');
}

const wholeNumber = (text: string): number => (/^\s*\d+\s*$/.test(text) ? Number(text) : NaN);

/** The questions, screens 2 to 6; `previous` answers are offered again as the defaults. */
export async function askQuestions(
  p: PlatformSpec,
  ins: Inspection,
  start: ConfigAnswers,
  previous: { answers: ConfigAnswers; media: Media | null } | null,
  out: (text: string) => void,
): Promise<{ answers: ConfigAnswers; media: Media | null }> {
  const total = STEPS.length;
  const a: ConfigAnswers = { ...(previous?.answers ?? start) };

  out(screenTitle(2, total, STEPS[1]));
  out('The guests can be installed from Solaris OS media (an OS image file, see ldoms image create).\nWithout media their disks are empty and the guests stop at the ok prompt.\n\n');
  let media: Media | null = previous?.media ?? null;
  const mediaText = await input({
    message: 'Solaris OS media for the guests (empty for none):',
    default: media?.file,
    validate: (v) => {
      const t = v.trim();
      if (!t) return true;
      const r = checkMedia(t);
      return r.ok ? true : r.problem;
    },
  });
  const mediaFile = mediaText.trim();
  if (mediaFile) {
    const r = checkMedia(mediaFile);
    if (!r.ok) throw new Error(r.problem);
    media = { file: mediaFile, image: r.image };
    out(describeMedia(mediaFile, r.image).map((l) => `  ${l}`).join('\n') + '\n');
  } else media = null;

  out(screenTitle(3, total, STEPS[2]));
  out(
    `The control domain primary keeps ${a.primaryVcpus ?? p.cpu.strandsPerCore} virtual CPUs and ${formatSize(primaryMemorySize(p, a.primaryMemory ?? DEFAULT_PRIMARY_MEMORY))}.\n` +
      'The guest domains are named ldg1, ldg2, ...; fewer guests get larger shares of the rest.\n\n',
  );
  const guests = wholeNumber(
    await input({
      message: 'Number of guest domains:',
      default: String(a.guests),
      validate: (v) => (Number.isNaN(wholeNumber(v)) ? `"${v}" is not a whole number` : (guestCountProblem(wholeNumber(v)) ?? true)),
    }),
  );
  // A new count shares the resources out again; the same count keeps the earlier answers.
  const shares = guests === a.guests ? { vcpusPerGuest: a.vcpusPerGuest, memoryPerGuest: a.memoryPerGuest } : guestShares(p, guests);
  a.guests = guests;
  a.vcpusPerGuest = wholeNumber(
    await input({
      message: 'Virtual CPUs per guest domain:',
      default: String(shares.vcpusPerGuest),
      validate: (v) => (Number.isNaN(wholeNumber(v)) ? `"${v}" is not a whole number` : (guestVcpusProblem(wholeNumber(v)) ?? true)),
    }),
  );
  a.memoryPerGuest = parseSize(
    await input({
      message: 'Memory per guest domain (e.g. 2G, 3840M):',
      default: formatSize(shares.memoryPerGuest),
      validate: (v) => {
        const n = parseSize(v);
        return n === null ? `"${v}" is not a size: a number with K, M or G` : (guestMemoryProblem(n) ?? true);
      },
    }),
  )!;

  out(screenTitle(4, total, STEPS[3]));
  out(`The virtual switch ${VSW} of the control domain connects the guests to this network device.\n\n`);
  a.netDev = await select({
    message: 'Network device for the virtual switch:',
    choices: p.netDevices.map((d) => ({ name: d.name, value: d.name, description: d.path })),
    default: a.netDev,
  });

  out(screenTitle(5, total, STEPS[4]));
  out('Each guest gets one virtual disk, backed by a sparse image file in this directory.\n\n');
  a.storageDir = (
    await input({
      message: 'Directory for the disk image files:',
      default: a.storageDir,
      validate: (v) => {
        const dir = v.trim().replace(/(.)\/+$/, '$1');
        return storageDirProblem(dir) ?? storageDirHostProblem(dir) ?? true;
      },
    })
  )
    .trim()
    .replace(/(.)\/+$/, '$1');
  a.diskSize = parseSize(
    await input({
      message: 'Size of each virtual disk (e.g. 20G):',
      default: formatSize(a.diskSize),
      validate: (v) => {
        const n = parseSize(v);
        return n === null ? `"${v}" is not a size: a number with M or G` : (diskSizeProblem(n) ?? true);
      },
    }),
  )!;

  out(screenTitle(6, total, STEPS[5]));
  out('The configuration is saved on the service processor under this name and booted from it.\n\n');
  const existing = ins.configs.map((c) => c.name);
  a.configName = (
    await input({
      message: 'Configuration name:',
      default: a.configName,
      validate: (v) => configNameProblem(v.trim(), existing) ?? true,
    })
  ).trim();
  return { answers: a, media };
}

/** Screen 7: what will be done, as the ldm commands that do it. */
export function describePlan(p: PlatformSpec, a: ConfigAnswers, media: Media | null): string {
  const pVcpus = a.primaryVcpus ?? p.cpu.strandsPerCore;
  const pMem = primaryMemorySize(p, a.primaryMemory ?? DEFAULT_PRIMARY_MEMORY);
  const names = Array.from({ length: Math.max(0, a.guests) }, (_, i) => guestName(i + 1));
  const lines = [
    `Control domain primary:   ${pVcpus} virtual CPUs, ${formatSize(pMem)}; ${VCC} (ports ${VCC_PORT_RANGE}), ${VDS}, ${VSW} on ${a.netDev}`,
    `Guest domains:            ${names.join(' ')}`,
    `  each:                   ${a.vcpusPerGuest} virtual CPUs, ${formatSize(a.memoryPerGuest)}, vdisk0 (${formatSize(a.diskSize)}), vnet0 on ${VSW}`,
    `Disk images:              ${names.length ? diskImagePath(a, 1) : ''}${names.length > 1 ? ` ... ${diskImagePath(a, names.length)}` : ''}`,
    `  contents:               ${media ? `${media.image.release} installed from ${media.file}` : 'empty (the guests stop at the ok prompt)'}`,
    `SP configuration:         ${a.configName}`,
    '',
    'Commands to run:',
    renderPlan(planCommands(p, a)).replace(/^/gm, '  '),
    '  (power cycle through the service processor: reset /SYS; it boots ' + a.configName + ')',
    renderPlan([...planGuestStart(a), ...planResave(a)]).replace(/^/gm, '  '),
    '',
  ];
  return lines.join('\n');
}

export async function askConfirm(): Promise<boolean> {
  return confirm({ message: 'Apply this configuration now? The system will be power-cycled.', default: false });
}

export async function askAfterRefusal(): Promise<'change' | 'quit'> {
  return select({
    message: 'What now?',
    choices: [
      { name: 'Change the answers', value: 'change' as const },
      { name: 'Quit without changing anything', value: 'quit' as const },
    ],
  });
}
