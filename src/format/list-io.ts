// `ldm list-io [-l] [-p]`: root complexes, NIUs and PCIe slots with the domain that owns each.
// Human layout: the confirmed 3.x single table (ldm-cli-addendum.md §6), chosen over the unconfirmed
// 2.0 two-table form; parseable rows as in the 3.0 captures (platforms.md §3.1, §6.2).

import type { HostView } from '../manager/inventory.js';
import { ioOwners } from '../manager/inventory.js';
import type { IoDevice } from '../platform/types.js';
import { col } from './units.js';

export interface ListIoOptions {
  /** `-l`: the device path in brackets under each row. */
  long: boolean;
  parseable: boolean;
}

// Same version line as the other 2.0 parseable listings (see list-devices.ts).
const VERSION_LINE = 'VERSION 1.5';

// Column starts 0, 42, 49, 58, 67 (3.3 T4-2 sample).
const WIDTHS = [42, 7, 9, 9, 9];

interface IoRow {
  dev: IoDevice;
  /** Owning domain, '' when nobody owns it. */
  domain: string;
}

export function renderListIo(view: HostView, opts: ListIoOptions): string {
  const rows = ioRows(view);
  if (opts.parseable) {
    const lines = [VERSION_LINE];
    // An unowned device prints `domain=-`, as the T4-2 and T5240 captures do.
    for (const { dev, domain } of rows)
      lines.push(
        `|dev=${dev.dev}|alias=${dev.alias}|status=${dev.status}|domain=${domain || '-'}|type=${dev.type}|bus=${dev.bus}`,
      );
    return lines.join('\n') + '\n';
  }
  const lines = [padded(['NAME', 'TYPE', 'BUS', 'DOMAIN', 'STATUS']), padded(['----', '----', '---', '------', '------'])];
  for (const { dev, domain } of rows) {
    lines.push(
      domain === '' && dev.status === ''
        ? // Nothing to say about owner or status: the row stops right after BUS (3.3 sample, `pci_1`).
          padded([dev.alias, dev.type]) + dev.bus
        : padded([dev.alias, dev.type, dev.bus, domain, dev.status]),
    );
    if (opts.long) lines.push(`[${dev.dev}]`);
  }
  return lines.join('\n') + '\n';
}

/** Rows in the platform's order; a slot belongs to whoever owns its root complex. */
function ioRows(view: HostView): IoRow[] {
  const owners = ioOwners(view.domains);
  const busDevice = new Map(view.platform.io.filter((d) => d.type !== 'PCIE').map((d) => [d.alias, d.dev]));
  return view.platform.io.map((dev) => {
    const busDev = busDevice.get(dev.bus);
    const domain = owners.get(dev.dev) ?? (busDev !== undefined ? owners.get(busDev) : undefined) ?? '';
    return { dev, domain };
  });
}

/** Every cell padded to its column, trailing blanks kept as the 3.3 sample prints them. */
function padded(cells: string[]): string {
  return cells.map((c, i) => col(c, WIDTHS[i])).join('');
}
