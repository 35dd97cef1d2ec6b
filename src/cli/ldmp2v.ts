// `ldmp2v`: the Physical-to-Virtual conversion tool (docs/ldmp2v.md), in its 2.0 syntax.
//
//   ldmp2v collect [-a flash|none] [-O "flarcreate-options"] [-v] [-x mount-point [-x ...]] -d data-dir
//   ldmp2v prepare [-b zvol|file|disk] [-B backend:volume:vdisk [-B ...]] [-c cpu]
//                  [-m mount-point:size [-m ...]] [-M memsize] [-o keep-hostid] [-o keep-mac] [-p prefix]
//                  [-s] [-v] [-x no-auto-adjust-fs] [-x remove-unused-slices] -d data-dir domain
//   ldmp2v prepare -R guest-root [-c cpu] [-M memsize] [-o keep-hostid] [-o keep-mac] [-v] -d data-dir domain
//   ldmp2v prepare -C domain
//   ldmp2v convert -i install-image -d data-dir [-v] domain
//   ldmp2v convert [-j] -n interface -d data-dir [-v] domain
//
// `collect` runs on the physical source; here the source is the manifest named by LDMP2V_SOURCE.
// `prepare` and `convert` run on the control domain of the host ldm would talk to.

import path from 'node:path';
import { ClientError } from './client.js';
import { parseSize } from '../format/units.js';
import { collect, CollectError, parseArchiveMethod, parseFlarOptions, type FlarOptions } from '../p2v/collect.js';
import { ConfigError, loadConfig, parseBackendSpec, type BackendSpec, type BackendType } from '../p2v/config.js';
import { convert, ConvertError } from '../p2v/convert.js';
import { Ldm, LdmError } from '../p2v/ldm.js';
import { LedgerError } from '../p2v/ledger.js';
import { LayoutError } from '../p2v/layout.js';
import { loadManifest, ManifestError } from '../p2v/manifest.js';
import { BackendError, ldomsHome } from '../p2v/backend.js';
import { MediaError } from '../p2v/media.js';
import { OsImageError } from '../p2v/osimage.js';
import { cleanupDomain, Interrupted, prepare, PrepareError, type Progress } from '../p2v/prepare.js';
import { TarError } from '../p2v/ustar.js';

export const SOURCE_ENV = 'LDMP2V_SOURCE';

const USAGE = {
  collect: 'ldmp2v collect [-a flash|none] [-O "flarcreate-options"] [-v] [-x mount-point [-x ...]] -d data-dir',
  prepare: [
    'ldmp2v prepare [-b zvol|file|disk] [-B backend:volume:vdisk [-B ...]] [-c cpu]',
    '               [-m mount-point:size [-m ...]] [-M memsize] [-o keep-hostid] [-o keep-mac] [-p prefix]',
    '               [-s] [-v] [-x no-auto-adjust-fs] [-x remove-unused-slices] -d data-dir domain',
    'ldmp2v prepare -R guest-root [-c cpu] [-M memsize] [-o keep-hostid] [-o keep-mac] [-v] -d data-dir domain',
    'ldmp2v prepare -C domain',
  ].join('\n'),
  convert: ['ldmp2v convert -i install-image -d data-dir [-v] domain', 'ldmp2v convert [-j] -n interface -d data-dir [-v] domain'].join('\n'),
};

