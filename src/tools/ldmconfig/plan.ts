// The Configuration Assistant's plan: the answers to its questions, the defaults it offers for a
// platform, every reason the answers cannot be applied, and the exact `ldm` commands that apply
// them (p2v-and-config-assistant.md §B.3, §B.4, §C.5, §C.6). Pure: no terminal, no ldm calls.

import { G, M, formatSize } from '../../format/units.js';
import { installedMemory, reservedMemory } from '../../platform/catalog.js';
import type { PlatformSpec } from '../../platform/types.js';
import { BIND_ALIGN, DR_ALIGN } from '../../manager/alloc/memory.js';
import { MAX_SPCONFIG_NAME } from '../../manager/names.js';
import { MAX_SP_CONFIGS } from '../../machine/hypervisor.js';

export interface ConfigAnswers {
  guests: number;
  vcpusPerGuest: number;
  /** Bytes; rounded up to 4 MB in the plan (guests bind in 4 MB pieces). */
  memoryPerGuest: number;
  /** Solaris instance name of the NIC behind `primary-vsw0`, e.g. `nxge0`. */
  netDev: string;
  /** Absolute directory holding the guests' disk image files. */
  storageDir: string;
  /** Bytes per guest disk image. */
  diskSize: number;
  /** Name of the SP configuration saved at the end. */
  configName: string;
  /** Strands the control domain keeps (default: one core). */
  primaryVcpus?: number;
  /** Bytes the control domain keeps, before the 256 MB removal rule (default 4 GB). */
  primaryMemory?: number;
}

export interface ValidateContext {
  /** Domains on the host now (`primary` included). */
  existingDomains: string[];
  /** Configurations on the SP now (`factory-default` included). */
  existingConfigs: string[];
  /** Whether the host runs the factory-default configuration with no domain but `primary`. */
  factoryDefault: boolean;
}

// Fixed names and values of the assistant (§B.3: default names and the vcc port range cannot be changed).
export const VCC = 'primary-vcc0';
export const VDS = 'primary-vds0';
export const VSW = 'primary-vsw0';
export const VCC_PORT_RANGE = '5000-5100';
export const DEFAULT_STORAGE_DIR = '/ldoms/disks';
export const DEFAULT_DISK_SIZE = 20 * G;
export const DEFAULT_PRIMARY_MEMORY = 4 * G;
/** What a default guest gets at least: one core and this much memory. */
export const MIN_DEFAULT_GUEST_MEMORY = 2 * G;
/** Smallest sizes the assistant accepts [M]: enough to install Solaris 10. */
export const MIN_GUEST_MEMORY = 512 * M;
export const MIN_PRIMARY_MEMORY = 1 * G;
export const MIN_DISK_SIZE = 1 * G;

const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;
const alignDown = (n: number, a: number) => Math.floor(n / a) * a;

export function guestName(n: number): string {
  return `ldg${n}`;
}

/** Where guest `n`'s disk image lives; the applier creates the file before running the plan. */
export function diskImagePath(a: ConfigAnswers, n: number): string {
  return `${a.storageDir.replace(/\/+$/, '')}/${guestName(n)}-disk0.img`;
}

export function totalStrands(p: PlatformSpec): number {
  return p.cpu.chips * p.cpu.coresPerChip * p.cpu.strandsPerCore;
}

/** The factory-default control domain's memory: every byte not reserved by the firmware. */
export function factoryMemory(p: PlatformSpec): number {
  return installedMemory(p) - reservedMemory(p);
}

/**
 * The size the control domain ends up with for a request: at least the request (rounded up to
 * 4 MB), and such that the amount removed from the factory-default size is whole 256 MB — the 2.0
 * rule for a control-domain shrink in delayed reconfiguration (ldm-cli.md §6.2, §7.1).
 */
export function primaryMemorySize(p: PlatformSpec, requested: number): number {
  const factory = factoryMemory(p);
  const target = alignUp(requested, BIND_ALIGN);
  if (target >= factory) return factory;
  return factory - alignDown(factory - target, DR_ALIGN);
}

/** Cores the control domain's strands occupy: crypto units stay with the cores kept. */
function primaryCores(p: PlatformSpec, vcpus: number): number {
  return Math.ceil(vcpus / p.cpu.strandsPerCore);
}

