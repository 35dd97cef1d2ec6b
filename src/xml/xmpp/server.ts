// The XMPP transport of the XML interface (xml-interface.md §1): TCP port 6482 of the host's
// address, STARTTLS before anything else, then SASL PLAIN for remote peers or nothing for the
// control domain itself, then `<LDM_interface>` documents concatenated as top-level children of
// `<stream:stream>`.
//
// The Solaris fault manager's client (§1.3) fixes the details: it sends a stream header without
// namespace declarations, reacts to the *end* of elements named `starttls`, `proceed`,
// `stream:features`, `LDM_interface`, `LDM_event` and `failure`, reads 1024 bytes at a time and
// re-parses every read on its own — so each document we send goes out alone in one write (one TLS
// record), and the server never pretty-prints.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import tls from 'node:tls';
import { StringDecoder } from 'node:string_decoder';
import { SaxesParser } from 'saxes';
import { userName } from '../../daemon/auth.js';
import { XML_LIMITS } from '../ovf.js';

export interface XmppPeer {
  address: string;
  port: number;
}

export interface XmppSession {
  readonly id: number;
  readonly peer: XmppPeer;
  /** True when the client connects from the host's own address (the control domain itself): no SASL. */
  readonly local: boolean;
  /** Who it is: the OS user of a local client (uid from /proc/net/tcp), the SASL user of a remote one. */
  readonly user: string;
  readonly uid: number | null;
  /** Write one complete XML document in ONE write (one TLS record), nothing else in it. */
  send(xml: string): void;
  close(): void;
  onClose(listener: () => void): void;
}

export interface XmppLimits {
  maxDocumentBytes?: number;
  maxDepth?: number;
  maxSessions?: number;
  handshakeTimeoutMs?: number;
}

export interface XmppServerOptions {
  address: string;
  port: number;
  tls: { key: string; cert: string };
  authenticate(user: string, password: string, peer: XmppPeer): Promise<boolean>;
  /** Handle one top-level document received on the stream after authentication (an LDM_interface). */
  onDocument(session: XmppSession, xml: string): void | Promise<void>;
  /**
   * A migration memory stream (`<migration-stream token index/>` in place of SASL): the token,
   * handed out on an authenticated session, is the credential. Returns who takes the socket, or
   * null to refuse it.
   */
  adoptStream?(attrs: Record<string, string>, peer: XmppPeer): ((socket: tls.TLSSocket) => void) | null;
  limits?: XmppLimits;
  log?: (s: string) => void;
}

export const NS_STREAMS = 'urn:ietf:params:xml:ns:xmpp-streams';
export const NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls';
export const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
/** The project's own namespace for the ldmd-to-ldmd migration protocol. */
export const NS_MIGRATION = 'urn:ldoms:migration';
const NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind';

const DEFAULT_LIMITS: Required<XmppLimits> = {
  maxDocumentBytes: 1024 * 1024,
  maxDepth: XML_LIMITS.maxDepth,
  maxSessions: 256,
  handshakeTimeoutMs: 10_000,
};

/** Wrong passwords: the first failure is answered after 1 s, each further one from the same address waits twice as long. */
const AUTH_DELAY_MS = 1000;
const AUTH_DELAY_MAX_MS = 16_000;
/** A peer's failure count is forgotten after this long without a failure. */
const AUTH_MEMORY_MS = 15 * 60_000;
const AUTH_MEMORY_PEERS = 4096;
/** A peer that does not read what it asked for is dropped rather than buffered for without end. */
const MAX_OUTPUT_BYTES = 32 * 1024 * 1024;
/** Reading pauses while this many documents wait for the dispatcher. */
const MAX_QUEUED_DOCUMENTS = 8;
/** Character data kept for a top-level element: enough for any SASL payload. */
const MAX_ELEMENT_TEXT = 16 * 1024;

// ---------------------------------------------------------------------------------------------
// Framing: where each top-level element of the stream begins and ends

