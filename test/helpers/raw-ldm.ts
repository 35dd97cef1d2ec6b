// The `ldm` protocol spoken directly from a test: the same requests the binary sends, without
// starting a process per command (for long randomized runs).

import net from 'node:net';
import { converse, type Conversation } from '../../src/cli/client.js';
import type { RunResult } from './hosts.js';

export function rawLdm(
  socketPath: string,
  argv: string[],
  opts: { timeoutMs?: number; onSent?: () => void; challenge?: Conversation['challenge'] } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const sock = net.createConnection(socketPath);
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => sock.destroy(), opts.timeoutMs ?? 30_000);
    sock.once('error', () => resolve({ code: -1, stdout, stderr }));
    sock.once('connect', () => {
      converse(sock, { type: 'run', argv, tty: {} }, {
        out: (fd, data) => (fd === 2 ? (stderr += data) : (stdout += data)),
        challenge: opts.challenge,
        sent: opts.onSent,
      }).then((code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, stdout, stderr });
      });
    });
  });
}
