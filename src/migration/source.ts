// The source host's side of `ldm migrate-domain`: log in to the target ldmd, have it run the
// phase-1 checks, then (not a dry run) mark the domain `s`, let the target build its copy, move
// the memory (the machine process sends it: the guest's dirty log lives there), and hand over.
// Every failure before the commit leaves the domain running here and nothing on the target; a
// link lost during the commit leaves the error state `e` (migration.md §5.8).

import os from 'node:os';
import type { Manager } from '../manager/manager.js';
import { UserError } from '../manager/errors.js';
import type { DomainRuntime, MigrationMark } from '../manager/types.js';
import { XMPP_PORT } from '../daemon/xml-service.js';
import { hostProperty } from '../host/config.js';
import { summaryLine } from './checks.js';
import { faultPause } from './faults.js';
import { hostSide, resolveTarget } from './host-side.js';
import { decodeReply, encodeRequest, type PeerOp } from './peer-protocol.js';
import { streamCountFor, type PrecopyStats } from './precopy.js';
import { AuthenticationError, dialPeer, type PeerLink } from './xmpp-dial.js';

export interface MigrateRequest {
  domain: string;
  /** As given: a host name of this installation or an address. */
  targetHost: string;
  targetUser: string;
  targetDomain: string;
  password: string;
  dryRun: boolean;
  force: boolean;
  /** Lines for standard output (the checks' warnings and reasons). */
  say(line: string): void;
  /** Percent done, for a progress line on a terminal. */
  progress?(percent: number): void;
  /** Aborted when the `ldm` process that asked goes away. */
  signal: AbortSignal;
  log(s: string): void;
}

/** How long the target may take to answer one request (checks, bind, commit). */
const REQUEST_TIMEOUT_MS = 120_000;

/** Knobs of the pre-copy engine (docs/migration-engine.md). */
export const PRECOPY = { downtimeTargetMs: 300, maxRounds: 30 };

export class MigrationFailed extends UserError {}

/** Connection failure to the target's ldmd [M]: what to look at on the target. */
export function connectionFailedMessage(target: string): string {
  return (
    `Failed to establish connection with ldmd(1m) on target: ${target}\n` +
    `Check that the 'ldmd' service is enabled on the target machine and\n` +
    `that the version supports Domain Migration. Check that the 'xmpp_enabled'\n` +
    `property of the 'ldmd' service on the target machine is set to 'true'.`
  );
}

class Peer {
  private nextId = 1;
  constructor(
    readonly link: PeerLink,
    /** The address the link was dialled to (a relay, perhaps): the memory streams go there too. */
    readonly address: string,
  ) {}

  async request(op: PeerOp, body: unknown): Promise<any> {
    const id = this.nextId++;
    this.link.send(encodeRequest(id, op, body));
    for (;;) {
      const el = await this.link.next(REQUEST_TIMEOUT_MS, `target ${op}`);
      const r = decodeReply(el.source);
      if (!r) throw new Error(`unexpected answer from the target: <${el.name}>`);
      if (r.id !== id) continue;
      if (!r.ok) throw new PeerRefusal(String(r.body?.message ?? 'refused'));
      return r.body;
    }
  }
}

/** The target said no (its words are shown as they are). */
class PeerRefusal extends Error {}

/** The target's checks failed: their lines, summary included. */
class ChecksFailed extends MigrationFailed {}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timed out')), ms).unref())]);
}

