// Newline-delimited JSON over a stream socket: the framing every local channel of the project
// uses (ldm <-> ldmd, ldmd <-> machine process). One message per line; a line longer than the
// cap ends the connection, so a hostile or broken peer cannot make the reader buffer forever.

import type { Socket } from 'node:net';

export const MAX_LINE = 16 * 1024 * 1024;

export function writeMessage(sock: Socket, msg: unknown): boolean {
  if (sock.destroyed || !sock.writable) return false;
  return sock.write(JSON.stringify(msg) + '\n');
}

/** Calls `onMessage` for every complete JSON line; malformed lines end the connection. */
export function readMessages(sock: Socket, onMessage: (msg: any) => void): void {
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('data', (chunk: string) => {
    buf += chunk;
    if (buf.length > MAX_LINE && buf.indexOf('\n') < 0) {
      sock.destroy(new Error('message too long'));
      return;
    }
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.trim()) continue;
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        sock.destroy(new Error('malformed message'));
        return;
      }
      onMessage(msg);
    }
  });
}
