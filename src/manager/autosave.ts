// Autosave: after every change ldmd keeps a copy of the running configuration in
// autosave-<current SP configuration>/, so that a configuration changed since it was last saved
// to the SP can be listed (`list-spconfig -r`, marked [newer]) and restored (`add-spconfig -r`).

import fs from 'node:fs';
import path from 'node:path';
import { readJson, writeJsonAtomic } from '../machine/persist.js';
import type { SnapshotDomain } from '../machine/types.js';

export interface Autosave {
  name: string;
  savedAt: number;
  domains: SnapshotDomain[];
}

const PREFIX = 'autosave-';
const FILE = 'ldom-db.json';

export function writeAutosave(hostDir: string, name: string, domains: SnapshotDomain[], now: number): void {
  const dir = path.join(hostDir, PREFIX + name);
  fs.mkdirSync(dir, { recursive: true });
  writeJsonAtomic(path.join(dir, FILE), { name, savedAt: now, domains });
}

export function readAutosave(hostDir: string, name: string): Autosave | null {
  return readJson<Autosave>(path.join(hostDir, PREFIX + name, FILE));
}

export function listAutosaves(hostDir: string): Autosave[] {
  return fs
    .readdirSync(hostDir)
    .filter((n) => n.startsWith(PREFIX))
    .map((n) => readAutosave(hostDir, n.slice(PREFIX.length)))
    .filter((a): a is Autosave => a !== null)
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function removeAutosave(hostDir: string, name: string): boolean {
  const dir = path.join(hostDir, PREFIX + name);
  if (!fs.existsSync(dir)) return false;
  fs.rmSync(dir, { recursive: true, force: true });
  return true;
}
