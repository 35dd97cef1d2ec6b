// The console concentrator (vntsd): telnet handling, the banner, writer and readers, escapes, the
// group menu, following the bindings, and surviving hostile clients. Raw sockets throughout; one
// case drives the real `telnet` program when it is installed.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { ConsoleConcentrator, type ConsoleBinding, type GuestConsole } from '../src/console/concentrator.js';
import { NvtNewlines, TelnetProtocol, toWire } from '../src/console/telnet.js';

const IAC = 255, DONT = 254, DO = 253, WONT = 252, WILL = 251, SB = 250, SE = 240, BRK = 243, AYT = 246, NOP = 241;
const ECHO = 1, SGA = 3, TTYPE = 24, NAWS = 31;
const GREETING = [IAC, WILL, ECHO, IAC, WILL, SGA, IAC, DO, SGA];
const banner = (domain: string, group = domain) =>
  `\r\nConnecting to console "${domain}" in group "${group}" ....\r\nPress ~? for control options ..\r\n`;
const READ_ONLY = 'Warning: another user is connected to this console; you are in read-only mode\r\n';
const NO_WRITE = 'You do not have write access\r\n';

// 127.0.0.2 is what a second modelled host uses; fall back to 127.0.0.1 where it cannot be bound.
const ADDR = await new Promise<string>((resolve) => {
  const s = net.createServer();
  s.once('error', () => resolve('127.0.0.1'));
  s.listen(0, '127.0.0.2', () => s.close(() => resolve('127.0.0.2')));
});

/** Ports that were free a moment ago (the kernel picked them). */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<net.Server>((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, ADDR, () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

async function until(what: string, pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A guest that records what it is sent and writes what the test tells it to (echoing if asked). */
class FakeGuest implements GuestConsole {
  readonly listeners = new Set<(d: string) => void>();
  inputs: string[] = [];
  breaks = 0;
  constructor(private readonly echo = true) {}
  onOutput(l: (d: string) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  input(d: string): void {
    this.inputs.push(d);
    if (this.echo) this.emit(d);
  }
  break(): void {
    this.breaks++;
  }
  emit(d: string): void {
    for (const l of this.listeners) l(d);
  }
  get typed(): string {
    return this.inputs.join('');
  }
}

/** A raw TCP client: everything received is kept as bytes. */
class Conn {
  received = Buffer.alloc(0);
  closed = false;
  private constructor(readonly sock: net.Socket) {
    sock.on('data', (b) => (this.received = Buffer.concat([this.received, b])));
    sock.on('close', () => (this.closed = true));
    sock.on('error', () => undefined);
  }
  static open(port: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ port, host: ADDR });
      const c = new Conn(sock);
      sock.once('connect', () => resolve(c));
      sock.once('error', reject);
    });
  }
  /** Connect and wait for the single-console banner. */
  static async console(port: number, domain: string, group = domain): Promise<Conn> {
    const c = await Conn.open(port);
    await c.waitFor(banner(domain, group));
    return c;
  }
  get text(): string {
    return this.received.toString('latin1');
  }
  /** What arrived after the telnet greeting. */
  get after(): string {
    return this.received.subarray(GREETING.length).toString('latin1');
  }
  send(data: string | number[] | Buffer): void {
    this.sock.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data));
  }
  clear(): void {
    this.received = Buffer.alloc(0);
  }
  waitFor(s: string | RegExp, ms = 5000): Promise<void> {
    const hit = () => (typeof s === 'string' ? this.text.includes(s) : s.test(this.text));
    return until(`${JSON.stringify(String(s))}; have ${JSON.stringify(this.text.slice(-300))}`, hit, ms);
  }
  waitClosed(ms = 5000): Promise<void> {
    return until('the server to close the connection', () => this.closed, ms);
  }
  destroy(): void {
    this.sock.destroy();
  }
}

