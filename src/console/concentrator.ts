// The control domain's virtual network terminal server (Solaris vntsd): each console group listens
// on its vcc TCP port at the host's address; a client of a one-console group is connected at once,
// a client of a larger group picks a console from a small menu. The first client of a console
// writes, later ones only watch; `~` escapes at the start of a line control the connection.
// Texts are vntsd's where known (docs/consoles.md lists them and marks our own [M]).

import net from 'node:net';
import { NvtNewlines, TelnetProtocol, toWire } from './telnet.js';

export interface GuestConsole {
  /** Subscribe to what the guest writes to its console; returns an unsubscribe function. */
  onOutput(listener: (data: string) => void): () => void;
  /**
   * Keystrokes from the connected writer (already stripped of telnet commands; CR NUL / CR LF become
   * "\r", and so does a bare LF from a raw client such as `nc`). One character per byte.
   */
  input(data: string): void;
  /** A break from the writer (`~#`, or telnet IAC BRK). */
  break?(): void;
}

export interface ConsoleBinding {
  domain: string;
  group: string;
  port: number;
  console: GuestConsole;
}

export interface ConcentratorOptions {
  address: string;
  hostName: string;
  log?: (s: string) => void;
  /** How long to wait before trying again to listen on a port that could not be bound (default 5 s). */
  retryMs?: number;
  /** A client with more unsent output than this is disconnected (default 1 MiB). */
  maxBuffer?: number;
  /** Connections one port accepts at a time (default 256); more are turned away. */
  maxClientsPerPort?: number;
}

const EOL = '\r\n';
const NO_WRITE_ACCESS = 'You do not have write access';
const READ_ONLY_NOTICE = 'Warning: another user is connected to this console; you are in read-only mode';
const FORCED_READ_ONLY = 'Warning: Console connection forced into read-only mode';
const WRITE_TAKEOVER_WARNING = [
  'Warning: another user currently has write permission',
  'to this console and forcibly removing him/her will terminate',
  'any current write action and all work will be lost.',
];
const CONFIRM = 'Would you like to continue? [y/n] ';
const ESCAPE_HELP = [
  'VNTSD commands',
  '~# --Send break',
  '~. --Exit from this console',
  '~w --Force write access',
  '~n --Console next',
  '~p --Console previous',
  '~? --Help',
];
const GROUP_HELP = [
  'h -- this help',
  'l -- list of consoles',
  'q -- quit',
  'c{id}, n{name} -- connect to a console of domain {id} or domain {name}',
];
/** vntsd reads a console selection into a 100-byte line (VNTSD_LINE_LEN). */
const SELECT_MAX = 99;
/** vntsd falls back to a short prompt when the long one does not fit its 72-byte buffer. */
const PROMPT_MAX = 71;

interface Vcons {
  domain: string;
  /** The console's number in the group menu (`c{id}`), given in the order consoles were bound. */
  id: number;
  port: number;
  guest: GuestConsole;
  unsubscribe: () => void;
  /** clients[0] is the writer: vntsd gives write access to the head of the console's client queue. */
  clients: Client[];
  newlines: NvtNewlines;
}

interface Listener {
  port: number;
  group: string;
  /** In id order. */
  consoles: Vcons[];
  clients: Set<Client>;
  server: net.Server | null;
  listening: boolean;
  error: string | null;
  retry: NodeJS.Timeout | null;
  closed: boolean;
}

export class ConsoleConcentrator {
  private readonly address: string;
  private readonly hostName: string;
  private readonly log: (s: string) => void;
  readonly retryMs: number;
  readonly maxBuffer: number;
  readonly maxClientsPerPort: number;
  private readonly listeners = new Map<number, Listener>();
  private readonly consoles = new Map<string, Vcons>();
  private nextId = 0;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(opts: ConcentratorOptions) {
    this.address = opts.address;
    this.hostName = opts.hostName;
    this.log = opts.log ?? (() => undefined);
    this.retryMs = opts.retryMs ?? 5000;
    this.maxBuffer = opts.maxBuffer ?? 1024 * 1024;
    this.maxClientsPerPort = opts.maxClientsPerPort ?? 256;
  }

  /** Make the listeners match: one TCP listener per port (domains of one group share the group's port). Idempotent. */
  update(bindings: ConsoleBinding[]): Promise<void> {
    return this.serially(() => this.apply(bindings));
  }

  /** Connected clients per domain: { writer: boolean }[] (for tests/diagnostics). */
  clients(domain: string): { writer: boolean }[] {
    return (this.consoles.get(domain)?.clients ?? []).map((_, i) => ({ writer: i === 0 }));
  }

