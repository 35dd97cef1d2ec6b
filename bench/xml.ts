// The XML interface under load, on one host with 16 domains: (1) list-domain round trips on one
// XMPP session and on 50 at once, beside a request that fails at once (an unknown action) and a
// bare TLS echo on loopback, with the CPU each process spends per request; a session's set-up step
// by step beside a TLS connection; (2) how long a domain event takes to reach a registered session
// after `ldm start`/`stop` (beside the command's own completion) and after a guest's OS powers its
// domain off (beside the console's answer to `poweroff`; ldmd only notices by polling, every 500 ms).
//
//   node dist/bench/run.js xml
//
// Sessions speak as the Solaris fault manager does (connectXmpp mode 'fma': local, no SASL).
// Commands go over ldmd's socket without a process (rawLdm), so no Node.js start-up is timed.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import { connectXmpp, FMA_REG_DOMAIN_EVENTS, FMA_STARTTLS, FMA_STREAM_START, type XmppTestClient } from '../test/helpers/xmpp-client.js';
import { rawLdm } from '../test/helpers/raw-ldm.js';
import { freeAddress } from '../test/helpers/hosts.js';
import { BenchHome, PRIMARY_MEMORY, PRIMARY_VCPUS, median, must, ok, p90, quantile } from './harness.js';

const HOST = 'xmlb';
const XMPP_PORT = 6482;
/** Guest-initiated changes are noticed by Manager.onEvent's poller (src/manager/manager.ts). */
const POLL_MS = 500;
/** ldg01..ldg14, plus the guest with an OS (`osg`) and primary: 16 domains. */
const GUESTS = 14;
const CYCLED = 'ldg01';
const OS_GUEST = 'osg';

export interface XmlOptions {
  log: (text: string) => void;
  /** One session: rounds of `block` requests of each kind, after `warmup` of each. */
  single?: { rounds: number; block: number; warmup: number };
  /** Concurrent sessions: rounds in which every session sends `perSession` requests of a kind. */
  concurrent?: { sessions: number; rounds: number; perSession: number };
  /** `ldm start` + `ldm stop` pairs per registration state, after `warmup` pairs. */
  transitions?: { pairs: number; warmup: number };
  /** Guest poweroffs through the console. */
  poweroffs?: number;
  /** Sessions set up step by step. */
  setups?: number;
}

const LIST_DOMAIN = '<LDM_interface version="1.0"><cmd><action>list-domain</action><data version="3.0"/></cmd></LDM_interface>';
const UNKNOWN = '<LDM_interface version="1.0"><cmd><action>no-such-action</action><data version="3.0"/></cmd></LDM_interface>';
const UNREG_DOMAIN_EVENTS = '<LDM_interface version="1.1"><cmd><action>unreg-domain-events</action><data version="3.0"/></cmd></LDM_interface>';
const SUCCESS_END = '<response><status>success</status></response></LDM_interface>';

const name = (i: number) => `ldg${String(i).padStart(2, '0')}`;

/** Guest i is active when i % 3 == 0, bound when 1, inactive when 2 (ldg01, the cycled one, is bound). */
function stateOf(i: number): 'active' | 'bound' | 'inactive' {
  return (['active', 'bound', 'inactive'] as const)[i % 3];
}

// ---- the host -----------------------------------------------------------------------------------------


/** As harness.startShrunkT52, but on an address of our own: the XML port must not collide. */
async function startHost(home: BenchHome, log: (t: string) => void): Promise<string> {
  const address = await freeAddress();
  log(`xml: starting a T5-2 host on ${address} in ${home.home}`);
  await home.startHost(HOST, '--platform', 't5-2', '--address', address);
  const sock = home.socket(HOST);
  for (const argv of [['start-reconf', 'primary'], ['set-vcpu', String(PRIMARY_VCPUS), 'primary'], ['set-memory', PRIMARY_MEMORY, 'primary']]) await must(sock, ...argv);
  ok(`ldoms host reboot ${HOST}`, await home.ldoms('host', 'reboot', HOST));
  return address;
}

