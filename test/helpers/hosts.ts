// Real hosts for integration tests: each test gets its own $LDOMS_HOME, hosts are started with the
// real `ldoms` command as real processes, and `ldm` is run as users run it.

import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const BIN = path.join(ROOT, 'bin');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Addresses handed out by this process (a host may be starting on one and not yet listen). */
const picked = new Set<string>();

/**
 * A loopback address for a host (or a relay) of this test: hosts of concurrently running test files
 * must not share one, so a random one that nothing answers on, never the same twice in a process.
 */
export async function freeAddress(): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const a = `127.0.0.${10 + Math.floor(Math.random() * 240)}`;
    if (picked.has(a)) continue;
    picked.add(a);
    // In use when another test's host answers on its XML port (or its first console port).
    if (!(await listening(a, 6482)) && !(await listening(a, 5000))) return a;
  }
  return '127.0.0.9';
}

export class TestHome {
  readonly home: string;
  private hosts: string[] = [];

  constructor(prefix = 'ldoms-test-') {
    this.home = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    fs.chmodSync(this.home, 0o755);
  }

  env(host?: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, LDOMS_HOME: this.home, ...extra };
    if (host) env.LDOMS_HOST = host;
    else delete env.LDOMS_HOST;
    return env;
  }

  /** Run a command of bin/ (ldm, ldoms) and collect its output. */
  run(cmd: 'ldm' | 'ldoms', args: string[], opts: { host?: string; input?: string; uid?: number; gid?: number; env?: Record<string, string> } = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const so: SpawnOptions = { env: this.env(opts.host, opts.env), stdio: ['pipe', 'pipe', 'pipe'] };
      if (opts.uid !== undefined) so.uid = opts.uid;
      if (opts.gid !== undefined) so.gid = opts.gid;
      const child = spawn(process.execPath, [path.join(BIN, cmd), ...args], so);
      let stdout = '';
      let stderr = '';
      child.stdout!.setEncoding('utf8').on('data', (d) => (stdout += d));
      child.stderr!.setEncoding('utf8').on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      // A child that exits before reading its input must not fail the test with EPIPE.
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(opts.input ?? '');
    });
  }

  ldm(host: string, ...args: string[]): Promise<RunResult> {
    return this.run('ldm', args, { host });
  }

  /** Run `ldm` and fail the test unless it exits 0; returns stdout. */
  async ok(host: string, ...args: string[]): Promise<string> {
    const r = await this.ldm(host, ...args);
    if (r.code !== 0) throw new Error(`ldm ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  }

  /** Hosts of concurrently running test files must not share an address: a random free one. */
  async startHost(name: string, ...opts: string[]): Promise<void> {
    if (!opts.includes('--address') && !fs.existsSync(path.join(this.hostDir(name), 'host.json'))) {
      opts = [...opts, '--address', await freeAddress()];
    }
    const r = await this.run('ldoms', ['host', 'start', name, ...opts]);
    if (r.code !== 0) throw new Error(`ldoms host start ${name} failed: ${r.stderr}`);
    this.hosts.push(name);
  }

  address(name: string): string {
    return JSON.parse(fs.readFileSync(path.join(this.hostDir(name), 'host.json'), 'utf8')).address;
  }

  /**
   * The usual control-domain setup: console, disk and network services, then the control domain
   * shrunk to one core and 4 GB through a delayed reconfiguration and a reboot.
   */
  async setupControlDomain(host: string, opts: { netDev?: string } = {}): Promise<void> {
    await this.ok(host, 'add-vcc', 'port-range=5000-5100', 'primary-vcc0', 'primary');
    await this.ok(host, 'add-vds', 'primary-vds0', 'primary');
    await this.ok(host, 'add-vsw', `net-dev=${opts.netDev ?? 'nxge0'}`, 'primary-vsw0', 'primary');
    await this.ok(host, 'start-reconf', 'primary');
    await this.ok(host, 'set-crypto', '1', 'primary');
    await this.ok(host, 'set-vcpu', '8', 'primary');
    const r = await this.ldm(host, 'set-memory', '4G', 'primary');
    if (r.code !== 0) {
      // The 2.0 refusal names the aligned size to use instead.
      const m = /run ldm set-mem (\S+) primary/.exec(r.stderr);
      if (!m) throw new Error(`set-memory: ${r.stderr}`);
      await this.ok(host, 'set-memory', m[1], 'primary');
    }
    const reboot = await this.run('ldoms', ['host', 'reboot', host]);
    if (reboot.code !== 0) throw new Error(`reboot: ${reboot.stderr}`);
  }

  hostDir(name: string): string {
    return path.join(this.home, 'hosts', name);
  }

  pid(name: string, which: 'ldmd' | 'machine'): number {
    return Number(fs.readFileSync(path.join(this.hostDir(name), 'run', `${which}.pid`), 'utf8'));
  }

  /** Stop every host started here and delete the directory. */
  async cleanup(): Promise<void> {
    for (const h of this.hosts) spawnSync(process.execPath, [path.join(BIN, 'ldoms'), 'host', 'stop', h], { env: this.env() });
    fs.rmSync(this.home, { recursive: true, force: true });
  }
}
