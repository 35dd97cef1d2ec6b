// Live migration of an active domain between two real hosts on this machine, as a user runs it:
// `ldm migrate-domain -p PWFILE DOMAIN root@dst`, source ldmd -> target ldmd login, checks, the
// source machine process sending the memory over TLS to the target ldmd, commit. A 4 GiB domain
// whose 1 GiB working set holds random bytes (incompressible), its guest dirtying that working set
// at 0, 16 and 64 MiB/s. Total time (the `ldm` process and the memory engine), throughput,
// downtime and rounds; and, measured right before each migration between the same two addresses
// with the target host's own certificate, the raw TLS throughput of this machine's loopback with as
// many streams as the migration uses and with one, so that every figure is also a ratio to it.
//
//   node dist/bench/migrate-domain.js [--repeat N]
//
// Not part of `npm test`. 2.5-5.5 minutes with the defaults (2 repeats) on 2 shared cores. The engine's
// figures come from the line the source ldmd logs per migration (<home>/hosts/src/log/ldmd.log).

import { fork, spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { certificatePaths } from '../src/xml/xmpp/certificate.js';
import { memoryFileFor } from '../src/machine/guest-memory.js';
import { streamCountFor } from '../src/migration/precopy.js';
import { BenchHome, must, ok, request } from './harness.js';
import { freeAddress } from '../test/helpers/hosts.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const DOMAIN_MEMORY = '4G';
const DOMAIN_BYTES = 4 * GiB;
const WORKING_SET = 1 * GiB;
const RATES_MIB = [0, 16, 64];
/** Bytes each raw TLS measurement moves (split evenly over its streams). */
const RAW_BYTES = 1 * GiB;
const PRIMARY_VCPUS = 8;
const PASSWORD = 'bench-migrate-secret';

// ---- the raw TLS receiver: a process of its own, as the target ldmd is -----------------------------

type ToReceiver = { op: 'init'; key: string; cert: string; host: string } | { op: 'raw'; streams: number } | { op: 'quit' };
type FromReceiver = { op: 'listening'; port: number } | { op: 'raw-done'; bytes: number };

function receiver(): void {
  const send = (m: FromReceiver) => process.send!(m);
  let server: tls.Server | null = null;
  let accept: ((s: tls.TLSSocket) => void) | null = null;
  // The benchmark died (Ctrl-C, a crash): nothing is left to measure for.
  process.once('disconnect', () => process.exit(0));
  process.on('message', (m: ToReceiver) => {
    if (m.op === 'init') {
      server = tls.createServer({ key: m.key, cert: m.cert, minVersion: 'TLSv1.2' }, (s) => accept?.(s));
      server.listen(0, m.host, () => send({ op: 'listening', port: (server!.address() as AddressInfo).port }));
    } else if (m.op === 'raw') {
      let bytes = 0;
      let ended = 0;
      let accepted = 0;
      accept = (s) => {
        accepted++;
        if (accepted === m.streams) accept = null;
        s.on('data', (d: Buffer) => (bytes += d.length));
        s.on('end', () => {
          s.end();
          if (++ended === m.streams) send({ op: 'raw-done', bytes });
        });
      };
    } else {
      server?.close();
      process.disconnect();
    }
  });
}

class RawTls {
  private readonly inbox: FromReceiver[] = [];
  private wake: (() => void) | null = null;
  private readonly child = fork(fileURLToPath(import.meta.url), ['--raw-receiver'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  private port = 0;
  cipher = '';

  constructor(
    private readonly targetAddress: string,
    private readonly sourceAddress: string,
  ) {
    this.child.on('message', (m: FromReceiver) => {
      this.inbox.push(m);
      this.wake?.();
    });
  }

  private async next(): Promise<FromReceiver> {
    while (this.inbox.length === 0) await new Promise<void>((resolve) => (this.wake = resolve));
    return this.inbox.shift()!;
  }

  /** Listen on the target's address with the target host's own key and certificate. */
  async start(key: string, cert: string): Promise<void> {
    this.child.send({ op: 'init', key, cert, host: this.targetAddress } satisfies ToReceiver);
    const m = await this.next();
    if (m.op !== 'listening') throw new Error(`raw TLS receiver: ${JSON.stringify(m)}`);
    this.port = m.port;
  }

  /**
   * `streams` TLS connections from the source's address, each pumping a random 2 MiB buffer for
   * its share of RAW_BYTES: bytes per second, from the handshakes done to the receiver having
   * counted every byte.
   */
  async measure(streams: number): Promise<number> {
    this.child.send({ op: 'raw', streams } satisfies ToReceiver);
    const sockets = await Promise.all(
      Array.from(
        { length: streams },
        () =>
          new Promise<tls.TLSSocket>((resolve, reject) => {
            // As the memory streams are dialled: TCP from the source's address, TLS over it
            // (self-signed certificate, so no verification), Nagle off.
            const rawSocket = net.connect({ host: this.targetAddress, port: this.port, localAddress: this.sourceAddress });
            rawSocket.once('error', reject);
            rawSocket.once('connect', () => {
              const s = tls.connect({ socket: rawSocket, rejectUnauthorized: false }, () => {
                s.setNoDelay(true);
                resolve(s);
              });
              s.once('error', reject);
            });
          }),
      ),
    );
    const c = sockets[0].getCipher();
    this.cipher = `${sockets[0].getProtocol()} ${c.name}`;
    const buf = randomFillSync(Buffer.alloc(2 * MiB));
    const share = RAW_BYTES / streams;
    const t0 = performance.now();
    await Promise.all(
      sockets.map(async (s) => {
        for (let sent = 0; sent < share; sent += buf.length) {
          if (!s.write(buf)) await new Promise((resolve) => s.once('drain', resolve));
        }
        s.end();
        s.resume();
      }),
    );
    const m = await this.next();
    const seconds = (performance.now() - t0) / 1000;
    for (const s of sockets) s.destroy();
    if (m.op !== 'raw-done' || m.bytes !== RAW_BYTES) throw new Error(`raw TLS run: ${JSON.stringify(m)}`);
    return RAW_BYTES / seconds;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || !this.child.connected) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ op: 'quit' } satisfies ToReceiver);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

// ---- the two hosts ------------------------------------------------------------------------------

/** Services and a control domain of 8 vCPUs and 4 GB, as the migration tests set them up. */
async function setupControlDomain(home: BenchHome, host: string): Promise<void> {
  const sock = home.socket(host);
  await must(sock, 'add-vcc', 'port-range=5000-5100', 'primary-vcc0', 'primary');
  await must(sock, 'add-vds', 'primary-vds0', 'primary');
  await must(sock, 'add-vsw', 'net-dev=nxge0', 'primary-vsw0', 'primary');
  await must(sock, 'start-reconf', 'primary');
  await must(sock, 'set-crypto', '1', 'primary');
  await must(sock, 'set-vcpu', String(PRIMARY_VCPUS), 'primary');
  const r = await request(sock, ['set-memory', '4G', 'primary']);
  if (r.code !== 0) {
    // Manager 2.0 refuses an unaligned size and names the one to use.
    const m = /run ldm set-mem (\S+) primary/.exec(r.stderr);
    if (!m) throw new Error(`ldm set-memory 4G primary: ${r.stderr.trim()}`);
    await must(sock, 'set-memory', m[1], 'primary');
  }
  ok(`ldoms host reboot ${host}`, await home.ldoms('host', 'reboot', host));
}

function pid(home: BenchHome, host: string, which: 'ldmd' | 'machine'): number {
  return Number(fs.readFileSync(path.join(home.hostDir(host), 'run', `${which}.pid`), 'utf8'));
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(p: number): number {
  const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at state (field 3).
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

async function domainRow(sock: string, name: string): Promise<{ state: string; flags: string } | null> {
  const r = await request(sock, ['list-domain', '-p']);
  ok('ldm list-domain -p', r);
  for (const line of r.stdout.split('\n')) {
    if (!line.startsWith('DOMAIN|')) continue;
    const f = Object.fromEntries(line.split('|').slice(1).map((kv) => kv.split('=') as [string, string]));
    if (f.name === name) return { state: f.state, flags: f.flags };
  }
  return null;
}

async function waitRunning(sock: string, name: string): Promise<void> {
  const end = Date.now() + 30_000;
  for (;;) {
    const d = await domainRow(sock, name);
    if (d?.state === 'active' && d.flags === '-n----') return;
    if (Date.now() > end) throw new Error(`${name} did not reach Solaris running (${JSON.stringify(d)})`);
    await sleep(50);
  }
}

/**
 * The working set made incompressible: the guest's workload writes random pages only at its dirty
 * rate, so at 0 MiB/s the memory would be all zeros. Then the whole domain is read once so the page
 * cache holds it, as a running guest's memory is resident (the first migration would otherwise pay
 * what the next ones do not).
 */
function fillWorkingSet(file: string): void {
  const fd = fs.openSync(file, 'r+');
  try {
    const size = fs.fstatSync(fd).size;
    if (size !== DOMAIN_BYTES) throw new Error(`${file} holds ${size} bytes, not ${DOMAIN_BYTES}`);
    const chunk = Buffer.alloc(8 * MiB);
    for (let at = 0; at < WORKING_SET; at += chunk.length) fs.writeSync(fd, randomFillSync(chunk), 0, chunk.length, at);
    fs.fdatasyncSync(fd);
    for (let at = 0; at < size; at += chunk.length) fs.readSync(fd, chunk, 0, chunk.length, at);
  } finally {
    fs.closeSync(fd);
  }
}

interface EngineLine {
  /** When the source ldmd logged it: the machine process's send returned (memory sent and verified). */
  at: number;
  rounds: number;
  ms: number;
  downtimeMs: number;
  pages: number;
  bytes: number;
}

const SENT = /^(\S+) ldmd: migration: LDom (\S+) memory sent in (\d+) rounds, (\d+) ms, downtime (\d+) ms, (\d+) pages, (\d+) bytes on the wire/;
const RECEIVED = /^(\S+) ldmd: migration: LDom (\S+) received from /;

/** The first line of an ldmd log after `offset` that `re` matches for `domain` (group 2). */
async function logLine(logFile: string, offset: number, re: RegExp, domain: string): Promise<RegExpExecArray> {
  const end = Date.now() + 5_000;
  for (;;) {
    const text = fs.readFileSync(logFile).subarray(offset).toString('utf8');
    for (const line of text.split('\n')) {
      const m = re.exec(line);
      if (m && m[2] === domain) return m;
    }
    if (Date.now() > end) throw new Error(`no line matching ${re} for ${domain} in ${logFile}`);
    await sleep(50);
  }
}

/** The source ldmd's line for this migration. */
async function engineLine(logFile: string, offset: number, domain: string): Promise<EngineLine> {
  const m = await logLine(logFile, offset, SENT, domain);
  return { at: Date.parse(m[1]), rounds: +m[3], ms: +m[4], downtimeMs: +m[5], pages: +m[6], bytes: +m[7] };
}

/**
 * When the first page reached the target's memory file: the file is created (sparse, no blocks)
 * when the target binds its copy, and gets its first block when round 1's first page is written
 * (page 0 is in the working set). Within a few ms of the engine's start; a stat every 5 ms.
 */
function watchFirstPage(file: string): { stop(): number | null } {
  let first: number | null = null;
  const timer = setInterval(() => {
    try {
      if (fs.statSync(file).blocks > 0) {
        first = Date.now();
        clearInterval(timer);
      }
    } catch {
      /* not bound on the target yet */
    }
  }, 5);
  return {
    stop: () => {
      clearInterval(timer);
      return first;
    },
  };
}

// ---- the benchmark ------------------------------------------------------------------------------

interface Row {
  rateMiB: number;
  streams: number;
  rawN: number;
  raw1: number;
  wallMs: number;
  engine: EngineLine;
  /** ms from spawning ldm to the first page on the target (login, checks, target bind, stream dial). */
  beforeMs: number;
  /** ms from the final round applied to the source ldmd's log line: both sides' checksums (verify). */
  verifyMs: number;
  /** ms from there to the target ldmd's "received" line: the commit, the guest running on the target. */
  commitMs: number;
  srcMachineCpu: number;
  dstLdmdCpu: number;
}

function render(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd()).join('\n');
}

export async function runMigrateDomainBenchmark(opts: { repeat: number; log: (s: string) => void }): Promise<string> {
  const t00 = performance.now();
  // The machine may be shared: its 1-minute load at the start and end says how much.
  const loadAtStart = os.loadavg()[0];
  // Guests boot in a blink: the benchmark waits for states, not for modelled boot times. The hosts
  // inherit it; run.js's other benchmarks must not.
  const bootScale = process.env.LDOMS_BOOT_SCALE;
  process.env.LDOMS_BOOT_SCALE = '0.01';
  const home = new BenchHome('ldoms-bench-migrate-');
  let raw: RawTls | null = null;
  try {
    const [srcAddr, dstAddr] = [await freeAddress(), await freeAddress()];
    opts.log(`starting hosts src (${srcAddr}) and dst (${dstAddr})`);
    await Promise.all([home.startHost('src', '--address', srcAddr), home.startHost('dst', '--address', dstAddr)]);
    await Promise.all([setupControlDomain(home, 'src'), setupControlDomain(home, 'dst')]);
    const src = home.socket('src');
    const dst = home.socket('dst');
    const pw = path.join(home.home, 'pw');
    fs.writeFileSync(pw, `${PASSWORD}\n`, { mode: 0o600 });
    ok('ldoms user add root', await home.ldoms('user', 'add', 'root', '--password-file', pw));
    // One shared image per dirty rate, the same volume on both hosts (shared storage).
    for (const rate of RATES_MIB) {
      const image = path.join(home.home, `rate${rate}.img`);
      ok(
        'ldoms image create',
        await home.ldoms('image', 'create', image, '--release', 'Solaris 10 9/10', '--hostname', `guest${rate}`, '--working-set', `${WORKING_SET / MiB}M`, '--dirty-rate', `${rate}M`),
      );
      await must(src, 'add-vdsdev', image, `rate${rate}@primary-vds0`);
      await must(dst, 'add-vdsdev', image, `rate${rate}@primary-vds0`);
    }
    const streams = streamCountFor(PRIMARY_VCPUS, os.availableParallelism());
    raw = new RawTls(dstAddr, srcAddr);
    const dstTls = certificatePaths(home.hostDir('dst'));
    await raw.start(fs.readFileSync(dstTls.key, 'utf8'), fs.readFileSync(dstTls.cert, 'utf8'));
    const logFile = path.join(home.hostDir('src'), 'log', 'ldmd.log');
    const dstLogFile = path.join(home.hostDir('dst'), 'log', 'ldmd.log');

    const rows: Row[] = [];
    for (let r = 0; r < opts.repeat; r++) {
      for (const rate of RATES_MIB) {
        const name = `mig${rate}-${r + 1}`;
        opts.log(`run ${r + 1}/${opts.repeat}, ${rate} MiB/s: starting ${name} (${DOMAIN_MEMORY}, 8 vCPUs) on src, filling its working set`);
        await must(src, 'add-domain', name);
        await must(src, 'add-vcpu', '8', name);
        await must(src, 'add-memory', DOMAIN_MEMORY, name);
        await must(src, 'add-vnet', 'vnet0', 'primary-vsw0', name);
        await must(src, 'add-vdisk', 'vdisk0', `rate${rate}@primary-vds0`, name);
        await must(src, 'bind-domain', name);
        await must(src, 'start-domain', name);
        await waitRunning(src, name);
        fillWorkingSet(memoryFileFor(home.hostDir('src'), name));

        opts.log(`run ${r + 1}/${opts.repeat}, ${rate} MiB/s: raw TLS over 1 and ${streams} stream(s), then ldm migrate-domain`);
        const raw1 = await raw.measure(1);
        const rawN = streams === 1 ? raw1 : await raw.measure(streams);
        const offset = fs.statSync(logFile).size;
        const dstOffset = fs.statSync(dstLogFile).size;
        const pids = { machine: pid(home, 'src', 'machine'), ldmd: pid(home, 'dst', 'ldmd') };
        const cpu0 = { machine: cpuSeconds(pids.machine), ldmd: cpuSeconds(pids.ldmd) };
        const watch = watchFirstPage(memoryFileFor(home.hostDir('dst'), name));
        const spawnedAt = Date.now();
        const mig = ok(`ldm migrate-domain ${name}`, await home.ldm('src', 'migrate-domain', '-p', pw, name, 'root@dst'));
        const firstPageAt = watch.stop();
        const cpu1 = { machine: cpuSeconds(pids.machine), ldmd: cpuSeconds(pids.ldmd) };
        const engine = await engineLine(logFile, offset, name);
        const receivedAt = Date.parse((await logLine(dstLogFile, dstOffset, RECEIVED, name))[1]);
        if (firstPageAt === null) throw new Error(`no page of ${name} was seen arriving on dst`);

        const there = await domainRow(dst, name);
        if (there?.state !== 'active' || there.flags !== '-n----') throw new Error(`${name} on dst after the migration: ${JSON.stringify(there)}`);
        if (await domainRow(src, name)) throw new Error(`${name} still on src after the migration`);
        rows.push({
          rateMiB: rate,
          streams,
          rawN,
          raw1,
          wallMs: mig.ms,
          engine,
          beforeMs: firstPageAt - spawnedAt,
          verifyMs: engine.at - (firstPageAt + engine.ms),
          commitMs: receivedAt - engine.at,
          srcMachineCpu: cpu1.machine - cpu0.machine,
          dstLdmdCpu: cpu1.ldmd - cpu0.ldmd,
        });
        opts.log(
          `  ${(mig.ms / 1000).toFixed(2)} s wall, engine ${engine.ms} ms, ${engine.rounds} rounds, downtime ${engine.downtimeMs} ms, ` +
            `${(engine.bytes / MiB).toFixed(0)} MiB on the wire; raw TLS ${(raw1 / MiB).toFixed(0)} / ${(rawN / MiB).toFixed(0)} MiB/s`,
        );
        await must(dst, 'stop-domain', '-f', name);
        await must(dst, 'unbind-domain', name);
        await must(dst, 'remove-domain', name);
      }
    }

    const f1 = (v: number) => v.toFixed(1);
    const f2 = (v: number) => v.toFixed(2);
    const table = [
      [
        'dirty MiB/s',
        'streams',
        'raw TLS MiB/s (n / 1)',
        'wall s',
        '× raw',
        'engine s',
        '× raw',
        'before s',
        'verify s',
        'commit s',
        'throughput MiB/s',
        '÷ raw n',
        '÷ raw 1',
        'downtime ms',
        'guest paused s',
        'rounds',
        'wire MiB',
        'CPU s src machine / dst ldmd',
      ],
    ];
    for (const r of rows) {
      const e = r.engine;
      const rawSeconds = e.bytes / r.rawN;
      const throughput = e.bytes / (e.ms / 1000);
      table.push([
        String(r.rateMiB),
        String(r.streams),
        `${f1(r.rawN / MiB)} / ${f1(r.raw1 / MiB)}`,
        f2(r.wallMs / 1000),
        f2(r.wallMs / 1000 / rawSeconds) + '×',
        f2(e.ms / 1000),
        f2(e.ms / 1000 / rawSeconds) + '×',
        f2(r.beforeMs / 1000),
        f2(r.verifyMs / 1000),
        f2(r.commitMs / 1000),
        f1(throughput / MiB),
        f2(throughput / r.rawN),
        f2(throughput / r.raw1),
        String(e.downtimeMs),
        f2((e.downtimeMs + r.verifyMs + r.commitMs) / 1000),
        String(e.rounds),
        f1(e.bytes / MiB),
        `${f2(r.srcMachineCpu)} / ${f2(r.dstLdmdCpu)}`,
      ]);
    }
    const cpus = os.cpus();
    return [
      `Live migration between two hosts: ${DOMAIN_MEMORY} active domain, ${WORKING_SET / GiB} GiB incompressible working set, ldm migrate-domain src (${srcAddr}) -> dst (${dstAddr})`,
      `(${cpus.length} × ${cpus[0]?.model.trim()}, Node ${process.version}; ${streams} memory stream(s) = streamCountFor(${PRIMARY_VCPUS} primary vCPUs); raw TLS: ${raw.cipher}, dst's certificate)`,
      '',
      render(table),
      '',
      `raw TLS: ${RAW_BYTES / GiB} GiB from src's address to dst's over n streams (as many as the migration) and over 1, measured right before each migration.`,
      'wall: the `ldm migrate-domain` process, spawn to exit (login, checks, target bind, memory, commit, removal on the source).',
      'engine: the memory transfer up to the final round applied on the target (the source ldmd log line).',
      'before: ldm spawned to the first page written on the target (login, checks, target bind, streams dialled); verify: the final round',
      '  applied to the source ldmd logging the send done (the two page-digest lists compared); commit: from there to the target ldmd',
      '  logging the domain received (running there). Times from log timestamps and a 5 ms stat poll: ±10 ms.',
      '× raw: a time over the time raw TLS over n streams needs for the same bytes on the wire.',
      'throughput: bytes on the wire per second of engine time, ÷ the raw TLS rates.',
      'downtime: the engine\'s, suspension to the final round applied, plain ms (the log line does not give the stop-and-copy round\'s bytes,',
      '  so no raw-TLS time for them). guest paused: suspension to running on the target = downtime + verify + commit.',
      'CPU s: user + system seconds of the source machine process (sends) and the target ldmd (receives) during the ldm process.',
      `run time ${((performance.now() - t00) / 1000).toFixed(0)} s; 1-minute load average ${loadAtStart.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end`,
    ].join('\n');
  } finally {
    await raw?.stop();
    home.cleanup();
    if (bootScale === undefined) delete process.env.LDOMS_BOOT_SCALE;
    else process.env.LDOMS_BOOT_SCALE = bootScale;
  }
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] === self) {
  if (process.argv.includes('--raw-receiver')) receiver();
  else {
    const args = process.argv.slice(2);
    let repeat = 2;
    for (let i = 0; i < args.length; i++) {
      if (args[i] === '--repeat') {
        repeat = Number(args[++i]);
        if (!Number.isInteger(repeat) || repeat < 1) {
          console.error('migrate-domain: --repeat needs a whole number of at least 1');
          process.exit(2);
        }
      } else {
        console.error(`migrate-domain: unknown argument ${args[i]} (usage: migrate-domain.js [--repeat N])`);
        process.exit(2);
      }
    }
    runMigrateDomainBenchmark({ repeat, log: (s) => process.stderr.write(s + '\n') }).then(
      (out) => console.log(out),
      (e) => {
        console.error(e);
        process.exitCode = 1;
      },
    );
  }
}