async function populate(home: BenchHome): Promise<void> {
  const sock = home.socket(HOST);
  await must(sock, 'add-vcc', 'port-range=5000-5199', 'primary-vcc0', 'primary');
  await must(sock, 'add-vds', 'primary-vds0', 'primary');
  await must(sock, 'add-vsw', 'net-dev=ixgbe0', 'primary-vsw0', 'primary');
  const names = Array.from({ length: GUESTS }, (_, i) => name(i + 1));
  await must(sock, 'add-domain', ...names, OS_GUEST);
  for (const n of [...names, OS_GUEST]) {
    await must(sock, 'add-vcpu', '2', n);
    await must(sock, 'add-memory', '4G', n);
    await must(sock, 'add-vnet', 'vnet0', 'primary-vsw0', n);
  }
  // The guest whose OS powers itself off: an image that boots at once, so a cycle is short.
  const disk = path.join(home.home, `${OS_GUEST}.img`);
  ok('ldoms image create', await home.ldoms('image', 'create', disk, '--release', 'Solaris 10 9/10', '--size', '1G', '--boot-time', '0', '--hostname', OS_GUEST));
  await must(sock, 'add-vdsdev', disk, `${OS_GUEST}@primary-vds0`);
  await must(sock, 'add-vdisk', 'vdisk0', `${OS_GUEST}@primary-vds0`, OS_GUEST);
  for (let i = 1; i <= GUESTS; i++) if (stateOf(i) !== 'inactive') await must(sock, 'bind', name(i));
  for (let i = 1; i <= GUESTS; i++) if (stateOf(i) === 'active') await must(sock, 'start', name(i));
  await must(sock, 'bind', OS_GUEST);
  await must(sock, 'start', OS_GUEST);
}

/** The list-domain answer must hold every domain, or the timings are of something else. */
function checkListDomain(xml: string): void {
  if (!xml.endsWith(SUCCESS_END)) throw new Error(`list-domain failed: ${xml.slice(0, 500)}`);
  const ids = [...xml.matchAll(/<Content[^>]* id="([^"]+)"/g)].map((m) => m[1]).sort();
  const want = ['primary', OS_GUEST, ...Array.from({ length: GUESTS }, (_, i) => name(i + 1))].sort();
  if (ids.join(' ') !== want.join(' ')) throw new Error(`list-domain shows ${ids.join(' ')}, expected ${want.join(' ')}`);
}

// ---- round trips --------------------------------------------------------------------------------------

/** One request, its response awaited; returns the milliseconds from write to arrival. */
type RoundTrip = () => Promise<number>;

function xmlRoundTrip(c: XmppTestClient, doc: string, check: (xml: string) => boolean, what: string): RoundTrip {
  return async () => {
    const t0 = performance.now();
    c.send(doc);
    const r = await c.next(30_000);
    const ms = performance.now() - t0;
    if (!check(r)) throw new Error(`${what}: unexpected response ${r.slice(0, 300)}`);
    return ms;
  };
}

const isList = (r: string) => r.startsWith('<LDM_interface') && r.endsWith(SUCCESS_END);
const isUnknown = (r: string) => r.includes('<resp_msg>Unknown action: no-such-action</resp_msg>');

/**
 * A TLS echo server in this process, with ldmd's own certificate (same key, same handshake), and
 * clients that send a message the size of a list-domain request and wait for all of it back.
 */
class Echo {
  private server: tls.Server | null = null;
  port = 0;

