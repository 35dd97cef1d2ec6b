// What the modelled hypervisor and service processor hold, and the operations ldmd sends them.

import type { PlatformSpec } from '../platform/types.js';
import type { DomainBinding, DomainConstraints, DomainRuntime, MigrationMark, PmPolicy } from '../manager/types.js';

/** A domain the hypervisor knows: bound or running. Inactive domains exist only in ldmd's database. */
export interface MachineDomain {
  name: string;
  state: 'bound' | 'active';
  /** The constraints the domain was bound with (the hypervisor's copy of its configuration). */
  constraints: DomainConstraints;
  binding: DomainBinding;
  runtime: DomainRuntime | null;
  /** Sequence number of the last operation that changed this domain. */
  seq: number;
  /** Set while the domain is the source or target of a migration, or in its error state after one. */
  migration?: MigrationMark;
}

/** One domain of a saved configuration. */
export interface SnapshotDomain {
  constraints: DomainConstraints;
  state: 'inactive' | 'bound' | 'active';
  binding: DomainBinding | null;
}

export interface SpConfigEntry {
  name: string;
  savedAt: number;
  domains: SnapshotDomain[];
}

export interface ServiceProcessor {
  configs: SpConfigEntry[];
  /** Configuration booted at the last power-on. */
  current: string;
  /** Configuration to boot at the next power-on. */
  nextPoweron: string;
  /** The running configuration differs from `current`. */
  modified: boolean;
  pmPolicy: PmPolicy;
  /** A switch to the elastic policy asked for during a migration: applied when it ends (seed). */
  pendingPmPolicy?: PmPolicy;
}

export interface MachineState {
  format: 1;
  platform: PlatformSpec;
  /** Incremented at every power-on: ldmd reloads its database from the booted configuration. */
  powerEpoch: number;
  poweredOnAt: number;
  /** `stop /SYS`: nothing runs until `start /SYS`. */
  poweredOff: boolean;
  /** Highest operation sequence number applied. */
  appliedSeq: number;
  domains: MachineDomain[];
  sp: ServiceProcessor;
  /** Domains of the booted configuration (inactive ones included), for ldmd to adopt after a power-on. */
  bootedConfig: SnapshotDomain[];
}

export type MachineChange =
  | {
      kind: 'put';
      name: string;
      state: 'bound' | 'active';
      constraints: DomainConstraints;
      binding: DomainBinding;
      /** How an active domain that becomes bound stops: through its OS, or at once (`stop -f`). */
      stop?: 'graceful' | 'forced';
      /** A migrated domain arrives running: the source's runtime, not a fresh boot. */
      runtime?: DomainRuntime;
      /** The domain's migration mark after this change (absent: none). */
      migration?: MigrationMark;
    }
  | { kind: 'mark'; name: string; migration: MigrationMark | null }
  | { kind: 'remove'; name: string }
  | { kind: 'panic'; name: string }
  | { kind: 'reboot'; name: string };

export const FACTORY_DEFAULT = 'factory-default';
