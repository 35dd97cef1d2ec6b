// What runs inside the machine process besides the hypervisor's bookkeeping: each active domain's
// guest (OpenBoot, Solaris), each bound domain's memory, the workload that dirties it, and the
// console concentrator that serves the consoles over telnet. `sync` makes them follow the state.

import { ConsoleConcentrator, type ConsoleBinding } from '../console/concentrator.js';
import { capabilities, migrationCompatible, readImage } from '../guest/image.js';
import { GuestOs, type BootDevice, type GuestStage } from '../guest/os.js';
import { Workload } from '../guest/workload.js';
import type { OsCapabilities, OsImage } from '../guest/types.js';
import { GuestMemory, memoryFileFor } from './guest-memory.js';
import type { MachineDomain, MachineState } from './types.js';

const VDISK_PATH = '/virtual-devices@100/channel-devices@200/disk@';

/** How the guests reach back into the machine state (owned by MachineServer). */
export interface GuestHost {
  state(): MachineState;
  /** Change one domain's runtime or state (machine-originated: the guest did it). */
  update(name: string, fn: (d: MachineDomain) => MachineDomain | null): void;
  /** Change a domain's OpenBoot variable (it becomes part of its constraints). */
  setVariable(name: string, variable: string, value: string): void;
}

interface Running {
  os: GuestOs;
  workload: Workload | null;
  /** Migration stop-and-copy: nothing runs, the console takes no input. */
  suspended: boolean;
  /** What the console concentrator talks to (one object, so the concentrator sees no change). */
  console?: ReturnType<typeof suspendable>;
}

export class Guests {
  private readonly running = new Map<string, Running>();
  private readonly memories = new Map<string, GuestMemory>();
  private readonly consoles: ConsoleConcentrator;
  private readonly hostDir: string;

  constructor(
    private readonly host: GuestHost,
    opts: { hostDir: string; address: string; hostName: string; bootScale?: number; log?: (s: string) => void },
  ) {
    this.hostDir = opts.hostDir;
    this.bootScale = opts.bootScale ?? 1;
    this.consoles = new ConsoleConcentrator({ address: opts.address, hostName: opts.hostName, log: opts.log });
  }

  private readonly bootScale: number;

  /** Follow the machine state: memories for bound domains, guests for active ones, consoles for both. */
  async sync(stopHow: Map<string, 'graceful' | 'forced'> = new Map()): Promise<void> {
    const st = this.host.state();
    const bound = new Map(st.poweredOff ? [] : st.domains.map((d) => [d.name, d]));
    // Memory: one backing file per bound or active domain, sized to its mblocks. While the host is
    // powered off the files stay: the configuration booted next may bind those domains again.
    for (const [name, mem] of this.memories) {
      if (!bound.has(name)) {
        if (st.poweredOff) mem.close();
        else mem.destroy();
        this.memories.delete(name);
      }
    }
    for (const d of bound.values()) {
      const size = d.binding.mblocks.reduce((n, m) => n + m.size, 0);
      const mem = this.memories.get(d.name);
      if (!mem) this.memories.set(d.name, GuestMemory.open(memoryFileFor(this.hostDir, d.name), size));
      else if (mem.size !== size) mem.resize(size);
    }
    // Guests: one per active domain (the control domain's OS is not modelled as a guest).
    for (const [name, r] of this.running) {
      const d = bound.get(name);
      if (!d || d.state !== 'active') {
        r.workload?.stop();
        // A suspended guest left for another host: nothing more appears on its console here.
        r.os.destroy(!r.suspended && (stopHow.get(name) ?? 'graceful') === 'graceful');
        this.running.delete(name);
      }
    }
    for (const d of bound.values()) {
      if (d.state !== 'active' || d.name === 'primary' || this.running.has(d.name)) continue;
      // A guest suspended for a migration stays stopped across a restart of this process: only
      // the manager may let it run again (the copy on the target may be the one running).
      if (d.migration?.suspended) continue;
      this.startGuest(d);
    }
    await this.consoles.update(this.consoleBindings(st));
  }

  private consoleBindings(st: MachineState): ConsoleBinding[] {
    const out: ConsoleBinding[] = [];
    for (const d of st.poweredOff ? [] : st.domains) {
      const port = d.binding.console.port;
      if (port === null) continue;
      const r = this.running.get(d.name);
      out.push({ domain: d.name, group: d.binding.console.group, port, console: r ? (r.console ??= suspendable(r)) : idleConsole() });
    }
    return out;
  }

  private startGuest(d: MachineDomain): void {
    const name = d.name;
    const host = this.host;
    const find = () => host.state().domains.find((x) => x.name === name);
    const r: Running = { os: null as unknown as GuestOs, workload: null, suspended: false };
    const resume = d.runtime && d.runtime.osFlag === 'n' ? ('running' as const) : undefined;
    r.os = new GuestOs(
      {
        domain: name,
        platform: host.state().platform,
        strands: () => find()?.binding.strands ?? [],
        memoryBytes: () => (find()?.binding.mblocks ?? []).reduce((n, m) => n + m.size, 0),
        mac: () => find()?.constraints.mac ?? '00:00:00:00:00:00',
        hostid: () => find()?.constraints.hostid ?? 0,
        variables: () => new Map((find()?.constraints.variables ?? []).map((v) => [v.name, v.value])),
        setVariable: (k, v) => host.setVariable(name, k, v),
        openBootDevice: (device) => this.openBootDevice(name, device),
        stage: (stage, os) => this.stage(name, r, stage, os),
        powerOff: () => {
          // The OS powered the domain off: it is bound again, its console stays.
          setImmediate(() => {
            host.update(name, (x) => ({ ...x, state: 'bound', runtime: null }));
            void this.sync();
          });
        },
      },
      { resume: resume ? { stage: resume } : undefined, bootScale: this.bootScale },
    );
    this.running.set(name, r);
  }

