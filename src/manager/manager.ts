// The heart of ldmd: the domains as the database and the hypervisor know them, and the one way to
// change them. A command edits a draft copy; `mutate` then sends the resulting bindings to the
// machine process and commits the constraints to SQLite, in that order. The machine process
// remembers the constraints each bound domain was bound with and the sequence number of its last
// change, so after a kill -9 between the two steps a restarted ldmd adopts what the machine holds.

import type { HostConfig } from '../host/config.js';
import { hostPaths, hostProperty } from '../host/config.js';
import { RpcClient, RpcError } from '../ipc/rpc-client.js';
import type { MachineChange, MachineDomain, SnapshotDomain } from '../machine/types.js';
import type { PlatformSpec } from '../platform/types.js';
import { UserError } from './errors.js';
import type { HostView } from './inventory.js';
import { Store, type StoredDomain } from './store.js';
import { listAutosaves, readAutosave, removeAutosave, writeAutosave } from './autosave.js';
import { applyAtReboot, pendingConstraints } from './rules/reconf.js';
import { MAX_SP_CONFIGS } from '../machine/hypervisor.js';
import { FACTORY_DEFAULT } from '../machine/types.js';
import type { Domain, DomainBinding, DomainConstraints, DomainRuntime, DomainState, MigrationMark, PmPolicy, SpConfigListing } from './types.js';

/** A domain as a command may edit it. Runtime is the hypervisor's and is read-only. */
export interface DraftDomain {
  constraints: DomainConstraints;
  state: DomainState;
  binding: DomainBinding | null;
  /** What the hypervisor reports (read-only: the OS running, its DR capabilities). */
  readonly runtime?: DomainRuntime | null;
  /** Set by stop-domain: how the domain's OS is brought down. */
  stop?: 'graceful' | 'forced';
  /** The domain's migration mark (kept by every change unless a migration step changes it). */
  migration?: MigrationMark | null;
  /** A migrated domain arrives running: the runtime it had on the source (with its restrictions). */
  arriving?: DomainRuntime;
}

export interface Draft {
  platform: PlatformSpec;
  /** The XML interface is on (ldmd/xmpp_enabled): memory DR and migration need it. */
  xmppEnabled?: boolean;
  domains: DraftDomain[];
  /** Constraints the control domain will get at its next reboot (delayed reconfiguration). */
  delayed: DomainConstraints | null;
  pmPolicy: PmPolicy;
}

interface SpSummary {
  configs: string[];
  current: string;
  nextPoweron: string;
  modified: boolean;
  pmPolicy: PmPolicy;
}

interface MachineSummary {
  poweredOff?: boolean;
  appliedSeq: number;
  powerEpoch: number;
  domains: MachineDomain[];
  sp: SpSummary;
}

/** What changed on the host, for the XML interface's event subscribers. */
export interface LdmEvent {
  class: 'domain' | 'resource' | 'hardware' | 'progress';
  /** The subcommand (or event name: `domain-reset`) that caused it. */
  action: string;
  domain?: string;
  /** Hardware events: the SP configuration concerned. */
  spconfig?: { name: string; status: string };
  /** Progress events: percent done, `ongoing` | `done` | `failed`, and the reporting host. */
  progress?: { percent: number; status: string; source: string };
}

/** A migration this ldmd is running (as source or target), for cancel and for recovery. */
export interface LiveMigration {
  role: 's' | 't';
  /** Cancel it (the source's `ldm cancel-operation migration`, a killed `ldm`, a lost link); throws when it is too late. */
  cancel(reason: string): void;
}

export interface MutateOptions {
  modifies?: boolean;
  action?: string;
  /** A step of a migration itself: exempt from the refusals a running migration imposes. */
  migration?: boolean;
}

/** Subcommands whose events are the lifecycle events derived from state changes. */
const LIFECYCLE_ACTIONS = new Set(['add-domain', 'remove-domain', 'bind-domain', 'unbind-domain', 'start-domain', 'stop-domain', 'panic-domain', 'migrate-domain']);

/** Changes within this window are autosaved together. */
const AUTOSAVE_DELAY_MS = 250;

