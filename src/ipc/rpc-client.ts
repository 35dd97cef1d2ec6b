// Request/response over a JSON-lines socket: each request carries an id, each reply echoes it.

import net from 'node:net';
import { readMessages, writeMessage } from './jsonl.js';

export class RpcError extends Error {}

export class RpcClient {
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private closed = false;
  private readonly notifyListeners = new Set<(what: unknown) => void>();

  /** Messages the server sends on its own (not replies): `{ notify: ... }`. */
  onNotify(listener: (what: unknown) => void): void {
    this.notifyListeners.add(listener);
  }

  private constructor(private readonly sock: net.Socket) {
    readMessages(sock, (msg) => {
      if (msg.notify !== undefined) {
        for (const l of this.notifyListeners) l(msg.notify);
        return;
      }
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new RpcError(String(msg.error)));
      else p.resolve(msg.result);
    });
    const fail = (err?: Error) => {
      this.closed = true;
      for (const p of this.pending.values()) p.reject(new RpcError(err?.message ?? 'connection closed'));
      this.pending.clear();
    };
    sock.on('error', fail);
    sock.on('close', () => fail());
  }

  static connect(path: string, timeoutMs = 5000): Promise<RpcClient> {
    return new Promise((resolve, reject) => {
      const sock = net.createConnection(path);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new RpcError(`timed out connecting to ${path}`));
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        resolve(new RpcClient(sock));
      });
      sock.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  call<T = any>(op: string, params: Record<string, unknown> = {}): Promise<T> {
    if (this.closed) return Promise.reject(new RpcError('connection closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      writeMessage(this.sock, { id, op, ...params });
    });
  }

  close(): void {
    this.sock.end();
  }
}