export async function migrateDomain(m: Manager, r: MigrateRequest): Promise<void> {
  const name = r.domain;
  const failed = (...lines: string[]) => new MigrationFailed([...lines, summaryLine(name, r.dryRun)].join('\n'));
  if (hostProperty(m.host, 'ldmd/xmpp_enabled') !== 'true') {
    throw failed(`Domain migration needs the XML interface of this machine: ldmd/xmpp_enabled is false`);
  }
  const address = resolveTarget(m.host, r.targetHost);
  if (!address) throw failed(`Unknown target host: ${r.targetHost}`);
  if (address === m.host.address) throw failed('The target machine is this machine: a domain can only migrate to another host');

  let link: PeerLink;
  try {
    link = await dialPeer({ host: address, port: XMPP_PORT, localAddress: m.host.address, user: r.targetUser, password: r.password, timeoutMs: 15_000 });
  } catch (e) {
    if (e instanceof AuthenticationError) throw failed(`Authentication failed: invalid user name or password for ${r.targetUser} on target machine ${r.targetHost}`);
    r.log(`migration: ${e instanceof Error ? e.message : String(e)}`);
    throw failed(connectionFailedMessage(r.targetHost));
  }
  const peer = new Peer(link, address);
  const abort = new AbortController();
  const onLost = (why: Error) => abort.abort(new Error(`the connection with the target machine was lost (${why.message})`));
  link.onClose(onLost);
  const onCancel = () => abort.abort(r.signal.reason instanceof Error ? r.signal.reason : new Error('migration cancelled'));
  r.signal.addEventListener('abort', onCancel, { once: true });
  try {
    try {
      await peer.request('hello', { name: m.host.name, version: m.host.version });
    } catch (e) {
      // The target's refusal (authorization) or a link that died at once: its words, then the summary.
      throw failed(e instanceof Error ? e.message : String(e));
    }
    const source = await hostSide(m);
    const subject = { domain: name, targetDomain: r.targetDomain, source, dryRun: r.dryRun, force: r.force, sourceName: m.host.name };
    if (r.dryRun) {
      const report = await peer.request('check', subject);
      if (report.failed) throw new MigrationFailed((report.lines as string[]).join('\n'));
      for (const line of report.lines as string[]) r.say(line);
      return;
    }
    if (m.migrations.has(name)) throw failed(`LDom ${name} is already being migrated`);
    await run(m, r, peer, subject, abort, failed);
  } finally {
    r.signal.removeEventListener('abort', onCancel);
    link.close();
  }
}