/** A concentrator with the given consoles; closed when the test ends. */
async function serve(
  t: { after: (fn: () => Promise<void>) => void },
  bindings: ConsoleBinding[],
  opts: { retryMs?: number; hostName?: string } = {},
) {
  const logs: string[] = [];
  const cc = new ConsoleConcentrator({ address: ADDR, hostName: opts.hostName ?? 'host1', log: (s) => logs.push(s), retryMs: opts.retryMs });
  t.after(() => cc.close());
  await cc.update(bindings);
  return { cc, logs };
}

describe('telnet protocol', () => {
  test('greeting offers echo and go-ahead suppression and asks for go-ahead suppression', () => {
    assert.deepEqual([...new TelnetProtocol().greeting()], GREETING);
  });

  test('answers to option requests: acks of our offers are not answered, unknown options refused', () => {
    const p = new TelnetProtocol();
    p.greeting();
    const r = (bytes: number[]) => [...(p.receive(Buffer.from(bytes)).reply ?? [])];
    assert.deepEqual(r([IAC, DO, ECHO, IAC, DO, SGA, IAC, WILL, SGA]), []); // the client agrees
    assert.deepEqual(r([IAC, DO, ECHO]), []); // already on
    assert.deepEqual(r([IAC, WILL, TTYPE, IAC, WILL, NAWS]), [IAC, DONT, TTYPE, IAC, DONT, NAWS]);
    assert.deepEqual(r([IAC, DO, 99]), [IAC, WONT, 99]);
    assert.deepEqual(r([IAC, DONT, 99, IAC, WONT, TTYPE]), []); // refusals of what is off: no answer
    assert.deepEqual(r([IAC, DONT, ECHO]), [IAC, WONT, ECHO]);
    assert.deepEqual(r([IAC, DO, ECHO]), [IAC, WILL, ECHO]); // asked again later: we agree
    assert.deepEqual(r([IAC, WONT, SGA]), [IAC, DONT, SGA]);
  });

  test('a client that refuses our offers gets no answer back (no negotiation loop)', () => {
    const p = new TelnetProtocol();
    p.greeting();
    assert.equal(p.receive(Buffer.from([IAC, DONT, ECHO, IAC, DONT, SGA, IAC, WONT, SGA])).reply, null);
  });

  test('keystrokes: commands and subnegotiation removed, IAC IAC is 0xFF, CR NUL / CR LF / LF are "\\r"', () => {
    const p = new TelnetProtocol();
    const keys = (bytes: number[] | string) => {
      const { items } = p.receive(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes));
      return items.map((i) => ('data' in i ? i.data : `<${i.command}>`)).join('');
    };
    assert.equal(keys([0x61, IAC, SB, NAWS, 0, 80, 0, 24, IAC, SE, 0x62]), 'ab');
    assert.equal(keys([IAC, SB, TTYPE, 0, 0x78, IAC, IAC, 0x79, IAC, SE, 0x63]), 'c'); // IAC IAC inside SB is SB data
    assert.equal(keys([0x61, IAC, IAC, 0x62, IAC, NOP]), 'a\xffb');
    assert.equal(keys('a\r\0b\r\nc\nd\r'), 'a\rb\rc\rd\r');
    assert.equal(keys('\n'), ''); // the LF of a CR LF split over two reads
    assert.equal(keys('\n\n'), '\r\r');
    assert.equal(keys([0x61, IAC]), 'a');
    assert.equal(keys([SB, 1, 2, IAC, SE, 0x7a]), 'z'); // IAC SB split over two reads
    assert.equal(keys([0x78, IAC, BRK, 0x79, IAC, AYT]), 'x<break>y<are-you-there>');
  });

  test('guest text on the wire: LF becomes CR LF unless it already is, 0xFF doubled, wide characters in UTF-8', () => {
    const nl = new NvtNewlines();
    assert.equal(nl.translate('a\nb\r\nc\n\n'), 'a\r\nb\r\nc\r\n\r\n');
    assert.equal(nl.translate('x\r'), 'x\r');
    assert.equal(nl.translate('\ny'), '\ny'); // CR LF split across two writes
    assert.equal(nl.translate('\n'), '\r\n');
    assert.deepEqual([...toWire('a\xffb')], [0x61, 0xff, 0xff, 0x62]);
    assert.deepEqual([...toWire('\xe9\u20ac')], [0xe9, 0xe2, 0x82, 0xac]);
  });
});

