// The `ldm` protocol spoken directly from a test: the same requests the binary sends, without
// starting a process per command (for long randomized runs).

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { RunResult } from './hosts.js';

export function rawLdm(socketPath: string, argv: string[], opts: { timeoutMs?: number; onSent?: () => void } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const sock = net.createConnection(socketPath);
    let buf = '';
    let stdout = '';
    let stderr = '';
    let code = -1;
    const timer = setTimeout(() => sock.destroy(), opts.timeoutMs ?? 30_000);
    const send = (m: unknown) => sock.write(JSON.stringify(m) + '\n');
    sock.setEncoding('utf8');
    sock.on('connect', () => {
      send({ type: 'run', argv, tty: {} });
      opts.onSent?.();
    });
    sock.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (msg.type === 'challenge') {
          fs.writeFileSync(path.join(msg.dir, msg.nonce), msg.nonce, { flag: 'wx', mode: 0o600 });
          send({ type: 'proved' });
        } else if (msg.type === 'out') {
          if (msg.fd === 2) stderr += msg.data;
          else stdout += msg.data;
        } else if (msg.type === 'exit') code = msg.code;
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