  async start(address: string, cred: { key: string; cert: string }): Promise<void> {
    this.server = tls.createServer(cred, (s) => {
      s.on('error', () => undefined);
      s.pipe(s);
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(0, address, () => resolve());
    });
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async client(address: string): Promise<{ roundTrip: RoundTrip; close: () => void }> {
    const sock = tls.connect({ host: address, port: this.port, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      sock.once('secureConnect', resolve);
      sock.once('error', reject);
    });
    const message = Buffer.from(LIST_DOMAIN);
    let want = 0;
    let done: (() => void) | null = null;
    sock.on('data', (b: Buffer) => {
      want -= b.length;
      if (want <= 0 && done) {
        const d = done;
        done = null;
        d();
      }
    });
    return {
      roundTrip: () =>
        new Promise<number>((resolve) => {
          const t0 = performance.now();
          want = message.length;
          done = () => resolve(performance.now() - t0);
          sock.write(message);
        }),
      close: () => sock.destroy(),
    };
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** CPU time (user + system, ms) of the host's two processes and of this one. */
interface Cpu {
  ldmd: number;
  machine: number;
  bench: number;
}

const TICK_MS = 10; // /proc/PID/stat counts in clock ticks of 1/100 s (getconf CLK_TCK)

function procCpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS; // utime, stime: fields 14 and 15
}

let pids: { ldmd: number; machine: number } | null = null;

function cpuNow(): Cpu {
  const u = process.cpuUsage();
  return { ldmd: pids ? procCpuMs(pids.ldmd) : 0, machine: pids ? procCpuMs(pids.machine) : 0, bench: (u.user + u.system) / 1000 };
}

interface Block {
  wallMs: number;
  latencies: number[];
  cpu: Cpu;
}

/** Every client sends `n` requests one after the other; all clients at once. */
async function block(clients: RoundTrip[], n: number): Promise<Block> {
  const latencies: number[] = [];
  const c0 = cpuNow();
  const t0 = performance.now();
  await Promise.all(
    clients.map(async (rt) => {
      for (let i = 0; i < n; i++) latencies.push(await rt());
    }),
  );
  const wallMs = performance.now() - t0;
  const c1 = cpuNow();
  return { wallMs, latencies, cpu: { ldmd: c1.ldmd - c0.ldmd, machine: c1.machine - c0.machine, bench: c1.bench - c0.bench } };
}

interface Kind {
  name: string;
  blocks: Block[];
}

/**
 * Rounds of: a TLS echo block, an unknown-action block, a list-domain block, each of `n` requests per
 * client. A ratio is one block's wall time over another's in the same round (= the inverse ratio
 * of their throughputs).
 */
async function throughput(kinds: { name: string; clients: RoundTrip[] }[], rounds: number, n: number, warmupRounds: number): Promise<Kind[]> {
  const out = kinds.map((k) => ({ name: k.name, blocks: [] as Block[] }));
  for (let r = 0; r < warmupRounds + rounds; r++) {
    for (let i = 0; i < kinds.length; i++) {
      const b = await block(kinds[i].clients, n);
      if (r >= warmupRounds) out[i].blocks.push(b);
    }
  }
  return out;
}

// ---- reporting ----------------------------------------------------------------------------------------

function render(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd()).join('\n');
}

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)) + ' ms';
const signedMs = (v: number) => (v < 0 ? '−' : '+') + ms(Math.abs(v));
const xr = (v: number) => (Number.isFinite(v) ? v.toFixed(2) + '×' : '-');
const paired = (a: number[], b: number[]) => a.map((v, i) => v / b[i]);

function throughputTable(kinds: Kind[], baseline: Kind, echo: Kind): string {
  const rows = [['', 'requests', 'req/s', 'median', 'p90', `× ${baseline.name}`, '× TLS echo', 'CPU/req: ldmd', 'machine', 'bench']];
  for (const k of kinds) {
    const lat = k.blocks.flatMap((b) => b.latencies);
    const wall = k.blocks.map((b) => b.wallMs);
    const rate = (lat.length / wall.reduce((a, b) => a + b, 0)) * 1000;
    const vsBase = k === baseline ? '1.00×' : xr(median(paired(wall, baseline.blocks.map((b) => b.wallMs))));
    const vsEcho = k === echo ? '1.00×' : xr(median(paired(wall, echo.blocks.map((b) => b.wallMs))));
    const label = k === baseline ? `${k.name} (baseline)` : k === echo ? `${k.name} (baseline 2)` : k.name;
    const cpu = (which: keyof Cpu) => ms(k.blocks.reduce((a, b) => a + b.cpu[which], 0) / lat.length);
    rows.push([label, String(lat.length), rate.toFixed(0), ms(median(lat)), ms(p90(lat)), vsBase, vsEcho, cpu('ldmd'), cpu('machine'), cpu('bench')]);
  }
  return render(rows);
}

