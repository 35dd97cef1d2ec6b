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
import { sendMemory } from '../migration/precopy.js';
import { dialMemoryStream } from '../migration/xmpp-dial.js';
import { faultDelay } from '../migration/faults.js';
import type { PmPolicy } from '../manager/types.js';
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

const CHANGES = new Set(['apply', 'sp-add', 'sp-remove', 'sp-next', 'pm-policy', 'power-cycle', 'migrate-send', 'migrate-cancel', 'migrate-resume']);

/** Operations that run beside the queue: a memory transfer lasts long and must stay cancellable. */
const BESIDE_QUEUE = new Set(['migrate-send', 'migrate-cancel']);

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
    next = settlePmPolicy(this.state, next);
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
        const after = await this.commit(r.state);
        const deferred = r.state.sp.pmPolicy === 'elastic' && after.sp.pmPolicy !== 'elastic' && after.sp.pendingPmPolicy === 'elastic';
        const note = deferred ? 'A domain migration is in progress: the elastic policy takes effect when it ends\n' : '';
        return { output: r.output + note, status: r.status };
      }
      case 'migrate-send':
        return this.migrateSend(msg, from);
      case 'migrate-cancel': {
        const ac = this.sends.get(String(msg.domain));
        ac?.abort(new Error('migration cancelled'));
        return { cancelled: ac !== undefined };
      }
      case 'migrate-resume':
        // A send still running for the domain (its ldmd restarted meanwhile) ends first: it must not
        // suspend the guest again after this.
        this.sends.get(String(msg.domain))?.abort(new Error('migration abandoned'));
        return this.setSuspended(String(msg.domain), false);
      case 'mem-checksum': {
        const mem = this.guests.memory(String(msg.name));
        if (!mem) throw new hv.MachineError(`domain ${String(msg.name)} has no memory bound`);
        return { checksum: await mem.checksum(), size: mem.size };
      }
      default:
        throw new hv.MachineError(`unknown operation ${String(msg.op)}`);
    }
  }

  // --- migration: this host's side of the memory transfer -------------------------------------

  private readonly sends = new Map<string, AbortController>();

  /**
   * Send a domain's memory to the target ldmd over the streams it authorised (docs/migration-design.md).
   * The guest keeps running during the pre-copy rounds and is suspended for the last one; it stays
   * suspended when this returns or fails: ldmd decides whether it runs here again.
   */
  private async migrateSend(msg: any, from?: net.Socket): Promise<unknown> {
    const name = String(msg.domain);
    const d = this.state.domains.find((x) => x.name === name);
    const mem = this.guests.memory(name);
    if (!d || d.state !== 'active' || !mem) throw new hv.MachineError(`domain ${name} is not active`);
    if (d.migration?.role !== 's') throw new hv.MachineError(`domain ${name} is not the source of a migration`);
    if (this.sends.has(name)) throw new hv.MachineError(`the memory of domain ${name} is already being sent`);
    const ac = new AbortController();
    this.sends.set(name, ac);
    const sockets: import('node:tls').TLSSocket[] = [];
    const count = Math.max(1, Math.min(Number(msg.streams) || 1, 16));
    try {
      const dialed = await Promise.allSettled(
        Array.from({ length: count }, (_, index) =>
          dialMemoryStream({ host: String(msg.host), port: Number(msg.port), localAddress: String(msg.localAddress), fingerprint: String(msg.fingerprint), token: String(msg.token), index }),
        ),
      );
      for (const r of dialed) if (r.status === 'fulfilled') sockets.push(r.value);
      const failed = dialed.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      if (ac.signal.aborted) throw new Error('migration cancelled');
      let last = -1;
      const stats = await sendMemory(mem, sockets, {
        downtimeTargetMs: Number(msg.downtimeTargetMs) || 300,
        maxRounds: Number(msg.maxRounds) || 30,
        compress: msg.compress === 'off' ? 'off' : 'auto',
        signal: ac.signal,
        pauseAfterRoundMs: faultDelay('LDOMS_FAULT_PAUSE_ROUND_MS', name),
        progress: (p) => {
          const percent = Math.floor(p.percent);
          if (percent === last || !from || from.destroyed) return;
          last = percent;
          writeMessage(from, { notify: { migration: { domain: name, ...p, percent } } });
        },
        suspend: async () => {
          await this.setSuspended(name, true);
        },
      });
      return stats;
    } finally {
      this.sends.delete(name);
      for (const s of sockets) setTimeout(() => s.destroy(), 2000).unref();
    }
  }

  /** Suspend or resume a migrating guest; recorded first, so a restart of this process keeps it so. */
  private async setSuspended(name: string, suspended: boolean): Promise<unknown> {
    const d = this.state.domains.find((x) => x.name === name);
    if (!d) throw new hv.MachineError(`domain ${name} is not bound`);
    // Only a migrating domain is ever suspended, and only while its mark says so.
    if (suspended && (d.migration?.role !== 's' || !this.sends.has(name))) throw new hv.MachineError(`domain ${name} is not being migrated`);
    if (d.migration && Boolean(d.migration.suspended) !== suspended) {
      const domains = this.state.domains.map((x) => (x.name === name ? { ...x, migration: { ...x.migration!, suspended } } : x));
      this.state = { ...this.state, domains };
      this.persist();
    }
    if (suspended) this.guests.suspend(name);
    else {
      this.guests.resume(name);
      await this.guests.sync();
    }
    return summary(this.state);
  }

  listen(): Promise<void> {
    fs.mkdirSync(path.dirname(this.paths.socket), { recursive: true });
    fs.rmSync(this.paths.socket, { force: true });
    const server = net.createServer((sock) => {
      sock.on('error', () => sock.destroy());
      readMessages(sock, (msg) => {
        if (BESIDE_QUEUE.has(msg.op)) {
          void this.handle(msg, sock).then(
            (result) => writeMessage(sock, { id: msg.id, result }),
            (e) => writeMessage(sock, { id: msg.id, error: e instanceof Error ? e.message : String(e) }),
          );
          return;
        }
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

/**
 * Seed, "Power management": a switch to the elastic policy while a domain migrates waits until the
 * migration ends. Applied to every state change, so whoever ends the migration also applies it.
 */
function settlePmPolicy(prev: MachineState, next: MachineState): MachineState {
  const migrating = next.domains.some((d) => d.migration && d.migration.role !== 'e');
  const asked: PmPolicy | undefined = next.sp.pmPolicy !== prev.sp.pmPolicy ? next.sp.pmPolicy : next.sp.pendingPmPolicy;
  if (migrating && asked === 'elastic') {
    if (next.sp.pmPolicy === prev.sp.pmPolicy && next.sp.pendingPmPolicy === 'elastic') return next;
    return { ...next, sp: { ...next.sp, pmPolicy: prev.sp.pmPolicy, pendingPmPolicy: 'elastic' } };
  }
  if (next.sp.pendingPmPolicy !== undefined && (!migrating || next.sp.pmPolicy !== prev.sp.pmPolicy)) {
    // The migration ended (or another policy was chosen since): the deferred switch happens now, or never.
    const { pendingPmPolicy, ...sp } = next.sp;
    return { ...next, sp: { ...sp, pmPolicy: next.sp.pmPolicy !== prev.sp.pmPolicy ? next.sp.pmPolicy : pendingPmPolicy } };
  }
  return next;
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