async function run(
  m: Manager,
  r: MigrateRequest,
  peer: Peer,
  subject: Record<string, unknown> & { source: Awaited<ReturnType<typeof hostSide>> },
  abort: AbortController,
  failed: (...lines: string[]) => MigrationFailed,
): Promise<void> {
  const name = r.domain;
  const d = subject.source.view.domains.find((x) => x.constraints.name === name);
  const live = d?.state === 'active';
  const primary = subject.source.view.domains.find((x) => x.constraints.name === 'primary');
  const streams = streamCountFor(primary?.binding?.strands.length ?? 1, os.availableParallelism());
  let handingOver = false;
  m.migrations.set(name, {
    role: 's',
    cancel: (why) => {
      // Once the target was asked to take over, only the target knows whether it did: too late.
      if (handingOver) throw new UserError(`The migration of LDom ${name} is handing over to ${r.targetHost} and can no longer be cancelled`);
      abort.abort(new Error(why));
    },
  });
  const mark: MigrationMark = { role: 's', peer: r.targetHost, phase: 'transfer', progress: 0 };
  let marked = false;
  let committed = false;
  let suspended = false;
  let cryptoRemoved: number[] = [];
  const events = (status: string, percent: number) => m.emit({ class: 'progress', action: 'migration-process', domain: name, progress: { percent, status, source: m.host.name } });
  const stopProgress = m.onMigrationProgress((domain, p) => {
    if (domain !== name) return;
    m.setProgress(name, p.percent);
    r.progress?.(p.percent);
    events('ongoing', p.percent);
  });
  try {
    // Phase 1 and 2: the target checks again against its state of now and builds its copy.
    const begun = await withAbort(abort.signal, peer.request('begin', { ...subject, streams }));
    if (begun.failed) throw new ChecksFailed((begun.lines as string[]).join('\n'));
    for (const line of begun.lines as string[]) r.say(line);
    if (d && d.state !== 'inactive') {
      await m.setMigrationMark(name, mark);
      marked = true;
    }
    events('ongoing', 0);
    let stats: (PrecopyStats & { checksumAtSuspend: string }) | null = null;
    if (live) {
      // Seed, "Crypto units": the guest gives its units up before the move.
      cryptoRemoved = await removeCrypto(m, name);
      stats = await withAbort(
        abort.signal,
        m.machineCall<PrecopyStats & { checksumAtSuspend: string }>('migrate-send', {
          domain: name,
          host: peer.address,
          port: XMPP_PORT,
          localAddress: m.host.address,
          fingerprint: peer.link.fingerprint,
          token: begun.token,
          streams: begun.streams,
          ...PRECOPY,
        }),
        () => void m.machineCall('migrate-cancel', { domain: name }).catch(() => undefined),
      );
      suspended = true;
      r.log(
        `migration: LDom ${name} memory sent in ${stats.rounds} rounds, ${Math.round(stats.totalMs)} ms, downtime ${Math.round(stats.downtimeMs)} ms, ` +
          `${stats.pagesSent} pages, ${stats.bytesOnWire} bytes on the wire, checksum ${stats.checksumAtSuspend.slice(0, 16)}, ` +
          `final round ${stats.finalPages} pages ${stats.finalBytes} bytes, stop ${stats.stopReason}, verify ${Math.round(stats.verifyMs)} ms`,
      );
    }
    // From here only the target knows whether it took over if the link goes.
    if (abort.signal.aborted) throw abort.signal.reason;
    handingOver = true;
    if (marked) await m.setMigrationMark(name, { ...mark, phase: 'committing', progress: 100, ...(suspended ? { suspended: true } : {}) });
    m.setProgress(name, 100);
    if (abort.signal.aborted) throw abort.signal.reason;
    await faultPause('LDOMS_FAULT_PAUSE_BEFORE_COMMIT_MS', name);
    const runtime: DomainRuntime | null = live ? ((await m.view()).domains.find((x) => x.constraints.name === name)?.runtime ?? null) : null;
    try {
      await peer.request('commit', { runtime });
    } catch (e) {
      if (e instanceof PeerRefusal) throw e; // the target refused: it did not take over
      await m.setMigrationMark(name, { ...mark, role: 'e', phase: 'committing', progress: 100, ...(suspended ? { suspended: true } : {}) });
      marked = false; // the error state stays for the operator (§5.8)
      throw failed(`The connection with the target machine was lost before it confirmed that LDom ${r.targetDomain} resumed there`, `LDom ${name} is left in an error state: check the target machine, then destroy LDom ${name} here or run ldm cancel-operation migration ${name}`);
    }
    // The target runs the domain now: the copy here must never run again, whatever fails next (a
    // removal that cannot finish leaves the mark, which recovery turns into the error state).
    marked = false;
    committed = true;
    if (stats) {
      // The audit the engine leaves to us, done while the guest already runs on the target: the
      // suspended copy here, read afresh, must have the digest of what the target received.
      const audit = await m.machineCall<{ checksum: string }>('mem-checksum', { name });
      if (audit.checksum !== stats.checksumAtSuspend) {
        await m.setMigrationMark(name, { ...mark, role: 'e', phase: 'committing', progress: 100, suspended: true });
        throw failed(
          `The memory LDom ${r.targetDomain} resumed with on target machine ${r.targetHost} differs from the memory of LDom ${name} at suspension (digest ${stats.checksumAtSuspend.slice(0, 16)}, here ${audit.checksum.slice(0, 16)})`,
          `LDom ${name} is left in an error state: stop LDom ${r.targetDomain} on the target and run ldm cancel-operation migration ${name} here, or destroy LDom ${name} here`,
        );
      }
      r.log(`migration: LDom ${name}: memory at suspension audited equal to what the target received (${audit.checksum.slice(0, 16)})`);
    }
    await m.mutate(
      (draft) => {
        const i = draft.domains.findIndex((x) => x.constraints.name === name);
        if (i >= 0) draft.domains.splice(i, 1);
      },
      { migration: true, action: 'migrate-domain' },
    );
    events('done', 100);
  } catch (e) {
    events('failed', m.migrationProgress(name));
    if (committed) {
      if (e instanceof MigrationFailed) throw e;
      r.log(`migration: LDom ${name} runs on ${r.targetHost}, but its copy here could not be removed: ${e instanceof Error ? e.message : String(e)}`);
      await m.setMigrationMark(name, { ...mark, role: 'e', phase: 'committing', progress: 100, suspended: true }).catch(() => undefined);
      throw failed(`LDom ${r.targetDomain} now runs on target machine ${r.targetHost}, but the copy of LDom ${name} here could not be removed: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!(e instanceof ChecksFailed)) await withTimeout(peer.request('abort', {}), 10_000).catch(() => undefined);
    if (marked) await restore(m, name, cryptoRemoved).catch((x) => r.log(`migration: restoring ${name}: ${x instanceof Error ? x.message : String(x)}`));
    if (e instanceof MigrationFailed) throw e;
    if (e instanceof PeerRefusal) throw failed(e.message);
    const why = e instanceof Error ? e.message : String(e);
    throw failed(reason(why));
  } finally {
    stopProgress();
    m.migrations.delete(name);
    m.setProgress(name, null);
  }
}

/** The reason line of a failure that is not a check's. */
function reason(why: string): string {
  if (/cancel/i.test(why)) return 'Migration cancelled';
  return `Migration failed: ${why}`;
}

/** Reject with the signal's reason as soon as it aborts (and run `onAbort`), else settle as `p`. */
function withAbort<T>(signal: AbortSignal, p: Promise<T>, onAbort?: () => void): Promise<T> {
  if (signal.aborted) {
    onAbort?.();
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const stop = () => {
      onAbort?.();
      reject(signal.reason);
    };
    signal.addEventListener('abort', stop, { once: true });
    p.then(
      (v) => (signal.removeEventListener('abort', stop), resolve(v)),
      (e) => (signal.removeEventListener('abort', stop), reject(e)),
    );
  });
}

/** Take the domain's crypto units away (the guest OS supports it: the checks made sure). */
async function removeCrypto(m: Manager, name: string): Promise<number[]> {
  let removed: number[] = [];
  await m.mutate(
    (draft) => {
      const d = draft.domains.find((x) => x.constraints.name === name);
      if (!d?.binding || !d.binding.crypto.length) return;
      removed = d.binding.crypto;
      d.binding.crypto = [];
    },
    { migration: true, modifies: false },
  );
  return removed;
}

/** The migration did not happen: the domain runs here again, with its crypto units. */
export async function restore(m: Manager, name: string, crypto: number[]): Promise<void> {
  await m.machineCall('migrate-resume', { domain: name });
  await m.mutate(
    (draft) => {
      const d = draft.domains.find((x) => x.constraints.name === name);
      if (!d) return;
      d.migration = null;
      if (d.binding && crypto.length) {
        const taken = new Set(draft.domains.flatMap((x) => (x === d ? [] : x.binding?.crypto ?? [])));
        d.binding.crypto = [...d.binding.crypto, ...crypto.filter((c) => !taken.has(c))];
      }
    },
    { migration: true, modifies: false },
  );
}

/**
 * After a restart of ldmd or of the machine process: marks of migrations nobody runs any more. A
 * target copy goes; a source still transferring runs again (its target, having lost the link,
 * discarded its copy); a source that was committing enters the error state (§5.8).
 */
export async function recoverMigrations(m: Manager, log: (s: string) => void): Promise<void> {
  const { discardIncoming } = await import('./target.js');
  for (const { name, mark } of await m.strayMigrationMarks()) {
    try {
      if (mark.role === 't') {
        log(`migration: discarding LDom ${name}, the unfinished copy of a migration from ${mark.peer}`);
        await discardIncoming(m, name);
      } else if (mark.role === 's' && mark.phase === 'transfer') {
        log(`migration: LDom ${name} was migrating to ${mark.peer} when it was interrupted; it runs here again`);
        await restore(m, name, []);
      } else if (mark.role === 's') {
        log(`migration: LDom ${name} was handing over to ${mark.peer} when it was interrupted; it enters the error state`);
        await m.setMigrationMark(name, { ...mark, role: 'e' });
      }
    } catch (e) {
      log(`migration: recovering ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
