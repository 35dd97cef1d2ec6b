// /etc/ldmp2v.conf: the control domain's P2V settings (reference A.4), shell-style KEY="value"
// lines; plus the back-end naming defaults and the 10 GB auto-resize rule of prepare (A.3.2).

import fs from 'node:fs';
import { G, M } from '../format/units.js';

export const CONFIG_PATH = '/etc/ldmp2v.conf';

export type BackendType = 'file' | 'zvol' | 'disk';

export interface P2vConfig {
  vds: string;
  vsw: string;
  vcc: string;
  backendType: BackendType;
  backendSparse: boolean;
  backendPrefix: string;
  /** Seconds convert waits for Solaris to boot. */
  bootTimeout: number;
}

/**
 * Defaults: VDS/VSW/VCC are the documented examples; BACKEND_* and BOOT_TIMEOUT have no documented
 * default, so they take the values of the reference's illustrative file [M] (docs/ldmp2v.md).
 */
export const DEFAULT_CONFIG: Readonly<P2vConfig> = {
  vds: 'primary-vds0',
  vsw: 'primary-vsw0',
  vcc: 'primary-vcc0',
  backendType: 'zvol',
  backendSparse: false,
  backendPrefix: 'tank/ldoms',
  bootTimeout: 60,
};

export class ConfigError extends Error {}

export interface ParsedConfig {
  config: P2vConfig;
  /** Keys not documented for 2.0; kept out of the config but reported (ldmp2v.conf.sample may have more). */
  unknown: string[];
}

/** Parses the text of an ldmp2v.conf; `file` only labels messages. */
export function parseConfig(text: string, file = CONFIG_PATH): ParsedConfig {
  const config: P2vConfig = { ...DEFAULT_CONFIG };
  const unknown: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const where = `${file}:${i + 1}`;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new ConfigError(`${where}: expected KEY=value, got '${line}'`);
    const key = m[1];
    const value = unquote(m[2], where);
    switch (key) {
      case 'VDS': config.vds = nonEmpty(value, where, key); break;
      case 'VSW': config.vsw = nonEmpty(value, where, key); break;
      case 'VCC': config.vcc = nonEmpty(value, where, key); break;
      case 'BACKEND_TYPE':
        // The guide once writes "files"; accepted as an alias (reference A.4, doc quirk).
        if (value === 'file' || value === 'files') config.backendType = 'file';
        else if (value === 'zvol' || value === 'disk') config.backendType = value;
        else throw new ConfigError(`${where}: BACKEND_TYPE must be zvol, file or disk, not '${value}'`);
        break;
      case 'BACKEND_SPARSE':
        if (value !== 'yes' && value !== 'no') throw new ConfigError(`${where}: BACKEND_SPARSE must be yes or no, not '${value}'`);
        config.backendSparse = value === 'yes';
        break;
      case 'BACKEND_PREFIX': config.backendPrefix = nonEmpty(value, where, key).replace(/^\/+|\/+$/g, ''); break;
      case 'BOOT_TIMEOUT':
        if (!/^\d+$/.test(value) || Number(value) === 0)
          throw new ConfigError(`${where}: BOOT_TIMEOUT must be a positive number of seconds, not '${value}'`);
        config.bootTimeout = Number(value);
        break;
      default:
        unknown.push(key);
    }
  });
  return { config, unknown };
}

/** Reads the configuration file; a missing file means the defaults. */
export function loadConfig(file = CONFIG_PATH): ParsedConfig {
  if (!fs.existsSync(file)) return { config: { ...DEFAULT_CONFIG }, unknown: [] };
  return parseConfig(fs.readFileSync(file, 'utf8'), file);
}

function unquote(v: string, where: string): string {
  const s = v.trim();
  const q = s[0];
  if (q === '"' || q === "'") {
    const end = s.indexOf(q, 1);
    if (end < 0) throw new ConfigError(`${where}: unterminated quote`);
    const rest = s.slice(end + 1).trim();
    if (rest !== '' && !rest.startsWith('#')) throw new ConfigError(`${where}: text after the closing quote`);
    return s.slice(1, end);
  }
  return s.replace(/\s+#.*$/, '');
}

function nonEmpty(v: string, where: string, key: string): string {
  if (v === '') throw new ConfigError(`${where}: ${key} is empty`);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Naming (reference A.4): disks are numbered from 0 in source order.

/**
 * Default back end of disk N: the ZFS volume `$BACKEND_PREFIX/<domain>/diskN`, or the file
 * `/$BACKEND_PREFIX/<domain>/diskN` (the prefix is relative to /). A `disk` back end has no
 * default — it must exist and be named with -B — so the result is null.
 */
export function backendName(conf: P2vConfig, domain: string, diskIndex: number): string | null {
  if (conf.backendType === 'disk') return null;
  const name = `${conf.backendPrefix}/${domain}/disk${diskIndex}`;
  return conf.backendType === 'file' ? `/${name}` : name;
}

/** vds volume name of disk N: `<domain>-volN`. */
export function volumeName(domain: string, diskIndex: number): string {
  return `${domain}-vol${diskIndex}`;
}

/** Virtual disk name in the guest: `diskN`. */
export function vdiskName(diskIndex: number): string {
  return `disk${diskIndex}`;
}

/** Name used while converting, unique in the control domain: `<domain>-diskN`. */
export function tempVdiskName(domain: string, diskIndex: number): string {
  return `${domain}-disk${diskIndex}`;
}

export interface BackendSpec {
  backend?: string;
  volume?: string;
  vdisk?: string;
}

/** One `-B backend:volume:vdisk` argument; empty fields stay unset (`::vdisk001`, `/f:vol001`). */
export function parseBackendSpec(arg: string): BackendSpec {
  const parts = arg.split(':');
  if (parts.length > 3) throw new ConfigError(`-B ${arg}: expected backend:volume:vdisk`);
  const [backend, volume, vdisk] = parts;
  const out: BackendSpec = {};
  if (backend) out.backend = backend;
  if (volume) out.volume = volume;
  if (vdisk) out.vdisk = vdisk;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Auto-resize (reference A.3.2): when /, /usr and /var together are smaller than 10 GB, prepare
// enlarges them for Solaris 10's larger needs. How the room is shared is not documented [M]: each
// grows in proportion to its size so that the three total 10 GB, rounded up to a whole megabyte,
// never below what it already uses.

export const AUTO_RESIZE_TOTAL = 10 * G;
export const SYSTEM_MOUNTS = ['/', '/usr', '/var'] as const;

/**
 * New size of one of /, /usr, /var. `systemTotal` is the combined size of those present on the
 * source (default: this file system alone, as on a root-only source).
 */
export function resizedFsSize(used: number, size: number, systemTotal = size): number {
  if (systemTotal >= AUTO_RESIZE_TOTAL || systemTotal <= 0) return size;
  const share = Math.ceil((size * AUTO_RESIZE_TOTAL) / systemTotal / M) * M;
  return Math.max(size, used, share);
}

/** Applies the rule to a list of file systems; other mount points keep their size. */
export function autoResize<T extends { mountPoint: string; size: number; used: number }>(fileSystems: T[]): T[] {
  const system = fileSystems.filter((f) => (SYSTEM_MOUNTS as readonly string[]).includes(f.mountPoint));
  const total = system.reduce((s, f) => s + f.size, 0);
  return fileSystems.map((f) =>
    system.includes(f) ? { ...f, size: resizedFsSize(f.used, f.size, total) } : f,
  );
}