  /** Each port's group, and whether it listens; `error` says why not (it is retried every retryMs). */
  status(): { port: number; group: string; domains: string[]; listening: boolean; error: string | null }[] {
    return [...this.listeners.values()]
      .sort((a, b) => a.port - b.port)
      .map((l) => ({ port: l.port, group: l.group, domains: l.consoles.map((c) => c.domain), listening: l.listening, error: l.error }));
  }

  close(): Promise<void> {
    return this.serially(async () => {
      if (this.closed) return;
      this.closed = true;
      await Promise.all([...this.listeners.values()].map((l) => this.closeListener(l)));
      for (const c of this.consoles.values()) c.unsubscribe();
      this.consoles.clear();
    });
  }

  private serially(fn: () => Promise<void>): Promise<void> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async apply(bindings: ConsoleBinding[]): Promise<void> {
    if (this.closed) return;
    // What is wanted: one group per port (vcc refuses a second group name on a port, vntsd logs it).
    const wanted = new Map<string, ConsoleBinding>();
    const groupOf = new Map<number, string>();
    for (const b of bindings) {
      if (wanted.has(b.domain)) {
        this.log(`console: domain ${b.domain} bound twice; the second binding (port ${b.port}) is ignored`);
        continue;
      }
      const g = groupOf.get(b.port);
      if (g !== undefined && g !== b.group) {
        this.log(`console: port ${b.port} belongs to group ${g}; console of ${b.domain} in group ${b.group} is ignored`);
        continue;
      }
      groupOf.set(b.port, b.group);
      wanted.set(b.domain, b);
    }

    // Listeners whose port is no longer bound go away with all their clients. The port itself is
    // free as soon as close() returns; only the clients' goodbyes are left to finish.
    for (const l of [...this.listeners.values()]) {
      if (!groupOf.has(l.port)) void this.closeListener(l);
    }
    // Consoles that left or moved to another port.
    for (const c of [...this.consoles.values()]) {
      const b = wanted.get(c.domain);
      if (!b || b.port !== c.port) this.removeConsole(c);
    }

    const opening: Promise<void>[] = [];
    for (const b of wanted.values()) {
      let l = this.listeners.get(b.port);
      if (!l) {
        l = { port: b.port, group: b.group, consoles: [], clients: new Set(), server: null, listening: false, error: null, retry: null, closed: false };
        this.listeners.set(b.port, l);
        opening.push(this.listen(l));
      }
      l.group = b.group;
      const c = this.consoles.get(b.domain);
      if (!c) this.addConsole(l, b);
      else if (c.guest !== b.console) this.attachGuest(c, b.console);
    }
    await Promise.all(opening);
  }

  private addConsole(l: Listener, b: ConsoleBinding): void {
    const c: Vcons = {
      domain: b.domain,
      id: this.nextId++,
      port: b.port,
      guest: b.console,
      unsubscribe: () => undefined,
      clients: [],
      newlines: new NvtNewlines(),
    };
    this.attachGuest(c, b.console);
    this.consoles.set(c.domain, c);
    l.consoles.push(c);
  }

  /** A console keeps its clients when the guest behind it changes (the domain started or stopped). */
  private attachGuest(c: Vcons, guest: GuestConsole): void {
    c.unsubscribe();
    c.guest = guest;
    try {
      c.unsubscribe = guest.onOutput((data) => this.output(c, data));
    } catch (e) {
      this.log(`console: cannot follow the console of ${c.domain}: ${(e as Error).message}`);
      c.unsubscribe = () => undefined;
    }
  }

  private output(c: Vcons, data: string): void {
    if (!data || !c.clients.length) {
      c.newlines.translate(data);
      return;
    }
    const bytes = toWire(c.newlines.translate(data));
    for (const client of [...c.clients]) client.send(bytes);
  }

  private removeConsole(c: Vcons): void {
    c.unsubscribe();
    this.consoles.delete(c.domain);
    const l = this.listeners.get(c.port);
    if (l) l.consoles = l.consoles.filter((x) => x !== c);
    const remaining = l?.consoles.length ?? 0;
    for (const client of [...c.clients]) client.consoleRemoved(c, remaining);
    c.clients = [];
  }

