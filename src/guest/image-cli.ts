// `ldoms image ...`: makes and describes OS images (docs/images.md).
//
//   ldoms image create FILE --release R [--patch P]... [--size SIZE] [--boot-time SECONDS]
//                      [--hostname NAME] [--working-set SIZE] [--dirty-rate SIZE]
//                      [--interface NAME=IP]... [--no-drd] [--kernel K] [--force]
//   ldoms image show [-p] FILE
//   ldoms image releases

import fs from 'node:fs';
import { formatSize, G, parseSize } from '../format/units.js';
import {
  capabilities,
  createImage,
  CRYPTO_DR_PATCH,
  DEFAULT_IMAGE,
  defaultImage,
  ImageError,
  KNOWN_RELEASES,
  MAX_BOOT_SECONDS,
  MIN_IMAGE_SIZE,
  migrationCompatible,
  parseRelease,
  readImage,
  RELEASE_TABLE,
  SECTOR_SIZE,
  storageIdentity,
} from './image.js';
import type { OsImage } from './types.js';

export const IMAGE_USAGE = `Usage:
    ldoms image create FILE --release R [--patch P]... [--size SIZE] [--boot-time SECONDS]
                       [--hostname NAME] [--working-set SIZE] [--dirty-rate SIZE]
                       [--interface NAME=IP]... [--no-drd] [--kernel K] [--force]
    ldoms image show [-p] FILE
    ldoms image releases
`;

const DEFAULT_SIZE = 20 * G;

class UsageError extends Error {}

const VALUE_OPTIONS = ['--release', '--patch', '--size', '--boot-time', '--hostname', '--working-set', '--dirty-rate', '--interface', '--kernel'];
const REPEATABLE = ['--patch', '--interface'];
const FLAGS = ['--no-drd', '--force'];

interface Parsed {
  values: Map<string, string[]>;
  flags: Set<string>;
  operands: string[];
}

/** `--opt value` or `--opt=value`; `--` ends the options. */
function parseOptions(args: string[]): Parsed {
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('--')) {
      operands.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    if (FLAGS.includes(name)) {
      if (eq >= 0) throw new UsageError(`option ${name} takes no value`);
      flags.add(name);
      continue;
    }
    if (!VALUE_OPTIONS.includes(name)) throw new UsageError(`unknown option ${name}`);
    const value = eq >= 0 ? a.slice(eq + 1) : args[++i];
    if (value === undefined) throw new UsageError(`option ${name} needs a value`);
    const list = values.get(name) ?? [];
    if (list.length && !REPEATABLE.includes(name)) throw new UsageError(`option ${name} given twice`);
    list.push(value);
    values.set(name, list);
  }
  return { values, flags, operands };
}

function sizeOption(opt: string, text: string | undefined, fallback: number, perSecond = false): number {
  if (text === undefined) return fallback;
  const bare = perSecond ? text.replace(/\/s$/i, '') : text;
  const n = parseSize(bare);
  if (n === null) throw new ImageError(`invalid ${opt} size: ${text} (use a number with an optional K, M, G or T unit, e.g. 256M)`);
  return n;
}

function releaseOption(text: string | undefined): string {
  if (text === undefined) throw new UsageError('missing --release');
  const release = parseRelease(text);
  if (release === null) {
    throw new ImageError(`unknown release "${text}"; known releases:\n${KNOWN_RELEASES.map((r) => `    ${r}`).join('\n')}\n(short forms such as s10u8 or 10/09 are accepted; see ldoms image releases)`);
  }
  return release;
}

function create(args: string[], out: (s: string) => void): number {
  const { values, flags, operands } = parseOptions(args);
  if (operands.length === 0) throw new UsageError('missing FILE');
  if (operands.length > 1) throw new UsageError(`unexpected argument ${operands[1]}`);
  const file = operands[0];
  const one = (o: string) => values.get(o)?.[0];
  const release = releaseOption(one('--release'));

  const size = sizeOption('--size', one('--size'), DEFAULT_SIZE);
  if (size < MIN_IMAGE_SIZE) throw new ImageError(`--size must be at least ${formatSize(MIN_IMAGE_SIZE)} (got ${one('--size')})`);
  if (size % SECTOR_SIZE) throw new ImageError(`--size must be a multiple of ${SECTOR_SIZE} bytes (got ${one('--size')})`);

  const bootText = one('--boot-time');
  let bootSeconds: number | undefined;
  if (bootText !== undefined) {
    if (!/^\d+(\.\d+)?$/.test(bootText)) throw new ImageError(`invalid --boot-time: ${bootText} (seconds, e.g. 20 or 0.5)`);
    bootSeconds = Number(bootText);
    if (bootSeconds > MAX_BOOT_SECONDS) throw new ImageError(`--boot-time must be at most ${MAX_BOOT_SECONDS} seconds (got ${bootText})`);
  }

  const patches = values.get('--patch') ?? [];
  for (const p of patches) if (!/^\d{6}-\d{2}$/.test(p)) throw new ImageError(`invalid patch ID ${p} (expected NNNNNN-NN, e.g. ${CRYPTO_DR_PATCH}-01)`);

  const interfaces = (values.get('--interface') ?? []).map((text) => {
    const eq = text.indexOf('=');
    if (eq <= 0) throw new ImageError(`invalid --interface ${text} (expected NAME=IP, e.g. vnet0=192.168.1.10)`);
    return { name: text.slice(0, eq), ip: text.slice(eq + 1) };
  });

  const image: OsImage = defaultImage({
    release,
    kernel: one('--kernel'),
    patches,
    drd: !flags.has('--no-drd'),
    bootSeconds,
    hostname: one('--hostname'),
    workload: {
      workingSet: sizeOption('--working-set', one('--working-set'), DEFAULT_IMAGE.workload.workingSet),
      dirtyRate: sizeOption('--dirty-rate', one('--dirty-rate'), DEFAULT_IMAGE.workload.dirtyRate, true),
    },
    interfaces,
  });
  if (!flags.has('--force') && fs.existsSync(file)) throw new ImageError(`${file} already exists (use --force to overwrite it)`);
  createImage(file, image, size, { force: flags.has('--force') });
  out(`${file}: ${image.release} (${image.kernel}), ${formatSize(size)} sparse, image ${image.imageId}\n`);
  return 0;
}

