// Logical Domains Manager discovery and MAC-collision detection over UDP multicast
// (xml-interface.md §1.5, p2v-and-config-assistant.md §C.7; docs/discovery.md).
//
// One datagram layout, `multicast_msg_t`, serves both jobs on 239.129.9.27:64535: a manager answers
// an LDMD_DISC_SEND probe with its version, host name, address and XMPP port, and answers a
// SEND_MSG lookup for a MAC address it uses, so that a manager about to hand out a MAC learns that
// another manager on the subnet already has it (ldm-cli.md §6.3).
//
// Each modelled host lives on its own 127.0.0.N. Every socket is bound to, and sends from, the
// host's address, so the source of a datagram says which host sent it, and Linux routes multicast
// sent from a lo address out through lo without any multicast route (see ensureLoopbackMulticast).

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';

/** `MAC_MULTI_GROUP`, `MAC_MULTI_PORT` (§C.7). */
export const MAC_MULTI_GROUP = '239.129.9.27';
export const MAC_MULTI_PORT = 64535;
export const MAC_MULTI_MAGIC_NO = 92792004;
export const MAC_MULTI_VERSION = 1;
/** The port a manager advertises: its XMPP port (§C.7 step 3). */
export const LDMD_XMPP_PORT = 6482;

export const SEND_MSG = 0;
export const RESPONSE_MSG = 1;
export const LDMD_DISC_SEND = 2;
export const LDMD_DISC_RESP = 3;

export const LDMD_VERSION_LEN = 32;
/** Solaris <netdb.h> value [M]: the field is sized by the sender's platform, and ldmd runs on Solaris. */
export const MAXHOSTNAMELEN = 256;
export const INET_ADDRSTRLEN = 16;

// C layout, big-endian as on SPARC [M]: four uint32 header words, then the union. mac_lookup_t's
// uint64 gives the union (and the struct) 8-byte alignment; 16 is already a multiple of 8.
export const HEADER_SIZE = 16;
export const PAYLOAD_OFFSET = 16;
const DISC_VERSION_OFF = PAYLOAD_OFFSET;
const DISC_HOSTNAME_OFF = DISC_VERSION_OFF + LDMD_VERSION_LEN; // 48
const DISC_ADDRESS_OFF = DISC_HOSTNAME_OFF + MAXHOSTNAMELEN; // 304
const DISC_PORT_OFF = DISC_ADDRESS_OFF + 4; // 308
const DISCOVERY_SIZE = LDMD_VERSION_LEN + MAXHOSTNAMELEN + 4 + 4; // 296
const LOOKUP_MAC_OFF = PAYLOAD_OFFSET;
const LOOKUP_SOURCE_OFF = LOOKUP_MAC_OFF + 8; // 24
const LOOKUP_SIZE = 8 + INET_ADDRSTRLEN; // 24
const align8 = (n: number) => Math.ceil(n / 8) * 8;
/** sizeof(multicast_msg_t) = 312: what a C sender puts on the wire for every message type. */
export const MESSAGE_SIZE = HEADER_SIZE + align8(Math.max(DISCOVERY_SIZE, LOOKUP_SIZE));

export interface LdmdDiscovery {
  version: string;
  hostName: string;
  /** `struct in_addr ip_address`, dotted quad. */
  address: string;
  port: number;
}

export interface MacLookup {
  /** Lower-case `aa:bb:cc:dd:ee:ff`. */
  mac: string;
  /** `source_ip`: the asker's address in SEND_MSG, the user's address in RESPONSE_MSG [M]. */
  sourceIp: string;
}

export type MulticastMessage =
  | { msgType: typeof SEND_MSG | typeof RESPONSE_MSG; lookup: MacLookup }
  | { msgType: typeof LDMD_DISC_SEND }
  | { msgType: typeof LDMD_DISC_RESP; discovery: LdmdDiscovery };

export interface ManagerInfo {
  version: string;
  hostName: string;
  address: string;
  port: number;
}

// ---------------------------------------------------------------------------------------------
// Wire format

/** `aa:bb:cc:dd:ee:ff` (1 or 2 hex digits a group, any case) as a 48-bit number, or null. */
export function parseMac(text: string): bigint | null {
  const m = /^([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2})$/i.exec(text.trim());
  if (!m) return null;
  return m.slice(1).reduce((acc, g) => (acc << 8n) | BigInt(parseInt(g, 16)), 0n);
}