  private closeListener(l: Listener): Promise<void> {
    l.closed = true;
    this.listeners.delete(l.port);
    if (l.retry) clearTimeout(l.retry);
    l.retry = null;
    const consoles = l.consoles;
    l.consoles = [];
    for (const c of consoles) this.removeConsole(c);
    for (const client of [...l.clients]) client.hangUp();
    const server = l.server;
    l.server = null;
    l.listening = false;
    if (!server) return Promise.resolve();
    // The listening socket is released at once; the callback waits for connections to finish.
    return new Promise((resolve) => {
      server.close(() => resolve());
      const t = setTimeout(resolve, 2000);
      t.unref();
    });
  }

  /**
   * Listen on the group's port. A port held by something else does not stop the others: it is
   * logged once and tried again every retryMs until it is free or no longer bound.
   */
  private listen(l: Listener): Promise<void> {
    return new Promise((resolve) => {
      const server = net.createServer();
      server.on('connection', (sock) => this.accept(l, sock));
      const failed = (err: NodeJS.ErrnoException) => {
        server.on('error', () => undefined);
        server.close();
        const msg = `${err.code ?? 'error'}: ${err.message}`;
        if (l.error !== msg) this.log(`console: cannot listen on ${this.address}:${l.port} (group ${l.group}): ${msg}; retrying every ${this.retryMs} ms`);
        l.error = msg;
        if (!l.closed) {
          l.retry = setTimeout(() => {
            l.retry = null;
            if (!l.closed) void this.listen(l);
          }, this.retryMs);
          l.retry.unref();
        }
        resolve();
      };
      server.once('error', failed);
      server.listen({ port: l.port, host: this.address }, () => {
        server.removeListener('error', failed);
        // Accept errors (EMFILE, ...) must not take the process down; the listener carries on.
        server.on('error', (err) => this.log(`console: port ${l.port}: ${err.message}`));
        if (l.closed) {
          server.close();
          resolve();
          return;
        }
        if (l.error) this.log(`console: listening on ${this.address}:${l.port} (group ${l.group})`);
        l.server = server;
        l.listening = true;
        l.error = null;
        resolve();
      });
    });
  }

  private accept(l: Listener, sock: net.Socket): void {
    sock.on('error', () => undefined);
    if (l.closed || !l.consoles.length) {
      sock.destroy();
      return;
    }
    if (l.clients.size >= this.maxClientsPerPort) {
      sock.end(toWire(`Too many connections to console group "${l.group}"; try again later${EOL}`));
      setTimeout(() => sock.destroy(), 1000).unref();
      return;
    }
    sock.setNoDelay(true);
    sock.setKeepAlive(true, 60_000);
    const client = new Client(this, l, sock);
    l.clients.add(client);
    client.start();
  }

  /** @internal the group menu's prompt */
  prompt(group: string): string {
    const long = `${this.hostName}-vnts-${group}: h, l, c{id}, n{name}, q:`;
    return long.length <= PROMPT_MAX ? long : 'vnts: h, l, c{id}, n{name}, q:';
  }

  /** @internal */
  note(s: string): void {
    this.log(s);
  }
}

type Mode = 'menu' | 'select' | 'console' | 'escape' | 'confirm' | 'gone';