describe('one console', () => {
  test('a client gets the negotiation, then the banner', async (t) => {
    const [port] = await freePorts(1);
    await serve(t, [{ domain: 'ldg1', group: 'ldg1', port, console: new FakeGuest() }]);
    const c = await Conn.console(port, 'ldg1');
    assert.deepEqual([...c.received.subarray(0, GREETING.length)], GREETING);
    assert.equal(c.after, banner('ldg1'));
    c.destroy();
  });

  test('telnet commands are answered and stripped before the guest sees the keys', async (t) => {
    const [port] = await freePorts(1);
    const g = new FakeGuest(false);
    await serve(t, [{ domain: 'ldg1', group: 'ldg1', port, console: g }]);
    const c = await Conn.console(port, 'ldg1');
    c.clear();
    c.send([IAC, DO, ECHO, IAC, WILL, SGA, IAC, DO, SGA, IAC, WILL, TTYPE, IAC, SB, NAWS, 0, 80, 0, 24, IAC, SE]);
    c.send([0x61, 0x62, IAC, IAC, 0x63, 0x0d, 0x00, 0x64, 0x0d, 0x0a, 0x65, 0x0a]);
    await until('keys', () => g.typed === 'ab\xffc\rd\re\r');
    assert.deepEqual([...c.received], [IAC, DONT, TTYPE]);
    c.destroy();
  });

  test("the guest's output: newline as CR LF, 0xFF doubled", async (t) => {
    const [port] = await freePorts(1);
    const g = new FakeGuest();
    await serve(t, [{ domain: 'ldg1', group: 'ldg1', port, console: g }]);
    const c = await Conn.console(port, 'ldg1');
    c.clear();
    g.emit('{0} ok \nline\r\n\xff.');
    await c.waitFor('.');
    assert.deepEqual(c.received, Buffer.from('{0} ok \r\nline\r\n\xff\xff.', 'latin1'));
    c.destroy();
  });

  test('the first client writes; later ones are told they only read, and all see the output', async (t) => {
    const [port] = await freePorts(1);
    const g = new FakeGuest(false);
    const { cc } = await serve(t, [{ domain: 'ldg1', group: 'ldg1', port, console: g }]);
    const w = await Conn.console(port, 'ldg1');
    const r = await Conn.console(port, 'ldg1');
    await r.waitFor(READ_ONLY);
    assert.equal(r.after, banner('ldg1') + READ_ONLY);
    assert.ok(!w.text.includes('read-only'));
    assert.deepEqual(cc.clients('ldg1'), [{ writer: true }, { writer: false }]);
    r.clear();
    r.send('rm -rf /\r');
    await r.waitFor(NO_WRITE);
    w.send('uname\r');
    await until('the writer\'s keys', () => g.typed === 'uname\r');
    g.emit('SunOS\n');
    await w.waitFor('SunOS\r\n');
    await r.waitFor('SunOS\r\n');
    // The writer leaves: the reader is next in line and writes from now on (as in vntsd).
    w.destroy();
    await until('the writer to go', () => cc.clients('ldg1').length === 1);
    assert.deepEqual(cc.clients('ldg1'), [{ writer: true }]);
    r.send('id\r');
    await until('the new writer\'s keys', () => g.typed === 'uname\rid\r');
    assert.ok(!g.typed.includes('rm -rf'));
    r.destroy();
  });

  test('~w asks, then takes write access; the previous writer is told it is read-only', async (t) => {
    const [port] = await freePorts(1);
    const g = new FakeGuest(false);
    const { cc } = await serve(t, [{ domain: 'ldg1', group: 'ldg1', port, console: g }]);
    const a = await Conn.console(port, 'ldg1');
    const b = await Conn.console(port, 'ldg1');
    await b.waitFor(READ_ONLY);
    b.clear();
    b.send('~w');
    await b.waitFor('Would you like to continue? [y/n] ');
    assert.equal(
      b.text,
      '\r\nWarning: another user currently has write permission\r\nto this console and forcibly removing him/her will terminate\r\n' +
        'any current write action and all work will be lost.\r\n\r\nWould you like to continue? [y/n] ',
    );
    b.send('n');
    await b.waitFor('n\r\n');
    assert.deepEqual(cc.clients('ldg1'), [{ writer: true }, { writer: false }]);
    b.clear();
    b.send('~wx');
    await b.waitFor('Invalid response. Try again.\r\nWould you like to continue? [y/n] ');
    b.send('y');
    await a.waitFor('Warning: Console connection forced into read-only mode\r\n');
    assert.deepEqual(cc.clients('ldg1'), [{ writer: true }, { writer: false }]);
    b.send('date\r');
    a.clear();
    a.send('x');
    await a.waitFor(NO_WRITE);
    await until('the new writer\'s keys', () => g.typed === 'date\r');
    b.clear();
    b.send('~w');
    await b.waitFor('You have write permission\r\n');
    a.destroy();
    b.destroy();
  });

  test('~. ends the connection, but only at the start of a line', async (t) => {
    const [port] = await freePorts(1);
    const g = new FakeGuest(false);
    const { cc } = await serve(t, [{ domain: 'ldg1', group: 'ldg1', port, console: g }]);
    const c = await Conn.console(port, 'ldg1');
    c.send('echo a~.b\r');
    await until('keys', () => g.typed === 'echo a~.b\r');
    assert.equal(c.closed, false);
    c.send('~.');
    await c.waitClosed();
    assert.equal(g.typed, 'echo a~.b\r');
    await until('the client to be gone', () => cc.clients('ldg1').length === 0);
    // Right after connecting is a line start too.
    const d = await Conn.console(port, 'ldg1');
    d.send('~.');
    await d.waitClosed();
  });

  test('~~ sends one ~, ~? lists the escapes, ~# and IAC BRK send a break', async (t) => {
    const [port] = await freePorts(1);
    const g = new FakeGuest(false);
    await serve(t, [{ domain: 'ldg1', group: 'ldg1', port, console: g }]);
    const c = await Conn.console(port, 'ldg1');
    c.send('~~home\r');
    await until('keys', () => g.typed === '~home\r');
    c.clear();
    c.send('~?');
    const help =
      '\r\nVNTSD commands\r\n~# --Send break\r\n~. --Exit from this console\r\n~w --Force write access\r\n' +
      '~n --Console next\r\n~p --Console previous\r\n~? --Help\r\n';
    await c.waitFor('~? --Help\r\n');
    assert.equal(c.text, help);
    c.clear();
    c.send('~z'); // unknown escape: the list again, nothing reaches the guest
    await c.waitFor('~? --Help\r\n');
    c.send('~#');
    await until('a break', () => g.breaks === 1);
    c.send([IAC, BRK]);
    await until('a second break', () => g.breaks === 2);
    assert.equal(g.typed, '~home\r');
    c.destroy();
  });

  test('a reader cannot send a break', async (t) => {
    const [port] = await freePorts(1);
    const g = new FakeGuest(false);
    await serve(t, [{ domain: 'ldg1', group: 'ldg1', port, console: g }]);
    const w = await Conn.console(port, 'ldg1');
    const r = await Conn.console(port, 'ldg1');
    await r.waitFor(READ_ONLY);
    r.clear();
    r.send('~#');
    await r.waitFor(NO_WRITE);
    assert.equal(g.breaks, 0);
    w.destroy();
    r.destroy();
  });
});