export function formatMac(value: bigint): string {
  const octets: string[] = [];
  for (let shift = 40n; shift >= 0n; shift -= 8n) octets.push(((value >> shift) & 0xffn).toString(16).padStart(2, '0'));
  return octets.join(':');
}

/** A NUL-terminated `char[size]`: at most size-1 bytes, cut on a UTF-8 character boundary. */
function writeCString(buf: Buffer, offset: number, size: number, text: string): void {
  let bytes = Buffer.from(text, 'utf8');
  if (bytes.length > size - 1) {
    let end = size - 1;
    while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
    bytes = bytes.subarray(0, end);
  }
  bytes.copy(buf, offset);
}

/** Up to the first NUL; a field without one (a hostile sender) is read to its end. */
function readCString(buf: Buffer, offset: number, size: number): string {
  const field = buf.subarray(offset, offset + size);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? size : nul).toString('utf8');
}

function writeInAddr(buf: Buffer, offset: number, address: string): void {
  if (!net.isIPv4(address)) throw new Error(`not an IPv4 address: ${address}`);
  address.split('.').forEach((octet, i) => buf.writeUInt8(Number(octet), offset + i));
}

/** Always MESSAGE_SIZE bytes, unused bytes zero, like a zeroed C struct sent with sizeof. */
export function encodeMessage(msg: MulticastMessage): Buffer {
  const buf = Buffer.alloc(MESSAGE_SIZE);
  buf.writeUInt32BE(MAC_MULTI_VERSION, 0);
  buf.writeUInt32BE(MAC_MULTI_MAGIC_NO, 4);
  buf.writeUInt32BE(msg.msgType, 8);
  // resv (12) stays 0.
  if (msg.msgType === SEND_MSG || msg.msgType === RESPONSE_MSG) {
    const mac = parseMac(msg.lookup.mac);
    if (mac === null) throw new Error(`not a MAC address: ${msg.lookup.mac}`);
    buf.writeBigUInt64BE(mac, LOOKUP_MAC_OFF);
    writeCString(buf, LOOKUP_SOURCE_OFF, INET_ADDRSTRLEN, msg.lookup.sourceIp);
  } else if (msg.msgType === LDMD_DISC_RESP) {
    const d = msg.discovery;
    writeCString(buf, DISC_VERSION_OFF, LDMD_VERSION_LEN, d.version);
    writeCString(buf, DISC_HOSTNAME_OFF, MAXHOSTNAMELEN, d.hostName);
    writeInAddr(buf, DISC_ADDRESS_OFF, d.address);
    buf.writeInt32BE(d.port, DISC_PORT_OFF);
  }
  return buf;
}

export const encodeDiscoveryProbe = (): Buffer => encodeMessage({ msgType: LDMD_DISC_SEND });
export const encodeDiscoveryResponse = (discovery: LdmdDiscovery): Buffer =>
  encodeMessage({ msgType: LDMD_DISC_RESP, discovery });
export const encodeMacLookup = (msgType: typeof SEND_MSG | typeof RESPONSE_MSG, lookup: MacLookup): Buffer =>
  encodeMessage({ msgType, lookup });

/**
 * The message in a datagram, or null for anything else: wrong version or magic, unknown type, or
 * fewer bytes than the type needs. A probe needs only the header (its payload is unused, and a
 * sender built with a smaller MAXHOSTNAMELEN sends a shorter struct); a MAC message needs its
 * mac_lookup_t (40 bytes); a discovery response needs all 312. Trailing bytes are ignored.
 */