export interface TopLevelElement {
  /** Qualified name as written (`LDM_interface`, `stream:error`). */
  name: string;
  attrs: Record<string, string>;
  /** Character data directly inside the element (capped), e.g. the base64 payload of `<auth>`. */
  text: string;
  /** The exact source text, from its `<` to the end of its closing tag. */
  source: string;
}

/** RFC 3920 §4.7.3 conditions the reader reports. */
export type ReaderCondition = 'xml-not-well-formed' | 'restricted-xml' | 'policy-violation';

export interface TopLevelHandlers {
  /** The stream's root element opened. */
  header(name: string, attrs: Record<string, string>): void;
  /** A top-level element ended. Return true to stop reading right after it (a stream restart follows). */
  element(el: TopLevelElement): boolean | void;
  /** The root element closed (`</stream:stream>`). */
  end(): void;
  error(condition: ReaderCondition, reason: string): void;
}

/**
 * One XML stream, read incrementally. saxes finds the element boundaries; the reader keeps the
 * text since the current top-level element began so that the element can be handed on exactly
 * as it was written (the dispatcher parses it again with its own hardened reader).
 * Namespaces are not processed: the fault manager's `stream:` prefix is undeclared (§1.3).
 */
export class TopLevelReader {
  private readonly parser = new SaxesParser({ xmlns: false, position: true });
  /** Text not yet discarded; buf[0] sits at parser position `base`. */
  private buf = '';
  private base = 0;
  private depth = 0;
  private docStart = -1;
  private top: { name: string; attrs: Record<string, string>; text: string } | null = null;
  private stopped = false;
  private stopAt = -1;

  constructor(
    private readonly limits: { maxDocumentBytes: number; maxDepth: number },
    private readonly h: TopLevelHandlers,
  ) {
    const p = this.parser;
    p.on('doctype', () => this.fail('restricted-xml', 'DOCTYPE is not allowed'));
    p.on('opentagstart', () => {
      if (this.stopped) return;
      // Depth of the new element within its document: the stream root is depth 0.
      if (this.depth > this.limits.maxDepth) return this.fail('policy-violation', `elements nested deeper than ${this.limits.maxDepth}`);
      if (this.depth === 1) this.docStart = this.base + this.buf.lastIndexOf('<', p.position - this.base - 1);
    });
    p.on('opentag', (tag) => {
      if (this.stopped) return;
      this.depth++;
      if (this.depth === 1) this.h.header(tag.name, tag.attributes);
      else if (this.depth === 2) this.top = { name: tag.name, attrs: tag.attributes, text: '' };
    });
    const chars = (t: string) => {
      if (this.stopped) return;
      if (this.depth === 2 && this.top && this.top.text.length < MAX_ELEMENT_TEXT) this.top.text += t;
      else if (this.depth === 1 && /\S/.test(t)) this.fail('xml-not-well-formed', 'character data between documents');
    };
    p.on('text', chars);
    p.on('cdata', chars);
    p.on('closetag', () => {
      if (this.stopped) return;
      this.depth--;
      if (this.depth === 0) {
        this.stop(p.position);
        this.h.end();
      } else if (this.depth === 1 && this.top) {
        const end = p.position;
        const source = this.buf.slice(this.docStart - this.base, end - this.base);
        const el: TopLevelElement = { ...this.top, source };
        this.top = null;
        this.docStart = -1;
        if (Buffer.byteLength(source) > this.limits.maxDocumentBytes) return this.fail('policy-violation', `document larger than ${this.limits.maxDocumentBytes} bytes`);
        if (this.h.element(el) === true) this.stop(end);
      }
    });
    p.on('error', (e) => {
      // saxes refuses a DOCTYPE inside the stream as misplaced; report it as what it is.
      this.fail(/<!(DOCTYPE|ENTITY)/.test(this.buf) ? 'restricted-xml' : 'xml-not-well-formed', e.message);
    });
  }

  get failed(): boolean {
    return this.stopped && this.stopAt < 0;
  }