const HELP = {
  collect: `Usage:
${indent(USAGE.collect)}

Runs on the physical system: writes its configuration and file-system archives to data-dir.
  -a flash|none      archive the UFS file systems (flash, the default), or not (none: archive them by hand)
  -O "options"       flarcreate options for -a flash: -c, -S, -x path, -e description, -a author
  -v                 verbose
  -x mount-point     leave a mounted file system out (repeatable)
  -d data-dir        where to write (absent or empty)
The physical system is the manifest named by ${SOURCE_ENV} (docs/ldmp2v.md).
`,
  prepare: `Usage:
${indent(USAGE.prepare)}

Runs on the control domain: creates domain from data-dir (or, with -C, removes it and what ldmp2v created for it).
  -b zvol|file|disk  back-end type (BACKEND_TYPE)          -B backend:volume:vdisk  names for one disk, in order
  -c cpu             virtual CPUs (the source's count)    -M memsize               memory (the source's size)
  -m mount-point:size  file-system size                   -o keep-hostid|keep-mac  keep the source's host ID / MACs
  -p prefix          BACKEND_PREFIX                       -s                       sparse back ends (BACKEND_SPARSE)
  -x no-auto-adjust-fs | remove-unused-slices             -v                       verbose
  -R guest-root      the disks are restored by hand; only modify the OS image and create the domain
  -C domain          remove the domain and every back end ldmp2v created for it
Configuration: $LDOMS_HOME/etc/ldmp2v.conf.
`,
  convert: `Usage:
${indent(USAGE.convert)}

Runs on the control domain: upgrades the prepared domain to Solaris 10 for sun4v and boots it.
  -i install-image   a Solaris 10 SPARC DVD ISO image
  -n interface       boot from the network install server over this virtual network (vnet0, ...)
  -j                 with -n: Custom JumpStart
  -d data-dir        the data directory prepare used
  -v                 verbose
The install server is the image directory named by LDMP2V_INSTALL_SERVER. Waits BOOT_TIMEOUT seconds for Solaris.
`,
};

function indent(text: string): string {
  return text.split('\n').map((l) => `    ${l}`).join('\n');
}

class UsageError extends Error {
  constructor(
    message: string,
    readonly sub?: keyof typeof USAGE,
  ) {
    super(message);
  }
}

type Spec = Record<string, 'flag' | 'value' | 'list'>;

interface Parsed {
  opts: Map<string, string[]>;
  operands: string[];
}

/** getopt: `-d dir`, `-ddir`, grouped flags (`-sv`), `--` ends options. */
function getopt(sub: keyof typeof USAGE, args: string[], spec: Spec): Parsed {
  const opts = new Map<string, string[]>();
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      operands.push(a);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const o = a[j];
      const kind = spec[o];
      if (!kind) throw new UsageError(`illegal option -- ${o}`, sub);
      let value = '';
      if (kind !== 'flag') {
        value = a.slice(j + 1);
        if (value === '') {
          if (i + 1 >= args.length) throw new UsageError(`option requires an argument -- ${o}`, sub);
          value = args[++i];
        }
        j = a.length;
      }
      const list = opts.get(o) ?? [];
      if (list.length && kind !== 'list') throw new UsageError(`-${o} given more than once`, sub);
      list.push(value);
      opts.set(o, list);
    }
  }
  return { opts, operands };
}

function only(sub: keyof typeof USAGE, p: Parsed, allowed: string, form: string): void {
  for (const o of p.opts.keys()) if (!allowed.includes(o)) throw new UsageError(`-${o} cannot be used with ${form}`, sub);
}

function one(p: Parsed, o: string): string | undefined {
  return p.opts.get(o)?.[0];
}

function oneDomain(sub: keyof typeof USAGE, p: Parsed): string {
  if (p.operands.length === 0) throw new UsageError('missing domain name', sub);
  if (p.operands.length > 1) throw new UsageError(`one domain only (got ${p.operands.join(' ')})`, sub);
  return p.operands[0];
}

function dataDir(sub: keyof typeof USAGE, p: Parsed): string {
  const d = one(p, 'd');
  if (d === undefined) throw new UsageError('-d data-dir is required', sub);
  if (d === '') throw new UsageError('-d: empty data directory name', sub);
  return path.resolve(d);
}

function wantsHelp(args: string[]): boolean {
  return args.includes('-h') || args.includes('--help');
}

let interruptedFlag = false;
/** What an interruption leaves, per phase (printed with the message). */
let interruptNote = '';
let verbose = false;

const progress: Progress = {
  say: (l) => void process.stdout.write(`${l}\n`),
  detail: (l) => {
    if (verbose) process.stdout.write(`${l.startsWith(' ') ? l : `  ${l}`}\n`);
  },
  interrupted: () => interruptedFlag,
};

/** SIGINT/SIGTERM stop a phase between two steps (what it created is removed); a second one ends at once. */
function catchSignals(): void {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (interruptedFlag) process.exit(130);
      interruptedFlag = true;
      process.stderr.write(`ldmp2v: ${sig} received; stopping after the current step\n`);
    });
  }
}

