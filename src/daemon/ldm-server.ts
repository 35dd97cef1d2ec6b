// ldmd's local socket: the `ldm` command's way in. One connection runs one command; the daemon
// streams stdout/stderr back and ends with the exit status. The daemon may ask the client to read
// a file or to prompt on its terminal, so that both happen with the caller's rights and terminal.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Authorization, CommandContext } from '../commands/types.js';
import { readMessages, writeMessage } from '../ipc/jsonl.js';
import { UserError } from '../manager/errors.js';
import type { Manager } from '../manager/manager.js';
import { isAuthorized, newChallenge, prepareDropBox, userName, verifyChallenge } from './auth.js';
import { authorizationFailed, runArgv } from './run-command.js';

export interface ServerOptions {
  socket: string;
  authDir: string;
  userAttr: string;
  log: (text: string) => void;
}

/** Requests of `ldoms` (host administration) that are not `ldm` subcommands. */
export type AdminHandler = (op: string, ctx: CommandContext) => Promise<void>;

interface SessionState {
  nonce: string | null;
  request: any;
  waiting: Map<number, (msg: any) => void>;
  /** Aborted when the client's connection closes (its process ended or was killed). */
  gone: AbortController;
}

export class LdmServer {
  private server: net.Server | null = null;

  constructor(
    private readonly manager: Manager,
    private readonly opts: ServerOptions,
    private readonly admin: AdminHandler,
  ) {}

  listen(): Promise<void> {
    fs.mkdirSync(path.dirname(this.opts.socket), { recursive: true });
    fs.rmSync(this.opts.socket, { force: true });
    prepareDropBox(this.opts.authDir);
    const server = net.createServer((sock) => this.session(sock));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.socket, () => {
        // Anyone may connect; what they may do is decided per request from their proven uid.
        fs.chmodSync(this.opts.socket, 0o666);
        resolve();
      });
    });
  }

  close(): void {
    this.server?.close();
  }

  private session(sock: net.Socket): void {
    const state: SessionState = { nonce: null, request: null, waiting: new Map(), gone: new AbortController() };
    const waiting = state.waiting;
    let nextId = 1;
    let closed = false;
    sock.on('error', () => sock.destroy());
    sock.on('close', () => {
      closed = true;
      state.gone.abort(new Error('the ldm command was interrupted'));
      for (const w of waiting.values()) w({ error: 'client went away' });
    });

    const ask = (msg: Record<string, unknown>): Promise<any> => {
      if (closed) return Promise.reject(new UserError('client went away'));
      const id = nextId++;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        writeMessage(sock, { ...msg, id });
      });
    };

    readMessages(sock, (msg) => {
      try {
        this.onMessage(sock, msg, state, ask);
      } catch (e) {
        // One broken client must not take the daemon down for everyone else.
        this.opts.log(`dropping a client: ${e instanceof Error ? e.message : String(e)}`);
        sock.destroy();
      }
    });
  }

  private onMessage(sock: net.Socket, msg: any, state: SessionState, ask: (m: Record<string, unknown>) => Promise<any>): void {
    if (typeof msg !== 'object' || msg === null) throw new Error('malformed message');
    if (msg.type === 'run' && state.request === null) {
      state.request = msg;
      state.nonce = newChallenge();
      writeMessage(sock, { type: 'challenge', dir: this.opts.authDir, nonce: state.nonce });
      return;
    }
    if (msg.type === 'proved' && state.request && state.nonce) {
      const uid = verifyChallenge(this.opts.authDir, state.nonce);
      state.nonce = null;
      void this.execute(sock, state.request, uid, ask, state.gone.signal);
      return;
    }
    const w = state.waiting.get(msg.id);
    if ((msg.type === 'file' || msg.type === 'answer') && w) {
      state.waiting.delete(msg.id);
      w(msg);
    }
  }

  private async execute(sock: net.Socket, req: any, uid: number | null, ask: (m: Record<string, unknown>) => Promise<any>, signal: AbortSignal): Promise<void> {
    const out = (text: string) => writeMessage(sock, { type: 'out', fd: 1, data: text });
    const err = (text: string) => writeMessage(sock, { type: 'out', fd: 2, data: text });
    const exit = (code: number) => {
      writeMessage(sock, { type: 'exit', code });
      sock.end();
    };
    if (uid === null) {
      err('Authorization failed: the caller could not be identified\n');
      return exit(1);
    }
    const user = userName(uid);
    const argv: string[] = Array.isArray(req.argv) ? req.argv.map(String) : [];
    const ctx: CommandContext = {
      manager: this.manager,
      user,
      isTTY: Boolean(req.tty?.stderr),
      out,
      err,
      async prompt(text, echo) {
        const r = await ask({ type: 'prompt', text, echo });
        if (r.error) throw new UserError(String(r.error));
        return String(r.text ?? '');
      },
      async readFile(file) {
        const r = await ask({ type: 'readfile', path: file });
        if (r.error) throw new UserError(String(r.error));
        return String(r.data);
      },
      async readPrivateFile(file) {
        const r = await ask({ type: 'readfile', path: file, private: true });
        if (r.error) throw new UserError(String(r.error));
        return String(r.data);
      },
      signal,
      log: this.opts.log,
    };
    const authorized = (a: Authorization) => isAuthorized(uid, user, a, this.opts.userAttr);
    if (req.admin) {
      const admin = async () => {
        if (!authorized('solaris.ldoms.write')) throw authorizationFailed(user, 'solaris.ldoms.write');
        await this.admin(String(req.admin), ctx);
      };
      try {
        await admin();
        return exit(0);
      } catch (e) {
        err(`${e instanceof Error ? e.message : String(e)}\n`);
        return exit(1);
      }
    }
    exit(await runArgv(argv, ctx, authorized, this.opts.log));
  }
}
