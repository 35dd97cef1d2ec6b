// The modelled guest: OpenBoot at power-on, then (when a bootable OS image is found) Solaris with a
// console login and a small shell. It talks to the world through its console, and to the
// hypervisor through the GuestPlatform it is given. Everything it prints follows the live
// bindings: after `ldm add-vcpu`, psrinfo shows the new CPUs when the OS supports CPU DR.

import type { PlatformSpec } from '../platform/types.js';
import type { OsCapabilities, OsImage } from './types.js';

/** What the hypervisor tells a guest, and what the guest tells it back. */
export interface GuestPlatform {
  readonly domain: string;
  readonly platform: PlatformSpec;
  /** Current bound strands (physical IDs, guest CPU order) and memory. */
  strands(): number[];
  memoryBytes(): number;
  mac(): string;
  hostid(): number;
  /** OpenBoot variables as kept by the manager. */
  variables(): Map<string, string>;
  setVariable(name: string, value: string): void;
  /** Resolve a boot device (a devalias such as `disk`, `disk1`, `vdisk1`, or a device path). */
  openBootDevice(device: string): BootDevice;
  /** The OS reached a new stage. */
  stage(stage: GuestStage, os: { image: OsImage; capabilities: OsCapabilities } | null): void;
  /** The OS powered the domain off (shutdown -i5, poweroff): the domain stops. */
  powerOff(): void;
}

export type BootDevice =
  | { ok: true; path: string; image: OsImage; capabilities: OsCapabilities }
  | { ok: false; path: string; error: 'no-device' | 'not-bootable' | 'unreadable'; message: string };

export type GuestStage = 'openboot' | 'booting' | 'running';

type Phase = 'ok' | 'booting' | 'login' | 'password' | 'shell' | 'off';

const VDISK_PATH = '/virtual-devices@100/channel-devices@200/disk@';
const OBP_PROMPT = '{0} ok ';

export interface GuestOsOptions {
  /** Resume a domain that was running when the machine process restarted: no power-on. */
  resume?: { stage: GuestStage; bootDevice?: string };
  /** Speed up boots in tests (seconds multiplier). */
  bootScale?: number;
  now?: () => number;
}

export class GuestOs {
  private phase: Phase = 'ok';
  private listeners = new Set<(data: string) => void>();
  /** Output before the first subscriber (null once someone listened). */
  private unheard: string | null = '';
  private line = '';
  private user = '';
  private os: { image: OsImage; capabilities: OsCapabilities; cpusAtBoot: number } | null = null;
  private bootTimer: NodeJS.Timeout | null = null;
  private readonly scale: number;
  private readonly now: () => number;
  private bootedAt = 0;

  constructor(
    private readonly hw: GuestPlatform,
    opts: GuestOsOptions = {},
  ) {
    this.scale = opts.bootScale ?? 1;
    this.now = opts.now ?? Date.now;
    if (opts.resume?.stage === 'running' || opts.resume?.stage === 'booting') {
      // The modelled hardware kept running while the machine process restarted.
      const dev = this.hw.openBootDevice(opts.resume.bootDevice ?? this.defaultBootDevice());
      if (dev.ok) {
        this.os = { image: dev.image, capabilities: dev.capabilities, cpusAtBoot: this.hw.strands().length };
        this.bootedAt = this.now();
        this.phase = 'login';
        this.hw.stage('running', this.osInfo());
        return;
      }
    }
    if (opts.resume?.stage === 'openboot') {
      this.phase = 'ok';
      this.hw.stage('openboot', null);
      return;
    }
    this.powerOn();
  }

  // --- GuestConsole ---------------------------------------------------------------------------

  onOutput(listener: (data: string) => void): () => void {
    this.listeners.add(listener);
    if (this.unheard) listener(this.unheard);
    this.unheard = null;
    return () => this.listeners.delete(listener);
  }

  input(data: string): void {
    for (const ch of data) this.key(ch);
  }

  break(): void {
    // A break drops a running OS into... nothing here: the modelled Solaris ignores it (no kmdb).
    if (this.phase === 'shell' || this.phase === 'login') this.print('\n');
  }

  // --- lifecycle ----------------------------------------------------------------------------