/** One TCP connection to a group's port. */
class Client {
  private readonly telnet = new TelnetProtocol();
  private mode: Mode = 'menu';
  private selectBy: 'c' | 'n' = 'c';
  private line = '';
  private console: Vcons | null = null;
  /** Escapes count only at the start of a line, as in vntsd and ssh. */
  private lineStart = true;
  private toGuest = '';
  private readerTyped = false;
  private hangUpTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly owner: ConsoleConcentrator,
    private readonly listener: Listener,
    private readonly sock: net.Socket,
  ) {}

  start(): void {
    this.sock.on('close', () => this.closed());
    this.sock.on('data', (chunk: Buffer) => this.receive(chunk));
    this.sock.cork();
    this.send(this.telnet.greeting());
    if (this.listener.consoles.length === 1) this.connect(this.listener.consoles[0]);
    else this.showPrompt();
    this.uncork();
  }

  /** Not narrowed by the compiler: any handler may end the connection. */
  private get gone(): boolean {
    return this.mode === 'gone';
  }

  get writer(): boolean {
    return !!this.console && this.console.clients[0] === this;
  }

  send(bytes: Buffer): void {
    if (this.gone || this.sock.destroyed) return;
    if (this.sock.writableLength + bytes.length > this.owner.maxBuffer) {
      // A client that does not read must not hold the console's output in memory without bound.
      this.owner.note(`console: port ${this.listener.port}: dropping a client with over ${this.owner.maxBuffer} bytes of unread output`);
      this.detach();
      this.mode = 'gone';
      this.sock.destroy();
      return;
    }
    this.sock.write(bytes);
  }

  private say(text: string): void {
    this.send(toWire(text));
  }

  private sayLines(lines: string[]): void {
    this.say(lines.map((s) => s + EOL).join(''));
  }

  private uncork(): void {
    if (!this.sock.destroyed) this.sock.uncork();
  }

  private receive(chunk: Buffer): void {
    if (this.gone) return;
    this.sock.cork();
    try {
      const { items, reply } = this.telnet.receive(chunk);
      if (reply) this.send(reply);
      for (const item of items) {
        if (this.gone) break;
        if ('data' in item) this.keys(item.data);
        else if (item.command === 'break') this.sendBreak();
        else this.say(`${EOL}[Yes]${EOL}`);
      }
      this.flushToGuest();
      if (this.readerTyped && !this.gone) this.sayLines([NO_WRITE_ACCESS]);
      this.readerTyped = false;
    } finally {
      this.uncork();
    }
  }

  private keys(text: string): void {
    let i = 0;
    while (i < text.length && !this.gone) {
      if (this.mode === 'console') {
        // Relay a run up to the next escape.
        let j = i;
        for (; j < text.length; j++) {
          const ch = text[j];
          if (ch === '~' && this.lineStart) break;
          this.lineStart = ch === '\r';
        }
        if (j > i) this.typed(text.slice(i, j));
        if (j < text.length) {
          this.flushToGuest();
          this.mode = 'escape';
          j++;
        }
        i = j;
        continue;
      }
      const ch = text[i++];
      if (this.mode === 'escape') this.escape(ch);
      else if (this.mode === 'confirm') this.confirm(ch);
      else if (this.mode === 'select') this.select(ch);
      else this.menu(ch);
    }
  }

  private typed(s: string): void {
    if (this.writer) this.toGuest += s;
    else if (s !== '\r') this.readerTyped = true;
  }

  private flushToGuest(): void {
    if (!this.toGuest) return;
    const data = this.toGuest;
    this.toGuest = '';
    // Write access may have moved while the keys were read (a ~w from another client).
    if (!this.writer || !this.console) return;
    try {
      this.console.guest.input(data);
    } catch (e) {
      this.owner.note(`console: ${this.console.domain}: guest input failed: ${(e as Error).message}`);
    }
  }

  private sendBreak(): void {
    if (!this.console || this.mode === 'menu' || this.mode === 'select') return;
    this.flushToGuest();
    if (!this.writer) {
      this.sayLines([NO_WRITE_ACCESS]);
      return;
    }
    try {
      this.console.guest.break?.();
    } catch (e) {
      this.owner.note(`console: ${this.console.domain}: break failed: ${(e as Error).message}`);
    }
  }

  // --- escapes (~ at the start of a line) ---------------------------------------------------

  private escape(ch: string): void {
    this.mode = 'console';
    // vntsd keeps the line start after an escape: `~?` then `~.` works without Enter.
    this.lineStart = true;
    switch (ch) {
      case '~':
        this.lineStart = false;
        this.typed('~');
        return;
      case '#':
        this.sendBreak();
        return;
      case '.':
        this.leave();
        return;
      case 'w':
        this.askWrite();
        return;
      case 'n':
      case 'p':
        this.cycle(ch === 'n' ? 1 : -1);
        return;
      default:
        this.say(EOL);
        this.sayLines(ESCAPE_HELP);
    }
  }

  private askWrite(): void {
    if (this.writer) {
      this.sayLines(['You have write permission']);
      return;
    }
    this.say(EOL);
    this.sayLines(WRITE_TAKEOVER_WARNING);
    this.say(EOL + CONFIRM);
    this.mode = 'confirm';
  }

  private confirm(ch: string): void {
    this.say(ch + EOL);
    const c = ch.toLowerCase();
    if (c === 'y') {
      this.mode = 'console';
      this.lineStart = true;
      this.takeWrite();
    } else if (c === 'n') {
      this.mode = 'console';
      this.lineStart = true;
    } else {
      this.sayLines(['Invalid response. Try again.']);
      this.say(CONFIRM);
    }
  }

  private takeWrite(): void {
    const c = this.console;
    if (!c || c.clients[0] === this) return;
    const previous = c.clients[0];
    c.clients = [this, previous, ...c.clients.filter((x) => x !== this && x !== previous)];
    previous.lostWrite();
  }

  /** @internal another client took write access */
  lostWrite(): void {
    this.toGuest = '';
    this.sayLines([FORCED_READ_ONLY]);
  }

  private leave(): void {
    this.detach();
    if (this.listener.consoles.length > 1) {
      this.mode = 'menu';
      this.showPrompt();
    } else {
      this.hangUp();
    }
  }

  private cycle(step: number): void {
    const list = this.listener.consoles;
    if (list.length < 2 || !this.console) return;
    const at = list.indexOf(this.console);
    const next = list[(at + step + list.length) % list.length];
    this.detach();
    this.connect(next);
  }

  // --- the group menu ---------------------------------------------------------------------

  private showPrompt(): void {
    this.say(EOL + this.owner.prompt(this.listener.group));
  }

  private menu(ch: string): void {
    // A console removed from the group meanwhile: with one left there is nothing to choose (vntsd).
    if (this.listener.consoles.length === 1) {
      this.connect(this.listener.consoles[0]);
      return;
    }
    if (ch === '\r') {
      // Our choice: Enter just shows the prompt again (an `nc` user types "l" then Enter).
      this.showPrompt();
      return;
    }
    if (ch >= ' ' && ch !== '\x7f') this.say(ch);
    switch (ch.toLowerCase()) {
      case 'l':
        this.list();
        break;
      case 'q':
        this.hangUp();
        return;
      case 'c':
      case 'n':
        this.selectBy = ch.toLowerCase() as 'c' | 'n';
        this.line = '';
        this.mode = 'select';
        return;
      default:
        this.say(EOL);
        this.sayLines(GROUP_HELP);
    }
    this.showPrompt();
  }

  private list(): void {
    const row = (a: string, b: string, c: string) => a.padEnd(20) + b.padEnd(30) + c.padEnd(25);
    const lines = [row('DOMAIN ID', 'DOMAIN NAME', 'DOMAIN STATE')];
    for (const c of this.listener.consoles) lines.push(row(String(c.id), c.domain, c.clients.length ? 'connected' : 'online'));
    this.say(EOL);
    this.sayLines(lines);
  }

  private select(ch: string): void {
    if (ch === '\b' || ch === '\x7f') {
      if (this.line) {
        this.line = this.line.slice(0, -1);
        this.say('\b \b');
      }
      return;
    }
    if (ch !== '\r') {
      if (ch < ' ') return;
      this.line += ch;
      this.say(ch);
      if (this.line.length < SELECT_MAX) return;
    } else {
      this.say('\r');
    }
    const arg = this.line.trim();
    this.line = '';
    this.mode = 'menu';
    let target: Vcons | undefined;
    if (this.selectBy === 'c') {
      const m = /^\d+/.exec(arg);
      if (m) target = this.listener.consoles.find((c) => c.id === Number(m[0]));
    } else {
      target = this.listener.consoles.find((c) => c.domain === arg);
    }
    if (!target) {
      this.say(EOL);
      this.sayLines(GROUP_HELP);
      this.showPrompt();
      return;
    }
    this.connect(target);
  }

  // --- attaching to a console ---------------------------------------------------------------

  private connect(c: Vcons): void {
    this.console = c;
    c.clients.push(this);
    this.mode = 'console';
    this.lineStart = true;
    this.say(EOL);
    this.sayLines([`Connecting to console "${c.domain}" in group "${this.listener.group}" ....`, 'Press ~? for control options ..']);
    if (!this.writer) this.sayLines([READ_ONLY_NOTICE]);
  }

  private detach(): void {
    const c = this.console;
    this.console = null;
    this.toGuest = '';
    if (c) c.clients = c.clients.filter((x) => x !== this);
  }

  /** @internal the console this client watches was unbound (or moved) */
  consoleRemoved(c: Vcons, remaining: number): void {
    if (this.console !== c) return;
    this.console = null;
    this.toGuest = '';
    this.say(`${EOL}Connection to console "${c.domain}" closed.${EOL}`);
    // vntsd sends the client back to the group's menu if there is still a choice to make.
    if (remaining > 1 && !this.gone) {
      this.mode = 'menu';
      this.showPrompt();
    } else {
      this.hangUp();
    }
  }

  /** @internal close the connection once what was said has been sent (or after a second). */
  hangUp(): void {
    if (this.gone && this.hangUpTimer) return;
    this.detach();
    this.mode = 'gone';
    if (this.sock.destroyed) return;
    this.sock.end();
    this.uncork();
    this.hangUpTimer = setTimeout(() => this.sock.destroy(), 1000);
    this.hangUpTimer.unref();
  }

  private closed(): void {
    this.detach();
    this.mode = 'gone';
    if (this.hangUpTimer) clearTimeout(this.hangUpTimer);
    this.listener.clients.delete(this);
  }
}