describe('console groups', () => {
  const PROMPT = '\r\nhost1-vnts-grp: h, l, c{id}, n{name}, q:';
  const HELP =
    '\r\nh -- this help\r\nl -- list of consoles\r\nq -- quit\r\n' +
    'c{id}, n{name} -- connect to a console of domain {id} or domain {name}\r\n';

  async function group(t: { after: (fn: () => Promise<void>) => void }) {
    const [port] = await freePorts(1);
    const guests = { ldg1: new FakeGuest(false), ldg2: new FakeGuest(false), ldg3: new FakeGuest(false) };
    const { cc } = await serve(
      t,
      Object.entries(guests).map(([domain, console]) => ({ domain, group: 'grp', port, console })),
    );
    return { port, guests, cc };
  }

  test('a group of several consoles shows its menu: h, l, c{id}, n{name}, q', async (t) => {
    const { port, guests, cc } = await group(t);
    const c = await Conn.open(port);
    await c.waitFor(PROMPT);
    assert.equal(c.after, PROMPT);
    c.clear();
    c.send('l');
    await c.waitFor(PROMPT);
    const row = (a: string, b: string, s: string) => a.padEnd(20) + b.padEnd(30) + s.padEnd(25) + '\r\n';
    assert.equal(
      c.text,
      'l\r\n' + row('DOMAIN ID', 'DOMAIN NAME', 'DOMAIN STATE') + row('0', 'ldg1', 'online') + row('1', 'ldg2', 'online') + row('2', 'ldg3', 'online') + PROMPT,
    );
    c.clear();
    c.send('h');
    await c.waitFor(PROMPT);
    assert.equal(c.text, 'h' + HELP + PROMPT);
    c.clear();
    c.send('c1\r');
    await c.waitFor(banner('ldg2', 'grp'));
    assert.equal(c.text, 'c1\r' + banner('ldg2', 'grp'));
    assert.deepEqual(cc.clients('ldg2'), [{ writer: true }]);
    c.send('ok\r');
    await until('keys on ldg2', () => guests.ldg2.typed === 'ok\r');
    // ~. goes back to the menu when there is a choice.
    c.clear();
    c.send('~.');
    await c.waitFor(PROMPT);
    assert.equal(c.text, PROMPT);
    assert.deepEqual(cc.clients('ldg2'), []);
    c.clear();
    c.send('n ldg3\r');
    await c.waitFor(banner('ldg3', 'grp'));
    // ~n and ~p move through the group.
    c.clear();
    c.send('~n');
    await c.waitFor(banner('ldg1', 'grp'));
    c.clear();
    c.send('~p');
    await c.waitFor(banner('ldg3', 'grp'));
    c.send('~.');
    await c.waitFor(PROMPT);
    c.send('q');
    await c.waitClosed();
    assert.equal(guests.ldg1.typed + guests.ldg3.typed, '');
  });

  test('menu input errors: unknown id or name shows the help; backspace edits; the list shows who is connected', async (t) => {
    const { port, cc } = await group(t);
    const c = await Conn.open(port);
    await c.waitFor(PROMPT);
    c.clear();
    c.send('c9\r');
    await c.waitFor(PROMPT);
    assert.equal(c.text, 'c9\r' + HELP + PROMPT);
    c.clear();
    c.send('nnobody\r');
    await c.waitFor(PROMPT);
    assert.ok(c.text.includes('h -- this help'));
    c.clear();
    c.send('cx\r');
    await c.waitFor(PROMPT);
    assert.ok(c.text.includes('h -- this help'));
    const other = await Conn.open(port);
    await other.waitFor(PROMPT);
    other.send('c9\x7f0\r');
    await other.waitFor(banner('ldg1', 'grp'));
    assert.deepEqual(cc.clients('ldg1'), [{ writer: true }]);
    c.clear();
    c.send('l');
    await c.waitFor(PROMPT);
    assert.match(c.text, /^0 +ldg1 +connected +\r$/m);
    assert.match(c.text, /^1 +ldg2 +online +\r$/m);
    c.clear();
    c.send('\r'); // Enter alone: the prompt again
    await c.waitFor(PROMPT);
    assert.equal(c.text, PROMPT);
    c.destroy();
    other.destroy();
  });

  test('a long host name gives the short prompt', async (t) => {
    const [port] = await freePorts(1);
    const host = 'h'.repeat(60);
    await serve(t, [
      { domain: 'a', group: 'g', port, console: new FakeGuest() },
      { domain: 'b', group: 'g', port, console: new FakeGuest() },
    ], { hostName: host });
    const c = await Conn.open(port);
    await c.waitFor('q:');
    assert.equal(c.after, '\r\nvnts: h, l, c{id}, n{name}, q:');
    c.destroy();
  });
});

