// Turning what the user names (`--platform t5240`, `--platform ./lab.json`) into a checked PlatformSpec.
// Catalog entries and user files go through the same validator, so the rest of the manager can trust any
// PlatformSpec it is given.

import { readFileSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import type { CpuType, IoDevice, MemoryRange, NetDevice, PlatformSpec } from './types.js';
import { G, K, formatSize, hex, parseSize } from '../format/units.js';
import {
  CATALOG,
  PlatformError,
  buildPlatform,
  catalogIds,
  firstFreePa,
  installedMemory,
  reservedMemory,
  type BuildOptions,
} from './catalog.js';

export { PlatformError } from './catalog.js';

const CPU_TYPES: readonly CpuType[] = ['UltraSPARC-T1', 'UltraSPARC-T2', 'UltraSPARC-T2+', 'SPARC-T3', 'SPARC-T4', 'SPARC-T5'];
const TOP_KEYS = ['id', 'model', 'rootNode', 'cpu', 'memory', 'primaryConsole', 'io', 'netDevices', 'systemMac', 'firmware'] as const;
const CPU_KEYS = ['type', 'chips', 'coresPerChip', 'strandsPerCore', 'clockMHz', 'stickFrequencyHz', 'cryptoUnitsPerCore'] as const;
const FIRMWARE_KEYS = ['sysfw', 'hypervisor', 'openboot', 'hostconfig'] as const;
/** sun4v base page: every bank and reserved range is page aligned. */
const PAGE = 8 * K;
/** ldm-cli.md §6.3: the block reserved for domain MACs, which a system MAC must stay out of. */
const DOMAIN_MAC_FIRST = 0x00144ff80000;
const DOMAIN_MAC_LAST = 0x00144fffffff;

// ---- catalog names ----------------------------------------------------------------------------------------

/** Lower case, vendor prefixes and family words dropped: `SPARC T4-2`, `SUNW,T5240`, `Sun Fire T2000` all reduce. */
function nameKey(text: string): string {
  let s = text.trim().toLowerCase().replace(/^(sunw|orcl),/, '');
  for (;;) {
    const next = s.replace(/^(sun|fire|sparc|enterprise)[\s_-]+/, '');
    if (next === s) return s.replace(/\s+/g, '');
    s = next;
  }
}

/** Catalog id for a platform name (id, model name or OBP root node, any case), if it names one. */
export function resolveCatalogId(name: string): string | undefined {
  const key = nameKey(name);
  for (const id of catalogIds()) {
    const p = CATALOG[id];
    if ([id, p.model, p.rootNode].some((n) => nameKey(n) === key)) return id;
  }
  // The T2000's root node says T200 (platforms.md §2).
  return key === 't200' ? 't2000' : undefined;
}

// ---- loading ----------------------------------------------------------------------------------------------

/**
 * A catalog model (by id or model name, with variant options) or a user JSON file (by path).
 * Throws PlatformError with the message to show the user.
 */
export function loadPlatform(spec: string, opts: BuildOptions = {}): PlatformSpec {
  const id = resolveCatalogId(spec);
  if (id) return buildPlatform(id, opts);
  if (!/[/\\]/.test(spec) && !/\.json$/i.test(spec)) {
    throw new PlatformError(`unknown platform "${spec}"; the catalog has ${catalogIds().join(', ')}, or give the path of a platform file`);
  }
  const file = resolve(spec);
  const source = `platform file ${file}`;
  if (opts.coresPerChip !== undefined || opts.memory !== undefined || opts.chips !== undefined) {
    throw new PlatformError(`${source}: core, chip and memory options apply to catalog models only; set them in the file`);
  }
  return validatePlatform(withBase(readJson(file, source), file, source), source);
}

function readJson(file: string, source: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new PlatformError(`${source}: file not found`);
    if (code === 'EISDIR') throw new PlatformError(`${source}: is a directory, not a file`);
    throw new PlatformError(`${source}: cannot read (${(e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new PlatformError(`${source}: not valid JSON (${(e as Error).message})`);
  }
}

/** `"base": "<catalog id>"` starts from that model; `cpu`, `memory` and `firmware` merge field by field. */
function withBase(raw: unknown, file: string, source: string): unknown {
  if (!isPlainObject(raw)) throw new PlatformError(`${source}: must hold a JSON object (got ${describeValue(raw)})`);
  if (!('base' in raw)) return raw;
  const { base, ...rest } = raw;
  const baseId = typeof base === 'string' ? resolveCatalogId(base) : undefined;
  if (!baseId) {
    throw new PlatformError(`${source}: base must name a catalog platform (one of ${catalogIds().join(', ')}) (got ${describeValue(base)})`);
  }
  const merged: Record<string, unknown> = structuredClone(CATALOG[baseId]) as unknown as Record<string, unknown>;
  // Derived from the base but no longer the catalog machine: named after the file unless the file says otherwise.
  merged.id = basename(file, extname(file)).toLowerCase().replace(/[^a-z0-9._-]+/g, '-');
  for (const [key, value] of Object.entries(rest)) {
    const under = merged[key];
    merged[key] = ['cpu', 'memory', 'firmware'].includes(key) && isPlainObject(value) && isPlainObject(under) ? { ...under, ...value } : value;
  }
  return merged;
}

// ---- validation -------------------------------------------------------------------------------------------

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return JSON.stringify(v);
}

/** Raises errors named `<source>: <field> <problem>`. */
class Check {
  constructor(readonly source: string) {}

  fail(field: string, problem: string): never {
    throw new PlatformError(`${this.source}: ${field} ${problem}`);
  }

  object(v: unknown, field: string, known: readonly string[], required: readonly string[]): Record<string, unknown> {
    if (!isPlainObject(v)) this.fail(field, `must be an object (got ${describeValue(v)})`);
    for (const key of Object.keys(v)) {
      if (!known.includes(key)) this.fail(join(field, key), `is not a known field (known: ${known.join(', ')})`);
    }
    for (const key of required) if (v[key] === undefined) this.fail(join(field, key), 'is required');
    return v;
  }

  array(v: unknown, field: string): unknown[] {
    if (!Array.isArray(v)) this.fail(field, `must be an array (got ${describeValue(v)})`);
    return v;
  }

  text(v: unknown, field: string): string {
    if (typeof v !== 'string' || v.trim() === '') this.fail(field, `must be a non-empty string (got ${describeValue(v)})`);
    return v;
  }

  positiveInt(v: unknown, field: string): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) this.fail(field, `must be a positive integer (got ${describeValue(v)})`);
    return v;
  }

  oneOf<T>(v: unknown, field: string, options: readonly T[]): T {
    if (!options.includes(v as T)) this.fail(field, `must be one of ${options.map((o) => JSON.stringify(o)).join(', ')} (got ${describeValue(v)})`);
    return v as T;
  }

  /** A byte count or address: a number, `"0x..."`, or a size such as `"64G"`, `"512K"`. */
  bytes(v: unknown, field: string): number {
    let n: number | null = null;
    if (typeof v === 'number') n = v;
    else if (typeof v === 'string') n = /^0x[0-9a-f]+$/i.test(v.trim()) ? Number.parseInt(v.trim(), 16) : parseSize(v);
    if (n === null || !Number.isSafeInteger(n) || n < 0) {
      this.fail(field, `must be a size or address: a number, "0x..." or e.g. "64G" (got ${describeValue(v)})`);
    }
    if (n % PAGE !== 0) this.fail(field, `must be a multiple of ${formatSize(PAGE)} (got ${hex(n)})`);
    return n;
  }
}

function join(field: string, key: string): string {
  return field ? `${field}.${key}` : key;
}

function showRange(r: MemoryRange): string {
  return `${hex(r.pa)} ${formatSize(r.size)}`;
}

/**
 * Checks a loosely typed description (numbers or size strings) and returns it normalised to a PlatformSpec.
 * `source` prefixes every message, e.g. `platform file /x/y.json` or `catalog entry t5240`.
 */
export function validatePlatform(p: unknown, source: string): PlatformSpec {
  const c: Check = new Check(source);
  const top = c.object(p, '', TOP_KEYS, TOP_KEYS);

  const id = c.text(top.id, 'id');
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(id)) c.fail('id', `must be lower case letters, digits, ".", "_" or "-" (got ${describeValue(id)})`);
  const model = c.text(top.model, 'model');
  const rootNode = c.text(top.rootNode, 'rootNode');

  const cpuIn = c.object(top.cpu, 'cpu', CPU_KEYS, CPU_KEYS);
  const stick = cpuIn.stickFrequencyHz;
  const cpu = {
    type: c.oneOf(cpuIn.type, 'cpu.type', CPU_TYPES),
    chips: c.positiveInt(cpuIn.chips, 'cpu.chips'),
    coresPerChip: c.positiveInt(cpuIn.coresPerChip, 'cpu.coresPerChip'),
    strandsPerCore: c.positiveInt(cpuIn.strandsPerCore, 'cpu.strandsPerCore'),
    clockMHz: c.positiveInt(cpuIn.clockMHz, 'cpu.clockMHz'),
    // prtconf prints it in hex (`3b9aca00`), so a "0x..." string is accepted too.
    stickFrequencyHz: c.positiveInt(typeof stick === 'string' && /^0x[0-9a-f]+$/i.test(stick) ? Number.parseInt(stick, 16) : stick, 'cpu.stickFrequencyHz'),
    cryptoUnitsPerCore: c.oneOf(cpuIn.cryptoUnitsPerCore, 'cpu.cryptoUnitsPerCore', [0, 1] as const),
  };

  const memory = checkMemory(c, top.memory);
  const primaryConsole = c.oneOf(top.primaryConsole, 'primaryConsole', ['SP', 'UART'] as const);
  const io = checkIo(c, top.io);
  const netDevices = checkNet(c, top.netDevices, io);
  const systemMac = checkMac(c, top.systemMac);

  const fwIn = c.object(top.firmware, 'firmware', FIRMWARE_KEYS, ['sysfw', 'hypervisor', 'openboot']);
  const firmware = {
    sysfw: c.text(fwIn.sysfw, 'firmware.sysfw'),
    hypervisor: c.text(fwIn.hypervisor, 'firmware.hypervisor'),
    openboot: c.text(fwIn.openboot, 'firmware.openboot'),
    ...(fwIn.hostconfig === undefined ? {} : { hostconfig: c.text(fwIn.hostconfig, 'firmware.hostconfig') }),
  };

  return { id, model, rootNode, cpu, memory, primaryConsole, io, netDevices, systemMac, firmware };
}

function checkRanges(c: Check, v: unknown, field: string, nonEmpty: boolean): MemoryRange[] {
  const list = c.array(v, field);
  if (nonEmpty && list.length === 0) c.fail(field, 'must list at least one range');
  return list.map((r, i) => {
    const f = `${field}[${i}]`;
    const o = c.object(r, f, ['pa', 'size'], ['pa', 'size']);
    const out = { pa: c.bytes(o.pa, `${f}.pa`), size: c.bytes(o.size, `${f}.size`) };
    if (out.size === 0) c.fail(`${f}.size`, 'must not be zero');
    return out;
  });
}

function checkMemory(c: Check, v: unknown): PlatformSpec['memory'] {
  const o = c.object(v, 'memory', ['banks', 'reserved'], ['banks', 'reserved']);
  const banks = checkRanges(c, o.banks, 'memory.banks', true);
  const reserved = checkRanges(c, o.reserved, 'memory.reserved', false);

  banks.forEach((b, i) => {
    const j = banks.findIndex((o2, k) => k !== i && b.pa < o2.pa + o2.size && o2.pa < b.pa + b.size);
    if (j >= 0 && j < i) c.fail(`memory.banks[${i}]`, `(${showRange(b)}) overlaps memory.banks[${j}] (${showRange(banks[j])})`);
  });
  reserved.forEach((r, i) => {
    if (!banks.some((b) => r.pa >= b.pa && r.pa + r.size <= b.pa + b.size)) {
      c.fail(`memory.reserved[${i}]`, `(${showRange(r)}) is not inside any of memory.banks`);
    }
    if (i > 0) {
      const prev = reserved[i - 1];
      if (r.pa < prev.pa + prev.size) {
        c.fail(`memory.reserved[${i}]`, `(${showRange(r)}) must start at or after the end of memory.reserved[${i - 1}] (${hex(prev.pa + prev.size)}): ranges are sorted and do not overlap`);
      }
    }
  });

  const shape = { memory: { banks, reserved } } as PlatformSpec;
  const free = installedMemory(shape) - reservedMemory(shape);
  if (free < G) c.fail('memory', `leaves ${formatSize(free)} free after the reserved ranges; at least 1G is needed for the control domain`);
  if (firstFreePa(shape) === undefined) c.fail('memory', 'has no free address after the reserved ranges');
  return { banks, reserved };
}

const DEV_PATH = /^[A-Za-z][\w,.+-]*@[0-9a-f,]+(\/[A-Za-z][\w,.+-]*@[0-9a-f,]+)*$/;

function checkIo(c: Check, v: unknown): IoDevice[] {
  const list = c.array(v, 'io');
  const out: IoDevice[] = list.map((d, i) => {
    const f = `io[${i}]`;
    const o = c.object(d, f, ['dev', 'alias', 'type', 'bus', 'status'], ['dev', 'alias', 'type']);
    const dev = c.text(o.dev, `${f}.dev`);
    if (dev.startsWith('/')) c.fail(`${f}.dev`, `is written without the leading "/" (got ${describeValue(dev)})`);
    if (!DEV_PATH.test(dev)) c.fail(`${f}.dev`, `must be a device path such as "pci@400" or "pci@400/pci@0/pci@8" (got ${describeValue(dev)})`);
    const alias = c.text(o.alias, `${f}.alias`);
    // `|`, `=` and blanks would break the parseable (`-p`) listings.
    if (/[\s|=,]/.test(alias)) c.fail(`${f}.alias`, `must not contain blanks, "|", "=" or "," (got ${describeValue(alias)})`);
    const type = c.oneOf(o.type, `${f}.type`, ['BUS', 'NIU', 'PCIE'] as const);
    if (type === 'PCIE') {
      return {
        dev,
        alias,
        type,
        bus: c.text(o.bus, `${f}.bus`),
        status: o.status === undefined ? 'EMP' : c.oneOf(o.status, `${f}.status`, ['OCC', 'EMP', 'UNK'] as const),
      };
    }
    if (dev.includes('/')) c.fail(`${f}.dev`, `of a ${type} is a root node such as "pci@400" or "niu@480" (got ${describeValue(dev)})`);
    if (o.bus !== undefined && o.bus !== alias) c.fail(`${f}.bus`, `of a ${type} is its own alias ${JSON.stringify(alias)} (got ${describeValue(o.bus)})`);
    if (o.status !== undefined && o.status !== '') c.fail(`${f}.status`, `of a ${type} is "" (got ${describeValue(o.status)})`);
    return { dev, alias, type, bus: alias, status: '' };
  });

  if (!out.some((d) => d.type === 'BUS')) c.fail('io', 'must include at least one root complex (type "BUS")');
  out.forEach((d, i) => {
    const a = out.findIndex((e) => e.alias === d.alias);
    if (a < i) c.fail(`io[${i}].alias`, `${JSON.stringify(d.alias)} is already used by io[${a}]`);
    const b = out.findIndex((e) => e.dev === d.dev);
    if (b < i) c.fail(`io[${i}].dev`, `${JSON.stringify(d.dev)} is already listed as io[${b}]`);
    if (d.type !== 'PCIE') return;
    const root = out.find((e) => e.type !== 'PCIE' && e.alias === d.bus);
    if (!root) c.fail(`io[${i}].bus`, `must name the alias of a BUS or NIU in io (got ${describeValue(d.bus)})`);
    if (!d.dev.startsWith(`${root.dev}/`)) c.fail(`io[${i}].dev`, `must lie under its bus ${root.dev} (got ${describeValue(d.dev)})`);
  });
  return out;
}

function checkNet(c: Check, v: unknown, io: IoDevice[]): NetDevice[] {
  const roots = new Set(io.filter((d) => d.type !== 'PCIE').map((d) => d.dev));
  const out = c.array(v, 'netDevices').map((n, i) => {
    const f = `netDevices[${i}]`;
    const o = c.object(n, f, ['name', 'path'], ['name', 'path']);
    const name = c.text(o.name, `${f}.name`);
    if (!/^[a-z][a-z0-9]*?[0-9]+$/.test(name)) c.fail(`${f}.name`, `must be a driver name and instance such as "nxge0" (got ${describeValue(name)})`);
    const path = c.text(o.path, `${f}.path`);
    if (!path.startsWith('/') || !DEV_PATH.test(path.slice(1))) c.fail(`${f}.path`, `must be a device path such as "/pci@500/pci@0/pci@8/network@0" (got ${describeValue(path)})`);
    if (!roots.has(path.split('/')[1])) c.fail(`${f}.path`, `must lie under a BUS or NIU listed in io (got ${describeValue(path)})`);
    return { name, path };
  });
  out.forEach((n, i) => {
    const j = out.findIndex((m) => m.name === n.name);
    if (j < i) c.fail(`netDevices[${i}].name`, `${JSON.stringify(n.name)} is already used by netDevices[${j}]`);
  });
  return out;
}

function checkMac(c: Check, v: unknown): string {
  const mac = c.text(v, 'systemMac');
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac)) c.fail('systemMac', `must be a MAC address such as "00:21:28:57:cd:16" (got ${describeValue(mac)})`);
  const n = Number.parseInt(mac.replace(/:/g, ''), 16);
  if (Math.floor(n / 2 ** 40) % 2 === 1) c.fail('systemMac', `must be a unicast address (got ${describeValue(mac)})`);
  if (n >= DOMAIN_MAC_FIRST && n <= DOMAIN_MAC_LAST) {
    c.fail('systemMac', `must lie outside 00:14:4f:f8:00:00-00:14:4f:ff:ff:ff, the range kept for domain MACs (got ${describeValue(mac)})`);
  }
  return mac.toLowerCase();
}

// ---- summary ----------------------------------------------------------------------------------------------

/** A few lines for `ldoms platforms` and `ldoms host list -l`. */
export function describePlatform(p: PlatformSpec): string {
  const { cpu } = p;
  const cores = cpu.chips * cpu.coresPerChip;
  const strands = cores * cpu.strandsPerCore;
  const crypto = cores * cpu.cryptoUnitsPerCore;
  const start = firstFreePa(p);
  const roots = p.io.filter((d) => d.type !== 'PCIE');
  const slots = p.io.length - roots.length;
  return [
    `${p.id}  ${p.model} (${p.rootNode})`,
    `  CPU      ${cpu.type} at ${cpu.clockMHz} MHz: ${cpu.chips} x ${cpu.coresPerChip} cores x ${cpu.strandsPerCore} strands = ${strands} strands, ${crypto ? `${crypto} crypto units` : 'no crypto units'}`,
    `  Memory   ${formatSize(installedMemory(p))} installed, ${formatSize(reservedMemory(p))} reserved, primary from ${start === undefined ? '-' : hex(start)}`,
    `  I/O      ${roots.map((d) => `${d.alias} (${d.dev})`).join(', ')}; ${slots} slot${slots === 1 ? '' : 's'}`,
    `  Network  ${p.netDevices.map((n) => n.name).join(' ') || '-'}`,
    `  Console  ${p.primaryConsole}`,
  ].join('\n');
}