  /** Feed text. After a stop requested by a handler, returns the text that followed the element. */
  write(text: string): string | null {
    if (this.stopped) return null;
    this.buf += text;
    try {
      this.parser.write(text);
    } catch (e) {
      this.fail('xml-not-well-formed', e instanceof Error ? e.message : String(e));
    }
    if (this.stopped) return this.stopAt < 0 ? null : this.buf.slice(this.stopAt - this.base);
    // Keep only what a document still needs: from its start, or from the last '<' (a tag whose
    // name is not complete yet) when between documents.
    let cut = this.docStart - this.base;
    if (this.docStart < 0) {
      const lt = this.buf.lastIndexOf('<');
      cut = lt < 0 ? this.buf.length : lt;
    }
    if (cut > 0) {
      this.buf = this.buf.slice(cut);
      this.base += cut;
    }
    if (this.buf.length > this.limits.maxDocumentBytes) this.fail('policy-violation', `document larger than ${this.limits.maxDocumentBytes} bytes`);
    return null;
  }

  private stop(at: number): void {
    this.stopped = true;
    this.stopAt = at;
  }

  private fail(condition: ReaderCondition, reason: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stopAt = -1;
    this.h.error(condition, reason);
  }
}

// ---------------------------------------------------------------------------------------------
// Local identity

function addressBytes(address: string): number[] | null {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (!net.isIPv4(v4)) return null;
  return v4.split('.').map(Number);
}

/** The kernel prints each 32-bit word of an address as a native-endian hex number (net/ipv4/tcp_ipv4.c). */
function procHex(bytes: number[]): string {
  let hex = '';
  for (let i = 0; i < bytes.length; i += 4) {
    const word = bytes.slice(i, i + 4);
    if (os.endianness() === 'LE') word.reverse();
    hex += word.map((b) => b.toString(16).padStart(2, '0')).join('');
  }
  return hex.toUpperCase();
}

function portHex(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}

/**
 * The uid owning the client end of a loopback connection: the socket in /proc/net/tcp whose local
 * address:port is the peer's and whose remote end is the server (its port, and its address when
 * given). Solaris ldmd uses the caller's credentials for local clients (§1.2); this is how Linux
 * tells them.
 */
export function localUid(peer: XmppPeer, serverPort: number, serverAddress?: string): number | null {
  for (const [file, match] of uidQueries(peer, serverPort, serverAddress)) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'latin1');
    } catch {
      continue;
    }
    const uid = match(text);
    if (uid !== null) return uid;
  }
  return null;
}

/**
 * The same lookup without blocking: reading /proc/net/tcp walks the kernel's whole connection table
 * (milliseconds), which must not stall every other session and `ldm` command meanwhile.
 */
export async function localUidAsync(peer: XmppPeer, serverPort: number, serverAddress?: string): Promise<number | null> {
  for (const [file, match] of uidQueries(peer, serverPort, serverAddress)) {
    let text: string;
    try {
      text = await fs.promises.readFile(file, 'latin1');
    } catch {
      continue;
    }
    const uid = match(text);
    if (uid !== null) return uid;
  }
  return null;
}

function uidQueries(peer: XmppPeer, serverPort: number, serverAddress?: string): [string, (text: string) => number | null][] {
  const bytes = addressBytes(peer.address);
  const server = serverAddress === undefined ? null : addressBytes(serverAddress);
  if (!bytes || (serverAddress !== undefined && !server)) return [];
  const mapped = (b: number[]) => [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...b];
  const tables: [string, string, string][] = [
    ['/proc/net/tcp', procHex(bytes), server ? procHex(server) : ''],
    ['/proc/net/tcp6', procHex(mapped(bytes)), server ? procHex(mapped(server)) : ''],
  ];
  const port = portHex(peer.port);
  const rport = portHex(serverPort);
  return tables.map(([file, addr, raddr]) => [
    file,
    (text: string) => {
      for (const line of text.split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f.length < 8) continue;
        const [local, remote] = [f[1], f[2]];
        if (local === `${addr}:${port}` && (raddr ? remote === `${raddr}:${rport}` : remote.endsWith(`:${rport}`))) {
          const uid = Number(f[7]);
          return Number.isInteger(uid) ? uid : null;
        }
      }
      return null;
    },
  ]);
}

