// The part of telnet (RFC 854, option negotiation per RFC 855/1143) a console connection needs:
// turn the client's bytes into keystrokes, answer its option requests, and put the guest's text
// on the wire as a network virtual terminal expects it.
//
// Keystrokes and guest text are 8-bit strings: one character per byte (latin1), as on a serial
// line. A client that never negotiates (`nc`) is served by the same code: plain bytes pass.

export const IAC = 255;
export const DONT = 254;
export const DO = 253;
export const WONT = 252;
export const WILL = 251;
export const SB = 250;
export const GA = 249;
export const EL = 248;
export const EC = 247;
export const AYT = 246;
export const AO = 245;
export const IP = 244;
export const BRK = 243;
export const DM = 242;
export const NOP = 241;
export const SE = 240;

export const OPT_ECHO = 1;
export const OPT_SGA = 3;

const CR = 0x0d;
const LF = 0x0a;
const NUL = 0x00;

/** What the client sent, in order: keystrokes, or a telnet command the console cares about. */
export type TelnetItem = { data: string } | { command: 'break' | 'are-you-there' };

interface OptionState {
  enabled: boolean;
  /** We asked and wait for the answer: the answer must not be acknowledged again (RFC 1143 loop rule). */
  pending: boolean;
}

type ParseState = 'data' | 'iac' | 'option' | 'sb' | 'sb-iac';

/**
 * One connection's telnet state. We offer to echo and to suppress go-ahead, and ask the client to
 * suppress go-ahead too: together these put `telnet` into character-at-a-time mode with the
 * remote side (the guest) echoing. Everything else is refused.
 */
export class TelnetProtocol {
  private state: ParseState = 'data';
  private verb = 0;
  /** The previous keystroke byte was CR: a NUL or LF right after it is part of the same newline. */
  private afterCR = false;
  private readonly local = new Map<number, OptionState>([
    [OPT_ECHO, { enabled: false, pending: false }],
    [OPT_SGA, { enabled: false, pending: false }],
  ]);
  private readonly remote = new Map<number, OptionState>([[OPT_SGA, { enabled: false, pending: false }]]);

  /** The bytes sent when a client connects. */
  greeting(): Buffer {
    this.local.get(OPT_ECHO)!.pending = true;
    this.local.get(OPT_SGA)!.pending = true;
    this.remote.get(OPT_SGA)!.pending = true;
    return Buffer.from([IAC, WILL, OPT_ECHO, IAC, WILL, OPT_SGA, IAC, DO, OPT_SGA]);
  }

  /**
   * Parse what the client sent. Telnet commands are removed; CR NUL, CR LF and a bare LF (what
   * `nc` sends for Enter) all become one "\r", the end-of-line key of a serial console.
   */
  receive(chunk: Buffer): { items: TelnetItem[]; reply: Buffer | null } {
    const items: TelnetItem[] = [];
    const reply: number[] = [];
    const keys = Buffer.allocUnsafe(chunk.length);
    let n = 0;
    const flushKeys = () => {
      if (n > 0) items.push({ data: keys.toString('latin1', 0, n) });
      n = 0;
    };
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      switch (this.state) {
        case 'data':
          if (b === IAC) {
            this.state = 'iac';
          } else if (this.afterCR && (b === NUL || b === LF)) {
            this.afterCR = false;
          } else {
            keys[n++] = b === LF ? CR : b;
            this.afterCR = b === CR;
          }
          break;
        case 'iac':
          this.state = 'data';
          if (b === IAC) {
            keys[n++] = IAC;
            this.afterCR = false;
          } else if (b === DO || b === DONT || b === WILL || b === WONT) {
            this.verb = b;
            this.state = 'option';
          } else if (b === SB) {
            this.state = 'sb';
          } else if (b === BRK) {
            flushKeys();
            items.push({ command: 'break' });
          } else if (b === AYT) {
            flushKeys();
            items.push({ command: 'are-you-there' });
          }
          // NOP, DM, GA, IP, AO, EC, EL, a stray SE: nothing to do in character mode.
          break;
        case 'option':
          this.state = 'data';
          this.negotiate(this.verb, b, reply);
          break;
        case 'sb':
          // Subnegotiation parameters are dropped: we agreed to no option that has any.
          if (b === IAC) this.state = 'sb-iac';
          break;
        case 'sb-iac':
          if (b === SE) this.state = 'data';
          else if (b === IAC) this.state = 'sb';
          else {
            // A command inside SB without SE: the subnegotiation was cut short; read the command.
            this.state = 'iac';
            i--;
          }
          break;
      }
    }
    flushKeys();
    return { items, reply: reply.length ? Buffer.from(reply) : null };
  }

  private negotiate(verb: number, opt: number, reply: number[]): void {
    const table = verb === DO || verb === DONT ? this.local : this.remote;
    const st = table.get(opt);
    const yes = verb === DO ? WILL : DO;
    const no = verb === DO || verb === DONT ? WONT : DONT;
    if (verb === DO || verb === WILL) {
      if (!st) {
        reply.push(IAC, no, opt);
        return;
      }
      if (st.enabled) return;
      st.enabled = true;
      if (st.pending) st.pending = false;
      else reply.push(IAC, yes, opt);
    } else {
      if (!st) return; // never enabled: a refusal needs no answer
      const was = st.enabled;
      st.enabled = false;
      if (st.pending) st.pending = false;
      else if (was) reply.push(IAC, no, opt);
    }
  }
}

/**
 * Guest text to NVT text: a newline is CR LF on the wire (RFC 854). The guest may already write
 * CR LF; that is left alone, also when the CR ended the previous piece.
 */
export class NvtNewlines {
  private lastCR = false;

  translate(text: string): string {
    if (!text) return text;
    let out: string;
    if (this.lastCR && text[0] === '\n') out = '\n' + text.slice(1).replace(/(?<!\r)\n/g, '\r\n');
    else out = text.replace(/(?<!\r)\n/g, '\r\n');
    this.lastCR = text[text.length - 1] === '\r';
    return out;
  }
}

/**
 * Text to wire bytes: characters up to U+00FF are one byte each (the console is 8-bit), anything
 * above is sent as UTF-8; a 0xFF data byte is doubled so that the client does not read it as IAC.
 */
export function toWire(text: string): Buffer {
  let bytes: Buffer;
  if (!/[^\x00-\xff]/.test(text)) {
    bytes = Buffer.from(text, 'latin1');
  } else {
    const parts: Buffer[] = [];
    for (const run of text.match(/[\x00-\xff]+|[^\x00-\xff]+/g) ?? []) {
      parts.push(Buffer.from(run, run.charCodeAt(0) <= 0xff ? 'latin1' : 'utf8'));
    }
    bytes = Buffer.concat(parts);
  }
  return doubleIac(bytes);
}

function doubleIac(bytes: Buffer): Buffer {
  let count = 0;
  for (let i = bytes.indexOf(IAC); i !== -1; i = bytes.indexOf(IAC, i + 1)) count++;
  if (count === 0) return bytes;
  const out = Buffer.allocUnsafe(bytes.length + count);
  let o = 0;
  for (let i = 0; i < bytes.length; i++) {
    out[o++] = bytes[i];
    if (bytes[i] === IAC) out[o++] = IAC;
  }
  return out;
}
