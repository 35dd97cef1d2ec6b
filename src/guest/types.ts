// The modelled guest operating system: what an OS image says about itself, and what the
// Logical Domains Manager may ask of it.

/** The header of an OS image: a bootable virtual-disk back end describing the OS installed on it. */
export interface OsImage {
  format: 1;
  /** Made when the image is created; copies of the file keep it (the content is the same). */
  imageId: string;
  /** `Solaris 10 10/08`, `Solaris 10 10/09`, `Solaris 10 9/10`, `Oracle Solaris 11 11/11`, ... */
  release: string;
  /** Kernel version as `uname -v` prints it, e.g. `Generic_142909-17`. */
  kernel: string;
  /** Installed patches, e.g. `142245-01`. */
  patches: string[];
  /** Whether the DR daemon (svc:/platform/sun4v/drd:default) is enabled. */
  drd: boolean;
  /** Seconds from `boot` to the login prompt. */
  bootSeconds: number;
  hostname: string;
  /** What runs once the OS is up: bytes of memory touched, and bytes dirtied per second. */
  workload: { workingSet: number; dirtyRate: number };
  /** Network interfaces the OS configures (P2V images carry the source's). */
  interfaces: { name: string; ip: string }[];
  /**
   * Platform group the installed OS is built for. Absent means sun4v, what a logical domain runs.
   * A P2V image holds the physical source's sun4u OS until `ldmp2v convert` upgrades it.
   */
  arch?: 'sun4u' | 'sun4v';
  /** The physical system an image was made from by `ldmp2v prepare` (kept by the upgrade). */
  source?: ImageSource;
}

/** Identity of a P2V image's physical source. */
export interface ImageSource {
  hostname: string;
  /** Eight hex digits, as `hostid` prints them. */
  hostid: string;
  /** OBP root node, e.g. `SUNW,Sun-Fire-V440`. */
  model: string;
  arch: 'sun4u' | 'sun4v';
  /** `Solaris 9 9/05`: what the source ran. */
  release: string;
}

/** Dynamic reconfiguration the OS supports (all need drd running). */
export interface OsCapabilities {
  cpuDr: boolean;
  memoryDr: boolean;
  cryptoDr: boolean;
  /** Virtual I/O DR (vnet, vdisk added or removed while running). */
  ioDr: boolean;
}