// ---------------------------------------------------------------------------------------------
// Sessions

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function unmapped(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** SASL PLAIN (RFC 4616): base64 of `authzid NUL authcid NUL passwd`; null when malformed. */
function decodePlain(text: string): { authzid: string; user: string; password: string } | null {
  const b64 = text.trim();
  if (!b64 || b64 === '=' || b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return null;
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(b64, 'base64'));
  } catch {
    return null;
  }
  const parts = decoded.split('\0');
  if (parts.length !== 3 || !parts[1] || !parts[2]) return null;
  return { authzid: parts[0], user: parts[1], password: parts[2] };
}

type Phase =
  | 'plain-header' // waiting for the client's first stream header
  | 'plain-starttls' // features sent; only <starttls/> is acceptable
  | 'tls' // TLS negotiating, or established and waiting for the restarted header
  | 'sasl' // remote: waiting for <auth>
  | 'authenticating' // remote: checking the password (or waiting out the failure delay)
  | 'sasl-restart' // remote: authenticated, waiting for the restarted header
  | 'ready'
  | 'closing';

type Work = { kind: 'element'; el: TopLevelElement } | { kind: 'end' };

interface Outgoing {
  text: string;
  then?: () => void;
}

class Connection implements XmppSession {
  readonly peer: XmppPeer;
  readonly local: boolean;
  user = '';
  uid: number | null = null;
  private uidLookup: Promise<void> = Promise.resolve();

  private sock: net.Socket;
  private phase: Phase = 'plain-header';
  private reader: TopLevelReader;
  private decoder = new StringDecoder('utf8');
  private headerSent = false;
  private transition: { kind: 'starttls' } | { kind: 'auth'; el: TopLevelElement } | { kind: 'adopt'; el: TopLevelElement } | null = null;
  private readonly out: Outgoing[] = [];
  private outBytes = 0;
  private writing = false;
  private readonly work: Work[] = [];
  private working = false;
  private paused = false;
  private handshakeTimer: NodeJS.Timeout | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  private readonly closeListeners: (() => void)[] = [];
  private readonly onData = (chunk: Buffer) => this.feed(chunk);

  constructor(
    readonly id: number,
    private readonly srv: XmppServer,
    private readonly raw: net.Socket,
  ) {
    this.sock = raw;
    this.peer = { address: unmapped(raw.remoteAddress ?? ''), port: raw.remotePort ?? 0 };
    // Local: the host's own address (its control domain), or 127.0.0.1 — this machine's own tools,
    // which is where the Solaris fault manager's client connects from. Another host's ldmd always
    // binds its own address when it connects, so it is remote and must authenticate.
    this.local = this.peer.address === unmapped(srv.options.address) || this.peer.address === '127.0.0.1';
    if (this.local) {
      // Looked up at once (the client's socket is certain to exist while it is connecting), in the
      // background: the answer is needed only after the TLS handshake.
      this.uidLookup = localUidAsync(this.peer, srv.port, srv.options.address).then((uid) => {
        this.uid = uid;
        if (uid !== null) this.user = userName(uid);
      });
    }
    this.reader = this.newReader();
    raw.setNoDelay(true);
    raw.on('data', this.onData);
    raw.on('error', (e) => this.lost(e));
    raw.on('close', () => this.finish());
    this.armHandshakeTimer();
  }

  // --- XmppSession

  send(xml: string): void {
    if (this.phase !== 'ready') return;
    this.write(xml);
  }

  close(): void {
    if (this.closed || this.phase === 'closing') return;
    if (this.phase === 'ready' || this.headerSent) {
      this.phase = 'closing';
      this.write('</stream:stream>', () => this.end());
    } else this.destroy();
  }