function configFile(): string {
  return path.join(ldomsHome(), 'etc', 'ldmp2v.conf');
}

function readConfig() {
  const file = configFile();
  const { config, unknown } = loadConfig(file);
  for (const k of unknown) process.stderr.write(`ldmp2v: ${file}: ignoring unknown key ${k}\n`);
  return config;
}

async function runCollect(args: string[]): Promise<number> {
  const p = getopt('collect', args, { a: 'value', O: 'value', v: 'flag', x: 'list', d: 'value' });
  if (p.operands.length) throw new UsageError(`unexpected argument ${p.operands[0]}`, 'collect');
  const dir = dataDir('collect', p);
  verbose = p.opts.has('v');
  const archive = parseArchiveMethod(one(p, 'a') ?? 'flash');
  let flar: FlarOptions | undefined;
  if (p.opts.has('O')) flar = parseFlarOptions(one(p, 'O')!);
  const src = process.env[SOURCE_ENV];
  if (!src) throw new CollectError(`this system is not a modelled physical source: set ${SOURCE_ENV} to its manifest (docs/ldmp2v.md)`);
  const manifest = loadManifest(src);
  const exclude = p.opts.get('x') ?? [];
  for (const x of exclude) if (!x.startsWith('/')) throw new UsageError(`-x ${x}: expected a mount point`, 'collect');
  collect(manifest, { dir, archive, exclude, flar, say: progress.say, verbose });
  return 0;
}

async function runPrepare(args: string[]): Promise<number> {
  const p = getopt('prepare', args, {
    b: 'value', B: 'list', c: 'value', m: 'list', M: 'value', o: 'list', p: 'value', s: 'flag', v: 'flag', x: 'list', d: 'value', R: 'value', C: 'value',
  });
  verbose = p.opts.has('v');
  const ldm = new Ldm(process.env.LDOMS_HOST || undefined, (l) => progress.detail(`  ${l}`));
  if (p.opts.has('C')) {
    only('prepare', p, 'C', '-C');
    if (p.operands.length) throw new UsageError(`prepare -C takes only the domain name (got ${p.operands.join(' ')})`, 'prepare');
    const domain = one(p, 'C')!;
    interruptNote = `; run ldmp2v prepare -C ${domain} again to finish`;
    catchSignals();
    await cleanupDomain(domain, ldm, progress);
    return 0;
  }
  const guestRoot = one(p, 'R');
  if (guestRoot !== undefined) only('prepare', p, 'RcMovd', '-R');
  const domain = oneDomain('prepare', p);
  const dir = dataDir('prepare', p);

  const config = readConfig();
  const b = one(p, 'b');
  if (b !== undefined) {
    if (b !== 'zvol' && b !== 'file' && b !== 'disk') throw new UsageError(`-b ${b}: expected zvol, file or disk`, 'prepare');
    config.backendType = b as BackendType;
  }
  const prefix = one(p, 'p');
  if (prefix !== undefined) {
    if (config.backendType === 'disk') throw new UsageError('-p: a disk back end has no prefix (name it with -B)', 'prepare');
    const t = prefix.replace(/^\/+|\/+$/g, '');
    if (!t) throw new UsageError(`-p ${prefix}: empty prefix`, 'prepare');
    config.backendPrefix = t;
  }
  if (p.opts.has('s')) config.backendSparse = true;
  const specs: BackendSpec[] = (p.opts.get('B') ?? []).map(parseBackendSpec);
  let cpus: number | undefined;
  const c = one(p, 'c');
  if (c !== undefined) {
    if (!/^\d+$/.test(c) || Number(c) < 1) throw new UsageError(`-c ${c}: expected a number of virtual CPUs`, 'prepare');
    cpus = Number(c);
  }
  let memory: number | undefined;
  const mem = one(p, 'M');
  if (mem !== undefined) {
    // size[unit] as ldm reads it: K, M, G; no unit means bytes.
    const n = parseSize(mem);
    if (n === null || n === 0) throw new UsageError(`-M ${mem}: expected a size such as 4G or 4096M`, 'prepare');
    memory = n;
  }
  const sizes = new Map<string, number>();
  for (const v of p.opts.get('m') ?? []) {
    const i = v.lastIndexOf(':');
    const mp = v.slice(0, i);
    const n = i > 0 ? parseSize(v.slice(i + 1)) : null;
    if (i <= 0 || !mp.startsWith('/') || n === null || n === 0) throw new UsageError(`-m ${v}: expected mount-point:size, e.g. /:12G`, 'prepare');
    if (sizes.has(mp)) throw new UsageError(`-m ${mp} given twice`, 'prepare');
    sizes.set(mp, n);
  }
  let keepHostid = false;
  let keepMac = false;
  for (const o of p.opts.get('o') ?? []) {
    if (o === 'keep-hostid') keepHostid = true;
    else if (o === 'keep-mac') keepMac = true;
    else throw new UsageError(`-o ${o}: expected keep-hostid or keep-mac`, 'prepare');
  }
  let noAutoAdjust = false;
  let removeUnused = false;
  for (const x of p.opts.get('x') ?? []) {
    if (x === 'no-auto-adjust-fs') noAutoAdjust = true;
    else if (x === 'remove-unused-slices') removeUnused = true;
    else throw new UsageError(`-x ${x}: expected no-auto-adjust-fs or remove-unused-slices`, 'prepare');
  }
  if (guestRoot !== undefined && config.backendType === 'disk')
    throw new UsageError('-R: the restored disks are found by their default names; BACKEND_TYPE must be zvol or file', 'prepare');
  interruptNote = '; what this run created was removed';
  catchSignals();
  await prepare(
    { dataDir: dir, domain, config, backendSpecs: specs, cpus, memory, sizes, keepHostid, keepMac, noAutoAdjust, removeUnused, guestRoot },
    ldm,
    progress,
  );
  return 0;
}