  /** The domain is stopped or unbound: stop everything, graceful or not. */
  destroy(graceful: boolean): void {
    if (graceful && (this.phase === 'shell' || this.phase === 'login' || this.phase === 'password')) {
      this.print('\nShutdown started.\n\nChanging to init state 5 - please wait\n');
      this.print(`${this.hostname()} console login: \nsyncing file systems... done\n`);
    }
    this.clearBoot();
    this.phase = 'off';
    this.listeners.clear();
  }

  /** `ldm panic-domain`: the OS panics, dumps and reboots. */
  panic(): void {
    if (!this.os || this.phase === 'ok' || this.phase === 'booting') {
      this.print('\n');
      return;
    }
    this.print(`\npanic[cpu0]/thread=2a100047ca0: forced crash dump initiated at user request\n\n`);
    this.print('syncing file systems... done\ndumping to /dev/dsk/c0d0s1, offset 65536, content: kernel\n100% done\nrebooting...\n');
    this.reset();
  }

  /** The OS and its capabilities, once booted. */
  osInfo(): { image: OsImage; capabilities: OsCapabilities } | null {
    return this.os ? { image: this.os.image, capabilities: this.os.capabilities } : null;
  }

  // --- OpenBoot -----------------------------------------------------------------------------

  private powerOn(): void {
    this.phase = 'ok';
    this.os = null;
    this.hw.stage('openboot', null);
    this.print(this.banner());
    const vars = this.hw.variables();
    if ((vars.get('auto-boot?') ?? 'true') === 'true') {
      this.print('\n');
      this.boot(this.defaultBootDevice(), '');
    } else {
      this.print(`\n${OBP_PROMPT}`);
    }
  }

  private banner(): string {
    const p = this.hw.platform;
    const mb = Math.floor(this.hw.memoryBytes() / (1024 * 1024));
    const mac = this.hw
      .mac()
      .split(':')
      .map((o) => String(parseInt(o, 16).toString(16)))
      .join(':');
    const hostid = this.hw.hostid().toString(16).padStart(8, '0');
    const obp = p.firmware.openboot.replace(/^(OpenBoot|OBP)\s+/, '').split(' ')[0].replace(/\.$/, '');
    return (
      `\n${p.model}, No Keyboard\n` +
      'Copyright (c) 1998, 2010, Oracle and/or its affiliates. All rights reserved.\n' +
      `OpenBoot ${obp}, ${mb} MB memory available, Serial #${this.hw.hostid() & 0xffffff}.\n` +
      `Ethernet address ${mac}, Host ID: ${hostid}.\n\n`
    );
  }

  private defaultBootDevice(): string {
    const v = this.hw.variables().get('boot-device');
    return v && v.trim() ? v.trim().split(/\s+/)[0] : 'disk';
  }

  private boot(device: string, args: string): void {
    const dev = this.hw.openBootDevice(device);
    this.print(`Boot device: ${dev.path}  File and args: ${args}\n`);
    if (!dev.ok) {
      if (dev.error === 'no-device') this.print(`ERROR: ${dev.message}\n\nCan't open boot device\n\n`);
      else if (dev.error === 'not-bootable') this.print('The file just loaded does not appear to be executable.\n');
      else this.print(`ERROR: ${dev.message}\nBoot load failed\n`);
      this.phase = 'ok';
      this.print(OBP_PROMPT);
      return;
    }
    if (dev.image.arch === 'sun4u') {
      // A P2V disk before its upgrade: the boot block finds no sun4v boot loader (docs/ldmp2v.md).
      this.print('Can\'t open /platform/sun4v/ufsboot\n\nBoot load failed\n');
      this.phase = 'ok';
      this.print(OBP_PROMPT);
      return;
    }
    this.phase = 'booting';
    this.hw.stage('booting', { image: dev.image, capabilities: dev.capabilities });
    const img = dev.image;
    const s11 = /Solaris 11/.test(img.release);
    this.print(s11 ? `SunOS Release 5.11 Version ${img.kernel} 64-bit\n` : `SunOS Release 5.10 Version ${img.kernel} 64-bit\n`);
    this.print('Copyright (c) 1983, 2010, Oracle and/or its affiliates. All rights reserved.\n');
    this.bootTimer = setTimeout(() => {
      this.bootTimer = null;
      this.os = { image: img, capabilities: dev.capabilities, cpusAtBoot: this.hw.strands().length };
      this.bootedAt = this.now();
      this.print(`Hostname: ${img.hostname}\n`);
      if (img.interfaces.length) this.print(`Configuring devices.\n`);
      this.print(`\n${img.hostname} console login: `);
      this.phase = 'login';
      this.hw.stage('running', this.osInfo());
    }, Math.max(0, img.bootSeconds * 1000 * this.scale));
  }

