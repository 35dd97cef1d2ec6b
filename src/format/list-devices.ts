// `ldm list-devices [-a] [-p] [cpu|crypto|memory|io]`: the host's resources and who holds them.
// Layout: ldm-cli.md §4.5 (2.0 capture), contract §5; choices in docs/output-formats-devices.md.

import type { HostView } from '../manager/inventory.js';
import {
  coreCount,
  coreOfCrypto,
  cryptoCount,
  cryptoOwners,
  ioOwners,
  memoryMap,
  strandOwners,
  strandsOfCore,
} from '../manager/inventory.js';
import type { Domain } from '../manager/types.js';
import { col, formatSize, hex } from './units.js';

export type DeviceClass = 'cpu' | 'crypto' | 'memory' | 'io';

export interface ListDevicesOptions {
  /** `-a`: bound and free resources; otherwise free ones only. */
  all: boolean;
  parseable: boolean;
  /** Empty = every class. `cpu` selects CORE and VCPU, `crypto` MAU. */
  classes: DeviceClass[];
}

// 2.0's parseable version is unconfirmed; a 2.x-era T5240 capture prints 1.5 (platforms.md §4.1).
const VERSION_LINE = 'VERSION 1.5';

/** One section: human header cells and rows (last cell unpadded), parseable rows. */
interface Section {
  title: string;
  /** Column widths of every cell but the last, measured from the 2.0 capture. */
  widths: number[];
  header: string[];
  rows: string[][];
  parseable: string[];
}

export function renderListDevices(view: HostView, opts: ListDevicesOptions): string {
  const wants = (c: DeviceClass) => opts.classes.length === 0 || opts.classes.includes(c);
  const sections: Section[] = [];
  if (wants('cpu')) sections.push(coreSection(view, opts.all), vcpuSection(view, opts.all));
  if (wants('crypto') && cryptoCount(view.platform) > 0) sections.push(mauSection(view, opts.all));
  if (wants('memory')) sections.push(memorySection(view, opts.all));
  if (wants('io')) sections.push(ioSection(view, opts.all));
  // A section with nothing to list is left out (e.g. no free strands without -a).
  const shown = sections.filter((s) => s.rows.length > 0);

  if (opts.parseable) {
    const lines = [VERSION_LINE];
    for (const s of shown) lines.push(s.title, ...s.parseable);
    return lines.join('\n') + '\n';
  }
  if (shown.length === 0) return '';
  return shown.map(humanSection).join('\n');
}

function humanSection(s: Section): string {
  const line = (cells: string[]) =>
    ('    ' + cells.map((c, i) => (i < s.widths.length ? col(c, s.widths[i]) : c)).join('')).trimEnd();
  return [s.title, line(s.header), ...s.rows.map(line)].join('\n') + '\n';
}

function humanCpuset(strands: number[]): string {
  return `(${strands.join(', ')})`;
}

function coreSection(view: HostView, all: boolean): Section {
  const p = view.platform;
  const owners = strandOwners(view.domains);
  const s: Section = { title: 'CORE', widths: [8, 8], header: ['ID', '%FREE', 'CPUSET'], rows: [], parseable: [] };
  for (let core = 0; core < coreCount(p); core++) {
    const strands = strandsOfCore(p, core);
    const free = strands.filter((st) => !owners.has(st)).length;
    // %FREE = share of the core's strands that are unbound (0 / 100 in the 2.0 capture).
    const pct = Math.round((100 * free) / strands.length);
    if (!all && free === 0) continue;
    s.rows.push([String(core), String(pct), humanCpuset(strands)]);
    s.parseable.push(`|cid=${core}|free=${pct}|cpuset=${strands.join(',')}`);
  }
  return s;
}