async function runConvert(args: string[]): Promise<number> {
  const p = getopt('convert', args, { i: 'value', n: 'value', j: 'flag', d: 'value', v: 'flag' });
  verbose = p.opts.has('v');
  const iso = one(p, 'i');
  const net = one(p, 'n');
  if (iso !== undefined && net !== undefined) throw new UsageError('-i and -n cannot be used together', 'convert');
  if (iso === undefined && net === undefined) throw new UsageError('give the install media: -i install-image or -n interface', 'convert');
  if (p.opts.has('j') && net === undefined) throw new UsageError('-j needs -n interface (Custom JumpStart boots from the network)', 'convert');
  const domain = oneDomain('convert', p);
  const dir = dataDir('convert', p);
  const config = readConfig();
  const ldm = new Ldm(process.env.LDOMS_HOST || undefined, (l) => progress.detail(`  ${l}`));
  interruptNote = `; run ldmp2v convert again to go on`;
  catchSignals();
  await convert({ dataDir: dir, domain, iso, netInterface: net, jumpstart: p.opts.has('j'), bootTimeout: config.bootTimeout }, ldm, progress);
  return 0;
}

const GENERAL = `Usage:
${indent([USAGE.collect, USAGE.prepare, USAGE.convert].join('\n'))}
`;

async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') {
    (sub === undefined ? process.stderr : process.stdout).write(GENERAL);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'collect' && sub !== 'prepare' && sub !== 'convert') throw new UsageError(`unknown subcommand ${sub}`);
  if (wantsHelp(rest)) {
    process.stdout.write(HELP[sub]);
    return 0;
  }
  if (sub === 'collect') return runCollect(rest);
  if (sub === 'prepare') return runPrepare(rest);
  return runConvert(rest);
}

const KNOWN = [CollectError, ManifestError, ConfigError, PrepareError, ConvertError, LdmError, LedgerError, LayoutError, BackendError, MediaError, OsImageError, TarError, ClientError];

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    if (e instanceof UsageError) {
      process.stderr.write(`ldmp2v: ${e.message}\n${e.sub ? `Usage:\n${indent(USAGE[e.sub])}\n` : GENERAL}`);
      process.exitCode = 2;
      return;
    }
    if (e instanceof Interrupted) {
      process.stderr.write(`ldmp2v: interrupted${interruptNote}\n`);
      process.exitCode = 130;
      return;
    }
    const known = KNOWN.some((k) => e instanceof k);
    process.stderr.write(`ldmp2v: ${known ? e.message : `internal error: ${e instanceof Error ? e.stack : String(e)}`}\n`);
    process.exitCode = 1;
  },
);
