// Where a host lives on disk. Every host has its own directory under $LDOMS_HOME/hosts/NAME:
//   host.json      what the host is: name, address, platform, manager version
//   machine.json   the machine process's hypervisor/SP state
//   ldom.db        ldmd's constraints database (SQLite)
//   autosave-*/    autosaved SP configurations
//   run/           sockets, pid files, the authentication drop box
//   log/           process logs

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PlatformSpec } from '../platform/types.js';

export interface HostConfig {
  name: string;
  dir: string;
  /** Loopback address its network services listen on, e.g. 127.0.0.2. */
  address: string;
  platform: PlatformSpec;
  /** Logical Domains Manager version this host runs, e.g. `2.0`. */
  version: string;
  createdAt: number;
  /** SMF-style properties of ldmd (`ldmd/xmpp_enabled`, ...); read when ldmd starts. */
  properties?: Record<string, string>;
}

/** ldmd's properties and their defaults (ldm-cli.md §8: svccfg -s ldmd setprop ...). */
export const LDMD_PROPERTIES: Record<string, { default: string; values: RegExp; about: string }> = {
  'ldmd/xmpp_enabled': { default: 'true', values: /^(true|false)$/, about: 'the XML interface on port 6482 (off also blocks migration and memory DR)' },
  'ldmd/mac_collision_check': { default: 'false', values: /^(true|false)$/, about: 'check auto-allocated MAC addresses against other managers at start-up' },
};

export function hostProperty(cfg: HostConfig, name: string): string {
  return cfg.properties?.[name] ?? LDMD_PROPERTIES[name]?.default ?? '';
}

export function ldomsHome(): string {
  return process.env.LDOMS_HOME || path.join(os.homedir(), '.ldoms');
}

export function hostsDir(home = ldomsHome()): string {
  return path.join(home, 'hosts');
}

export function hostDir(name: string, home = ldomsHome()): string {
  return path.join(hostsDir(home), name);
}

/** The home holding a host directory (the inverse of hostDir). */
export function homeOfHostDir(dir: string): string {
  return path.dirname(path.dirname(dir));
}

export const hostPaths = (dir: string) => ({
  config: path.join(dir, 'host.json'),
  db: path.join(dir, 'ldom.db'),
  run: path.join(dir, 'run'),
  ldmdSocket: path.join(dir, 'run', 'ldmd.sock'),
  authDir: path.join(dir, 'run', 'auth'),
  machinePid: path.join(dir, 'run', 'machine.pid'),
  ldmdPid: path.join(dir, 'run', 'ldmd.pid'),
  log: path.join(dir, 'log'),
});

export function readHostConfig(dir: string): HostConfig {
  const raw = JSON.parse(fs.readFileSync(path.join(dir, 'host.json'), 'utf8'));
  return { ...raw, dir };
}

export function writeHostConfig(cfg: HostConfig): void {
  fs.mkdirSync(cfg.dir, { recursive: true });
  const { dir: _dir, ...rest } = cfg;
  fs.writeFileSync(path.join(cfg.dir, 'host.json'), JSON.stringify(rest, null, 2) + '\n');
}

export function listHostNames(home = ldomsHome()): string[] {
  try {
    return fs
      .readdirSync(hostsDir(home))
      .filter((n) => fs.existsSync(path.join(hostsDir(home), n, 'host.json')))
      .sort();
  } catch {
    return [];
  }
}