function vcpuSection(view: HostView, all: boolean): Section {
  const p = view.platform;
  const owners = strandOwners(view.domains);
  const byName = domainsByName(view.domains);
  const s: Section = { title: 'VCPU', widths: [8, 8], header: ['PID', '%FREE', 'PM'], rows: [], parseable: [] };
  for (let core = 0; core < coreCount(p); core++) {
    for (const strand of strandsOfCore(p, core)) {
      const owner = owners.get(strand);
      if (!all && owner !== undefined) continue;
      if (owner === undefined) {
        // A free strand is assumed power-managed: `---`, parseable `pm=` left empty (1.3 sample).
        s.rows.push([String(strand), '100', '---']);
        s.parseable.push(`|pid=${strand}|free=100|pm=`);
        continue;
      }
      // Under the elastic policy ldmd powers down the strands of domains that are not running (§6.5).
      const pm = view.pmPolicy === 'elastic' && byName.get(owner)?.state === 'bound' ? 'yes' : 'no';
      s.rows.push([String(strand), '0', pm]);
      s.parseable.push(`|pid=${strand}|free=0|pm=${pm}`);
    }
  }
  return s;
}

function mauSection(view: HostView, all: boolean): Section {
  const p = view.platform;
  const owners = cryptoOwners(view.domains);
  // The free-only listing has no BOUND column, like the free-memory sample (and the T5220 `-p` MAU rows).
  const s: Section = all
    ? { title: 'MAU', widths: [8, 40], header: ['ID', 'CPUSET', 'BOUND'], rows: [], parseable: [] }
    : { title: 'MAU', widths: [8], header: ['ID', 'CPUSET'], rows: [], parseable: [] };
  for (let unit = 0; unit < cryptoCount(p); unit++) {
    const strands = strandsOfCore(p, coreOfCrypto(p, unit));
    const bound = owners.get(unit) ?? '';
    if (all) {
      s.rows.push([String(unit), humanCpuset(strands), bound]);
      s.parseable.push(`|id=${unit}|cpuset=${strands.join(',')}|bound=${bound}`);
    } else if (bound === '') {
      s.rows.push([String(unit), humanCpuset(strands)]);
      s.parseable.push(`|id=${unit}|cpuset=${strands.join(',')}`);
    }
  }
  return s;
}

function memorySection(view: HostView, all: boolean): Section {
  const s: Section = all
    ? { title: 'MEMORY', widths: [21, 16], header: ['PA', 'SIZE', 'BOUND'], rows: [], parseable: [] }
    : { title: 'MEMORY', widths: [21], header: ['PA', 'SIZE'], rows: [], parseable: [] };
  for (const r of memoryMap(view.platform, view.domains)) {
    if (all) {
      s.rows.push([hex(r.pa), formatSize(r.size), r.bound]);
      // Free rows keep an empty `bound=` (contract §5: the empty `pm=` of free strands favours it).
      s.parseable.push(`|pa=${hex(r.pa)}|size=${r.size}|bound=${r.bound}`);
    } else if (r.bound === '') {
      s.rows.push([hex(r.pa), formatSize(r.size)]);
      s.parseable.push(`|pa=${hex(r.pa)}|size=${r.size}`);
    }
  }
  return s;
}

function ioSection(view: HostView, all: boolean): Section {
  const owners = ioOwners(view.domains);
  const s: Section = all
    ? { title: 'IO', widths: [17, 17, 8], header: ['DEVICE', 'PSEUDONYM', 'BOUND', 'OPTIONS'], rows: [], parseable: [] }
    : { title: 'IO', widths: [17, 17], header: ['DEVICE', 'PSEUDONYM', 'OPTIONS'], rows: [], parseable: [] };
  // list-devices offers whole root complexes and NIUs; slots are listed by list-io.
  for (const dev of view.platform.io) {
    if (dev.type === 'PCIE') continue;
    const owner = owners.get(dev.dev) ?? '';
    if (all) {
      // The human column says only whether the bus is bound (`yes`); the parseable row names the domain.
      s.rows.push([dev.dev, dev.alias, owner ? 'yes' : '', '']);
      s.parseable.push(`|dev=${dev.dev}|alias=${dev.alias}|bound=${owner}`);
    } else if (owner === '') {
      s.rows.push([dev.dev, dev.alias, '']);
      s.parseable.push(`|dev=${dev.dev}|alias=${dev.alias}`);
    }
  }
  return s;
}

function domainsByName(domains: readonly Domain[]): Map<string, Domain> {
  return new Map(domains.map((d) => [d.constraints.name, d]));
}
