// The target host's side of a migration: answers the source ldmd's requests on one authenticated
// XMPP session. The domain it builds is flagged `t` until the source commits; a session that ends
// (or an abort) before the commit discards it, so a source that vanishes leaves nothing behind.

import { randomBytes } from 'node:crypto';
import type tls from 'node:tls';
import { GuestMemory, memoryFileFor } from '../machine/guest-memory.js';
import type { Manager } from '../manager/manager.js';
import type { DomainRuntime } from '../manager/types.js';
import type { XmppPeer } from '../xml/xmpp/server.js';
import { reportLines, runChecks } from './checks.js';
import { hostSide } from './host-side.js';
import { faultPause } from './faults.js';
import { decodeRequest, encodeReply, type PeerOp } from './peer-protocol.js';
import { receiveMemory } from './precopy.js';
import type { HostSide, MigrationPlan, MigrationRequest } from './types.js';

/** Memory-stream tokens handed out by begin; the XML interface asks here when a stream arrives. */
export class StreamTokens {
  private readonly pending = new Map<string, { peer: string; count: number; sockets: (tls.TLSSocket | undefined)[]; done: (s: tls.TLSSocket[]) => void }>();

  issue(peer: string, count: number, done: (sockets: tls.TLSSocket[]) => void): string {
    const token = randomBytes(32).toString('hex');
    this.pending.set(token, { peer, count, sockets: new Array(count), done });
    return token;
  }

  revoke(token: string): void {
    const p = this.pending.get(token);
    this.pending.delete(token);
    for (const s of p?.sockets ?? []) s?.destroy();
  }

  /** The stream must come from the peer the token was given to, once per index. */
  adopt(attrs: Record<string, string>, peer: XmppPeer): ((s: tls.TLSSocket) => void) | null {
    const p = this.pending.get(attrs.token ?? '');
    const index = Number(attrs.index);
    if (!p || p.peer !== peer.address || !Number.isInteger(index) || index < 0 || index >= p.count || p.sockets[index]) return null;
    return (socket) => {
      p.sockets[index] = socket;
      if (p.sockets.filter(Boolean).length === p.count) {
        this.pending.delete(attrs.token!);
        p.done(p.sockets as tls.TLSSocket[]);
      }
    };
  }
}

export interface TargetSessionOptions {
  manager: Manager;
  tokens: StreamTokens;
  user: string;
  peer: XmppPeer;
  /** solaris.ldoms.write for this session's user. */
  mayWrite: boolean;
  send(xml: string): void;
  log(s: string): void;
}

interface Incoming {
  name: string;
  plan: MigrationPlan;
  source: string;
  committed: boolean;
  token: string | null;
  abort: AbortController;
  /** Settles when the memory arrived and was verified (live only). */
  memory: Promise<void> | null;
}

