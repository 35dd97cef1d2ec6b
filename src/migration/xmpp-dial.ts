// The client half of the ldmd-to-ldmd connections of a migration, over the target's XML interface
// (port 6482): STARTTLS always, then either SASL PLAIN with the user's target credentials (the
// control link) or a one-time token handed out on that link (a memory stream). Connections leave
// from the source host's own address, so the target sees a remote peer that must authenticate.

import net from 'node:net';
import tls from 'node:tls';
import { StringDecoder } from 'node:string_decoder';
import { NS_MIGRATION, NS_SASL, NS_TLS, TopLevelReader, type TopLevelElement } from '../xml/xmpp/server.js';

export class DialError extends Error {}

export interface DialOptions {
  /** The target as the user named it: an address (or a relay in front of it). */
  host: string;
  port: number;
  /** This host's own address: where the connection leaves from. */
  localAddress: string;
  timeoutMs?: number;
  /** SHA-256 fingerprint the target's certificate must have (memory streams pin the control link's). */
  fingerprint?: string;
}

const LIMITS = { maxDocumentBytes: 64 * 1024 * 1024, maxDepth: 64 };

/** Elements as they arrive, across stream restarts. */
class Inbox {
  private readonly items: TopLevelElement[] = [];
  private readonly waiters: { resolve: (e: TopLevelElement) => void; reject: (e: Error) => void }[] = [];
  private ended: Error | null = null;
  private listener: ((e: TopLevelElement) => void) | null = null;

  push(e: TopLevelElement): void {
    if (this.listener) return this.listener(e);
    const w = this.waiters.shift();
    if (w) w.resolve(e);
    else this.items.push(e);
  }

  fail(e: Error): void {
    if (this.ended) return;
    this.ended = e;
    for (const w of this.waiters.splice(0)) w.reject(e);
  }

  get error(): Error | null {
    return this.ended;
  }

  /** From now on every element goes to `fn` (after those already queued). */
  follow(fn: (e: TopLevelElement) => void): void {
    for (const e of this.items.splice(0)) fn(e);
    this.listener = fn;
  }

  next(timeoutMs: number, step: string): Promise<TopLevelElement> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    if (this.ended) return Promise.reject(this.ended);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new DialError(`${step}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const w = {
        resolve: (e: TopLevelElement) => (clearTimeout(t), resolve(e)),
        reject: (e: Error) => (clearTimeout(t), reject(e)),
      };
      this.waiters.push(w);
    });
  }

  reader(): TopLevelReader {
    return new TopLevelReader(LIMITS, {
      header: () => undefined,
      element: (el) => void this.push(el),
      end: () => this.fail(new DialError('the target closed the stream')),
      error: (condition, reason) => this.fail(new DialError(`unreadable stream from the target: ${condition}: ${reason}`)),
    });
  }
}

function localName(el: TopLevelElement): string {
  return el.name.slice(el.name.indexOf(':') + 1);
}

function header(host: string): string {
  return `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${host}' version='1.0'>`;
}

/** An open, encrypted stream up to the point where the target asks for SASL. */
interface Secured {
  socket: tls.TLSSocket;
  inbox: Inbox;
  fingerprint: string;
  /** Start reading a new XML stream (after SASL success the peers restart). */
  restart(): void;
  detach(): void;
}

async function secure(opts: DialOptions): Promise<Secured> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const inbox = new Inbox();
  const raw = net.connect({ host: opts.host, port: opts.port, localAddress: opts.localAddress });
  let reader = inbox.reader();
  let decoder = new StringDecoder('utf8');
  const onData = (b: Buffer) => void reader.write(decoder.write(b));
  const restart = () => {
    reader = inbox.reader();
    decoder = new StringDecoder('utf8');
  };
  raw.on('error', (e) => inbox.fail(new DialError(`cannot reach ${opts.host}:${opts.port}: ${e.message}`)));
  raw.on('close', () => inbox.fail(new DialError(`the connection to ${opts.host}:${opts.port} closed`)));
  raw.on('data', onData);
  const expect = async (name: string, step: string): Promise<TopLevelElement> => {
    const el = await inbox.next(timeoutMs, step);
    if (localName(el) !== name) throw new DialError(`${step}: the target answered <${el.name}>`);
    return el;
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new DialError(`cannot reach ${opts.host}:${opts.port}: timed out`)), timeoutMs);
      raw.once('connect', () => (clearTimeout(t), resolve()));
      raw.once('error', (e) => (clearTimeout(t), reject(new DialError(`cannot reach ${opts.host}:${opts.port}: ${e.message}`))));
    });
    raw.write(header(opts.host));
    const f = await expect('features', 'features before TLS');
    if (!/<starttls[\s/>]/.test(f.source)) throw new DialError('the target does not offer STARTTLS');
    raw.write(`<starttls xmlns='${NS_TLS}'/>`);
    await expect('proceed', 'STARTTLS');
    raw.removeListener('data', onData);
    restart();
    // Certificates are self-signed per host (as ldmd's are); the password travels only inside the
    // encrypted stream, and memory streams are pinned to the control link's certificate.
    const socket = tls.connect({ socket: raw, rejectUnauthorized: false, servername: undefined });
    socket.on('error', (e) => inbox.fail(new DialError(`TLS with ${opts.host}: ${e.message}`)));
    socket.on('data', onData);
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    const fingerprint = socket.getPeerCertificate().fingerprint256 ?? '';
    if (opts.fingerprint && fingerprint !== opts.fingerprint) throw new DialError(`the certificate of ${opts.host} changed during the migration`);
    socket.write(header(opts.host));
    return {
      socket,
      inbox,
      fingerprint,
      restart,
      detach: () => {
        socket.removeListener('data', onData);
      },
    };
  } catch (e) {
    raw.destroy();
    throw e instanceof DialError ? e : new DialError(e instanceof Error ? e.message : String(e));
  }
}

