// Real hosts for integration tests: each test gets its own $LDOMS_HOME, hosts are started with the
// real `ldoms` command as real processes, and `ldm` is run as users run it.

import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
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

  async startHost(name: string, ...opts: string[]): Promise<void> {
    const r = await this.run('ldoms', ['host', 'start', name, ...opts]);
    if (r.code !== 0) throw new Error(`ldoms host start ${name} failed: ${r.stderr}`);
    this.hosts.push(name);
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