/** Serialises state changes: one command edits the host at a time. */
class Lock {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

export class Manager {
  private constraints: StoredDomain[] = [];
  private machineDomains: MachineDomain[] = [];
  private delayed: DomainConstraints | null = null;
  private seq = 0;
  private powerEpoch = 0;
  private sp: SpSummary = { configs: [], current: '', nextPoweron: '', modified: false, pmPolicy: 'performance' };
  private readonly lock = new Lock();
  private readonly listeners = new Set<(e: LdmEvent) => void>();
  private poller: NodeJS.Timeout | null = null;
  /** Migrations this process runs, by domain name (on this host). */
  readonly migrations = new Map<string, LiveMigration>();
  /** Live progress of migrating domains (percent), newer than what the hypervisor recorded. */
  private readonly progress = new Map<string, number>();
  /** Memory-transfer progress notifications from the machine process. */
  private readonly progressListeners = new Set<(domain: string, p: { percent: number; round: number; phase: string }) => void>();

  /** Subscribe to events; while anyone listens, changes made by guests are reported as they happen. */
  onEvent(listener: (e: LdmEvent) => void): () => void {
    this.listeners.add(listener);
    if (!this.poller) {
      // The machine process notifies guest-initiated changes; this is the safety net.
      this.poller = setInterval(() => {
        void this.lock.run(() => this.refresh()).catch(() => undefined);
      }, 2000);
      this.poller.unref();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.poller) {
        clearInterval(this.poller);
        this.poller = null;
      }
    };
  }