function primaryVcpusOf(p: PlatformSpec, a: ConfigAnswers): number {
  return a.primaryVcpus ?? p.cpu.strandsPerCore;
}

function primaryMemoryOf(p: PlatformSpec, a: ConfigAnswers): number {
  return primaryMemorySize(p, a.primaryMemory ?? DEFAULT_PRIMARY_MEMORY);
}

function guestMemoryOf(a: ConfigAnswers): number {
  return alignUp(a.memoryPerGuest, BIND_ALIGN);
}

function dateStamp(now: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}`;
}

/** The control domain's default share: one core and 4 GB (raised by the 256 MB removal rule). */
function primaryDefaults(p: PlatformSpec): { primaryVcpus: number; primaryMemory: number } {
  return { primaryVcpus: p.cpu.strandsPerCore, primaryMemory: primaryMemorySize(p, DEFAULT_PRIMARY_MEMORY) };
}

/**
 * What each of `guests` guests gets by default once the control domain has its default share: the
 * free cores shared out whole, or the free strands when there are more guests than free cores; the
 * free memory shared out in 256 MB steps (4 MB steps when 256 MB each is too much). Asked again
 * whenever the guest count changes, so fewer guests get larger shares (§B.3 screen 2) [M].
 */
export function guestShares(p: PlatformSpec, guests: number): { vcpusPerGuest: number; memoryPerGuest: number } {
  const spc = p.cpu.strandsPerCore;
  const { primaryVcpus, primaryMemory } = primaryDefaults(p);
  const freeCores = p.cpu.chips * p.cpu.coresPerChip - primaryCores(p, primaryVcpus);
  const freeStrands = totalStrands(p) - primaryVcpus;
  const freeMemory = Math.max(0, factoryMemory(p) - primaryMemory);
  if (!(Number.isSafeInteger(guests) && guests >= 1)) return { vcpusPerGuest: spc, memoryPerGuest: MIN_DEFAULT_GUEST_MEMORY };
  const vcpusPerGuest = guests <= freeCores ? Math.floor(freeCores / guests) * spc : Math.max(1, Math.floor(freeStrands / guests));
  const memoryPerGuest = alignDown(freeMemory / guests, DR_ALIGN) || alignDown(freeMemory / guests, BIND_ALIGN) || MIN_GUEST_MEMORY;
  return { vcpusPerGuest, memoryPerGuest };
}

/**
 * The answers the assistant offers first. The control domain keeps one core and 4 GB (raised to
 * the nearest size whose removal is whole 256 MB). The rest is split into as many guests as can
 * each have at least one whole core and 2 GB; each gets the same whole number of cores and the
 * same memory, rounded down to 256 MB (leftover cores and memory stay free). Guests can be 0 when
 * the platform is too small; validate() then says why.
 */
export function defaults(p: PlatformSpec, now: Date = new Date()): ConfigAnswers {
  const { primaryVcpus, primaryMemory } = primaryDefaults(p);
  const freeCores = p.cpu.chips * p.cpu.coresPerChip - primaryCores(p, primaryVcpus);
  const freeMemory = Math.max(0, factoryMemory(p) - primaryMemory);
  const guests = Math.max(0, Math.min(freeCores, Math.floor(freeMemory / MIN_DEFAULT_GUEST_MEMORY)));
  const shares = guests > 0 ? guestShares(p, guests) : { vcpusPerGuest: p.cpu.strandsPerCore, memoryPerGuest: MIN_DEFAULT_GUEST_MEMORY };
  return {
    guests,
    ...shares,
    netDev: p.netDevices[0]?.name ?? '',
    storageDir: DEFAULT_STORAGE_DIR,
    diskSize: DEFAULT_DISK_SIZE,
    configName: `ldmconfig-${dateStamp(now)}`,
    primaryVcpus,
    primaryMemory,
  };
}

const isCount = (n: number) => Number.isSafeInteger(n) && n >= 1;
const shown = (n: number) => (Number.isSafeInteger(n) && n > 0 ? formatSize(n) : String(n));

/** SP configuration names (names.ts checkSpconfigName): printable, first a letter, digit or `/`. */
function isValidConfigName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_SPCONFIG_NAME && /^[A-Za-z0-9/][\x21-\x7e]*$/.test(name);
}

function isValidStorageDir(dir: string): boolean {
  if (!dir.startsWith('/') || /^\/+$/.test(dir)) return false;
  if (/[\s'"\\$`*?]/.test(dir) || /[\x00-\x1f\x7f]/.test(dir)) return false;
  return !dir.split('/').some((part) => part === '..' || part === '.');
}