describe('following the bindings', () => {
  test('update closes ports no longer bound, opens new ones, leaves the rest alone; idempotent', async (t) => {
    const [p1, p2, p3] = await freePorts(3);
    const ga = new FakeGuest(), gb = new FakeGuest(), gc = new FakeGuest();
    const a = { domain: 'ldga', group: 'ldga', port: p1, console: ga };
    const b = { domain: 'ldgb', group: 'ldgb', port: p2, console: gb };
    const { cc } = await serve(t, [a, b]);
    const ca = await Conn.console(p1, 'ldga');
    const cb = await Conn.console(p2, 'ldgb');
    await cc.update([a, b]);
    assert.equal(ca.closed || cb.closed, false);
    assert.deepEqual(cc.status().map((s) => [s.port, s.listening]), [[p1, true], [p2, true]].sort((x, y) => (x[0] as number) - (y[0] as number)));

    await cc.update([b, { domain: 'ldgc', group: 'ldgc', port: p3, console: gc }]);
    await ca.waitFor('\r\nConnection to console "ldga" closed.\r\n');
    await ca.waitClosed();
    await assert.rejects(Conn.open(p1), /ECONNREFUSED/);
    const cc3 = await Conn.console(p3, 'ldgc');
    assert.equal(cb.closed, false);
    cb.clear();
    gb.emit('still here\n');
    await cb.waitFor('still here\r\n');
    assert.deepEqual(cc.clients('ldga'), []);

    // The guest behind a console changes (the domain was started): its clients stay connected.
    const gb2 = new FakeGuest(false);
    await cc.update([{ ...b, console: gb2 }, { domain: 'ldgc', group: 'ldgc', port: p3, console: gc }]);
    cb.clear();
    gb.emit('old guest\n');
    gb2.emit('new guest\n');
    await cb.waitFor('new guest\r\n');
    assert.ok(!cb.text.includes('old guest'));
    cb.send('boot\r');
    await until('keys to the new guest', () => gb2.typed === 'boot\r');
    assert.equal(gb.typed, '');

    // A domain joins another's group: the port now serves a menu; the connected client stays.
    await cc.update([{ ...b, console: gb2 }, { domain: 'ldgc', group: 'ldgb', port: p2, console: gc }]);
    await cc3.waitClosed();
    const menu = await Conn.open(p2);
    await menu.waitFor('host1-vnts-ldgb: h, l, c{id}, n{name}, q:');
    assert.equal(cb.closed, false);
    assert.deepEqual(cc.status().map((s) => [s.port, s.group, s.domains]), [[p2, 'ldgb', ['ldgb', 'ldgc']]]);
    menu.destroy();
    cb.destroy();
  });

  test('a console removed from a group sends its clients back to the menu while there is a choice', async (t) => {
    const [port] = await freePorts(1);
    const g = { a: new FakeGuest(), b: new FakeGuest(), c: new FakeGuest() };
    const bind = (names: (keyof typeof g)[]) => names.map((d) => ({ domain: d, group: 'grp', port, console: g[d] }));
    const { cc } = await serve(t, bind(['a', 'b', 'c']));
    const x = await Conn.open(port);
    await x.waitFor('q:');
    x.send('na\r');
    await x.waitFor(banner('a', 'grp'));
    x.clear();
    await cc.update(bind(['b', 'c']));
    await x.waitFor('\r\nConnection to console "a" closed.\r\n\r\nhost1-vnts-grp: h, l, c{id}, n{name}, q:');
    x.send('nb\r');
    await x.waitFor(banner('b', 'grp'));
    x.clear();
    await cc.update(bind(['c']));
    await x.waitFor('Connection to console "b" closed.');
    await x.waitClosed();
  });

  test('a port held by another program is logged and retried, and does not stop the other ports', async (t) => {
    const [busy, ok] = await freePorts(2);
    const squatter = net.createServer();
    await new Promise<void>((r) => squatter.listen(busy, ADDR, r));
    t.after(() => new Promise<void>((r) => squatter.close(() => r())));
    const { cc, logs } = await serve(t, [
      { domain: 'ldg1', group: 'ldg1', port: busy, console: new FakeGuest() },
      { domain: 'ldg2', group: 'ldg2', port: ok, console: new FakeGuest() },
    ], { retryMs: 50 });
    const st = cc.status().find((s) => s.port === busy)!;
    assert.equal(st.listening, false);
    assert.match(st.error ?? '', /EADDRINUSE/);
    (await Conn.console(ok, 'ldg2')).destroy();
    await sleep(300);
    assert.equal(logs.filter((l) => l.includes('EADDRINUSE')).length, 1, logs.join('\n'));
    await new Promise<void>((r) => squatter.close(() => r()));
    await until('the port to be taken over', () => cc.status().find((s) => s.port === busy)!.listening);
    (await Conn.console(busy, 'ldg1')).destroy();
    assert.ok(logs.some((l) => l.includes(`listening on ${ADDR}:${busy}`)));
  });

  test('conflicting bindings: a second group on one port and a domain bound twice are logged and skipped', async (t) => {
    const [p1, p2] = await freePorts(2);
    const { cc, logs } = await serve(t, [
      { domain: 'a', group: 'g1', port: p1, console: new FakeGuest() },
      { domain: 'b', group: 'g2', port: p1, console: new FakeGuest() },
      { domain: 'a', group: 'a', port: p2, console: new FakeGuest() },
    ]);
    assert.deepEqual(cc.status().map((s) => [s.port, s.group, s.domains]), [[p1, 'g1', ['a']]]);
    assert.equal(logs.length, 2);
    (await Conn.console(p1, 'a', 'g1')).destroy();
  });

  test('close() disconnects everyone and frees the ports', async (t) => {
    const [port] = await freePorts(1);
    const cc = new ConsoleConcentrator({ address: ADDR, hostName: 'h' });
    t.after(() => cc.close());
    await cc.update([{ domain: 'ldg1', group: 'ldg1', port, console: new FakeGuest() }]);
    const c = await Conn.console(port, 'ldg1');
    await cc.close();
    await c.waitClosed();
    await assert.rejects(Conn.open(port), /ECONNREFUSED/);
    await cc.update([{ domain: 'ldg1', group: 'ldg1', port, console: new FakeGuest() }]);
    await assert.rejects(Conn.open(port), /ECONNREFUSED/);
  });
});