  emit(e: LdmEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A subscriber's failure is its own.
      }
    }
  }

  /** Lifecycle events of what happened between two pictures of the domains. */
  private lifecycleEvents(before: { name: string; state: DomainState }[], after: { name: string; state: DomainState }[]): LdmEvent[] {
    const out: LdmEvent[] = [];
    const prev = new Map(before.map((d) => [d.name, d.state]));
    const next = new Map(after.map((d) => [d.name, d.state]));
    for (const [name] of prev) if (!next.has(name)) out.push({ class: 'domain', action: 'remove-domain', domain: name });
    for (const [name, state] of next) {
      let from = prev.get(name);
      if (from === undefined) {
        out.push({ class: 'domain', action: 'add-domain', domain: name });
        from = 'inactive';
      }
      const order: DomainState[] = ['inactive', 'bound', 'active'];
      const a = order.indexOf(from);
      const b = order.indexOf(state);
      for (let i = a; i < b; i++) out.push({ class: 'domain', action: i === 0 ? 'bind-domain' : 'start-domain', domain: name });
      for (let i = a; i > b; i--) out.push({ class: 'domain', action: i === 2 ? 'stop-domain' : 'unbind-domain', domain: name });
    }
    return out;
  }

  /** Guest-initiated changes arrive as notifications: refresh at once when someone listens. */
  private watch(client: RpcClient): void {
    client.onNotify((what) => {
      const m = (what as { migration?: { domain: string; percent: number; round: number; phase: string } } | null)?.migration;
      if (m) {
        for (const l of this.progressListeners) l(m.domain, m);
        return;
      }
      if (this.listeners.size) void this.lock.run(() => this.refresh()).catch(() => undefined);
    });
  }

  onMigrationProgress(fn: (domain: string, p: { percent: number; round: number; phase: string }) => void): () => void {
    this.progressListeners.add(fn);
    return () => this.progressListeners.delete(fn);
  }

  migrationProgress(domain: string): number {
    return this.progress.get(domain) ?? this.machineDomains.find((m) => m.name === domain)?.migration?.progress ?? 0;
  }

  /** Progress shown by `-o status` (not persisted: the hypervisor's mark holds the phase). */
  setProgress(domain: string, percent: number | null): void {
    if (percent === null) this.progress.delete(domain);
    else this.progress.set(domain, percent);
  }

  private constructor(
    readonly host: HostConfig,
    private readonly store: Store,
    private machine: RpcClient,
    private readonly machineSocket: string,
  ) {}

  /**
   * The link to the machine process. If it went away (the process was killed and restarted), connect
   * again and reconcile: an operation in flight when it died may or may not have been applied.
   */
  private async link(): Promise<RpcClient> {
    if (!this.machine.isClosed) return this.machine;
    try {
      this.machine = await RpcClient.connect(this.machineSocket, 2000);
      this.watch(this.machine);
      await this.machine.call('attach');
    } catch (e) {
      throw new UserError(`Unable to reach the hypervisor of host ${this.host.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
    await this.reconcile();
    // Outside the command lock (this may run inside it): settle what a dead machine process cut short.
    if (this.afterReconnect) setImmediate(() => void this.afterReconnect?.().catch(() => undefined));
    return this.machine;
  }

  /** Run after the link to a restarted machine process is back (migration recovery). */
  afterReconnect: (() => Promise<void>) | null = null;

  /** A machine call; a lost connection is reported to the user, and the next call reconnects. */
  private async call<T>(op: string, params: Record<string, unknown> = {}): Promise<T> {
    const m = await this.link();
    try {
      return await m.call<T>(op, params);
    } catch (e) {
      if (e instanceof RpcError && m.isClosed) {
        throw new UserError(`Lost the connection to the hypervisor of host ${this.host.name}; the operation may not have completed`);
      }
      if (e instanceof RpcError && /^refused: (operation|the connection)/.test(e.message)) {
        // The hypervisor moved on without us (a predecessor's last request landed late): catch up.
        await this.machine.call('attach');
        await this.reconcile();
        throw new UserError(`The manager's view of host ${this.host.name} was out of date; nothing was changed. Try the command again.`);
      }
      throw e;
    }
  }

  get platform(): PlatformSpec {
    return this.host.platform;
  }

  static async open(host: HostConfig, machineSocket: string): Promise<Manager> {
    const machine = await RpcClient.connect(machineSocket);
    await machine.call('attach');
    const store = new Store(hostPaths(host.dir).db);
    const m = new Manager(host, store, machine, machineSocket);
    m.watch(machine);
    await m.reconcile();
    return m;
  }

  close(): void {
    if (this.poller) clearInterval(this.poller);
    if (this.autosaveTimer) this.flushAutosave();
    this.machine.close();
    this.store.close();
  }

  /**
   * Bring the database in line with the machine: after a power cycle the booted configuration
   * replaces everything; otherwise a bound domain whose machine copy is newer than its row wins.
   */
  private async reconcile(): Promise<void> {
    const ms = await this.machine.call<MachineSummary & { bootedConfig: SnapshotDomain[] }>('state');
    let snap = this.store.load();
    if (snap.powerEpoch !== ms.powerEpoch) {
      snap = {
        seq: Math.max(snap.seq, ms.appliedSeq),
        powerEpoch: ms.powerEpoch,
        delayed: null,
        domains: ms.bootedConfig.map((d, i) => ({ constraints: d.constraints, ord: i, seq: ms.appliedSeq })),
      };
      this.store.replaceAll(snap);
    }
    const upserts: StoredDomain[] = [];
    let nextOrd = snap.domains.reduce((n, d) => Math.max(n, d.ord + 1), 0);
    for (const md of ms.domains) {
      const row = snap.domains.find((d) => d.constraints.name === md.name);
      if (!row) upserts.push({ constraints: md.constraints, ord: nextOrd++, seq: md.seq });
      else if (md.seq > row.seq) upserts.push({ ...row, constraints: md.constraints, seq: md.seq });
    }
    const seq = Math.max(snap.seq, ms.appliedSeq);
    if (upserts.length || seq !== snap.seq) {
      this.store.commit(seq, ms.powerEpoch, snap.delayed, upserts, []);
      snap = this.store.load();
    }
    this.constraints = snap.domains;
    this.delayed = snap.delayed;
    this.seq = seq;
    this.powerEpoch = ms.powerEpoch;
    this.machineDomains = ms.domains;
    this.sp = spOf(ms);
  }

  /** Re-read what the hypervisor reports (runtime moves on without ldmd). */
  private async refresh(): Promise<void> {
    const ms = await this.call<MachineSummary>('domains');
    if (ms.poweredOff) {
      throw new UserError(`Host ${this.host.name} is powered off: nothing runs until it is started again (ldoms sp ${this.host.name} start /SYS)`);
    }
    // A power cycle, or a change the machine made itself (OpenBoot setenv): adopt it.
    if (ms.powerEpoch !== this.powerEpoch || ms.appliedSeq > this.seq) {
      await this.reconcile();
      return;
    }
    const before = this.listeners.size ? this.currentDomains().map((d) => ({ name: d.constraints.name, state: d.state })) : null;
    this.machineDomains = ms.domains;
    this.sp = ms.sp;
    if (before) {
      // The guest did it (an OS that powered its domain off): the same events as if a command had.
      const after = this.currentDomains().map((d) => ({ name: d.constraints.name, state: d.state }));
      for (const e of this.lifecycleEvents(before, after)) this.emit(e);
    }
  }

  private currentDomains(): Domain[] {
    return this.constraints.map(({ constraints }) => {
      const md = this.machineDomains.find((m) => m.name === constraints.name);
      const mark = md?.migration ?? null;
      const live = this.progress.get(constraints.name);
      return {
        constraints,
        state: md ? md.state : 'inactive',
        binding: md ? md.binding : null,
        runtime: md ? md.runtime : null,
        delayedReconfig: constraints.name === 'primary' && this.delayed !== null,
        migration: mark ? mark.role : '',
        migrationMark: mark && live !== undefined ? { ...mark, progress: live } : mark,
        memoryDr: false,
      };
    });
  }

  /** A consistent picture for listings. */
  async view(): Promise<HostView> {
    return this.lock.run(async () => {
      await this.refresh();
      return this.viewNow();
    });
  }

  private viewNow(): HostView {
    return {
      platform: this.platform,
      domains: this.currentDomains().map((d) => (d.delayedReconfig && this.delayed ? { ...d, constraints: pendingConstraints(d.constraints, this.delayed) } : d)),
      pmPolicy: this.sp.pmPolicy,
      now: Date.now(),
      managerVersion: this.host.version,
    };
  }

  get delayedReconfig(): DomainConstraints | null {
    return this.delayed;
  }

  /**
   * Run one state-changing command. `fn` edits a draft and returns its result; when it throws,
   * nothing is applied anywhere. Otherwise the machine applies the bindings, then SQLite commits.
   */
  async mutate<T>(fn: (draft: Draft, view: HostView) => T | Promise<T>, opts: MutateOptions = {}): Promise<T> {
    return this.lock.run(async () => {
      await this.refresh();
      const before = this.currentDomains();
      const draft: Draft = {
        platform: this.platform,
        xmppEnabled: hostProperty(this.host, 'ldmd/xmpp_enabled') === 'true',
        domains: before.map((d) => ({
          ...structuredClone({ constraints: d.constraints, state: d.state, binding: d.binding }),
          runtime: d.runtime,
          // The hypervisor's record, not the listing's (whose progress is the live one).
          migration: this.machineDomains.find((m) => m.name === d.constraints.name)?.migration ?? null,
        })),
        delayed: structuredClone(this.delayed),
        pmPolicy: this.sp.pmPolicy,
      };
      const result = await fn(draft, this.viewNow());
      if (!opts.migration) guardMigrations(before, draft, this.delayed);
      await this.apply(before, draft, opts.modifies !== false, opts.action);
      return result;
    });
  }

  private async apply(before: Domain[], draft: Draft, modifies: boolean, action?: string): Promise<void> {
    const names = new Set<string>();
    for (const d of draft.domains) {
      if (names.has(d.constraints.name)) throw new Error(`internal: duplicate domain ${d.constraints.name}`);
      names.add(d.constraints.name);
    }
    const changes: MachineChange[] = [];
    for (const d of draft.domains) {
      const prev = before.find((b) => b.constraints.name === d.constraints.name);
      const bound = d.state !== 'inactive';
      if (bound && !d.binding) throw new Error(`internal: ${d.constraints.name} is ${d.state} without a binding`);
      const wasBound = prev !== undefined && prev.state !== 'inactive';
      if (bound) {
        const prevMark = this.machineDomains.find((m) => m.name === d.constraints.name)?.migration ?? null;
        const same =
          wasBound &&
          prev.state === d.state &&
          d.arriving === undefined &&
          JSON.stringify(prev.binding) === JSON.stringify(d.binding) &&
          JSON.stringify(prev.constraints) === JSON.stringify(d.constraints) &&
          JSON.stringify(prevMark) === JSON.stringify(d.migration ?? null);
        if (!same) {
          changes.push({
            kind: 'put',
            name: d.constraints.name,
            state: d.state as 'bound' | 'active',
            constraints: d.constraints,
            binding: d.binding!,
            ...(d.stop ? { stop: d.stop } : {}),
            ...(d.migration ? { migration: d.migration } : {}),
            ...(d.arriving ? { runtime: d.arriving } : {}),
          });
        }
      } else if (wasBound) {
        changes.push({ kind: 'remove', name: d.constraints.name });
      }
    }
    for (const b of before) {
      if (!names.has(b.constraints.name) && b.state !== 'inactive') changes.push({ kind: 'remove', name: b.constraints.name });
    }

    const upserts: StoredDomain[] = [];
    const seq = this.seq + 1;
    draft.domains.forEach((d, ord) => {
      const row = this.constraints.find((r) => r.constraints.name === d.constraints.name);
      if (!row || row.ord !== ord || JSON.stringify(row.constraints) !== JSON.stringify(d.constraints)) {
        upserts.push({ constraints: d.constraints, ord, seq });
      }
    });
    const removed = this.constraints.filter((r) => !names.has(r.constraints.name)).map((r) => r.constraints.name);
    const delayedChanged = JSON.stringify(this.delayed) !== JSON.stringify(draft.delayed);
    if (!changes.length && !upserts.length && !removed.length && !delayedChanged) return;

    const ms = await this.call<MachineSummary>('apply', { seq, changes, modifies });
    this.store.commit(seq, ms.powerEpoch, draft.delayed, upserts, removed);
    this.seq = seq;
    this.machineDomains = ms.domains;
    this.sp = ms.sp;
    // The database now holds exactly the draft's rows; keep their stored sequence numbers.
    const upserted = new Map(upserts.map((u) => [u.constraints.name, u]));
    this.constraints = draft.domains.map((d, ord) => upserted.get(d.constraints.name) ?? { ...this.constraints.find((r) => r.constraints.name === d.constraints.name)!, ord });
    this.delayed = draft.delayed;
    this.autosave();

    const lifecycle = this.lifecycleEvents(
      before.map((d) => ({ name: d.constraints.name, state: d.state })),
      draft.domains.map((d) => ({ name: d.constraints.name, state: d.state })),
    );
    for (const e of lifecycle) this.emit(e);
    // A resource changed: named after the subcommand, for every domain it touched.
    if (action && !LIFECYCLE_ACTIONS.has(action)) {
      const touched = new Set(lifecycle.map((e) => e.domain));
      for (const u of upserts) {
        if (!touched.has(u.constraints.name)) this.emit({ class: 'resource', action, domain: u.constraints.name });
      }
    }
  }

  private autosaveTimer: NodeJS.Timeout | null = null;

  /**
   * Keep the running configuration beside the SP configuration it was booted from. Written shortly
   * after a change rather than inside it: it is a convenience copy, not the record of the change.
   */
  private autosave(): void {
    if (this.autosaveTimer) return;
    this.autosaveTimer = setTimeout(() => this.flushAutosave(), AUTOSAVE_DELAY_MS);
  }

  flushAutosave(): void {
    if (this.autosaveTimer) clearTimeout(this.autosaveTimer);
    this.autosaveTimer = null;
    // factory-default is the firmware's own configuration: there is nothing to autosave it into.
    if (this.sp.current === FACTORY_DEFAULT) return;
    try {
      writeAutosave(this.host.dir, this.sp.current, this.snapshot(), Date.now());
    } catch {
      // A failure to write the copy must not fail anything else.
    }
  }

  /** The running configuration as the SP stores it; a pending delayed reconfiguration is included. */
  private snapshot(): SnapshotDomain[] {
    const draft: Draft = {
      platform: this.platform,
      domains: this.currentDomains().map((d) => structuredClone({ constraints: d.constraints, state: d.state, binding: d.binding })),
      delayed: structuredClone(this.delayed),
      pmPolicy: this.sp.pmPolicy,
    };
    try {
      applyAtReboot(draft);
    } catch {
      // The pending changes cannot be bound as things stand: save the configuration without them.
    }
    return draft.domains.map((d) => ({ constraints: d.constraints, state: d.state, binding: d.binding }));
  }

  // --- service processor -------------------------------------------------------------------

  spListing(): SpConfigListing {
    return { configs: this.sp.configs, current: this.sp.current, nextPoweron: this.sp.nextPoweron, modified: this.sp.modified };
  }

  async spListingFresh(): Promise<SpConfigListing> {
    return this.lock.run(async () => {
      await this.refresh();
      return this.spListing();
    });
  }

  /** Save the running configuration (every domain, inactive ones included) to the SP. */
  async addSpConfig(name: string): Promise<void> {
    await this.lock.run(async () => {
      await this.refresh();
      if (!this.sp.configs.includes(name) && this.sp.configs.length >= MAX_SP_CONFIGS) {
        throw new UserError(`The service processor holds at most ${MAX_SP_CONFIGS} configurations (factory-default included); remove one first`);
      }
      const ms = await this.call<MachineSummary>('sp-add', { name, domains: this.snapshot() });
      this.sp = ms.sp;
      this.autosave();
      this.emit({ class: 'hardware', action: 'add-spconfig', spconfig: { name, status: 'current' } });
    });
  }

  /** `add-spconfig -r`: store an autosaved configuration on the SP. */
  async restoreAutosave(autosaveName: string, target: string): Promise<void> {
    await this.lock.run(async () => {
      if (this.autosaveTimer) this.flushAutosave();
      const a = readAutosave(this.host.dir, autosaveName);
      if (!a) throw new UserError(`The autosave configuration ${autosaveName} does not exist`);
      const ms = await this.call<MachineSummary>('sp-add', { name: target, domains: a.domains });
      this.sp = ms.sp;
    });
  }

  async removeAutosave(name: string): Promise<void> {
    await this.lock.run(async () => {
      if (!removeAutosave(this.host.dir, name)) throw new UserError(`The autosave configuration ${name} does not exist`);
    });
  }

  /** `list-spconfig -r [name]`: autosaved configurations, `[newer]` when newer than the SP copy. */
  async renderAutosaves(only?: string): Promise<string> {
    return this.lock.run(async () => {
      if (this.autosaveTimer) this.flushAutosave();
      const ms = await this.call<{ sp: { configs: { name: string; savedAt: number; domains: SnapshotDomain[] }[] } }>('state');
      const all = listAutosaves(this.host.dir).filter((a) => only === undefined || a.name === only);
      if (only !== undefined && all.length === 0) throw new UserError(`The autosave configuration ${only} does not exist`);
      return all
        .map((a) => {
          const sp = ms.sp.configs.find((c) => c.name === a.name);
          const newer = !sp || (a.savedAt > sp.savedAt && JSON.stringify(a.domains) !== JSON.stringify(sp.domains));
          return `${a.name}${newer ? ' [newer]' : ''}\n`;
        })
        .join('');
    });
  }

  async removeSpConfig(name: string): Promise<void> {
    await this.lock.run(async () => {
      const ms = await this.call<MachineSummary>('sp-remove', { name });
      this.sp = ms.sp;
      this.emit({ class: 'hardware', action: 'remove-spconfig', spconfig: { name, status: '' } });
    });
  }

  async setSpConfig(name: string): Promise<void> {
    await this.lock.run(async () => {
      const ms = await this.call<MachineSummary>('sp-next', { name });
      this.sp = ms.sp;
      this.emit({ class: 'hardware', action: 'set-spconfig', spconfig: { name, status: 'next' } });
    });
  }

  async setPmPolicy(policy: PmPolicy): Promise<void> {
    await this.lock.run(async () => {
      const ms = await this.call<MachineSummary>('pm-policy', { policy });
      this.sp = ms.sp;
    });
  }

  /** Machine-level operations that are not a binding change (panic, reboot). */
  async machineOp(change: MachineChange): Promise<void> {
    await this.lock.run(async () => {
      const mark = this.machineDomains.find((m) => m.name === change.name)?.migration;
      if (mark) throw new UserError(migratingMessage(change.name, mark.role));
      const seq = this.seq + 1;
      const ms = await this.call<MachineSummary>('apply', { seq, changes: [change], modifies: false });
      this.store.commit(seq, ms.powerEpoch, this.delayed, [], []);
      this.seq = seq;
      this.machineDomains = ms.domains;
      this.sp = ms.sp;
      this.autosave();
      this.emit({ class: 'domain', action: change.kind === 'panic' ? 'panic-domain' : 'domain-reset', domain: change.name });
    });
  }

  async powerCycle(): Promise<void> {
    await this.lock.run(async () => {
      await this.call('power-cycle');
      await this.reconcile();
    });
  }

  /** Asks the other managers on the network whether they use a MAC (set by the XML service). */
  macChecker: ((mac: string) => Promise<string | null>) | null = null;

  /** Every MAC address this manager's domains use (lower case), for collision checks by other managers. */
  macsInUse(): Set<string> {
    const used = new Set<string>();
    for (const { constraints: c } of this.constraints) {
      for (const m of [c.mac, ...c.vnets.map((v) => v.mac), ...c.vsw.map((v) => v.mac)]) if (m) used.add(m.toLowerCase());
    }
    return used;
  }

  // --- migration ---------------------------------------------------------------------------

  /** Set or clear a domain's migration mark (recorded by the hypervisor: it survives restarts). */
  async setMigrationMark(name: string, mark: MigrationMark | null): Promise<void> {
    await this.lock.run(async () => {
      const seq = this.seq + 1;
      const ms = await this.call<MachineSummary>('apply', { seq, changes: [{ kind: 'mark', name, migration: mark }], modifies: false });
      this.store.commit(seq, ms.powerEpoch, this.delayed, [], []);
      this.seq = seq;
      this.machineDomains = ms.domains;
      this.sp = ms.sp;
    });
  }

  /** A call to this host's machine process outside the command lock (long transfers, resume). */
  async machineCall<T>(op: string, params: Record<string, unknown> = {}): Promise<T> {
    const r = await this.call<T>(op, params);
    const ms = r as unknown as Partial<MachineSummary>;
    if (ms && Array.isArray(ms.domains) && typeof ms.appliedSeq === 'number') this.machineDomains = ms.domains;
    return r;
  }

  /** Marks left by migrations this process does not run (it restarted, or the machine did). */
  async strayMigrationMarks(): Promise<{ name: string; mark: MigrationMark }[]> {
    return this.lock.run(async () => {
      await this.refresh();
      return this.machineDomains.flatMap((m) => (m.migration && !this.migrations.has(m.name) ? [{ name: m.name, mark: m.migration }] : []));
    });
  }

  /** The full machine state, for tests and `ldoms` diagnostics. */
  machineState(): Promise<unknown> {
    return this.call('state');
  }
}

