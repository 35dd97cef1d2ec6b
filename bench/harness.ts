// What every benchmark shares: hosts in a throw-away $LDOMS_HOME, whole-process timings of `ldm`,
// requests over ldmd's socket without a process, and interleaved rounds against a baseline.
//
// The machines these run on are shared and noisy, so a figure alone says little: every subject is
// run right after a baseline run (`node -e 0`) and reported also as the ratio to that run. Drift
// (another tenant, CPU frequency) then moves both sides of a ratio together.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { converse } from '../src/cli/client.js';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(ROOT, 'bin');

/** The baseline: the cheapest thing a Node.js command can do. */
export const NODE_E0 = ['-e', '0'];

export interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Timed extends Output {
  ms: number;
}

// ---- child processes --------------------------------------------------------------------------------

/** Run `node ARGS` to its end; `ms` runs from just before spawn to the close of its output. */
export function timeNode(args: string[], env: NodeJS.ProcessEnv): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, ms: performance.now() - t0 }));
  });
}

/** Fail loudly: a benchmark of a command that fails measures the wrong thing. */
export function ok<T extends Output>(what: string, r: T): T {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r;
}

// ---- hosts ------------------------------------------------------------------------------------------

const live = new Set<BenchHome>();
let trapped = false;

/** A Ctrl-C in the middle of a run still stops the hosts it started. */
function trapSignals(): void {
  if (trapped) return;
  trapped = true;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const h of live) h.cleanup();
      process.exit(130);
    });
  }
}

export class BenchHome {
  readonly home: string;
  private readonly hosts: string[] = [];

  constructor(prefix: string) {
    this.home = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    fs.chmodSync(this.home, 0o755);
    live.add(this);
    trapSignals();
  }

  env(host?: string): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, LDOMS_HOME: this.home };
    if (host) env.LDOMS_HOST = host;
    else delete env.LDOMS_HOST;
    return env;
  }

  ldoms(...args: string[]): Promise<Timed> {
    return timeNode([path.join(BIN, 'ldoms'), ...args], this.env());
  }

  /** `ldm ARGS` as a user runs it: a process of its own. */
  ldm(host: string, ...args: string[]): Promise<Timed> {
    return timeNode([path.join(BIN, 'ldm'), ...args], this.env(host));
  }

  async startHost(name: string, ...opts: string[]): Promise<void> {
    this.hosts.push(name);
    ok(`ldoms host start ${name}`, await this.ldoms('host', 'start', name, ...opts));
  }

  socket(host: string): string {
    return path.join(this.home, 'hosts', host, 'run', 'ldmd.sock');
  }

  hostDir(host: string): string {
    return path.join(this.home, 'hosts', host);
  }

  /** Stop every host started here and delete the home; safe to call twice. */
  cleanup(): void {
    if (!live.has(this)) return;
    live.delete(this);
    for (const h of this.hosts) spawnSync(process.execPath, [path.join(BIN, 'ldoms'), 'host', 'stop', h], { env: this.env(), stdio: 'ignore' });
    fs.rmSync(this.home, { recursive: true, force: true });
  }
}

// ---- the client protocol, without a process ------------------------------------------------------------

/**
 * One `ldm` request over ldmd's socket, as src/cli/client.ts speaks it: send the request, prove our
 * uid through the drop box, collect the output until the exit status. `ms` runs from the request
 * being written to the exit message arriving, so it is the daemon's share of an `ldm` command.
 */
export function request(socketPath: string, argv: string[]): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(socketPath);
    let stdout = '';
    let stderr = '';
    let t0 = 0;
    sock.once('error', reject);
    sock.once('connect', () => {
      converse(sock, { type: 'run', argv, tty: { stdin: false, stdout: false, stderr: false } }, {
        out: (fd, data) => (fd === 2 ? (stderr += data) : (stdout += data)),
        sent: () => (t0 = performance.now()),
        prompt: () => Promise.reject(new Error('the benchmark client cannot answer prompts')),
      }).then((code) => {
        const ms = performance.now() - t0;
        if (code === null) reject(new Error(`ldmd closed the connection without an exit status (argv ${argv.join(' ')})`));
        else resolve({ code, stdout, stderr, ms });
      });
    });
  });
}

// ---- statistics -------------------------------------------------------------------------------------

/** Nearest-rank quantile of a sample (q in 0..1). */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