export function decodeMessage(buf: Buffer): MulticastMessage | null {
  if (buf.length < HEADER_SIZE) return null;
  if (buf.readUInt32BE(0) !== MAC_MULTI_VERSION || buf.readUInt32BE(4) !== MAC_MULTI_MAGIC_NO) return null;
  const msgType = buf.readUInt32BE(8);
  switch (msgType) {
    case LDMD_DISC_SEND:
      return { msgType };
    case SEND_MSG:
    case RESPONSE_MSG: {
      if (buf.length < PAYLOAD_OFFSET + LOOKUP_SIZE) return null;
      const mac = buf.readBigUInt64BE(LOOKUP_MAC_OFF);
      // A MAC is 48 bits (held in a uint64 as in the machine description); more is not a MAC.
      if (mac >> 48n !== 0n) return null;
      return { msgType, lookup: { mac: formatMac(mac), sourceIp: readCString(buf, LOOKUP_SOURCE_OFF, INET_ADDRSTRLEN) } };
    }
    case LDMD_DISC_RESP: {
      if (buf.length < MESSAGE_SIZE) return null;
      return {
        msgType,
        discovery: {
          version: readCString(buf, DISC_VERSION_OFF, LDMD_VERSION_LEN),
          hostName: readCString(buf, DISC_HOSTNAME_OFF, MAXHOSTNAMELEN),
          address: [...buf.subarray(DISC_ADDRESS_OFF, DISC_ADDRESS_OFF + 4)].join('.'),
          port: buf.readInt32BE(DISC_PORT_OFF),
        },
      };
    }
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Sockets

/** A socket bound to the host's address, sending its multicast out of that address's interface. */
async function hostSocket(address: string): Promise<dgram.Socket> {
  if (!net.isIPv4(address)) throw new Error(`not an IPv4 address: ${address}`);
  const socket = dgram.createSocket({ type: 'udp4' });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, address, () => {
      socket.off('error', reject);
      resolve();
    });
  }).catch((e: NodeJS.ErrnoException) => {
    socket.close();
    throw new Error(`cannot use address ${address} for multicast: ${e.code ?? e.message}`);
  });
  socket.setMulticastInterface(address);
  // `ldmd/hops` default: the local subnet only (§C.7).
  socket.setMulticastTTL(1);
  // Other hosts of this machine are listening on the same interface.
  socket.setMulticastLoopback(true);
  return socket;
}

function send(socket: dgram.Socket, data: Buffer, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => socket.send(data, port, address, (e) => (e ? reject(e) : resolve())));
}

const closeSocket = (socket: dgram.Socket) =>
  new Promise<void>((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });

export interface ResponderStats {
  probes: number;
  lookups: number;
  answered: number;
  /** Datagrams that were not a multicast_msg_t (wrong magic/version/type, short). */
  garbage: number;
}

export interface DiscoveryResponderOptions {
  /** The host's address: group membership, replies and the advertised ip_address. */
  address: string;
  hostName: string;
  /** Manager version, e.g. `2.0`. */
  version: string;
  /** The advertised port: the XMPP port 6482. */
  port: number;
  /** MACs this manager has assigned, lower-case `aa:bb:cc:dd:ee:ff`. */
  macsInUse: () => Set<string>;
  log?: (s: string) => void;
}

/** ldmd's side of the channel: answers probes, and lookups for MACs it uses. */
export class DiscoveryResponder {
  readonly stats: ResponderStats = { probes: 0, lookups: 0, answered: 0, garbage: 0 };
  private group?: dgram.Socket;
  private reply?: dgram.Socket;

  constructor(private readonly opts: DiscoveryResponderOptions) {}

  async start(): Promise<void> {
    const { address } = this.opts;
    this.reply = await hostSocket(address);
    // Bound to the group address, not INADDR_ANY, so it sees only group traffic; SO_REUSEADDR lets
    // every host of this machine bind the same group and port and each gets its own copy.
    const group = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    this.group = group;
    try {
      await new Promise<void>((resolve, reject) => {
        group.once('error', reject);
        group.bind(MAC_MULTI_PORT, MAC_MULTI_GROUP, () => {
          group.off('error', reject);
          resolve();
        });
      });
      group.addMembership(MAC_MULTI_GROUP, address);
    } catch (e) {
      await this.close();
      const err = e as NodeJS.ErrnoException;
      throw new Error(`cannot listen on ${MAC_MULTI_GROUP}:${MAC_MULTI_PORT} for ${address}: ${err.code ?? err.message}`);
    }
    group.on('error', (e) => this.opts.log?.(`discovery: ${e.message}`));
    group.on('message', (data, rinfo) => {
      this.handle(data, rinfo).catch((e) => this.opts.log?.(`discovery: reply to ${rinfo.address}: ${(e as Error).message}`));
    });
  }

  async close(): Promise<void> {
    const sockets = [this.group, this.reply].filter((s): s is dgram.Socket => s !== undefined);
    this.group = this.reply = undefined;
    await Promise.all(sockets.map(closeSocket));
  }