// One check per answer, shared by validate() and the questions (which ask again at once).

export function configNameProblem(name: string, existingConfigs: string[]): string | null {
  if (!isValidConfigName(name)) {
    return `Configuration name "${name}" is invalid: it needs 1 to ${MAX_SPCONFIG_NAME} printable characters without spaces, the first a letter, a digit or /`;
  }
  if (existingConfigs.includes(name)) return `Configuration name "${name}" already exists on the service processor`;
  if (existingConfigs.length >= MAX_SP_CONFIGS) return `The service processor already holds ${existingConfigs.length} configurations, its limit is ${MAX_SP_CONFIGS}`;
  return null;
}

export function netDevProblem(p: PlatformSpec, dev: string): string | null {
  if (p.netDevices.some((d) => d.name === dev)) return null;
  const names = p.netDevices.map((d) => d.name).join(', ') || 'none';
  return `Network device "${dev}" is not on this platform (it has ${names})`;
}

export function storageDirProblem(dir: string): string | null {
  return isValidStorageDir(dir) ? null : `The storage directory must be an absolute path below / without spaces, quotes or "." and ".." parts (got "${dir}")`;
}

export function diskSizeProblem(size: number): string | null {
  if (Number.isSafeInteger(size) && size >= MIN_DISK_SIZE && size % M === 0) return null;
  return `The virtual disk size must be a whole number of megabytes, at least ${formatSize(MIN_DISK_SIZE)} (got ${shown(size)})`;
}

export function guestCountProblem(guests: number): string | null {
  return isCount(guests) ? null : `The number of guest domains must be a whole number of at least 1 (got ${guests})`;
}

export function guestVcpusProblem(vcpus: number): string | null {
  return isCount(vcpus) ? null : `Each guest domain needs a whole number of at least 1 virtual CPU (got ${vcpus})`;
}

export function guestMemoryProblem(memory: number): string | null {
  return Number.isSafeInteger(memory) && memory >= MIN_GUEST_MEMORY ? null : `Each guest domain needs at least ${formatSize(MIN_GUEST_MEMORY)} of memory (got ${shown(memory)})`;
}

/** Every reason the answers cannot be applied on this host; empty when the plan can run. */
export function validate(p: PlatformSpec, a: ConfigAnswers, ctx: ValidateContext): string[] {
  const errors: string[] = [];
  if (!ctx.factoryDefault) {
    errors.push('The system is not in the factory-default configuration: ldmconfig sets up only a system with no logical domains yet');
  }

  const strands = totalStrands(p);
  const pVcpus = primaryVcpusOf(p, a);
  const pVcpusOk = isCount(pVcpus) && pVcpus <= strands;
  if (!pVcpusOk) errors.push(`The control domain must keep between 1 and ${strands} virtual CPUs (got ${pVcpus})`);

  const factory = factoryMemory(p);
  const pMemRequested = a.primaryMemory ?? DEFAULT_PRIMARY_MEMORY;
  const pMemOk = Number.isSafeInteger(pMemRequested) && pMemRequested >= MIN_PRIMARY_MEMORY && pMemRequested <= factory;
  if (!pMemOk) {
    errors.push(`The control domain must keep between ${formatSize(MIN_PRIMARY_MEMORY)} and ${formatSize(factory)} of memory (got ${shown(pMemRequested)})`);
  }

  const push = (problem: string | null) => {
    if (problem) errors.push(problem);
    return problem === null;
  };
  const guestsOk = push(guestCountProblem(a.guests));
  const vcpusOk = push(guestVcpusProblem(a.vcpusPerGuest));
  const memOk = push(guestMemoryProblem(a.memoryPerGuest));

  if (pVcpusOk && vcpusOk) {
    const left = strands - pVcpus;
    if (a.vcpusPerGuest > left) {
      errors.push(`A guest domain cannot have ${a.vcpusPerGuest} virtual CPUs: only ${left} of the ${strands} are left after the control domain keeps ${pVcpus}`);
    } else if (guestsOk && a.guests * a.vcpusPerGuest > left) {
      errors.push(
        `Too many guest domains for the virtual CPUs: ${a.guests} guests of ${a.vcpusPerGuest} need ${a.guests * a.vcpusPerGuest}, ` +
          `but only ${left} of the ${strands} are left after the control domain keeps ${pVcpus}`,
      );
    }
  }
  if (pMemOk && memOk && guestsOk) {
    const kept = primaryMemorySize(p, pMemRequested);
    const left = factory - kept;
    const each = guestMemoryOf(a);
    if (a.guests * each > left) {
      errors.push(
        `Too many guest domains for the memory: ${a.guests} guests of ${formatSize(each)} need ${formatSize(a.guests * each)}, ` +
          `but only ${formatSize(left)} of ${formatSize(factory)} is left after the control domain keeps ${formatSize(kept)}`,
      );
    }
  }

  if (guestsOk) {
    for (let n = 1; n <= a.guests; n++) {
      if (ctx.existingDomains.includes(guestName(n))) errors.push(`Domain name ${guestName(n)} is already in use`);
    }
  }

  push(configNameProblem(a.configName, ctx.existingConfigs));
  push(netDevProblem(p, a.netDev));
  push(storageDirProblem(a.storageDir));
  push(diskSizeProblem(a.diskSize));
  return errors;
}