describe('hostile clients', () => {
  test('500 connects and disconnects, garbage, 1 MB pastes and idle connections leave the service working', async (t) => {
    const [single, grp] = await freePorts(2);
    const g = new FakeGuest(false);
    const { cc } = await serve(t, [
      { domain: 'ldg1', group: 'ldg1', port: single, console: g },
      { domain: 'a', group: 'g', port: grp, console: new FakeGuest() },
      { domain: 'b', group: 'g', port: grp, console: new FakeGuest() },
    ]);
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    const garbage = (n: number) => {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = random() & 0xff;
      // Telnet fragments: an unfinished subnegotiation, a dangling IAC, options galore.
      return Buffer.concat([b, Buffer.from([IAC, SB, 24, 1, 2, IAC, DO]), b.subarray(0, 64), Buffer.from([IAC])]);
    };
    const idle: net.Socket[] = [];
    const one = (i: number) =>
      new Promise<void>((resolve) => {
        const sock = net.connect({ port: i % 4 === 3 ? grp : single, host: ADDR });
        sock.on('error', () => resolve());
        sock.on('close', () => resolve());
        sock.on('connect', () => {
          if (i % 6 !== 2) sock.resume();
          switch (i % 6) {
            case 0: // connect and vanish
              sock.destroy();
              break;
            case 1: // garbage, then hang up
            case 3:
              sock.end(garbage(4096));
              break;
            case 2: // never reads, stays until the flood is over
              sock.pause();
              idle.push(sock);
              resolve();
              break;
            case 4: // leaves politely (escapes at line start)
              sock.write('~.');
              break;
            case 5: // a half-closed connection: sends, then shuts its side
              sock.end('abc\r');
              break;
          }
        });
      });
    for (let i = 0; i < 500; i += 50) await Promise.all(Array.from({ length: 50 }, (_, k) => one(i + k)));
    // Three 1 MB pastes at once.
    await Promise.all(
      [0, 1, 2].map(() => new Promise<void>((resolve) => {
        const sock = net.connect({ port: single, host: ADDR }, () => sock.end(Buffer.alloc(1024 * 1024, 0x61)));
        sock.on('error', () => resolve());
        sock.on('close', () => resolve());
        sock.resume();
      })),
    );
    for (const s of idle) s.destroy();
    await until('all flood clients to be gone', () => cc.clients('ldg1').length === 0 && cc.clients('a').length === 0);
    // A normal session: banner, writer, keys through, output back.
    const c = await Conn.console(single, 'ldg1');
    assert.deepEqual(cc.clients('ldg1'), [{ writer: true }]);
    g.inputs = [];
    c.send('uname -a\r');
    await until('keys', () => g.typed === 'uname -a\r');
    g.emit('SunOS ldg1 5.10\n');
    await c.waitFor('SunOS ldg1 5.10\r\n');
    const m = await Conn.open(grp);
    await m.waitFor('host1-vnts-g: h, l, c{id}, n{name}, q:');
    c.destroy();
    m.destroy();
  });

  test('a client that never reads is dropped at its buffer limit and does not hold back the others', async (t) => {
    const [port] = await freePorts(1);
    const g = new FakeGuest(false);
    const { cc, logs } = await serve(t, [{ domain: 'ldg1', group: 'ldg1', port, console: g }]);
    const stuck = await Conn.console(port, 'ldg1');
    stuck.sock.pause();
    const live = await Conn.console(port, 'ldg1');
    await live.waitFor(READ_ONLY);
    live.clear();
    let liveBytes = 0;
    live.sock.removeAllListeners('data');
    live.sock.on('data', (b: Buffer) => (liveBytes += b.length));
    const chunk = 'x'.repeat(64 * 1024);
    let sent = 0;
    while (cc.clients('ldg1').length === 2) {
      assert.ok(sent < 256 * 1024 * 1024, 'the stuck client was never dropped');
      g.emit(chunk);
      sent += chunk.length;
      await until('the live client to keep up', () => liveBytes === sent, 10000);
    }
    assert.deepEqual(cc.clients('ldg1'), [{ writer: true }]); // the live one is next in line
    assert.ok(logs.some((l) => l.includes('unread output')));
    g.emit('end\n');
    await until('the last bytes', () => liveBytes === sent + 5);
    live.destroy();
    stuck.destroy();
  });
});