export class MigrationTargetSession {
  private incoming: Incoming | null = null;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly o: TargetSessionOptions) {}

  handle(xml: string): Promise<void> {
    // One request at a time, in order.
    this.queue = this.queue.then(() => this.handleOne(xml)).catch((e) => this.o.log(`migration: ${e instanceof Error ? e.stack ?? e.message : String(e)}`));
    return this.queue;
  }

  private async handleOne(xml: string): Promise<void> {
    const req = decodeRequest(xml);
    if (!req) {
      this.o.send(encodeReply(0, false, { message: 'malformed migration request' }));
      return;
    }
    try {
      if (!this.o.mayWrite) {
        throw new Error(`Authorization failed: user ${this.o.user} does not have the solaris.ldoms.write authorization on the target machine`);
      }
      const body = await this.run(req.op, req.body);
      this.o.send(encodeReply(req.id, true, body));
    } catch (e) {
      this.o.send(encodeReply(req.id, false, { message: e instanceof Error ? e.message : String(e) }));
    }
  }

  private async request(body: any, dryRun: boolean): Promise<MigrationRequest> {
    const source = body.source as HostSide;
    if (!source || typeof body.domain !== 'string' || typeof body.targetDomain !== 'string') throw new Error('malformed migration request');
    return { domain: body.domain, targetDomain: body.targetDomain, source, target: await hostSide(this.o.manager), dryRun };
  }

  private async run(op: PeerOp, body: any): Promise<unknown> {
    const m = this.o.manager;
    switch (op) {
      case 'hello':
        return { name: m.host.name, version: m.host.version };
      case 'check': {
        const req = await this.request(body, Boolean(body.dryRun));
        const { results } = runChecks(req);
        return reportLines(req, results);
      }
      case 'begin':
        return this.begin(body);
      case 'commit':
        return this.commit(body);
      case 'abort':
        await this.discard('the source abandoned the migration');
        return {};
    }
  }

  private async begin(body: any): Promise<unknown> {
    if (this.incoming) throw new Error('a migration is already under way on this session');
    const req = await this.request(body, false);
    const { results, plan } = runChecks(req);
    const report = reportLines(req, results);
    if (report.failed || !plan) return { ...report, failed: true };
    const m = this.o.manager;
    const name = plan.targetDomain;
    const streams = Math.max(1, Math.min(Number(body.streams) || 1, 16));
    const inc: Incoming = { name, plan, source: String(body.sourceName ?? req.source.name), committed: false, token: null, abort: new AbortController(), memory: null };
    this.incoming = inc;
    m.migrations.set(name, { role: 't', cancel: (why) => void this.discard(why) });
    try {
      if (plan.binding) {
        await m.mutate(
          (draft) => {
            draft.domains.push({
              constraints: plan.constraints,
              state: 'bound',
              binding: { ...plan.binding!, ...(plan.reservedStrands.length ? { reserved: plan.reservedStrands } : {}) },
              migration: { role: 't', peer: inc.source, phase: 'transfer', progress: 0 },
            });
          },
          { migration: true, modifies: true },
        );
      }
    } catch (e) {
      this.incoming = null;
      m.migrations.delete(name);
      throw e;
    }
    if (plan.kind !== 'live') return { ...report, token: null };
    let settle!: (s: tls.TLSSocket[]) => void;
    const arrived = new Promise<tls.TLSSocket[]>((r) => (settle = r));
    inc.token = this.o.tokens.issue(this.o.peer.address, streams, settle);
    const size = plan.binding!.mblocks.reduce((n, b) => n + b.size, 0);
    inc.memory = (async () => {
      const sockets = await Promise.race([
        arrived,
        new Promise<never>((_, reject) => inc.abort.signal.addEventListener('abort', () => reject(new Error('migration abandoned')), { once: true })),
      ]);
      const mem = GuestMemory.open(memoryFileFor(m.host.dir, name), size);
      try {
        await receiveMemory(mem, sockets, { signal: inc.abort.signal });
      } finally {
        mem.close();
        for (const s of sockets) setTimeout(() => s.destroy(), 2000).unref();
      }
    })();
    inc.memory.catch(() => undefined);
    return { ...report, token: inc.token, streams };
  }

  private async commit(body: any): Promise<unknown> {
    const inc = this.incoming;
    if (!inc || inc.committed) throw new Error('no migration to commit on this session');
    if (inc.memory) await inc.memory;
    const plan = inc.plan;
    const m = this.o.manager;
    const runtime = body.runtime as DomainRuntime | null;
    await m.mutate(
      (draft) => {
        if (!plan.binding) {
          draft.domains.push({ constraints: plan.constraints, state: 'inactive', binding: null });
          return;
        }
        const d = draft.domains.find((x) => x.constraints.name === inc.name);
        if (!d || !d.binding) throw new Error(`the domain ${inc.name} being received is gone`);
        d.migration = null;
        if (plan.kind === 'live') {
          d.state = 'active';
          d.binding.crypto = plan.crypto.addAfter;
          d.arriving = {
            ...(runtime ?? { softstate: 'Solaris running', osFlag: 'n', startedAt: Date.now(), util: 0 }),
            migrated: { cpuDrDisabled: plan.cpuDrDisabledUntilReboot, memoryDrDisabled: plan.memoryDrDisabledUntilReboot },
          };
        }
      },
      { migration: true, action: 'migrate-domain' },
    );
    inc.committed = true;
    await faultPause('LDOMS_FAULT_PAUSE_AFTER_COMMIT_MS', inc.name);
    this.incoming = null;
    m.migrations.delete(inc.name);
    m.setProgress(inc.name, null);
    this.o.log(`migration: LDom ${inc.name} received from ${inc.source}`);
    return {};
  }

  /** Throw away what was received: before the commit the source still has the domain. */
  async discard(why: string): Promise<void> {
    const inc = this.incoming;
    if (!inc || inc.committed) return;
    this.incoming = null;
    inc.abort.abort(new Error(why));
    if (inc.token) this.o.tokens.revoke(inc.token);
    await inc.memory?.catch(() => undefined);
    const m = this.o.manager;
    this.o.log(`migration: LDom ${inc.name} from ${inc.source} discarded: ${why}`);
    try {
      await discardIncoming(m, inc.name);
    } finally {
      m.migrations.delete(inc.name);
      m.setProgress(inc.name, null);
    }
  }

  /** The session ended: anything not committed goes. */
  close(): void {
    void this.discard('the connection with the source machine was lost').catch((e) => this.o.log(`migration: discard failed: ${e instanceof Error ? e.message : String(e)}`));
  }
}

/** Remove a domain flagged `t` (its memory file goes with its binding). */
export async function discardIncoming(m: Manager, name: string): Promise<void> {
  await m.mutate(
    (draft) => {
      const i = draft.domains.findIndex((d) => d.constraints.name === name);
      if (i >= 0 && draft.domains[i].migration?.role === 't') draft.domains.splice(i, 1);
    },
    { migration: true, modifies: true },
  );
}
