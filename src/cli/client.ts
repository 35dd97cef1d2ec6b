// The client side of ldmd's local socket, shared by `ldm` and `ldoms`: find the host, connect,
// prove who we are, and relay output, prompts and file reads until the exit status arrives.
// Kept free of heavy imports: `ldm` is a short-lived process and pays for every module it loads.

import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tty from 'node:tty';

export class ClientError extends Error {}

function home(): string {
  return process.env.LDOMS_HOME || path.join(os.homedir(), '.ldoms');
}

function socketOf(host: string): string {
  return path.join(home(), 'hosts', host, 'run', 'ldmd.sock');
}

function tryConnect(sockPath: string): Promise<net.Socket | null> {
  return new Promise((resolve) => {
    const s = net.createConnection(sockPath);
    s.once('connect', () => resolve(s));
    s.once('error', () => resolve(null));
  });
}

/** LDOMS_HOST names the host; otherwise the only running one. */
export async function connectHost(host = process.env.LDOMS_HOST): Promise<{ sock: net.Socket; host: string }> {
  if (host) {
    if (!fs.existsSync(path.join(home(), 'hosts', host, 'host.json'))) throw new ClientError(`ldm: host ${host} does not exist (LDOMS_HOST=${host})`);
    const sock = await tryConnect(socketOf(host));
    if (!sock) throw new ClientError(`Failed to connect to logical domain manager on host ${host}: ldmd is not running`);
    return { sock, host };
  }
  let names: string[] = [];
  try {
    names = fs.readdirSync(path.join(home(), 'hosts')).filter((n) => fs.existsSync(socketOf(n)));
  } catch {
    /* no hosts yet */
  }
  const live = (await Promise.all(names.map(async (n) => ({ n, s: await tryConnect(socketOf(n)) })))).filter((x) => x.s);
  if (live.length === 1) return { sock: live[0].s!, host: live[0].n };
  for (const l of live) l.s!.destroy();
  if (live.length === 0) throw new ClientError('Failed to connect to logical domain manager: no host is running (start one with: ldoms host start NAME)');
  throw new ClientError(`ldm: several hosts are running (${live.map((l) => l.n).join(', ')}); set LDOMS_HOST to choose one`);
}

/** Read one line from the terminal, without echo when asked (passwords). */
export function promptLine(text: string, echo: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let fd: number;
    try {
      fd = fs.openSync('/dev/tty', 'r+');
    } catch {
      reject(new Error('no terminal to prompt on'));
      return;
    }
    const input = new tty.ReadStream(fd);
    const out = new tty.WriteStream(fd);
    out.write(text);
    if (!echo) input.setRawMode(true);
    let line = '';
    input.on('data', (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          if (!echo) input.setRawMode(false);
          out.write('\n');
          input.destroy();
          resolve(line);
          return;
        }
        if (ch === '\u0003') {
          if (!echo) input.setRawMode(false);
          input.destroy();
          reject(new Error('interrupted'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') line = line.slice(0, -1);
        else line += ch;
      }
    });
  });
}


/** Prove our uid to ldmd: create the file it named, in its drop box, holding the nonce. */
export function proveIdentity(dir: string, nonce: string): void {
  try {
    const fd = fs.openSync(path.join(dir, nonce), fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o600);
    fs.writeSync(fd, nonce);
    fs.closeSync(fd);
  } catch {
    /* the daemon then refuses us */
  }
}

function readForDaemon(file: string, secret = false): { data?: string; error?: string } {
  try {
    if (secret) {
      // A password file others can read is no secret: refused, as ssh refuses loose key files.
      const st = fs.statSync(path.resolve(file));
      if (!st.isFile()) return { error: `Cannot read ${file}: not a regular file` };
      if (st.mode & 0o077) return { error: `Password file ${file} must not be accessible by group or others (mode ${(st.mode & 0o777).toString(8).padStart(3, '0')}); run chmod 600 ${file}` };
    }
    return { data: fs.readFileSync(path.resolve(file), 'utf8') };
  } catch (e: any) {
    const why = e.code === 'ENOENT' ? 'No such file or directory' : e.code === 'EISDIR' ? 'Is a directory' : e.code === 'EACCES' ? 'Permission denied' : e.message;
    return { error: `Cannot read ${file}: ${why}` };
  }
}

/** How a caller answers the daemon; the defaults are what `ldm` does. */
export interface Conversation {
  out(fd: 1 | 2, data: string): void;
  challenge?(dir: string, nonce: string): void;
  prompt?(text: string, echo: boolean): Promise<string>;
  /** Called once the request is written. */
  sent?(): void;
}

/** One request over an open socket: resolves with the exit status, or null if the daemon went away. */
export function converse(sock: net.Socket, request: Record<string, unknown>, c: Conversation): Promise<number | null> {
  return new Promise((resolve) => {
    let buf = '';
    let code: number | null = null;
    const send = (m: unknown) => sock.write(JSON.stringify(m) + '\n');
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line) continue;
        const msg = JSON.parse(line);
        switch (msg.type) {
          case 'challenge':
            (c.challenge ?? proveIdentity)(String(msg.dir), String(msg.nonce));
            send({ type: 'proved' });
            break;
          case 'out':
            c.out(msg.fd === 2 ? 2 : 1, String(msg.data));
            break;
          case 'readfile':
            send({ type: 'file', id: msg.id, ...readForDaemon(String(msg.path), msg.private === true) });
            break;
          case 'prompt':
            (c.prompt ?? promptLine)(String(msg.text), Boolean(msg.echo)).then(
              (text) => send({ type: 'answer', id: msg.id, text }),
              (e) => send({ type: 'answer', id: msg.id, error: e.message }),
            );
            break;
          case 'exit':
            code = Number(msg.code);
            break;
        }
      }
    });
    sock.on('close', () => resolve(code));
    sock.on('error', () => undefined);
    send(request);
    c.sent?.();
  });
}

/** Run one request as `ldm` does; resolves with the exit status after relaying all output. */
export async function runRequest(sock: net.Socket, request: Record<string, unknown>): Promise<number> {
  const code = await converse(sock, request, { out: (fd, data) => (fd === 2 ? process.stderr : process.stdout).write(data) });
  if (code === null) process.stderr.write('ldm: lost the connection to the Logical Domains Manager (ldmd); the command may or may not have completed\n');
  return code ?? 1;
}
