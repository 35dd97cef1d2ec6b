// Phase 1 of a domain migration (migration.md §3, §10): what the target is told about the source
// host and the domain, what each check answers, and the plan phase 2 carries out when all pass.
// Pure data; the checks live in checks.ts, the transport and the engine elsewhere.

import type { HostView } from '../manager/inventory.js';
import type { DomainBinding, DomainConstraints, DomainState } from '../manager/types.js';

/** A vds volume of a host, with the storage its back end reaches (guest/image.ts storageIdentity). */
export interface HostVolume {
  volume: string;
  /** The vds service. */
  service: string;
  /** The domain the vds lives in. */
  serviceDomain: string;
  backend: string;
  /** storageIdentity(backend): null when the back end reaches nothing. */
  storage: string | null;
}

/**
 * One side of a migration as the checks see it. The control domain's vcc services, their ports in
 * use and the NIUs the switches sit on are read from `view` (checks.ts niuBacked).
 */
export interface HostSide {
  /** Host name, as the target is named on the command line. */
  name: string;
  address: string;
  /** Logical Domains Manager version exchanged when the daemons connect: `2.0`, `1.3`, ... */
  managerVersion: string;
  /** Platform, domains (with runtime) and power-management policy. */
  view: HostView;
  /** A delayed reconfiguration is pending on the host. */
  delayedReconfig: boolean;
  /** The host is the source or target of another migration. */
  migrationInProgress: boolean;
  /** Every vds volume of the host. */
  volumes: HostVolume[];
  /**
   * Strands held back for earlier migrated domains until they reboot (seed, "CPU": the spare
   * strands of a core given whole are unusable to every domain). None when absent.
   */
  reservedStrands?: number[];
}

export interface MigrationRequest {
  /** The domain on the source host. */
  domain: string;
  /** Its name on the target (`target-host:target-ldom`; the source name when not given). */
  targetDomain: string;
  source: HostSide;
  target: HostSide;
  /** `-n`: every check runs and every failure is reported (migration.md §5.4). */
  dryRun: boolean;
}

/** The answer of one check: `messages` are failure reasons, `warnings` print without failing. */
export interface CheckResult {
  /** The check's id, e.g. `memory` (docs/migration-checks.md). */
  check: string;
  ok: boolean;
  messages: string[];
  warnings: string[];
}

/** A vdisk as it will be wired on the target. */
export interface PlannedVdisk {
  name: string;
  volume: string;
  service: string;
  /** The target domain holding the vds (may differ from the source's). */
  serviceDomain: string;
  backend: string;
  /** The volume the domain boots from (boot-device, else disk@0). */
  boot: boolean;
}

/** A vnet as it will be wired on the target. */
export interface PlannedVnet {
  name: string;
  /** The switch: same name as on the source (seed, "Virtual I/O"). */
  service: string;
  /** The target domain holding that switch. */
  serviceDomain: string;
  hybrid: boolean;
}

/** What phase 2 needs once every check passed. */
export interface MigrationPlan {
  domain: string;
  targetDomain: string;
  /** Active domains migrate with their running state; bound and inactive ones move their configuration (§4.12). */
  kind: 'live' | 'cold';
  /** The state the domain arrives in: the state it has on the source. */
  state: DomainState;
  /**
   * The constraints to create on the target: the source's, renamed, with the console constraints
   * dropped (seed: explicit console constraints are ignored) and the service domains of vdisks
   * and vnets as on the target.
   */
  constraints: DomainConstraints;
  /**
   * The binding to create (null for an inactive domain). Memory keeps the source's real
   * addresses with new physical addresses; the console is on the first vcc of the target's control
   * domain with the domain's name as group. For a live migration `crypto` is empty: the units are
   * removed before and given back after (`crypto.addAfter`).
   */
  binding: DomainBinding | null;
  /** The old-protocol CPU rules apply (seed, "CPU"): the domain got entirely free cores. */
  wholeCores: boolean;
  /** Target strands of those cores the domain does not use: unusable to every domain until it reboots. */
  reservedStrands: number[];
  /** CPU DR stays disabled for the migrated domain until it reboots (old-protocol rules). */
  cpuDrDisabledUntilReboot: boolean;
  /** Memory DR stays disabled for the migrated domain until it reboots (seed, "Memory", note). */
  memoryDrDisabledUntilReboot: boolean;
  /** Crypto units: source unit IDs removed at the start, target unit IDs added after (may be fewer). */
  crypto: { removeAtStart: number[]; addAfter: number[] };
  vdisks: PlannedVdisk[];
  vnets: PlannedVnet[];
  /** Hybrid vnets whose NIU constraint stays unsatisfied on the target (kept, not an error). */
  niuHybridUnsatisfied: string[];
  /** Every warning of the checks, in check order. */
  warnings: string[];
}