  private stage(name: string, r: Running, stage: GuestStage, os: { image: OsImage; capabilities: OsCapabilities } | null): void {
    const softstate = stage === 'running' ? 'Solaris running' : stage === 'booting' ? 'Solaris booting' : 'OpenBoot Running';
    const osFlag = stage === 'running' ? 'n' : 't';
    this.host.update(name, (d) => {
      // A migrated domain keeps its DR restrictions and held strands until it boots again.
      const rebooting = stage !== 'running';
      const { reserved: _held, ...unreserved } = d.binding;
      const migrated = !rebooting && d.runtime?.migrated ? { migrated: d.runtime.migrated } : {};
      return {
        ...d,
        binding: rebooting ? unreserved : d.binding,
        runtime: {
          softstate,
          osFlag,
          startedAt: d.runtime?.startedAt ?? Date.now(),
          util: stage === 'running' ? 0.3 : 0.0,
          os: os ? { release: os.image.release, drd: os.image.drd, capabilities: os.capabilities, migrationCompatible: migrationCompatible(os.image) } : null,
          ...migrated,
        },
      };
    });
    // The workload runs while Solaris is up.
    const mem = this.memories.get(name);
    if (stage === 'running' && os && mem && !r.workload && !r.suspended) {
      r.workload = new Workload(mem, os.image.workload);
      r.workload.start();
    } else if (stage !== 'running' && r.workload) {
      r.workload.stop();
      r.workload = null;
    }
  }

  /** OpenBoot's view of a boot device: devalias or path -> vdisk -> volume@vds -> back end -> image. */
  openBootDevice(domain: string, device: string): BootDevice {
    const st = this.host.state();
    const d = st.domains.find((x) => x.name === domain);
    const disks = d?.constraints.vdisks ?? [];
    let disk = undefined as (typeof disks)[number] | undefined;
    const m = /^(?:disk(\d*)|.*\/disk@(\d+)(?::[a-z])?)$/.exec(device);
    if (m) {
      const id = Number(m[1] || m[2] || 0);
      disk = disks.find((k) => k.id === id);
    } else disk = disks.find((k) => k.name === device);
    const pathOf = (id: number) => `${VDISK_PATH}${id}`;
    if (!disk) return { ok: false, path: m ? pathOf(Number(m[1] || m[2] || 0)) : device, error: 'no-device', message: `${device}: no such device` };
    const server = st.domains.find((x) => x.name === disk!.serviceDomain);
    const vds = server?.constraints.vds.find((v) => v.name === disk!.service);
    const vol = vds?.volumes.find((v) => v.name === disk!.volume);
    if (!vol) return { ok: false, path: pathOf(disk.id), error: 'no-device', message: `${pathOf(disk.id)}: Can't open disk label package` };
    const img = readImage(vol.backend);
    if (!img.ok) {
      return { ok: false, path: pathOf(disk.id), error: img.reason === 'not-bootable' || img.reason === 'corrupt' ? 'not-bootable' : 'unreadable', message: img.message };
    }
    return { ok: true, path: pathOf(disk.id), image: img.image, capabilities: capabilities(img.image) };
  }

  panic(name: string): boolean {
    const r = this.running.get(name);
    if (!r) return false;
    r.os.panic();
    return true;
  }

  memory(name: string): GuestMemory | undefined {
    return this.memories.get(name);
  }

  /** Stop-and-copy: the guest stops writing memory and its console stops taking input. */
  suspend(name: string): void {
    const r = this.running.get(name);
    if (!r) return;
    r.suspended = true;
    r.workload?.stop();
    r.workload = null;
  }

  /** The migration was abandoned: the guest runs on where it stopped. */
  resume(name: string): void {
    const r = this.running.get(name);
    if (!r) return;
    r.suspended = false;
    const info = r.os.osInfo();
    const mem = this.memories.get(name);
    if (info && mem && !r.workload) {
      r.workload = new Workload(mem, info.image.workload);
      r.workload.start();
    }
  }

  async close(): Promise<void> {
    for (const r of this.running.values()) {
      r.workload?.stop();
      r.os.destroy(false);
    }
    this.running.clear();
    for (const m of this.memories.values()) m.close();
    this.memories.clear();
    await this.consoles.close();
  }
}

/** A running guest's console; keystrokes are dropped while the guest is suspended. */
function suspendable(r: Running) {
  return {
    onOutput: (l: (data: string) => void) => r.os.onOutput(l),
    input: (data: string) => {
      if (!r.suspended) r.os.input(data);
    },
    break: () => {
      if (!r.suspended) r.os.break();
    },
  };
}

/** A bound (not started) domain's console: nothing answers yet. */
function idleConsole() {
  return {
    onOutput: () => () => undefined,
    input: () => undefined,
  };
}