interface Sample {
  name: string;
  values: number[];
  /** The baseline values paired with these, transition by transition. */
  against?: number[];
  signed?: boolean;
}

function latencyTable(samples: Sample[], baselineName: string): string {
  const rows = [['', 'n', 'median', 'p90', 'min', 'max', `× ${baselineName}`, 'p90 ×']];
  for (const s of samples) {
    const f = s.signed ? signedMs : ms;
    const r = s.against ? paired(s.values, s.against) : null;
    rows.push([
      s.name,
      String(s.values.length),
      f(median(s.values)),
      f(p90(s.values)),
      f(quantile(s.values, 0)),
      f(quantile(s.values, 1)),
      r ? xr(median(r)) : s.signed ? '' : '1.00×',
      r ? xr(p90(r)) : '',
    ]);
  }
  return render(rows);
}

// ---- session set-up ---------------------------------------------------------------------------------------

const SETUP_STEPS = ['TCP connect', 'stream header → features', 'starttls → proceed', 'TLS handshake', 'header → features (TLS)'] as const;

/** The fault manager's handshake step by step (as connectXmpp does it), each step timed. */
async function timedSession(address: string): Promise<number[]> {
  const times: number[] = [];
  let t = performance.now();
  const lap = () => {
    const now = performance.now();
    times.push(now - t);
    t = now;
  };
  const raw = net.connect({ host: address, port: XMPP_PORT, localAddress: address });
  try {
    await new Promise<void>((resolve, reject) => {
      raw.once('connect', resolve);
      raw.once('error', reject);
    });
    lap();
    const until = (from: net.Socket, re: RegExp) =>
      new Promise<void>((resolve, reject) => {
        let text = '';
        const timer = setTimeout(() => reject(new Error(`session set-up: no ${re} within 10 s (got ${text})`)), 10_000);
        const onData = (b: Buffer) => {
          text += b.toString('utf8');
          if (!re.test(text)) return;
          clearTimeout(timer);
          from.removeListener('data', onData);
          resolve();
        };
        from.on('data', onData);
      });
    let got = until(raw, /<\/stream:features>/);
    raw.write(FMA_STREAM_START);
    await got;
    lap();
    got = until(raw, /<proceed[\s/>]/);
    raw.write(FMA_STARTTLS);
    await got;
    lap();
    const secure = tls.connect({ socket: raw, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    lap();
    got = until(secure, /<stream:features\/>|<\/stream:features>/);
    secure.write(FMA_STREAM_START);
    await got;
    lap();
    secure.end('</stream:stream>');
    secure.destroy();
  } finally {
    raw.destroy();
  }
  return times;
}

/** What ldmd does for a local peer (localUid, src/xml/xmpp/server.ts), done here to compare. */
function readProcNetTcp(): { ms: number; sockets: number } {
  const t0 = performance.now();
  const text = fs.readFileSync('/proc/net/tcp', 'latin1');
  return { ms: performance.now() - t0, sockets: text.split('\n').length - 2 };
}

// ---- events ---------------------------------------------------------------------------------------------

function eventOf(xml: string): { action: string; domain: string } {
  const m = /^<LDM_event[^>]*><cmd><action>([^<]+)<\/action>.*?\bid='([^']+)'/.exec(xml);
  if (!m) throw new Error(`not a domain event: ${xml.slice(0, 300)}`);
  return { action: m[1], domain: m[2] };
}

/** The next document, stamped on arrival. */
function arrival(c: XmppTestClient, timeoutMs: number): Promise<{ xml: string; at: number }> {
  return c.next(timeoutMs).then((xml) => ({ xml, at: performance.now() }));
}

interface Transition {
  commandMs: number;
  eventMs: number | null;
}

