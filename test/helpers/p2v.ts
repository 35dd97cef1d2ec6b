// Helpers for the ldmp2v tests: run the real `ldmp2v` command, describe a host's whole state (to
// prove a failed or cleaned-up run left it as it was), and make variants of the example manifest.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, ROOT, type RunResult, type TestHome } from './hosts.js';

export const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'p2v');
export const VOLUMIA = path.join(FIXTURES, 'volumia.json');

/** Starts `ldmp2v ARGS` (for tests that signal it); env adds to the test home's environment. */
export function spawnP2v(home: TestHome, host: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [path.join(BIN, 'ldmp2v'), ...args], { env: home.env(host, env), stdio: ['ignore', 'pipe', 'pipe'] });
}

export function collectOutput(child: ChildProcess): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? -1 : 0), stdout, stderr }));
  });
}

export function p2v(home: TestHome, host: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return collectOutput(spawnP2v(home, host, args, env));
}

/** Writes $LDOMS_HOME/etc/ldmp2v.conf. */
export function writeConf(home: TestHome, lines: Record<string, string | number>): void {
  const dir = path.join(home.home, 'etc');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'ldmp2v.conf'), Object.entries(lines).map(([k, v]) => `${k}="${v}"\n`).join(''));
}

/** Every file under a directory (relative path, size), sorted; `[]` when it does not exist. */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    const full = path.join(dir, rel);
    for (const n of fs.readdirSync(full).sort()) {
      const r = rel ? `${rel}/${n}` : n;
      const st = fs.lstatSync(path.join(dir, r));
      out.push(st.isDirectory() ? `${r}/` : `${r} ${st.size}`);
      if (st.isDirectory()) walk(r);
    }
  };
  if (fs.existsSync(dir)) walk('');
  return out;
}

export interface HostState {
  bindings: string;
  services: string;
  devices: string;
  domains: string;
  files: Record<string, string[]>;
}

/** What ldm and the file system say about a host: equal before and after means "left as it was". */
export async function hostState(home: TestHome, host: string, dirs: string[]): Promise<HostState> {
  const files: Record<string, string[]> = {};
  for (const d of dirs) files[d] = listTree(d);
  return {
    // UPTIME moves on by itself.
    bindings: (await home.ok(host, 'list-bindings')).replace(/^(\S+ +active .*%) +\S.*$/gm, '$1'),
    services: await home.ok(host, 'list-services'),
    devices: await home.ok(host, 'list-devices', '-a'),
    domains: (await home.ok(host, 'list-domain')).replace(/^(\S+ +active .*%) +\S.*$/gm, '$1'),
    files,
  };
}

/**
 * A copy of the example manifest (with its contents directories) in `dir`, changed by `mutate`;
 * returns the manifest's path.
 */
export function manifestVariant(dir: string, mutate: (d: any) => void = () => undefined): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const n of fs.readdirSync(FIXTURES)) {
    const from = path.join(FIXTURES, n);
    if (fs.statSync(from).isDirectory()) fs.cpSync(from, path.join(dir, n), { recursive: true });
  }
  const d = JSON.parse(fs.readFileSync(VOLUMIA, 'utf8'));
  mutate(d);
  const file = path.join(dir, 'manifest.json');
  fs.writeFileSync(file, JSON.stringify(d, null, 2));
  return file;
}

/** The example shrunk to small disks (so non-sparse back ends are quick to write): 256M each. */
export function smallDisks(d: any): void {
  d.disks[0].size = '256M';
  d.disks[0].slices = [
    { number: 0, size: '128M', tag: 'root' },
    { number: 1, size: '64M', tag: 'swap' },
    { number: 2, size: '256M', tag: 'backup' },
    { number: 7, size: '16M', tag: 'unassigned' },
  ];
  d.disks[1].size = '256M';
  d.disks[1].slices = [
    { number: 0, size: '128M', tag: 'root' },
    { number: 2, size: '256M', tag: 'backup' },
    { number: 5, size: '100M', tag: 'home' },
    { number: 7, size: '16M', tag: 'unassigned' },
  ];
  d.fileSystems[0].size = '128M';
  d.fileSystems[0].used = '50M';
  d.fileSystems[1].size = '64M';
  d.fileSystems[2].size = '100M';
  d.fileSystems[2].used = '20M';
}