  onClose(listener: () => void): void {
    if (this.closed) queueMicrotask(listener);
    else this.closeListeners.push(listener);
  }

  // --- input

  private newReader(): TopLevelReader {
    this.headerSent = false;
    return new TopLevelReader(this.srv.limits, {
      header: (name, attrs) => this.onHeader(name, attrs),
      element: (el) => this.onElement(el),
      end: () => this.enqueue({ kind: 'end' }),
      error: (condition, reason) => {
        this.srv.log(`xmpp session ${this.id} (${this.peer.address}): ${condition}: ${reason}`);
        this.streamError(condition);
      },
    });
  }

  private feed(chunk: Buffer): void {
    if (this.closed || this.phase === 'closing') return;
    this.feedText(this.decoder.write(chunk));
  }

  private feedText(text: string): void {
    const leftover = this.reader.write(text);
    const t = this.transition;
    this.transition = null;
    if (!t || this.closed || this.phase === 'closing') return;
    if (t.kind === 'starttls') {
      // RFC 3920 §5.1: the client waits for <proceed/> before its ClientHello, so nothing may follow.
      if (leftover && /\S/.test(leftover)) return this.streamError('policy-violation');
      this.startTls();
    } else if (t.kind === 'adopt') {
      if (leftover && /\S/.test(leftover)) return this.streamError('policy-violation');
      this.adopt(t.el);
    } else {
      void this.authenticate(t.el, leftover ?? '');
    }
  }

  private onHeader(name: string, _attrs: Record<string, string>): void {
    const local = name.slice(name.indexOf(':') + 1);
    if (local !== 'stream') return this.streamError('bad-format');
    switch (this.phase) {
      case 'plain-header':
        this.phase = 'plain-starttls';
        this.write(`${this.header()}<stream:features><starttls xmlns='${NS_TLS}'><required/></starttls></stream:features>`);
        return;
      case 'tls':
        if (this.local) {
          void this.uidLookup.then(() => {
            if (this.uid === null) {
              this.srv.log(`xmpp session ${this.id}: no owner found for local peer ${this.peer.address}:${this.peer.port}`);
              return this.streamError('not-authorized');
            }
            this.write(`${this.header()}<stream:features/>`);
            this.ready();
          });
        } else {
          this.phase = 'sasl';
          this.write(`${this.header()}<stream:features><mechanisms xmlns='${NS_SASL}'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`);
        }
        return;
      case 'sasl-restart':
        this.write(`${this.header()}<stream:features/>`);
        this.ready();
        return;
      default:
        return this.streamError('bad-format');
    }
  }

  private onElement(el: TopLevelElement): boolean {
    const local = el.name.slice(el.name.indexOf(':') + 1);
    switch (this.phase) {
      case 'plain-starttls':
        if (local !== 'starttls') {
          // Nothing but STARTTLS before TLS (§1.1): the documents carry passwords and domain data.
          this.streamError('policy-violation');
          return true;
        }
        this.transition = { kind: 'starttls' };
        return true;
      case 'sasl':
        if (local === 'migration-stream' && this.srv.options.adoptStream) {
          this.transition = { kind: 'adopt', el };
          return true;
        }
        if (local !== 'auth') {
          this.saslFailure(local === 'abort' ? 'aborted' : 'not-authorized');
          return true;
        }
        this.transition = { kind: 'auth', el };
        return true;
      case 'ready':
        this.enqueue({ kind: 'element', el });
        return false;
      default:
        this.streamError('bad-format');
        return true;
    }
  }

  // --- handshake

  private header(): string {
    this.headerSent = true;
    return (
      `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'` +
      ` id='${randomBytes(8).toString('hex')}' from='${escapeXml(this.srv.options.address)}' version='1.0'>`
    );
  }