/** What a domain taking part in a migration refuses (seed, "Operations on other domains"). */
export function migratingMessage(name: string, role: 's' | 't' | 'e'): string {
  return role === 'e'
    ? `LDom ${name} is in an error state after a failed migration: run ldm cancel-operation migration ${name} to restore it, or stop and unbind it to discard it`
    : `LDom ${name} is being migrated: no other operation is allowed on it until the migration ends`;
}

/**
 * While a domain migrates, nothing may change it, no other domain may change state (bind, start,
 * stop, unbind), and no delayed reconfiguration may begin. A domain in the error state may only be
 * stopped, unbound or removed (the documented way to discard it).
 */
function guardMigrations(before: Domain[], draft: Draft, delayedBefore: DomainConstraints | null): void {
  const migrating = before.filter((d) => d.migration === 's' || d.migration === 't');
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  for (const b of before) {
    if (!b.migration) continue;
    const after = draft.domains.find((d) => d.constraints.name === b.constraints.name);
    if (after && after.state === b.state && same(after.constraints, b.constraints) && same(after.binding, b.binding)) continue;
    // A copy in the error state may only be discarded: stopped, unbound or removed, nothing else changed.
    const discarding = b.migration === 'e' && (!after || (after.state !== 'active' && same(after.constraints, b.constraints)));
    if (!discarding) throw new UserError(migratingMessage(b.constraints.name, b.migration));
  }
  if (!migrating.length) return;
  const names = migrating.map((d) => d.constraints.name).join(', ');
  for (const d of draft.domains) {
    const b = before.find((x) => x.constraints.name === d.constraints.name);
    if (b && b.state !== d.state) {
      throw new UserError(`Unable to change the state of LDom ${d.constraints.name}: a domain migration is in progress on this machine (${names})`);
    }
  }
  if (delayedBefore === null && draft.delayed !== null) {
    throw new UserError(`Delayed reconfiguration is not allowed while a domain migration is in progress on this machine (${names})`);
  }
}

function spOf(ms: { sp: any }): SpSummary {
  const sp = ms.sp;
  return {
    configs: Array.isArray(sp.configs) ? sp.configs.map((c: any) => (typeof c === 'string' ? c : c.name)) : [],
    current: sp.current,
    nextPoweron: sp.nextPoweron,
    modified: sp.modified,
    pmPolicy: sp.pmPolicy,
  };
}

export { UserError };