  private clearBoot(): void {
    if (this.bootTimer) clearTimeout(this.bootTimer);
    this.bootTimer = null;
  }

  /** reset-all, reboot, panic: back through OpenBoot. */
  private reset(): void {
    this.clearBoot();
    this.print('Resetting...\n');
    this.powerOn();
  }

  private obpCommand(text: string): void {
    const [cmd, ...args] = text.trim().split(/\s+/);
    switch (cmd) {
      case undefined:
      case '':
        break;
      case 'boot': {
        const first = args[0];
        const device = first && !first.startsWith('-') ? first : this.defaultBootDevice();
        const rest = first && !first.startsWith('-') ? args.slice(1) : args;
        this.boot(device, rest.join(' '));
        return;
      }
      case 'printenv': {
        const vars = this.hw.variables();
        if (args[0]) {
          const v = vars.get(args[0]);
          this.print(v === undefined ? `Unknown option: ${args[0]}\n` : `${args[0]} = ${v}\n`);
        } else {
          this.print('Variable Name           Value\n');
          for (const [k, v] of [...vars].sort()) this.print(`${k.padEnd(24)}${v}\n`);
        }
        break;
      }
      case 'setenv':
        if (args.length < 2) this.print('Usage: setenv option-name value\n');
        else {
          const value = args.slice(1).join(' ');
          this.hw.setVariable(args[0], value);
          this.print(`${args[0]} = ${value}\n`);
        }
        break;
      case 'reset-all':
        this.reset();
        return;
      case 'banner':
        this.print(this.banner());
        break;
      case 'devalias':
        this.print(`disk                     ${VDISK_PATH}0\nvirtual-console          /virtual-devices/console@1\nname                     aliases\n`);
        break;
      case 'help':
        this.print('Commands: boot [device] [args], printenv [var], setenv var value, reset-all, banner, devalias\n');
        break;
      default:
        this.print(`${cmd} ?\n`);
    }
    this.print(OBP_PROMPT);
  }

  // --- Solaris ------------------------------------------------------------------------------

  private hostname(): string {
    return this.os?.image.hostname ?? this.hw.domain;
  }

  private shellPrompt(): string {
    return this.user === 'root' ? '# ' : '$ ';
  }

  private loginLine(text: string): void {
    const name = text.trim();
    if (!name) {
      this.print(`${this.hostname()} console login: `);
      return;
    }
    this.user = name;
    this.phase = 'password';
    this.print('Password: ');
  }

  private passwordLine(text: string): void {
    this.print('\n');
    if (!text) {
      this.print(`Login incorrect\n${this.hostname()} console login: `);
      this.phase = 'login';
      return;
    }
    this.print(`Last login: ${new Date(this.now()).toUTCString()} on console\nOracle Corporation      SunOS 5.10      Generic Patch   January 2005\n`);
    this.phase = 'shell';
    this.print(this.shellPrompt());
  }

  /** The CPUs the OS sees: live bindings with CPU DR, otherwise what it booted with. */
  private cpuIds(): number[] {
    const n = this.os && this.os.capabilities.cpuDr ? this.hw.strands().length : (this.os?.cpusAtBoot ?? this.hw.strands().length);
    return Array.from({ length: n }, (_, i) => i);
  }