  private startTls(): void {
    this.raw.removeListener('data', this.onData);
    // Paused, the raw socket keeps whatever arrives early; TLSSocket takes it over (initRead).
    this.raw.pause();
    this.phase = 'tls';
    this.write(`<proceed xmlns='${NS_TLS}'/>`, () => {
      if (this.closed) return;
      const secure = new tls.TLSSocket(this.raw, { isServer: true, secureContext: this.srv.secureContext, requestCert: false });
      this.sock = secure;
      this.decoder = new StringDecoder('utf8');
      this.reader = this.newReader();
      secure.on('data', this.onData);
      secure.on('error', (e) => this.lost(e));
      secure.on('close', () => this.finish());
    });
  }

  private async authenticate(el: TopLevelElement, leftover: string): Promise<void> {
    this.phase = 'authenticating';
    this.sock.pause();
    this.clearHandshakeTimer();
    if (el.attrs.mechanism !== 'PLAIN') return this.saslFailure('invalid-mechanism');
    const creds = decodePlain(el.text);
    let ok = false;
    let condition = 'not-authorized';
    if (!creds) condition = 'incorrect-encoding';
    else if (creds.authzid && creds.authzid !== creds.user) condition = 'invalid-authzid';
    else {
      try {
        ok = await this.srv.options.authenticate(creds.user, creds.password, this.peer);
      } catch (e) {
        this.srv.log(`xmpp session ${this.id}: authentication error: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (ok && creds) {
      this.srv.authSucceeded(this.peer.address);
      if (this.closed) return;
      this.user = creds.user;
      this.srv.log(`xmpp session ${this.id}: ${creds.user} authenticated from ${this.peer.address}`);
      this.write(`<success xmlns='${NS_SASL}'/>`);
      this.phase = 'sasl-restart';
      this.reader = this.newReader();
      this.armHandshakeTimer();
      this.sock.resume();
      if (leftover) this.feedText(leftover);
      return;
    }
    const delay = this.srv.authFailed(this.peer.address);
    this.srv.log(`xmpp session ${this.id}: authentication failed for ${creds ? JSON.stringify(creds.user) : 'a malformed PLAIN response'} from ${this.peer.address}`);
    this.later(delay, () => this.saslFailure(condition));
  }

  /** Hand the TLS socket to the migration engine: from the reply on, the stream is binary. */
  private adopt(el: TopLevelElement): void {
    const take = this.srv.options.adoptStream!(el.attrs, this.peer);
    if (!take) {
      this.srv.log(`xmpp session ${this.id} (${this.peer.address}): migration stream refused`);
      return this.saslFailure('not-authorized');
    }
    const secure = this.sock as tls.TLSSocket;
    this.phase = 'closing';
    this.clearHandshakeTimer();
    this.write(`<migration-stream-ok xmlns='${NS_MIGRATION}'/>`, () => {
      secure.removeListener('data', this.onData);
      secure.removeAllListeners('close');
      secure.removeAllListeners('error');
      // The session is over as far as XMPP goes; the socket lives on with its new owner.
      this.closed = true;
      for (const t of this.timers) clearTimeout(t);
      this.srv.forget(this);
      take(secure);
    });
  }

  private saslFailure(condition: string): void {
    if (this.closed || this.phase === 'closing') return;
    this.phase = 'closing';
    this.write(`<failure xmlns='${NS_SASL}'><${condition}/></failure></stream:stream>`, () => this.end());
  }

  private ready(): void {
    this.phase = 'ready';
    this.clearHandshakeTimer();
    this.srv.log(`xmpp session ${this.id}: ${this.user} (${this.local ? 'local' : 'remote'} ${this.peer.address}:${this.peer.port}) ready`);
  }

  // --- documents, in order

  private enqueue(w: Work): void {
    this.work.push(w);
    if (this.work.length >= MAX_QUEUED_DOCUMENTS && !this.paused) {
      this.paused = true;
      this.sock.pause();
    }
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.working) return;
    this.working = true;
    try {
      while (this.work.length && !this.closed && this.phase !== 'closing') {
        const w = this.work.shift()!;
        if (w.kind === 'end') {
          this.phase = 'closing';
          this.write('</stream:stream>', () => this.end());
          break;
        }
        const el = w.el;
        const local = el.name.slice(el.name.indexOf(':') + 1);
        if (local === 'iq') this.answerIq(el);
        else if (local === 'presence') continue; // generic libraries announce themselves; nothing to do
        else {
          try {
            await this.srv.options.onDocument(this, el.source);
          } catch (e) {
            this.srv.log(`xmpp session ${this.id}: document handler failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
          }
        }
        if (this.paused && this.work.length < MAX_QUEUED_DOCUMENTS / 2 && !this.closed) {
          this.paused = false;
          this.sock.resume();
        }
      }
    } finally {
      this.working = false;
    }
  }

  /** Resource binding and session requests of generic XMPP libraries (RFC 3920 §7, RFC 3921 §3): acknowledged, never required. */
  private answerIq(el: TopLevelElement): void {
    const id = el.attrs.id;
    if (id === undefined || (el.attrs.type !== 'set' && el.attrs.type !== 'get')) return;
    const bind = /<(?:[\w.-]+:)?bind[\s/>]/.test(el.source)
      ? `<bind xmlns='${NS_BIND}'><jid>${escapeXml(`${this.user}@${this.srv.options.address}/ldm-${this.id}`)}</jid></bind>`
      : '';
    this.write(bind ? `<iq type='result' id='${escapeXml(id)}'>${bind}</iq>` : `<iq type='result' id='${escapeXml(id)}'/>`);
  }

  // --- output: one document per write, the next only when the previous is on its way

  private write(text: string, then?: () => void): void {
    if (this.closed) return;
    this.outBytes += text.length;
    if (this.outBytes > MAX_OUTPUT_BYTES) {
      this.srv.log(`xmpp session ${this.id}: peer does not read its responses; dropped`);
      return this.destroy();
    }
    this.out.push({ text, then });
    this.flush();
  }

  private flush(): void {
    if (this.writing || this.closed || !this.out.length) return;
    const item = this.out.shift()!;
    const sock = this.sock;
    if (!sock.writable) return this.destroy();
    this.writing = true;
    // Waiting for each write to complete keeps Node from merging queued writes into one TLS record.
    sock.write(item.text, (err) => {
      this.writing = false;
      this.outBytes -= item.text.length;
      if (err) return this.destroy();
      item.then?.();
      this.flush();
    });
  }

  // --- ending

  private streamError(condition: string): void {
    if (this.closed || this.phase === 'closing') return;
    // A stream error can only travel on a stream that is not half way into TLS.
    if (this.phase === 'tls' && !(this.sock instanceof tls.TLSSocket)) return this.destroy();
    this.phase = 'closing';
    const head = this.headerSent ? '' : this.header();
    this.write(`${head}<stream:error><${condition} xmlns='${NS_STREAMS}'/></stream:error></stream:stream>`, () => this.end());
  }

  private end(): void {
    if (this.closed) return;
    this.phase = 'closing';
    this.sock.end();
    // A peer that never closes its side is not waited for.
    this.later(2000, () => this.destroy());
  }

  destroy(): void {
    if (this.closed) return;
    this.phase = 'closing';
    this.sock.destroy();
    this.raw.destroy();
  }

  private lost(e: Error): void {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ECONNRESET' && code !== 'EPIPE') this.srv.log(`xmpp session ${this.id} (${this.peer.address}): ${e.message}`);
    this.destroy();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.phase = 'closing';
    this.clearHandshakeTimer();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.out.length = 0;
    this.work.length = 0;
    this.sock.destroy();
    this.raw.destroy();
    this.srv.forget(this);
    for (const l of this.closeListeners.splice(0)) {
      try {
        l();
      } catch (e) {
        this.srv.log(`xmpp session ${this.id}: close listener failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  private later(ms: number, fn: () => void): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private armHandshakeTimer(): void {
    this.clearHandshakeTimer();
    this.handshakeTimer = setTimeout(() => {
      this.handshakeTimer = null;
      if (this.phase === 'ready' || this.closed) return;
      this.srv.log(`xmpp session ${this.id} (${this.peer.address}): handshake not finished in ${this.srv.limits.handshakeTimeoutMs} ms`);
      if (this.phase === 'tls' && !this.headerSent) this.destroy();
      else this.streamError('connection-timeout');
    }, this.srv.limits.handshakeTimeoutMs);
  }

  private clearHandshakeTimer(): void {
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
  }
}

// ---------------------------------------------------------------------------------------------
// Server

export class XmppServer {
  readonly limits: Required<XmppLimits>;
  readonly secureContext: tls.SecureContext;
  private server: net.Server | null = null;
  private readonly sessions = new Set<Connection>();
  private readonly failures = new Map<string, { count: number; at: number }>();
  private nextId = 1;
  private boundPort = 0;

  constructor(readonly options: XmppServerOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...Object.fromEntries(Object.entries(options.limits ?? {}).filter(([, v]) => v !== undefined)) };
    // 3.4+ names TLS 1.2 as the only version; nothing older is offered.
    this.secureContext = tls.createSecureContext({ key: options.tls.key, cert: options.tls.cert, minVersion: 'TLSv1.2' });
  }

  /** The port actually bound (useful with port 0). */
  get port(): number {
    return this.boundPort || this.options.port;
  }

  log(s: string): void {
    this.options.log?.(s);
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((sock) => this.accept(sock));
      server.on('error', (e) => {
        if (!this.server) reject(e);
        else this.log(`xmpp server: ${e.message}`);
      });
      server.listen({ host: this.options.address, port: this.options.port }, () => {
        this.server = server;
        this.boundPort = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  close(): Promise<void> {
    const server = this.server;
    this.server = null;
    const gone = [...this.sessions].map((s) => new Promise<void>((r) => s.onClose(r)));
    // Clients get their closing tag; whoever has not gone after a moment is cut off.
    for (const s of this.sessions) s.close();
    const cutoff = setTimeout(() => {
      for (const s of this.sessions) s.destroy();
    }, 500);
    const stopped = new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    return Promise.all([stopped, ...gone]).then(() => clearTimeout(cutoff));
  }

  sessionCount(): number {
    return this.sessions.size;
  }

  private accept(sock: net.Socket): void {
    sock.on('error', () => sock.destroy());
    if (this.sessions.size >= this.limits.maxSessions) {
      this.log(`xmpp server: ${this.limits.maxSessions} sessions open; refusing ${sock.remoteAddress}`);
      sock.end(
        `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='${randomBytes(8).toString('hex')}' from='${escapeXml(this.options.address)}' version='1.0'>` +
          `<stream:error><resource-constraint xmlns='${NS_STREAMS}'/></stream:error></stream:stream>`,
      );
      setTimeout(() => sock.destroy(), 2000).unref();
      return;
    }
    if (!sock.remoteAddress) {
      sock.destroy(); // already gone (the probe connection can be this quick)
      return;
    }
    const c = new Connection(this.nextId++, this, sock);
    this.sessions.add(c);
  }

  /** Called by a session when its socket is gone. */
  forget(c: Connection): void {
    this.sessions.delete(c);
  }

  authSucceeded(address: string): void {
    this.failures.delete(address);
  }

  /** Record a failed authentication and return how long to hold the answer back. */
  authFailed(address: string): number {
    const now = Date.now();
    const prev = this.failures.get(address);
    const count = prev && now - prev.at < AUTH_MEMORY_MS ? prev.count + 1 : 1;
    this.failures.delete(address);
    this.failures.set(address, { count, at: now });
    if (this.failures.size > AUTH_MEMORY_PEERS) this.failures.delete(this.failures.keys().next().value as string);
    return Math.min(AUTH_DELAY_MS * 2 ** Math.min(count - 1, 10), AUTH_DELAY_MAX_MS);
  }
}