  private async handle(data: Buffer, rinfo: dgram.RemoteInfo): Promise<void> {
    const msg = decodeMessage(data);
    if (!msg) {
      this.stats.garbage++;
      return;
    }
    const { address, hostName, version, port } = this.opts;
    if (msg.msgType === LDMD_DISC_SEND) {
      this.stats.probes++;
      await this.answer(encodeDiscoveryResponse({ version, hostName, address, port }), rinfo);
    } else if (msg.msgType === SEND_MSG) {
      // The manager on this address asking about a MAC is this manager: it knows its own MACs.
      if (rinfo.address === address || msg.lookup.sourceIp === address) return;
      this.stats.lookups++;
      let inUse: boolean;
      try {
        inUse = this.opts.macsInUse().has(msg.lookup.mac);
      } catch (e) {
        this.opts.log?.(`discovery: MAC lookup failed: ${(e as Error).message}`);
        return;
      }
      if (inUse) await this.answer(encodeMacLookup(RESPONSE_MSG, { mac: msg.lookup.mac, sourceIp: address }), rinfo);
    }
    // Responses on the group are for whoever asked.
  }

  private async answer(data: Buffer, rinfo: dgram.RemoteInfo): Promise<void> {
    if (!this.reply) return;
    await send(this.reply, data, rinfo.port, rinfo.address);
    this.stats.answered++;
  }
}

/** Sends one message to the group from `address` and hands each decoded reply to `onReply`. */
async function ask(
  address: string,
  message: Buffer,
  timeoutMs: number,
  onReply: (msg: MulticastMessage, rinfo: dgram.RemoteInfo, done: () => void) => void,
): Promise<void> {
  const socket = await hostSocket(address);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      socket.on('message', (data, rinfo) => {
        const msg = decodeMessage(data);
        if (msg) onReply(msg, rinfo, done);
      });
      socket.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      send(socket, message, MAC_MULTI_PORT, MAC_MULTI_GROUP).catch((e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new Error(`cannot send to ${MAC_MULTI_GROUP}:${MAC_MULTI_PORT} from ${address}: ${e.code ?? e.message}`));
      });
    });
  } finally {
    await closeSocket(socket);
  }
}

/** 127.0.0.1 is no modelled host's address (hosts get 127.0.0.2-254), so every host answers. */
export const DEFAULT_DISCOVERY_ADDRESS = '127.0.0.1';

/** The managers answering a probe within the timeout, by address. */
export async function discoverManagers(opts: { address?: string; timeoutMs?: number } = {}): Promise<ManagerInfo[]> {
  const found = new Map<string, ManagerInfo>();
  await ask(opts.address ?? DEFAULT_DISCOVERY_ADDRESS, encodeDiscoveryProbe(), opts.timeoutMs ?? 1000, (msg) => {
    if (msg.msgType !== LDMD_DISC_RESP) return;
    const d = msg.discovery;
    found.set(JSON.stringify([d.address, d.port, d.hostName, d.version]), { ...d });
  });
  const key = (a: string) => (net.isIPv4(a) ? a.split('.').map((o) => o.padStart(3, '0')).join('.') : a);
  return [...found.values()].sort((a, b) => key(a.address).localeCompare(key(b.address)) || a.hostName.localeCompare(b.hostName) || a.port - b.port);
}

/** Whether a manager other than the one at `address` uses `mac`; its address, or null. */
export async function checkMacCollision(opts: { address: string; mac: string; timeoutMs?: number }): Promise<{ address: string } | null> {
  const mac = parseMac(opts.mac);
  if (mac === null) throw new Error(`invalid MAC address: ${opts.mac}`);
  const wanted = formatMac(mac);
  let user: { address: string } | null = null;
  await ask(opts.address, encodeMacLookup(SEND_MSG, { mac: wanted, sourceIp: opts.address }), opts.timeoutMs ?? 1000, (msg, rinfo, done) => {
    if (msg.msgType !== RESPONSE_MSG || msg.lookup.mac !== wanted) return;
    const from = net.isIPv4(msg.lookup.sourceIp) ? msg.lookup.sourceIp : rinfo.address;
    if (from === opts.address) return;
    user = { address: from };
    done();
  });
  return user;
}