/** `ldm start|stop CYCLED` over the socket; with a registered session, its event timed too. */
async function transition(sock: string, verb: 'start' | 'stop', c: XmppTestClient | null): Promise<Transition> {
  let t0 = 0;
  const ev = c ? arrival(c, 10_000) : null;
  const r = await rawLdm(sock, [verb, CYCLED], { onSent: () => (t0 = performance.now()) });
  const commandMs = performance.now() - t0;
  if (r.code !== 0) throw new Error(`ldm ${verb} ${CYCLED} exited ${r.code}: ${r.stderr}`);
  if (!ev) return { commandMs, eventMs: null };
  const { xml, at } = await ev;
  const e = eventOf(xml);
  if (e.action !== `${verb}-domain` || e.domain !== CYCLED) throw new Error(`after ldm ${verb} ${CYCLED}: event ${e.action} ${e.domain}`);
  return { commandMs, eventMs: at - t0 };
}

async function expectResponse(c: XmppTestClient, doc: string): Promise<void> {
  c.send(doc);
  const r = await c.next(10_000);
  if (!r.endsWith(SUCCESS_END)) throw new Error(`unexpected response ${r.slice(0, 300)}`);
}

/** A guest console over a raw TCP socket, as `nc` reaches it (no telnet negotiation needed). */
class Console {
  private text = '';
  private mark = 0;
  private waiter: (() => void) | null = null;

  private constructor(private readonly sock: net.Socket) {
    sock.on('data', (b: Buffer) => {
      this.text += b.toString('latin1');
      this.waiter?.();
    });
  }

  static async open(address: string, port: number): Promise<Console> {
    const sock = net.createConnection({ host: address, port, localAddress: address });
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    return new Console(sock);
  }

  type(line: string): number {
    this.sock.write(line + '\n');
    return performance.now();
  }

  /** Resolves with the arrival time of the first match after the previous one. */
  waitFor(re: RegExp, timeoutMs = 15_000): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new Error(`console: no ${re} within ${timeoutMs} ms; last output ${JSON.stringify(this.text.slice(-300))}`));
      }, timeoutMs);
      const check = () => {
        const m = re.exec(this.text.slice(this.mark));
        if (!m) return;
        const at = performance.now();
        this.mark += m.index + m[0].length;
        this.waiter = null;
        clearTimeout(timer);
        resolve(at);
      };
      this.waiter = check;
      check();
    });
  }

  close(): void {
    this.sock.destroy();
  }
}

interface Poweroff {
  /** From the Enter after `poweroff` to the OS's `Changing to init state 5` on the console. */
  consoleMs: number;
  /** From that console line to the LDM_event. */
  eventAfterOsMs: number;
  /** From the Enter to the LDM_event. */
  eventMs: number;
}