function yesNo(b: boolean): string {
  return b ? 'yes' : 'no';
}

function show(args: string[], out: (s: string) => void): number {
  const parseable = args.includes('-p');
  const operands = args.filter((a) => a !== '-p');
  for (const a of operands) if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
  if (operands.length === 0) throw new UsageError('missing FILE');
  if (operands.length > 1) throw new UsageError(`unexpected argument ${operands[1]}`);
  const file = operands[0];
  const read = readImage(file);
  if (!read.ok) throw new ImageError(read.message);
  const image = read.image;
  const size = fs.statSync(file).size;
  const caps = capabilities(image);
  const storage = storageIdentity(file) ?? '-';
  const migration = migrationCompatible(image);
  const rows: [string, string, string][] = [
    // [parseable key, human label, value]
    ['file', 'FILE', file],
    ['size', 'SIZE', parseable ? String(size) : formatSize(size)],
    ['release', 'RELEASE', image.release],
    ['kernel', 'KERNEL', image.kernel],
    ['patches', 'PATCHES', image.patches.join(parseable ? ',' : ' ')],
    ['hostname', 'HOSTNAME', image.hostname],
    ['drd', 'DRD', parseable ? String(image.drd) : image.drd ? 'enabled' : 'disabled'],
    ['boot_seconds', 'BOOT TIME', parseable ? String(image.bootSeconds) : `${image.bootSeconds}s`],
    ['working_set', 'WORKING SET', parseable ? String(image.workload.workingSet) : formatSize(image.workload.workingSet)],
    ['dirty_rate', 'DIRTY RATE', parseable ? String(image.workload.dirtyRate) : `${formatSize(image.workload.dirtyRate)}/s`],
    ['interfaces', 'INTERFACES', image.interfaces.map((i) => (parseable ? `${i.name}:${i.ip}` : `${i.name} ${i.ip}`)).join(parseable ? ',' : ', ')],
    ['image_id', 'IMAGE ID', image.imageId],
    ['storage', 'STORAGE', storage],
    ['cpu_dr', 'CPU DR', parseable ? String(caps.cpuDr) : yesNo(caps.cpuDr)],
    ['memory_dr', 'MEMORY DR', parseable ? String(caps.memoryDr) : yesNo(caps.memoryDr)],
    ['crypto_dr', 'CRYPTO DR', parseable ? String(caps.cryptoDr) : yesNo(caps.cryptoDr)],
    ['io_dr', 'VIRTUAL I/O DR', parseable ? String(caps.ioDr) : yesNo(caps.ioDr)],
    ['migration_compatible', 'MIGRATION', parseable ? String(migration) : migration ? 'latest functionality' : 'older than Solaris 10 9/10: whole-core rules apply'],
  ];
  if (parseable) out(rows.map(([k, , v]) => `${k}=${v}\n`).join(''));
  else out(rows.map(([, label, v]) => `${label.padEnd(16)}${v || '-'}`.trimEnd() + '\n').join(''));
  return 0;
}

function releases(args: string[], out: (s: string) => void): number {
  if (args.length) throw new UsageError(`unexpected argument ${args[0]}`);
  const lines = [['RELEASE', 'ALIAS', 'KERNEL', 'CPU-DR', 'IO-DR', 'MEM-DR', 'CRYPTO-DR', 'MIGRATION']];
  for (const r of RELEASE_TABLE) {
    const base = defaultImage({ release: r.name, imageId: 'x' });
    const caps = capabilities(base);
    const withPatch = capabilities({ ...base, patches: [`${CRYPTO_DR_PATCH}-01`] });
    lines.push([
      r.name,
      r.short,
      r.kernel,
      yesNo(caps.cpuDr),
      yesNo(caps.ioDr),
      yesNo(caps.memoryDr),
      caps.cryptoDr ? 'yes' : withPatch.cryptoDr ? `${CRYPTO_DR_PATCH}-01` : 'no',
      migrationCompatible(base) ? 'latest' : 'older',
    ]);
  }
  const widths = lines[0].map((_, c) => Math.max(...lines.map((l) => l[c].length)) + 2);
  out(lines.map((l) => l.map((cell, c) => cell.padEnd(widths[c])).join('').trimEnd() + '\n').join(''));
  return 0;
}

/**
 * Runs `ldoms image ARGS...` (argv starts after `image`). Normal output goes to `out`, errors to
 * `err` (default `out`); each call receives whole lines. Returns the exit status; never throws.
 */
export async function imageCommand(argv: string[], out: (s: string) => void, err: (s: string) => void = out): Promise<number> {
  const [verb, ...rest] = argv;
  try {
    switch (verb) {
      case 'create':
        return create(rest, out);
      case 'show':
        return show(rest, out);
      case 'releases':
        return releases(rest, out);
      case 'help':
      case '--help':
      case '-h':
        out(IMAGE_USAGE);
        return 0;
      case undefined:
        throw new UsageError('missing subcommand');
      default:
        throw new UsageError(`unknown subcommand: ${verb}`);
    }
  } catch (e) {
    if (e instanceof UsageError) err(`ldoms image: ${e.message}\n${IMAGE_USAGE}`);
    else err(`ldoms image: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