/** The authenticated control link: one request document at a time, answered in order. */
export interface PeerLink {
  fingerprint: string;
  socket: tls.TLSSocket;
  send(xml: string): void;
  next(timeoutMs: number, step: string): Promise<TopLevelElement>;
  /** Every element from now on (for a link that is only listened to). */
  follow(fn: (el: TopLevelElement) => void): void;
  onClose(fn: (why: Error) => void): void;
  close(): void;
}

/** Connect and log in as `user` on the target. A wrong password is `Authentication failed`. */
export async function dialPeer(opts: DialOptions & { user: string; password: string }): Promise<PeerLink> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const s = await secure(opts);
  try {
    const f = await s.inbox.next(timeoutMs, 'features after TLS');
    if (!/<mechanism>PLAIN<\/mechanism>/.test(f.source)) throw new DialError('the target does not offer SASL PLAIN');
    const plain = Buffer.from(`\0${opts.user}\0${opts.password}`).toString('base64');
    s.socket.write(`<auth xmlns='${NS_SASL}' mechanism='PLAIN'>${plain}</auth>`);
    const answer = await s.inbox.next(Math.max(timeoutMs, 30_000), 'SASL');
    if (localName(answer) !== 'success') throw new AuthenticationError();
    s.restart();
    s.socket.write(header(opts.host));
    const ready = await s.inbox.next(timeoutMs, 'features after SASL');
    if (localName(ready) !== 'features') throw new DialError(`SASL: the target answered <${ready.name}>`);
  } catch (e) {
    s.socket.destroy();
    throw e;
  }
  const closers: ((why: Error) => void)[] = [];
  let gone = false;
  const lost = (why: Error) => {
    if (gone) return;
    gone = true;
    for (const c of closers) c(why);
  };
  s.socket.on('close', () => lost(s.inbox.error ?? new DialError('the connection to the target closed')));
  return {
    fingerprint: s.fingerprint,
    socket: s.socket,
    send: (xml) => void s.socket.write(xml),
    next: (t, step) => s.inbox.next(t, step),
    follow: (fn) => s.inbox.follow(fn),
    onClose: (fn) => {
      if (gone) queueMicrotask(() => fn(new DialError('the connection to the target closed')));
      else closers.push(fn);
    },
    close: () => {
      if (!s.socket.destroyed) s.socket.end('</stream:stream>');
      setTimeout(() => s.socket.destroy(), 1000).unref();
    },
  };
}

export class AuthenticationError extends DialError {
  constructor() {
    super('Authentication failed');
  }
}

/** One memory stream: after the target accepts the token, the socket carries the binary pre-copy format. */
export async function dialMemoryStream(opts: DialOptions & { token: string; index: number }): Promise<tls.TLSSocket> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const s = await secure(opts);
  try {
    await s.inbox.next(timeoutMs, 'features after TLS');
    s.socket.write(`<migration-stream xmlns='${NS_MIGRATION}' token='${opts.token}' index='${opts.index}'/>`);
    const ok = await s.inbox.next(timeoutMs, 'memory stream');
    if (localName(ok) !== 'migration-stream-ok') throw new DialError('the target refused the memory stream');
    s.detach();
    s.socket.setNoDelay(true);
    return s.socket;
  } catch (e) {
    s.socket.destroy();
    throw e;
  }
}