// ---------------------------------------------------------------------------------------------
// Loopback multicast

export interface LoopbackMulticastOptions {
  /** Where the self-test listens and sends from; two different lo addresses. */
  listenAddress?: string;
  sendAddress?: string;
  /** Tells what was changed on the system (default: stderr). */
  log?: (s: string) => void;
  /** Replaces the self-test (tests of this function only). */
  probe?: () => Promise<boolean>;
}

/**
 * Does a datagram sent to the group from one lo address reach a member joined on another? Uses
 * its own port, so running responders are not disturbed.
 */
export async function loopbackMulticastWorks(listenAddress = '127.0.0.1', sendAddress = '127.0.0.254', timeoutMs = 300): Promise<boolean> {
  const nonce = randomBytes(16);
  const listener = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  let sender: dgram.Socket | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.bind(0, MAC_MULTI_GROUP, () => resolve());
    });
    listener.addMembership(MAC_MULTI_GROUP, listenAddress);
    const port = listener.address().port;
    sender = await hostSocket(sendAddress);
    const heard = new Promise<boolean>((resolve) => {
      listener.on('message', (data) => {
        if (data.equals(nonce)) resolve(true);
      });
    });
    // A few tries: a single lost datagram must not read as "multicast does not work".
    for (let i = 0; i < 3; i++) {
      await send(sender, nonce, port, MAC_MULTI_GROUP);
      const ok = await Promise.race([heard, new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs))]);
      if (ok) return true;
    }
    return false;
  } catch {
    return false;
  } finally {
    await closeSocket(listener);
    if (sender) await closeSocket(sender);
  }
}

export class LoopbackMulticastError extends Error {}

/**
 * Makes multicast between 127.0.0.x addresses on lo work, or explains why it cannot. Tests the
 * path first and changes nothing when it works (recent Linux needs nothing: a datagram sent from
 * a lo address goes out lo, and lo loops it back). Otherwise, as root, turns on lo's MULTICAST flag
 * and adds a route for the group via lo, each only when missing, says so on `log`, and tests again.
 * Returns the commands it ran.
 */
export async function ensureLoopbackMulticast(opts: LoopbackMulticastOptions = {}): Promise<string[]> {
  const listenAddress = opts.listenAddress ?? '127.0.0.1';
  const sendAddress = opts.sendAddress ?? '127.0.0.254';
  const probe = opts.probe ?? (() => loopbackMulticastWorks(listenAddress, sendAddress));
  const log = opts.log ?? ((s: string) => process.stderr.write(s + '\n'));
  if (await probe()) return [];

  const fixes: string[][] = [];
  const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  let linkText = '';
  let routeText = '';
  try {
    linkText = ip('link', 'show', 'lo');
    routeText = ip('route', 'show', 'table', 'all', `${MAC_MULTI_GROUP}/32`);
  } catch {
    // No `ip` tool: suggest both changes.
  }
  if (!/[<,]MULTICAST[,>]/.test(linkText)) fixes.push(['link', 'set', 'lo', 'multicast', 'on']);
  if (!/\bdev lo\b/.test(routeText)) fixes.push(['route', 'add', `${MAC_MULTI_GROUP}/32`, 'dev', 'lo']);
  const commands = fixes.map((f) => `ip ${f.join(' ')}`);
  const failure = `multicast between loopback addresses does not work here: a datagram sent to ${MAC_MULTI_GROUP} from ${sendAddress} did not reach a member joined on ${listenAddress}`;

  if (fixes.length === 0) throw new LoopbackMulticastError(`${failure} (lo has MULTICAST and a route for the group; check firewall rules for lo)`);
  if (process.getuid?.() !== 0) {
    throw new LoopbackMulticastError(`${failure}; as root, run: ${commands.join('; ')}`);
  }
  for (let i = 0; i < fixes.length; i++) {
    log(`ensureLoopbackMulticast: running ${commands[i]}`);
    try {
      ip(...fixes[i]);
    } catch (e) {
      const stderr = (e as { stderr?: string }).stderr?.trim();
      throw new LoopbackMulticastError(`${failure}; ${commands[i]} failed: ${stderr || (e as Error).message}`);
    }
  }
  if (!(await probe())) throw new LoopbackMulticastError(`${failure}, even after: ${commands.join('; ')}`);
  return commands;
}