/**
 * The `ldm` argv lists that apply validated answers, in order. The guests are created inactive
 * before the delayed reconfiguration starts: while it is pending, every change to a domain other
 * than `primary` is refused (§C.5, docs/ldm.md), and they cannot be bound before the control
 * domain has given its resources back at the power cycle. The SP configuration saved last holds
 * the guests and the pending control-domain set; the power cycle boots it.
 */
export function planCommands(p: PlatformSpec, a: ConfigAnswers): string[][] {
  const cmds: string[][] = [
    ['add-vcc', `port-range=${VCC_PORT_RANGE}`, VCC, 'primary'],
    ['add-vds', VDS, 'primary'],
    ['add-vsw', `net-dev=${a.netDev}`, VSW, 'primary'],
  ];
  const memory = formatSize(guestMemoryOf(a));
  for (let n = 1; n <= a.guests; n++) {
    const ldg = guestName(n);
    const volume = `vol-${ldg}@${VDS}`;
    cmds.push(
      ['add-domain', ldg],
      ['add-vcpu', String(a.vcpusPerGuest), ldg],
      ['add-memory', memory, ldg],
      ['add-vdsdev', diskImagePath(a, n), volume],
      ['add-vdisk', 'vdisk0', volume, ldg],
      ['add-vnet', 'vnet0', VSW, ldg],
    );
  }
  const pVcpus = primaryVcpusOf(p, a);
  cmds.push(['start-reconf', 'primary']);
  // Crypto units belong to cores: keep one per core the control domain still occupies (none from T4 on).
  if (p.cpu.cryptoUnitsPerCore > 0) {
    cmds.push(['set-crypto', String(primaryCores(p, pVcpus) * p.cpu.cryptoUnitsPerCore), 'primary']);
  }
  cmds.push(['set-vcpu', String(pVcpus), 'primary'], ['set-memory', formatSize(primaryMemoryOf(p, a)), 'primary']);
  cmds.push(['add-spconfig', a.configName]);
  return cmds;
}

/** After the power cycle: the guests are bound and started (§B.3 step 9) [M]. */
export function planGuestStart(a: ConfigAnswers): string[][] {
  const cmds: string[][] = [];
  for (let n = 1; n <= a.guests; n++) cmds.push(['bind-domain', guestName(n)]);
  for (let n = 1; n <= a.guests; n++) cmds.push(['start-domain', guestName(n)]);
  return cmds;
}

function quote(arg: string): string {
  return /^[A-Za-z0-9_\-+=@%:,./]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The plan as the summary screen shows it: one `ldm ...` line per command. */
export function renderPlan(cmds: string[][]): string {
  return cmds.map((argv) => ['ldm', ...argv.map(quote)].join(' ')).join('\n');
}

/**
 * Once the guests run: the configuration saved again under its name, so that it holds them bound
 * and active (they come back running after a power cycle) and is `[current]` again [M].
 */
export function planResave(a: ConfigAnswers): string[][] {
  return [
    ['remove-spconfig', a.configName],
    ['add-spconfig', a.configName],
  ];
}
