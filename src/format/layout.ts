// Text layout shared by the domain listings: sections, indented tables, the domain rule.
// A section is its heading line followed by its body lines (already indented).

import { col } from './units.js';

export type Section = string[];

/** Section bodies are indented 4 spaces (ldm-cli.md §4.3); SOFTSTATE is the exception (addendum §2). */
export const INDENT = '    ';

/** Between domains of a long listing: exactly 78 `-` (addendum §2). */
export const DOMAIN_RULE = '-'.repeat(78);

export function section(heading: string, body: string[]): Section {
  return [heading, ...body.map((l) => INDENT + l)];
}

/**
 * Cells at fixed column widths, measured from the samples; every cell but the last goes through
 * col() (a longer value prints whole plus one space); trailing blanks are dropped, as in the 2.0
 * captures.
 */
export function fixedRow(cells: string[], widths: number[]): string {
  const last = cells.length - 1;
  return cells.map((c, i) => (i < last ? col(c, widths[i]) : c)).join('').trimEnd();
}

/** A header row plus rows at fixed widths. */
export function fixedTable(header: string[], widths: number[], rows: string[][]): string[] {
  return [header, ...rows].map((r) => fixedRow(r, widths));
}

/**
 * Columns as wide as their widest cell plus one space: the sizing of the 1.3 list-bindings VSW
 * sample (addendum §5), which no fixed width explains.
 */
export function autoTable(header: string[], rows: string[][]): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)) + 1);
  return all.map((r) => fixedRow(r, widths));
}

/** One domain's block: its head lines, then each section preceded by a blank line. */
export function domainBlock(head: string[], sections: Section[]): string {
  const lines = [...head];
  for (const s of sections) lines.push('', ...s);
  return lines.join('\n');
}

/** Domain blocks separated by a blank line and the 78-dash rule; '' when there are none. */
export function joinDomainBlocks(blocks: string[]): string {
  if (blocks.length === 0) return '';
  return blocks.join(`\n\n${DOMAIN_RULE}\n`) + '\n';
}

/** Parseable lines as one text, '' when there are none. */
export function joinLines(lines: string[]): string {
  return lines.length ? lines.join('\n') + '\n' : '';
}
