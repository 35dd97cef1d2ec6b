// The one-line summary of a domain: the human row of `ldm list` (and of the `-l`/`-o domain`
// heads) and the parseable `DOMAIN|...` record. Layout: ldm-cli.md §4.1/§4.2, addendum §2/§4.

import type { HostView } from '../manager/inventory.js';
import { boundMemory } from '../manager/inventory.js';
import type { Domain } from '../manager/types.js';
import { flagWords, flagsOf, isControlDomain } from './flags.js';
import { fixedRow } from './layout.js';
import { formatSize, formatUptime, formatUtilHuman, formatUtilParseable } from './units.js';

// Column starts NAME 0, STATE 17, FLAGS 28, CONS 36, VCPU 44, MEMORY 50, UTIL 59, UPTIME 65.
const LIST_WIDTHS = [17, 11, 8, 8, 6, 9, 6];
export const LIST_HEADER = fixedRow(['NAME', 'STATE', 'FLAGS', 'CONS', 'VCPU', 'MEMORY', 'UTIL', 'UPTIME'], LIST_WIDTHS);

// `-o domain`: NAME 0, STATE 17, FLAGS 28, UTIL 36 (addendum §2).
const DOMAIN_WIDTHS = [17, 11, 8];
export const DOMAIN_HEADER = fixedRow(['NAME', 'STATE', 'FLAGS', 'UTIL'], DOMAIN_WIDTHS);

/** The raw values both forms print, '' where a field is empty. */
interface Summary {
  cons: string;
  ncpu: number;
  mem: number;
  active: boolean;
}

function summary(view: HostView, d: Domain): Summary {
  if (d.state === 'inactive') {
    // Not bound: the counts come from the constraints (ldm-cli.md §4.1, 3.0 capture in platforms.md §3.1).
    return { cons: '', ncpu: d.constraints.vcpus, mem: d.constraints.memory, active: false };
  }
  const cons = isControlDomain(d)
    ? view.platform.primaryConsole
    : d.binding?.console.port != null
      ? String(d.binding.console.port)
      : '';
  return {
    cons,
    ncpu: d.binding?.strands.length ?? 0,
    mem: d.binding ? boundMemory(d) : 0,
    active: d.state === 'active',
  };
}

/** Seconds since the domain started. */
export function uptimeSeconds(view: HostView, d: Domain): number {
  const started = d.runtime?.startedAt ?? view.now;
  return Math.max(0, Math.floor((view.now - started) / 1000));
}

function utilOf(d: Domain): number {
  return d.runtime?.util ?? 0;
}

/** `primary          active     -n-cv-  SP      4     27392M   0.4%  1d 22h 53m`; bound and inactive rows end after MEMORY. */
export function listRow(view: HostView, d: Domain): string {
  const s = summary(view, d);
  const cells = [
    d.constraints.name,
    d.state,
    flagsOf(d, view),
    s.cons,
    s.ncpu ? String(s.ncpu) : '',
    s.mem ? formatSize(s.mem) : '',
    s.active ? formatUtilHuman(utilOf(d)) : '',
    s.active ? formatUptime(uptimeSeconds(view, d)) : '',
  ];
  return fixedRow(cells, LIST_WIDTHS);
}

/** `-o domain` row: `orange           bound      ------` (no UTIL unless active). */
export function domainFormatRow(view: HostView, d: Domain): string {
  const util = d.state === 'active' ? formatUtilHuman(utilOf(d)) : '';
  return fixedRow([d.constraints.name, d.state, flagsOf(d, view), util], DOMAIN_WIDTHS);
}

/**
 * `DOMAIN|name=|state=|flags=|cons=|ncpu=|mem=|util=|uptime=`: every key always present, empty
 * when it does not apply (addendum §4); `mem` in bytes, `uptime` in seconds, `util` without `%`.
 * `words` selects the `-l -p` spelling of the flags.
 */
export function domainRecord(view: HostView, d: Domain, words: boolean): string {
  const s = summary(view, d);
  const flags = d.state === 'inactive' ? '' : words ? flagWords(d, view) : flagsOf(d, view);
  return (
    `DOMAIN|name=${d.constraints.name}|state=${d.state}|flags=${flags}|cons=${s.cons}` +
    `|ncpu=${s.ncpu || ''}|mem=${s.mem || ''}` +
    `|util=${s.active ? formatUtilParseable(utilOf(d)) : ''}` +
    `|uptime=${s.active ? uptimeSeconds(view, d) : ''}`
  );
}

/** Free text goes last on the DOMAIN line, since parsers split on `=` (ldm-cli.md §5). */
export function withSoftstate(record: string, d: Domain): string {
  const text = d.state === 'active' ? (d.runtime?.softstate ?? '') : '';
  return `${record}|softstate=${text}`;
}