  private run(cmdline: string): string | null {
    // A one-stage pipe into grep is enough for `prtconf | grep Memory`.
    const [left, right] = cmdline.split('|').map((s) => s.trim());
    let out = this.command(left);
    if (out === null) return null;
    if (right !== undefined) {
      const m = /^grep\s+(-i\s+)?(\S+)$/.exec(right);
      if (!m) return `sh: ${right.split(/\s+/)[0]}: not found\n`;
      const pat = m[2].replace(/^['"]|['"]$/g, '');
      out = out
        .split('\n')
        .filter((l) => (m[1] ? l.toLowerCase().includes(pat.toLowerCase()) : l.includes(pat)))
        .map((l) => `${l}\n`)
        .join('');
    }
    return out;
  }

  private command(text: string): string | null {
    const [cmd, ...args] = text.split(/\s+/).filter(Boolean);
    const img = this.os!.image;
    const s11 = /Solaris 11/.test(img.release);
    const p = this.hw.platform;
    const date = (t: number) => {
      const d = new Date(t);
      const pad = (n: number) => String(n).padStart(2, '0');
      return `${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
    };
    switch (cmd) {
      case undefined:
        return '';
      case 'uname': {
        const release = s11 ? '5.11' : '5.10';
        const version = s11 ? img.kernel : img.kernel;
        if (args.includes('-a')) return `SunOS ${img.hostname} ${release} ${version} sun4v sparc ${p.rootNode}\n`;
        if (args.includes('-r')) return `${release}\n`;
        if (args.includes('-n')) return `${img.hostname}\n`;
        return 'SunOS\n';
      }
      case 'hostname':
        return `${img.hostname}\n`;
      case 'hostid':
        return `${this.hw.hostid().toString(16).padStart(8, '0')}\n`;
      case 'ifconfig': {
        if (args[0] === '-a') return LOOPBACK + img.interfaces.map((x, n) => ifconfigBlock(x, n)).join('');
        const one = img.interfaces.findIndex((x) => x.name === args[0]);
        if (one >= 0) return ifconfigBlock(img.interfaces[one], one);
        return args[0] ? `ifconfig: status: SIOCGLIFFLAGS: ${args[0]}: no such interface\n` : 'usage: ifconfig <interface> | -a\n';
      }
      case 'psrinfo': {
        const ids = this.cpuIds();
        const mhz = p.cpu.clockMHz;
        if (args.includes('-pv') || (args.includes('-p') && args.includes('-v'))) {
          const cpuName = p.cpu.type;
          return `The physical processor has ${ids.length} virtual processor${ids.length === 1 ? '' : 's'} (${ids.length === 1 ? '0' : `0-${ids.length - 1}`})\n  ${cpuName} (chipid 0, clock ${mhz} MHz)\n`;
        }
        if (args.includes('-p')) return '1\n';
        if (args.includes('-v')) {
          return ids
            .map((i) => `Status of virtual processor ${i} as of: ${date(this.now())}\n  on-line since ${date(this.bootedAt)}.\n  The sparcv9 processor operates at ${mhz} MHz,\n        and has a sparcv9 floating point processor.\n`)
            .join('');
        }
        return ids.map((i) => `${String(i).padEnd(8)}on-line   since ${date(this.bootedAt)}\n`).join('');
      }
      case 'prtconf': {
        const mb = Math.floor(this.memoryMb());
        return `System Configuration:  Oracle Corporation  sun4v\nMemory size: ${mb} Megabytes\nSystem Peripherals (Software Nodes):\n\n${p.rootNode}\n    scsi_vhci, instance #0\n    packages (driver not attached)\n    virtual-devices, instance #0\n        channel-devices, instance #0\n            disk, instance #0\n            network, instance #0\n    cpu (driver not attached)\n`;
      }
      case 'svcs': {
        const drd = img.drd ? 'online' : 'disabled';
        return `STATE          STIME    FMRI\n${drd.padEnd(15)}${date(this.bootedAt).slice(11, 19)} svc:/platform/sun4v/drd:default\n`;
      }
      case 'echo':
        return `${args.join(' ')}\n`;
      case 'date':
        return `${new Date(this.now()).toUTCString()}\n`;
      case 'id':
        return this.user === 'root' ? 'uid=0(root) gid=0(root)\n' : `uid=100(${this.user}) gid=10(staff)\n`;
      case 'exit':
      case 'logout':
        this.phase = 'login';
        this.user = '';
        this.print(`\n${img.hostname} console login: `);
        return null;
      case 'init':
        return this.initState(args[0] ?? '', text);
      case 'shutdown': {
        const i = args.indexOf('-i');
        const state = i >= 0 ? args[i + 1] ?? '' : (args.find((a) => /^-i\S/.test(a))?.slice(2) ?? 's');
        return this.initState(state, text);
      }
      case 'reboot':
        return this.initState('6', text);
      case 'halt':
        return this.initState('0', text);
      case 'poweroff':
        return this.initState('5', text);
      default:
        return `${cmd}: not found\n`;
    }
  }

  private memoryMb(): number {
    return (this.os && this.os.capabilities.memoryDr ? this.hw.memoryBytes() : this.hw.memoryBytes()) / (1024 * 1024);
  }

  private initState(state: string, text: string): string | null {
    if (this.user !== 'root') return `${text.split(/\s+/)[0]}: Permission denied\n`;
    switch (state) {
      case '0':
      case 's':
      case 'S':
        this.print('\nChanging to init state 0 - please wait\nsyncing file systems... done\nProgram terminated\n');
        this.os = null;
        this.phase = 'ok';
        this.hw.stage('openboot', null);
        this.print(OBP_PROMPT);
        return null;
      case '5':
        this.print('\nChanging to init state 5 - please wait\nsyncing file systems... done\n');
        this.phase = 'off';
        this.hw.powerOff();
        return null;
      case '6':
        this.print('\nChanging to init state 6 - please wait\nsyncing file systems... done\nrebooting...\n');
        this.reset();
        return null;
      default:
        return `init: invalid run level: ${state}\n`;
    }
  }

  // --- keystrokes -----------------------------------------------------------------------------

  private key(ch: string): void {
    if (this.phase === 'off' || this.phase === 'booting') return;
    if (ch === '\r' || ch === '\n') {
      const text = this.line;
      this.line = '';
      if (this.phase !== 'password') this.print('\n');
      this.enter(text);
      return;
    }
    if (ch === '\u007f' || ch === '\b') {
      if (this.line) {
        this.line = this.line.slice(0, -1);
        if (this.phase !== 'password') this.print('\b \b');
      }
      return;
    }
    if (ch === '\u0003') {
      this.line = '';
      this.print('^C\n');
      this.prompt();
      return;
    }
    if (ch < ' ') return;
    this.line += ch;
    if (this.phase !== 'password') this.print(ch);
  }

  private prompt(): void {
    if (this.phase === 'ok') this.print(OBP_PROMPT);
    else if (this.phase === 'login') this.print(`${this.hostname()} console login: `);
    else if (this.phase === 'password') this.print('Password: ');
    else if (this.phase === 'shell') this.print(this.shellPrompt());
  }

  private enter(text: string): void {
    switch (this.phase) {
      case 'ok':
        this.obpCommand(text);
        return;
      case 'login':
        this.loginLine(text);
        return;
      case 'password':
        this.passwordLine(text);
        return;
      case 'shell': {
        const out = this.run(text.trim());
        if (out === null) return;
        this.print(out);
        this.print(this.shellPrompt());
        return;
      }
    }
  }

  private print(text: string): void {
    if (this.unheard !== null && this.listeners.size === 0) {
      // Power-on output comes before anyone could subscribe (the console follows the new guest
      // right after it is created): kept for the first subscriber, as the console's own buffer.
      if (this.unheard.length < 64 * 1024) this.unheard += text;
      return;
    }
    for (const l of this.listeners) l(text);
  }
}

const LOOPBACK = 'lo0: flags=2001000849<UP,LOOPBACK,RUNNING,MULTICAST,IPv4,VIRTUAL> mtu 8232 index 1\n\tinet 127.0.0.1 netmask ff000000 \n';

/** One interface as Solaris 10 `ifconfig` prints it; index 1 is lo0. */
function ifconfigBlock(i: OsImage['interfaces'][number], n: number): string {
  const [addr, prefix] = i.ip.split('/');
  if (addr.includes(':')) return `${i.name}: flags=2000841<UP,RUNNING,MULTICAST,IPv6> mtu 1500 index ${n + 2}\n\tinet6 ${addr}/${prefix ?? '64'} \n`;
  const octets = addr.split('.').map(Number);
  // Without a prefix the netmask is the classful one (no netmasks(4) entry).
  const bits = prefix !== undefined ? Number(prefix) : octets[0] < 128 ? 8 : octets[0] < 192 ? 16 : 24;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const ip = octets.reduce((a, o) => ((a << 8) | o) >>> 0, 0);
  const dotted = (v: number) => [24, 16, 8, 0].map((sh) => (v >>> sh) & 255).join('.');
  return (
    `${i.name}: flags=1000843<UP,BROADCAST,RUNNING,MULTICAST,IPv4> mtu 1500 index ${n + 2}\n` +
    `\tinet ${addr} netmask ${mask.toString(16).padStart(8, '0')} broadcast ${dotted((ip | ~mask) >>> 0)}\n`
  );
}