export const median = (xs: readonly number[]) => quantile(xs, 0.5);
export const p90 = (xs: readonly number[]) => quantile(xs, 0.9);
export const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** A subject's timings, each with the baseline run made just before it. */
export interface Series {
  name: string;
  ms: number[];
  baselineMs: number[];
}

export function ratios(s: Series): number[] {
  return s.ms.map((m, i) => m / s.baselineMs[i]);
}

export interface Subject {
  name: string;
  run: () => Promise<number>;
}

/**
 * Alternate baseline and subject runs: each round runs, for every subject in turn, the baseline and
 * then that subject. Warm-up rounds run the same way and are thrown away.
 */
export async function interleave(baseline: () => Promise<number>, subjects: Subject[], rounds: number, warmup: number): Promise<Series[]> {
  const series = subjects.map((s) => ({ name: s.name, ms: [] as number[], baselineMs: [] as number[] }));
  for (let r = 0; r < warmup + rounds; r++) {
    for (let i = 0; i < subjects.length; i++) {
      const b = await baseline();
      const m = await subjects[i].run();
      if (r >= warmup) {
        series[i].baselineMs.push(b);
        series[i].ms.push(m);
      }
    }
  }
  return series;
}

// ---- report -----------------------------------------------------------------------------------------

const fmtMs = (ms: number) => ms >= 10_000 ? (ms / 1000).toFixed(2) + ' s' : (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2)) + ' ms';
const fmtX = (x: number) => x.toFixed(2) + '×';

export function fmt(ms: number): string {
  return fmtMs(ms);
}

/** Rows of: subject, runs, median, p90, and the paired ratio to the baseline (median, p90). */
export function table(series: Series[], baselineName: string, opts: { total?: boolean } = {}): string {
  const all = series.flatMap((s) => s.baselineMs);
  const total = (xs: number[]) => (opts.total ? [fmtMs(sum(xs))] : []);
  const rows: string[][] = [['', 'runs', ...(opts.total ? ['total'] : []), 'median', 'p90', `× ${baselineName}`, 'p90 ×']];
  rows.push([`${baselineName} (baseline)`, String(all.length), ...(opts.total ? [''] : []), fmtMs(median(all)), fmtMs(p90(all)), '1.00×', '']);
  for (const s of series) {
    const r = ratios(s);
    rows.push([s.name, String(s.ms.length), ...total(s.ms), fmtMs(median(s.ms)), fmtMs(p90(s.ms)), fmtX(median(r)), fmtX(p90(r))]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd())
    .join('\n');
}

// ---- the host every benchmark starts from ----------------------------------------------------------------

export const PRIMARY_VCPUS = 8;
export const PRIMARY_MEMORY = '16G';

/**
 * A SPARC T5-2 (256 strands, 512 GB) whose control domain was shrunk the way the Administration
 * Guide does it: a delayed reconfiguration, then a reboot of the control domain, leaving the rest
 * of the machine free for guests.
 */
export async function startShrunkT52(home: BenchHome, host: string): Promise<void> {
  await home.startHost(host, '--platform', 't5-2');
  const sock = home.socket(host);
  for (const argv of [['start-reconf', 'primary'], ['set-vcpu', String(PRIMARY_VCPUS), 'primary'], ['set-memory', PRIMARY_MEMORY, 'primary']]) {
    ok(`ldm ${argv.join(' ')}`, await request(sock, argv));
  }
  ok(`ldoms host reboot ${host}`, await home.ldoms('host', 'reboot', host));
}

/** Run `ldm ARGV` over the socket and fail unless it exits 0. */
export async function must(sock: string, ...argv: string[]): Promise<Timed> {
  return ok(`ldm ${argv.join(' ')}`, await request(sock, argv));
}

/** What `ldm list-devices -p` reports free: strand ids and the byte count of free memory. */
export function freeResources(parseable: string): { strands: number[]; memory: number } {
  let section = '';
  const strands: number[] = [];
  let memory = 0;
  for (const line of parseable.split('\n')) {
    if (/^[A-Z]/.test(line)) {
      section = line.trim();
      continue;
    }
    if (section === 'VCPU') {
      const m = /\|pid=(\d+)\|free=100\|/.exec(line);
      if (m) strands.push(Number(m[1]));
    } else if (section === 'MEMORY') {
      const m = /\|size=(\d+)/.exec(line);
      if (m) memory += Number(m[1]);
    }
  }
  return { strands, memory };
}
