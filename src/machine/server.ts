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
import { Guests } from './guests.js';
import { spCommand } from './sp.js';
import type { MachineChange, MachineDomain, MachineState } from './types.js';

export interface MachineHost {
  dir: string;
  name: string;
  address: string;
}

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

  readonly guests: Guests;

  constructor(
    private readonly paths: MachinePaths,
    platform: PlatformSpec,
    host: MachineHost,
    opts: { bootScale?: number; log?: (s: string) => void } = {},
  ) {
    const saved = readJson<MachineState>(paths.stateFile);
    this.state = saved ? { ...saved, poweredOff: saved.poweredOff ?? false } : hv.factoryState(platform, Date.now());
    if (!saved) this.persist();
    this.guests = new Guests(
      {
        state: () => this.state,
        update: (name, fn) => {
          const domains = this.state.domains.flatMap((d) => (d.name === name ? [fn(d)].filter((x): x is MachineDomain => x !== null) : [d]));
          this.state = { ...this.state, domains };
          this.persist();
          // The guest changed something on its own: tell ldmd at once rather than at its next look.
          if (this.manager && !this.manager.destroyed) writeMessage(this.manager, { notify: { domain: name } });
        },
        setVariable: (name, variable, value) => {
          // OpenBoot's setenv changes the domain's configuration: a change ldmd adopts (newer seq).
          const seq = this.state.appliedSeq + 1;
          const domains = this.state.domains.map((d) => {
            if (d.name !== name) return d;
            const vars = d.constraints.variables.filter((v) => v.name !== variable);
            const old = d.constraints.variables.findIndex((v) => v.name === variable);
            const entry = { name: variable, value };
            if (old >= 0) vars.splice(old, 0, entry);
            else vars.push(entry);
            return { ...d, constraints: { ...d.constraints, variables: vars }, seq };
          });
          this.state = { ...this.state, domains, appliedSeq: seq, sp: { ...this.state.sp, modified: true } };
          this.persist();
        },
      },
      { hostDir: host.dir, address: host.address, hostName: host.name, bootScale: opts.bootScale, log: opts.log },
    );
  }

  /** Bring guests, memories and consoles in line with the state (after start-up and every change). */
  async start(): Promise<void> {
    await this.guests.sync();
  }

  private persist(): void {
    writeJsonAtomic(this.paths.stateFile, this.state);
  }

  /** Run a state transition; persist before answering so an acknowledged change survives kill -9. */
  private async commit(next: MachineState, stopHow?: Map<string, 'graceful' | 'forced'>): Promise<MachineState> {
    if (next !== this.state) {
      this.state = next;
      this.persist();
      await this.guests.sync(stopHow);
    }
    return this.state;
  }

  private queue: Promise<void> = Promise.resolve();

  /** The connection of the ldmd now in charge; changes from any other are refused. */
  private manager: net.Socket | null = null;

  async handle(msg: any, from?: net.Socket): Promise<unknown> {
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
      case 'apply': {
        if (this.state.poweredOff) throw new hv.MachineError('refused: the host is powered off');
        const changes: MachineChange[] = msg.changes ?? [];
        const stopHow = new Map(changes.flatMap((c) => (c.kind === 'put' && c.stop ? [[c.name, c.stop] as const] : [])));
        const s = summary(await this.commit(hv.applyChanges(this.state, msg.seq, changes, now, msg.modifies !== false), stopHow));
        for (const c of changes) if (c.kind === 'panic') this.guests.panic(c.name);
        return s;
      }
      case 'sp-add':
        return summary(await this.commit(hv.addSpConfig(this.state, msg.name, msg.domains, now)));
      case 'sp-remove':
        return summary(await this.commit(hv.removeSpConfig(this.state, msg.name)));
      case 'sp-next':
        return summary(await this.commit(hv.setNextPoweron(this.state, msg.name)));
      case 'pm-policy':
        return summary(await this.commit(hv.setPmPolicy(this.state, msg.policy)));
      case 'power-cycle':
        return summary(await this.commit(hv.powerOn(this.state, now)));
      case 'sp': {
        const r = spCommand(this.state, Array.isArray(msg.argv) ? msg.argv.map(String) : [], now);
        await this.commit(r.state);
        return { output: r.output, status: r.status };
      }
      case 'mem-checksum': {
        const mem = this.guests.memory(String(msg.name));
        if (!mem) throw new hv.MachineError(`domain ${String(msg.name)} has no memory bound`);
        return { checksum: await mem.checksum(), size: mem.size };
      }
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
        // One request at a time across all connections (ldmd, the SP command line), in arrival
        // order, even though handling may wait for console listeners.
        this.queue = this.queue.then(async () => {
          let reply: Record<string, unknown>;
          try {
            reply = { id: msg.id, result: await this.handle(msg, sock) };
          } catch (e) {
            reply = { id: msg.id, error: e instanceof Error ? e.message : String(e) };
          }
          writeMessage(sock, reply);
        });
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

  async close(): Promise<void> {
    this.server?.close();
    await this.guests.close();
  }
}

/** What an apply returns: enough for ldmd to refresh runtime without re-reading the whole state. */
function summary(s: MachineState) {
  return { appliedSeq: s.appliedSeq, powerEpoch: s.powerEpoch, poweredOff: s.poweredOff, domains: s.domains, sp: spSummary(s) };
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
