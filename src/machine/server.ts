// The machine process: one per host. It owns the modelled hypervisor and service processor state,
// persists it after every change, and serves ldmd over a Unix socket. It outlives ldmd: killing
// ldmd leaves every bound and running domain where it was.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { readMessages, writeMessage } from '../ipc/jsonl.js';
import type { PlatformSpec } from '../platform/types.js';
import { readJson, writeJsonAtomic } from './persist.js';
import * as hv from './hypervisor.js';
import type { MachineState } from './types.js';

export interface MachinePaths {
  stateFile: string;
  socket: string;
}

export function machinePaths(hostDir: string): MachinePaths {
  return { stateFile: path.join(hostDir, 'machine.json'), socket: path.join(hostDir, 'run', 'machine.sock') };
}

const CHANGES = new Set(['apply', 'sp-add', 'sp-remove', 'sp-next', 'pm-policy', 'power-cycle']);

export class MachineServer {
  private state: MachineState;
  private server: net.Server | null = null;

  constructor(private readonly paths: MachinePaths, platform: PlatformSpec) {
    const saved = readJson<MachineState>(paths.stateFile);
    this.state = saved ?? hv.factoryState(platform, Date.now());
    if (!saved) this.persist();
  }

  private persist(): void {
    writeJsonAtomic(this.paths.stateFile, this.state);
  }

  /** Run a state transition; persist before answering so an acknowledged change survives kill -9. */
  private commit(next: MachineState): MachineState {
    if (next !== this.state) {
      this.state = next;
      this.persist();
    }
    return this.state;
  }

  /** The connection of the ldmd now in charge; changes from any other are refused. */
  private manager: net.Socket | null = null;

  handle(msg: any, from?: net.Socket): unknown {
    const now = Date.now();
    if (msg.op === 'attach') {
      // A restarted ldmd takes over. A request its killed predecessor left in the socket buffer can
      // still arrive after this; it must not change anything behind the new ldmd's back.
      this.manager = from ?? null;
      return { appliedSeq: this.state.appliedSeq };
    }
    if (CHANGES.has(msg.op) && from !== undefined && from !== this.manager) {
      throw new hv.MachineError('refused: the connection is not the one of the ldmd in charge');
    }
    switch (msg.op) {
      case 'state':
        return this.state;
      case 'domains':
        return summary(this.state);
      case 'apply':
        return summary(this.commit(hv.applyChanges(this.state, msg.seq, msg.changes ?? [], now, msg.modifies !== false)));
      case 'sp-add':
        return summary(this.commit(hv.addSpConfig(this.state, msg.name, msg.domains, now)));
      case 'sp-remove':
        return summary(this.commit(hv.removeSpConfig(this.state, msg.name)));
      case 'sp-next':
        return summary(this.commit(hv.setNextPoweron(this.state, msg.name)));
      case 'pm-policy':
        return summary(this.commit(hv.setPmPolicy(this.state, msg.policy)));
      case 'power-cycle':
        return summary(this.commit(hv.powerOn(this.state, now)));
      default:
        throw new hv.MachineError(`unknown operation ${String(msg.op)}`);
    }
  }

  listen(): Promise<void> {
    fs.mkdirSync(path.dirname(this.paths.socket), { recursive: true });
    fs.rmSync(this.paths.socket, { force: true });
    const server = net.createServer((sock) => {
      sock.on('error', () => sock.destroy());
      readMessages(sock, (msg) => {
        let reply: Record<string, unknown>;
        try {
          reply = { id: msg.id, result: this.handle(msg, sock) };
        } catch (e) {
          reply = { id: msg.id, error: e instanceof Error ? e.message : String(e) };
        }
        writeMessage(sock, reply);
      });
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.paths.socket, () => {
        fs.chmodSync(this.paths.socket, 0o600);
        resolve();
      });
    });
  }

  close(): void {
    this.server?.close();
  }
}

/** What an apply returns: enough for ldmd to refresh runtime without re-reading the whole state. */
function summary(s: MachineState) {
  return { appliedSeq: s.appliedSeq, powerEpoch: s.powerEpoch, domains: s.domains, sp: spSummary(s) };
}

export function spSummary(s: MachineState) {
  return {
    configs: s.sp.configs.map((c) => c.name),
    current: s.sp.current,
    nextPoweron: s.sp.nextPoweron,
    modified: s.sp.modified,
    pmPolicy: s.sp.pmPolicy,
  };
}
