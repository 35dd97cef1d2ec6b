// A client for the XML interface, for tests. `fma` speaks exactly as the Solaris fault manager's
// client does (xml-interface.md §1.3: bare stream header, STARTTLS, TLS without verification,
// the header again, then documents straight on the stream); `generic` is a textbook RFC 3920
// client (namespaced header, SASL PLAIN when given a user and password).

import net from 'node:net';
import tls from 'node:tls';
import { StringDecoder } from 'node:string_decoder';
import { NS_SASL, NS_TLS, TopLevelReader, type TopLevelElement } from '../../src/xml/xmpp/server.js';

/** The fault manager client's strings, byte for byte (ldom_xmpp_client.h). */
export const FMA_STREAM_START = `<?xml version='1.0'?><stream:stream xml:lang="en" version="1.0" id="xmpp">`;
export const FMA_STARTTLS = `<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`;
export const FMA_REG_DOMAIN_EVENTS =
  '<LDM_interface version="1.1">   <cmd>      <action>reg-domain-events</action>      <data version="3.0"> </data>   </cmd></LDM_interface>';

export interface XmppTestClient {
  send(xml: string): void;
  /** The next top-level element the server sends, as text (documents, `<failure>`, `<stream:error>`). */
  next(timeoutMs?: number): Promise<string>;
  /** Resolves when the connection is gone. */
  closed: Promise<void>;
  /** Ends the stream (`</stream:stream>`) and the connection. */
  close(): void;
  socket: tls.TLSSocket;
}

export interface ConnectOptions {
  host: string;
  port?: number;
  user?: string;
  password?: string;
  mode?: 'fma' | 'generic';
  /** Source address; defaults to `host`, which makes the client local (the control domain itself). */
  localAddress?: string;
  timeoutMs?: number;
}

const LIMITS = { maxDocumentBytes: 256 * 1024 * 1024, maxDepth: 1_000_000 };

/** Elements as they arrive, across stream restarts; readers are swapped by the handshake. */
class Inbox {
  private readonly items: string[] = [];
  private readonly waiters: { resolve: (s: string) => void; reject: (e: Error) => void }[] = [];
  private ended: Error | null = null;
  header = '';

  push(s: string): void {
    const w = this.waiters.shift();
    if (w) w.resolve(s);
    else this.items.push(s);
  }

  fail(e: Error): void {
    if (this.ended) return;
    this.ended = e;
    for (const w of this.waiters.splice(0)) w.reject(e);
  }

  next(timeoutMs: number): Promise<string> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    if (this.ended) return Promise.reject(this.ended);
    return new Promise((resolve, reject) => {
      const w = {
        resolve: (s: string) => {
          clearTimeout(t);
          resolve(s);
        },
        reject: (e: Error) => {
          clearTimeout(t);
          reject(e);
        },
      };
      const t = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`no document from the server within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  reader(): TopLevelReader {
    return new TopLevelReader(LIMITS, {
      header: (name) => (this.header = name),
      element: (el: TopLevelElement) => void this.push(el.source),
      end: () => this.fail(new Error('the server closed the stream')),
      error: (condition, reason) => this.fail(new Error(`unreadable stream from the server: ${condition}: ${reason}`)),
    });
  }
}

function streamHeader(mode: 'fma' | 'generic', host: string): string {
  return mode === 'fma'
    ? FMA_STREAM_START
    : `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${host}' version='1.0'>`;
}

export async function connectXmpp(opts: ConnectOptions): Promise<XmppTestClient> {
  const mode = opts.mode ?? 'fma';
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const inbox = new Inbox();
  const raw = net.connect({ host: opts.host, port: opts.port ?? 6482, localAddress: opts.localAddress ?? opts.host });
  let sock: net.Socket = raw;
  let reader = inbox.reader();
  let decoder = new StringDecoder('utf8');
  const onData = (b: Buffer) => reader.write(decoder.write(b));
  const closed = new Promise<void>((resolve) => raw.once('close', () => resolve()));
  raw.on('error', (e) => inbox.fail(e));
  raw.on('close', () => inbox.fail(new Error('connection closed')));
  raw.on('data', onData);
  const restart = () => {
    reader = inbox.reader();
    decoder = new StringDecoder('utf8');
  };
  const expect = async (what: RegExp, step: string) => {
    const el = await inbox.next(timeoutMs);
    if (!what.test(el)) throw new Error(`${step}: unexpected ${el}`);
    return el;
  };

  try {
    await new Promise<void>((resolve, reject) => {
      raw.once('connect', resolve);
      raw.once('error', reject);
    });
    raw.write(streamHeader(mode, opts.host));
    await expect(/^<stream:features>.*<starttls[\s/>]/s, 'features before TLS');
    raw.write(mode === 'fma' ? FMA_STARTTLS : `<starttls xmlns='${NS_TLS}'/>`);
    await expect(/^<proceed[\s/>]/, 'STARTTLS');
    raw.removeListener('data', onData);
    restart();
    const secure = tls.connect({ socket: raw, rejectUnauthorized: false });
    sock = secure;
    secure.on('error', (e) => inbox.fail(e));
    secure.on('data', onData);
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    secure.write(streamHeader(mode, opts.host));
    const features = await expect(/^<stream:features/, 'features after TLS');
    if (mode === 'generic' && /<mechanisms[\s>]/.test(features) && opts.user !== undefined && opts.password !== undefined) {
      const plain = Buffer.from(`\0${opts.user}\0${opts.password}`).toString('base64');
      secure.write(`<auth xmlns='${NS_SASL}' mechanism='PLAIN'>${plain}</auth>`);
      await expect(/^<success[\s/>]/, 'SASL');
      restart(); // both sides start a new stream after <success/>; the server's header follows ours
      secure.write(streamHeader(mode, opts.host));
      await expect(/^<stream:features/, 'features after SASL');
    }
  } catch (e) {
    sock.destroy();
    raw.destroy();
    throw e;
  }

  const secure = sock as tls.TLSSocket;
  return {
    send: (xml) => void secure.write(xml),
    next: (ms = 10_000) => inbox.next(ms),
    closed,
    close: () => {
      if (secure.writable) secure.end('</stream:stream>');
      setTimeout(() => secure.destroy(), 1000).unref();
    },
    socket: secure,
  };
}
