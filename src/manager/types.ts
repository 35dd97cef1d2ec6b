// The Logical Domains Manager's data model: what a user asked for (constraints), what the
// hypervisor gave (bindings) and what is running (runtime). Formatters, the XML codec and the
// command handlers all read these shapes; nothing here knows about text or sockets.

export type DomainState = 'inactive' | 'bound' | 'active';
export type FailurePolicy = 'ignore' | 'panic' | 'reset' | 'stop';

/** A memory block: guest real address, host physical address, size (bytes). */
export interface MBlock {
  ra: number;
  pa: number;
  size: number;
}

export interface VccService {
  name: string;
  portMin: number;
  portMax: number;
}

export interface VswService {
  name: string;
  /** MAC address in lower case `00:14:4f:f8:00:01` form. */
  mac: string;
  /** True when the manager chose the address (automatic range). */
  macAuto: boolean;
  netDev: string;
  defaultVlanId: number;
  pvid: number;
  vids: number[];
  mtu: number;
  mode: '' | 'sc';
  linkprop: '' | 'phys-state';
  /** N of `switch@N`. */
  id: number;
}

export type VdsOption = 'ro' | 'slice' | 'excl';

export interface VdsVolume {
  name: string;
  backend: string;
  options: VdsOption[];
  mpgroup: string;
}

export interface VdsService {
  name: string;
  volumes: VdsVolume[];
}

/** Netra Data Plane Software: a vdpcs service and the vdpcc clients of guests. */
export interface VdpcsService {
  name: string;
}

export interface Vdpcc {
  name: string;
  service: string;
  serviceDomain: string;
}

export interface Vnet {
  name: string;
  /** Virtual switch service name (the switch lives in `serviceDomain`). */
  service: string;
  serviceDomain: string;
  mac: string;
  macAuto: boolean;
  mode: '' | 'hybrid';
  pvid: number;
  vids: number[];
  mtu: number;
  linkprop: '' | 'phys-state';
  /** N of `network@N`. */
  id: number;
}

export interface Vdisk {
  name: string;
  volume: string;
  /** Virtual disk server service name (the vds lives in `serviceDomain`). */
  service: string;
  serviceDomain: string;
  /** Seconds; 0 = wait forever (the default). */
  timeout: number;
  /** N of `disk@N`. */
  id: number;
}

/** Console constraints set with `set-vcons`; unset fields are chosen at bind. */
export interface ConsoleConstraint {
  group?: string;
  port?: number;
  service?: string;
}

export interface Variable {
  name: string;
  value: string;
}

/** A dynamic resource management policy; `null` limits mean unlimited. */
export interface DrmPolicy {
  name: string;
  enable: boolean;
  priority: number;
  attack: number | null;
  decay: number | null;
  elasticMargin: number;
  sampleRate: number;
  /** `hh:mm:ss` */
  todBegin: string;
  todEnd: string;
  utilLower: number;
  utilUpper: number;
  vcpuMin: number;
  vcpuMax: number | null;
}

export interface DomainConstraints {
  name: string;
  uuid: string;
  mac: string;
  macAuto: boolean;
  /** Host ID as a number; printed `0x%08x`. */
  hostid: number;
  failurePolicy: FailurePolicy;
  masters: string[];
  /** Number of virtual CPUs (strands). With whole-core, cores × strands per core. */
  vcpus: number;
  wholeCore: boolean;
  /** Set with whole-core: the core count cap. */
  maxCores: number | null;
  crypto: number;
  /** Memory as requested, in bytes (the bound size may be rounded up). */
  memory: number;
  variables: Variable[];
  /** Physical I/O devices (paths such as `pci@400`) assigned to the domain. */
  io: string[];
  vcc: VccService[];
  vsw: VswService[];
  vds: VdsService[];
  vnets: Vnet[];
  vdisks: Vdisk[];
  console: ConsoleConstraint;
  policies: DrmPolicy[];
  vdpcs: VdpcsService[];
  vdpcc: Vdpcc[];
}

export interface DomainBinding {
  /** Physical strand IDs, in guest CPU order (VID = index). */
  strands: number[];
  /** Crypto unit (MAU) IDs. */
  crypto: number[];
  mblocks: MBlock[];
  io: string[];
  /** Console: `null` port for the control domain (console is the SP/UART). */
  console: { service: string; serviceDomain: string; port: number | null; group: string };
  /**
   * Strands held for the domain but not given to it: the spare strands of a whole core given to a
   * domain migrated under the old rules. No domain may use them until the domain reboots.
   */
  reserved?: number[];
}

/** What the modelled hypervisor reports about a bound or active domain. */
export interface DomainRuntime {
  /** e.g. `Solaris running`, `OpenBoot Running`, `Solaris booting`. */
  softstate: string;
  /** FLAGS position 2: `n` OS running, `t` transition, `-` otherwise. */
  osFlag: 'n' | 't' | '-';
  /** Milliseconds since the epoch when the domain was started (active only). */
  startedAt: number | null;
  /** Utilisation in percent (0..100). */
  util: number;
  /** The OS booted in the domain (from its boot disk's image), once it is booting or running. */
  os?: { release: string; drd: boolean; capabilities: { cpuDr: boolean; memoryDr: boolean; cryptoDr: boolean; ioDr: boolean }; migrationCompatible: boolean } | null;
  /** Dynamic reconfiguration disabled since the domain arrived by migration, until it reboots. */
  migrated?: { cpuDrDisabled: boolean; memoryDrDisabled: boolean };
}

/** Where a domain stands in a migration, as its host's hypervisor records it (survives restarts). */
export interface MigrationMark {
  /** FLAGS column 6: source, target, or error after a failed migration. */
  role: 's' | 't' | 'e';
  /** The other host, as this host knows it (the name given on the command line, or the source's name). */
  peer: string;
  /**
   * Source only: `transfer` until the target was asked to take over, `committing` from then on —
   * after that only the target knows whether it did, so a lost link leaves the error state.
   */
  phase: 'transfer' | 'committing';
  /** The source guest is suspended (stop-and-copy onwards): it must not run again unless the migration is abandoned. */
  suspended?: boolean;
  /** Percent done. */
  progress: number;
}

export interface Domain {
  constraints: DomainConstraints;
  state: DomainState;
  binding: DomainBinding | null;
  runtime: DomainRuntime | null;
  /** Delayed reconfiguration pending for this domain (only the control domain in 2.0). */
  delayedReconfig: boolean;
  /** Migration role flag (FLAGS position 6): source, target, error. */
  migration: '' | 's' | 't' | 'e';
  /** The migration this domain takes part in (progress and peer for `-o status`). */
  migrationMark?: MigrationMark | null;
  /** Memory DR running (FLAGS position 3 `r`). */
  memoryDr: boolean;
}

export interface SpConfig {
  name: string;
}

export interface SpConfigListing {
  configs: string[];
  /** The configuration last booted. */
  current: string;
  /** The configuration booted at the next power-on. */
  nextPoweron: string;
  /** True when the running configuration no longer matches `current`. */
  modified: boolean;
}

export type PmPolicy = 'performance' | 'elastic' | 'disabled';