async function poweroffCycle(sock: string, c: XmppTestClient, con: Console, first: boolean): Promise<Poweroff> {
  if (!first) {
    const ev = arrival(c, 10_000);
    const r = await rawLdm(sock, ['start', OS_GUEST]);
    if (r.code !== 0) throw new Error(`ldm start ${OS_GUEST} exited ${r.code}: ${r.stderr}`);
    const e = eventOf((await ev).xml);
    if (e.action !== 'start-domain' || e.domain !== OS_GUEST) throw new Error(`after ldm start ${OS_GUEST}: event ${e.action} ${e.domain}`);
  }
  await con.waitFor(new RegExp(`${OS_GUEST} console login: `));
  con.type('root');
  await con.waitFor(/Password: /);
  con.type('x');
  await con.waitFor(/\n# /);
  // The cycle starts from the poll that delivered the previous event; without a random pause every
  // poweroff would land at the same point of the poller's period.
  await new Promise((r) => setTimeout(r, Math.random() * POLL_MS));
  const ev = arrival(c, 10_000);
  const tKey = con.type('poweroff');
  const tOs = await con.waitFor(/Changing to init state 5/);
  const { xml, at } = await ev;
  const e = eventOf(xml);
  if (e.action !== 'stop-domain' || e.domain !== OS_GUEST) throw new Error(`after poweroff in ${OS_GUEST}: event ${e.action} ${e.domain}`);
  return { consoleMs: tOs - tKey, eventAfterOsMs: at - tOs, eventMs: at - tKey };
}

// ---- the benchmark ------------------------------------------------------------------------------------

export async function runXmlBenchmark(opts: XmlOptions): Promise<string> {
  const single = opts.single ?? { rounds: 20, block: 100, warmup: 200 };
  const conc = opts.concurrent ?? { sessions: 50, rounds: 8, perSession: 20 };
  const trans = opts.transitions ?? { pairs: 50, warmup: 5 };
  const poweroffs = opts.poweroffs ?? 60;
  const setups = opts.setups ?? 40;
  const home = new BenchHome('ldoms-bench-xml-');
  const echo = new Echo();
  const sessions: XmppTestClient[] = [];
  const closers: (() => void)[] = [];
  try {
    const address = await startHost(home, opts.log);
    opts.log(`xml: creating ${GUESTS + 1} guests`);
    await populate(home);
    const sock = home.socket(HOST);
    const hostDir = home.hostDir(HOST);
    const pidOf = (which: string) => Number(fs.readFileSync(path.join(hostDir, 'run', `${which}.pid`), 'utf8'));
    pids = { ldmd: pidOf('ldmd'), machine: pidOf('machine') };
    const cred = { key: fs.readFileSync(path.join(hostDir, 'tls', 'key.pem'), 'utf8'), cert: fs.readFileSync(path.join(hostDir, 'tls', 'cert.pem'), 'utf8') };
    await echo.start(address, cred);

    // ---- (1) one session --------------------------------------------------------------------------
    const session = async () => {
      const c = await connectXmpp({ host: address, mode: 'fma', timeoutMs: 30_000 });
      sessions.push(c);
      return c;
    };
    const echoClient = async () => {
      const e = await echo.client(address);
      closers.push(e.close);
      return e;
    };

    const one = await session();
    one.send(LIST_DOMAIN);
    const sample = await one.next(30_000);
    checkListDomain(sample);
    one.send(UNKNOWN);
    const unknownSample = await one.next(30_000);
    if (!isUnknown(unknownSample)) throw new Error(`unknown action: unexpected response ${unknownSample}`);
    const oneEcho = await echoClient();
    const warmRounds = Math.ceil(single.warmup / single.block);
    opts.log(`xml: one session, ${single.rounds} rounds × ${single.block} requests of each kind after ${warmRounds * single.block}`);
    const oneKinds = await throughput(
      [
        { name: 'TLS echo', clients: [oneEcho.roundTrip] },
        { name: 'unknown action', clients: [xmlRoundTrip(one, UNKNOWN, isUnknown, 'unknown action')] },
        { name: 'list-domain', clients: [xmlRoundTrip(one, LIST_DOMAIN, isList, 'list-domain')] },
      ],
      single.rounds,
      single.block,
      warmRounds,
    );

    // ---- (1) concurrent sessions -------------------------------------------------------------------
    opts.log(`xml: opening ${conc.sessions} sessions and ${conc.sessions} echo connections`);
    const many: XmppTestClient[] = [one];
    while (many.length < conc.sessions) many.push(await session());
    const manyEcho = [oneEcho];
    while (manyEcho.length < conc.sessions) manyEcho.push(await echoClient());
    opts.log(`xml: ${conc.sessions} sessions, ${conc.rounds} rounds × ${conc.perSession} requests per session of each kind after 1 round`);
    const manyKinds = await throughput(
      [
        { name: 'TLS echo', clients: manyEcho.map((e) => e.roundTrip) },
        { name: 'unknown action', clients: many.map((c) => xmlRoundTrip(c, UNKNOWN, isUnknown, 'unknown action')) },
        { name: 'list-domain', clients: many.map((c) => xmlRoundTrip(c, LIST_DOMAIN, isList, 'list-domain')) },
      ],
      conc.rounds,
      conc.perSession,
      1,
    );
    for (const c of many.slice(1)) c.close();
    for (const e of manyEcho.slice(1)) e.close();

    // ---- (1) session set-up, step by step ----------------------------------------------------------
    opts.log(`xml: ${setups} session set-ups, each after a TLS connection to the echo server and a read of /proc/net/tcp`);
    const setupRows: { echo: number; steps: number[]; procTcp: { ms: number; sockets: number } }[] = [];
    for (let i = 0; i < setups + 3; i++) {
      const t0 = performance.now();
      const e = await echo.client(address);
      const echoMs = performance.now() - t0;
      e.close();
      const procTcp = readProcNetTcp();
      const steps = await timedSession(address);
      if (i >= 3) setupRows.push({ echo: echoMs, steps, procTcp });
    }

    // ---- (2) events after ldm start/stop --------------------------------------------------------------
    opts.log(`xml: ${trans.warmup} warm-up + ${trans.pairs} start/stop pairs of ${CYCLED} with a registered session, ${trans.pairs} without`);
    await expectResponse(one, FMA_REG_DOMAIN_EVENTS);
    for (let i = 0; i < trans.warmup; i++) for (const verb of ['start', 'stop'] as const) await transition(sock, verb, one);
    const registered: Transition[] = [];
    const unregistered: Transition[] = [];
    // Blocks of 10 pairs, alternating: registered (the manager then polls the machine every 500 ms
    // under its lock) and unregistered (no poller), so that drift hits both alike.
    const per = 10;
    for (let done = 0; done < trans.pairs; done += per) {
      const k = Math.min(per, trans.pairs - done);
      for (let i = 0; i < k; i++) for (const verb of ['start', 'stop'] as const) registered.push(await transition(sock, verb, one));
      await expectResponse(one, UNREG_DOMAIN_EVENTS);
      for (let i = 0; i < k; i++) for (const verb of ['start', 'stop'] as const) unregistered.push(await transition(sock, verb, null));
      await expectResponse(one, FMA_REG_DOMAIN_EVENTS);
    }

    // ---- (2) events after a guest powers itself off --------------------------------------------------
    opts.log(`xml: ${poweroffs} poweroffs typed on ${OS_GUEST}'s console`);
    const port = Number(/\|cons=(\d+)\|/.exec((await must(sock, 'list', '-p', OS_GUEST)).stdout)?.[1]);
    if (!port) throw new Error(`no console port for ${OS_GUEST}`);
    const con = await Console.open(address, port);
    closers.push(() => con.close());
    // The guest booted long ago: ask for a fresh login prompt.
    con.type('');
    const offs: Poweroff[] = [];
    for (let i = 0; i < poweroffs + 1; i++) {
      const p = await poweroffCycle(sock, one, con, i === 0);
      if (i > 0) offs.push(p); // the first cycle is the warm-up
    }
    const finalState = (await must(sock, 'list', '-p', OS_GUEST)).stdout;
    if (!/\|state=bound\|/.test(finalState)) throw new Error(`${OS_GUEST} is not bound after poweroff: ${finalState}`);

    // ---- report -----------------------------------------------------------------------------------
    const counts = { active: 1, bound: 0, inactive: 0 };
    for (let i = 1; i <= GUESTS; i++) counts[stateOf(i)]++;
    counts.active++; // osg
    const kind = (ks: Kind[], n: string) => ks.find((k) => k.name === n)!;
    const cmd = registered.map((t) => t.commandMs);
    const evt = registered.map((t) => t.eventMs!);
    const startIdx = (t: Transition[], verb: number) => t.filter((_, i) => i % 2 === verb);
    return [
      `XML interface — SPARC T5-2, primary ${PRIMARY_VCPUS} vCPUs/${PRIMARY_MEMORY}, ${GUESTS + 2} domains (${counts.active} active incl. primary, ${counts.bound} bound, ${counts.inactive} inactive; guests 2 vCPUs, 4G, 1 vnet), XMPP on ${address}:${XMPP_PORT}, fault-manager-style sessions (STARTTLS, no SASL)`,
      `list-domain response ${Buffer.byteLength(sample)} bytes, unknown-action response ${Buffer.byteLength(unknownSample)} bytes, request ${LIST_DOMAIN.length} bytes (the echo message is the same size)`,
      '',
      `one session: ${single.rounds} rounds of (${single.block} TLS echoes, ${single.block} unknown-action requests, ${single.block} list-domain requests), each sequential, after ${warmRounds} warm-up rounds; × = block time / the same round's baseline block`,
      '',
      throughputTable(oneKinds, kind(oneKinds, 'unknown action'), kind(oneKinds, 'TLS echo')),
      '',
      `${conc.sessions} sessions at once: ${conc.rounds} rounds of (TLS echo, unknown action, list-domain) blocks, each block ${conc.perSession} sequential requests on every session (${conc.sessions * conc.perSession} per block), after 1 warm-up round; latency per request, req/s = requests / block wall time`,
      '',
      throughputTable(manyKinds, kind(manyKinds, 'unknown action'), kind(manyKinds, 'TLS echo')),
      '',
      `session set-up: ${setups} fault-manager handshakes timed step by step after 3, each right after a TLS connection (TCP + handshake, same certificate) to the echo server and a read of /proc/net/tcp in this process (${setupRows[0].procTcp.sockets} sockets listed at the first)`,
      '',
      latencyTable(
        [
          { name: 'TLS connection to the echo server', values: setupRows.map((r) => r.echo) },
          { name: 'XMPP session, all steps', values: setupRows.map((r) => r.steps.reduce((a, b) => a + b, 0)), against: setupRows.map((r) => r.echo) },
          ...SETUP_STEPS.map((step, i) => ({ name: `  ${step}`, values: setupRows.map((r) => r.steps[i]), against: setupRows.map((r) => r.echo) })),
          { name: 'readFileSync /proc/net/tcp (here)', values: setupRows.map((r) => r.procTcp.ms), against: setupRows.map((r) => r.echo) },
        ],
        'TLS connect',
      ),
      '',
      `events: ${trans.pairs} × (ldm start ${CYCLED}, ldm stop ${CYCLED}) over ldmd's socket (no process) with a session registered for domain events, after ${trans.warmup} pairs, in blocks of ${per} pairs alternating with ${per} pairs and no session registered; times from the request written`,
      '',
      latencyTable(
        [
          { name: 'command completion (exit status)', values: cmd },
          { name: 'LDM_event arrival', values: evt, against: cmd },
          { name: '  of ldm start', values: startIdx(registered, 0).map((t) => t.eventMs!), against: startIdx(registered, 0).map((t) => t.commandMs) },
          { name: '  of ldm stop', values: startIdx(registered, 1).map((t) => t.eventMs!), against: startIdx(registered, 1).map((t) => t.commandMs) },
          { name: 'event − completion', values: registered.map((t) => t.eventMs! - t.commandMs), signed: true },
          { name: 'completion, nobody registered (no poller)', values: unregistered.map((t) => t.commandMs), against: cmd },
        ],
        'completion',
      ),
      '',
      `guest-initiated: ${poweroffs} × (ldm start ${OS_GUEST}; on its console: root login, \`poweroff\`) after 1, the session registered; a random pause of 0-${POLL_MS} ms before typing poweroff; times from its Enter; ldmd notices by polling every ${POLL_MS} ms`,
      '',
      latencyTable(
        [
          { name: 'console: "Changing to init state 5"', values: offs.map((p) => p.consoleMs) },
          { name: 'LDM_event stop-domain', values: offs.map((p) => p.eventMs), against: offs.map((p) => p.consoleMs) },
          { name: 'LDM_event after the console line (× poll period)', values: offs.map((p) => p.eventAfterOsMs), against: offs.map(() => POLL_MS) },
        ],
        'console',
      ),
      `(last row's × is against the ${POLL_MS} ms poll period, not the console: a uniform wait over one period has median 0.50×, p90 0.90×)`,
    ].join('\n');
  } finally {
    for (const c of sessions) c.close();
    for (const cl of closers) cl();
    await Promise.race([echo.close(), new Promise((r) => setTimeout(r, 2000).unref())]);
    home.cleanup();
    pids = null;
  }
}