const hasTelnet = spawnSync('sh', ['-c', 'command -v telnet'], { encoding: 'utf8' }).status === 0;

describe('the telnet program', () => {
  test('a session through telnet(1): banner, keys in character mode, ~. to leave', { skip: hasTelnet ? false : 'telnet is not installed' }, async (t) => {
    const [port] = await freePorts(1);
    const g = new FakeGuest();
    await serve(t, [{ domain: 'ldg1', group: 'ldg1', port, console: g }]);
    const child = spawn('telnet', [ADDR, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
    t.after(() => {
      if (child.exitCode === null) child.kill();
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString('latin1')));
    child.stderr.on('data', (b: Buffer) => (out += b.toString('latin1')));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await until('the banner through telnet', () => out.includes('Press ~? for control options ..'));
    assert.ok(out.includes(`Connecting to console "ldg1" in group "ldg1" ....`));
    child.stdin.write('uname\n');
    await until('the keys through telnet', () => g.typed.includes('uname\r'));
    assert.ok(!/[\xf0-\xff]/.test(g.typed), `telnet commands leaked: ${JSON.stringify(g.typed)}`);
    g.emit('SunOS\n');
    await until('the output through telnet', () => out.includes('SunOS'));
    assert.equal(child.exitCode, null);
    child.stdin.write('~.');
    assert.notEqual(await Promise.race([exited, sleep(5000, 'timeout', { ref: false })]), 'timeout');
    assert.match(out, /Connection closed by foreign host/);
    assert.ok(!g.typed.includes('~'));
  });
});
