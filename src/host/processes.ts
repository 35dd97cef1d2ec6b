// Starting and stopping a host's two processes (machine and ldmd), detached from the caller.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostPaths } from './config.js';
import { machinePaths } from '../machine/server.js';

const CLI_DIR = path.dirname(fileURLToPath(import.meta.url)).replace(/host$/, 'cli');

export type HostProcess = 'machine' | 'ldmd';

function pidFile(dir: string, which: HostProcess): string {
  const p = hostPaths(dir);
  return which === 'machine' ? p.machinePid : p.ldmdPid;
}

/** The pid of a live process of ours for this host, or null (pid files can outlive a kill -9). */
export function runningPid(dir: string, which: HostProcess): number | null {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile(dir, which), 'utf8').trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    try {
      process.kill(pid, 0);
    } catch (e: any) {
      // Another user's process (ldmd runs as root, the caller may not): it exists all the same.
      if (e.code !== 'EPERM') throw e;
    }
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(`${which}.js`) && cmdline.includes(dir) ? pid : null;
  } catch {
    return null;
  }
}

function canConnect(sockPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection(sockPath);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs: number, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    if (!alive()) throw new Error(`${what} exited during start-up`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not start within ${timeoutMs / 1000}s`);
}

/** Start one process of the host unless it already runs; returns its pid. */
export async function startProcess(dir: string, which: HostProcess): Promise<number> {
  const existing = runningPid(dir, which);
  if (existing) return existing;
  const paths = hostPaths(dir);
  fs.mkdirSync(paths.run, { recursive: true });
  fs.mkdirSync(paths.log, { recursive: true });
  const logFd = fs.openSync(path.join(paths.log, `${which}.log`), 'a');
  const child = spawn(process.execPath, [path.join(CLI_DIR, `${which}.js`), dir], {
    detached: true,
    stdio: ['ignore', 'ignore', logFd],
  });
  fs.closeSync(logFd);
  child.unref();
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const pid = child.pid!;
  if (which === 'machine') fs.writeFileSync(paths.machinePid, `${pid}\n`);
  const socket = which === 'machine' ? machinePaths(dir).socket : paths.ldmdSocket;
  await waitFor(async () => (runningPid(dir, which) === pid || which === 'machine') && canConnect(socket), which, 15_000, () => !exited);
  return pid;
}

/** Stop one process of the host (SIGTERM, then SIGKILL after a grace period). */
export async function stopProcess(dir: string, which: HostProcess): Promise<boolean> {
  const pid = runningPid(dir, which);
  if (!pid) return false;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (runningPid(dir, which) !== pid) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (runningPid(dir, which) === pid) process.kill(pid, 'SIGKILL');
  return true;
}
