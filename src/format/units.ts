// Units as `ldm` prints and reads them.

export const K = 1024;
export const M = 1024 * K;
export const G = 1024 * M;

/**
 * MEMORY column / SIZE rows: the largest unit that divides the size exactly
 * (`32544M`, `2G`, `512K`); G is the largest unit printed (`256G`, `1024G`).
 */
export function formatSize(bytes: number): string {
  if (bytes === 0) return '0';
  if (bytes % G === 0) return `${bytes / G}G`;
  if (bytes % M === 0) return `${bytes / M}M`;
  if (bytes % K === 0) return `${bytes / K}K`;
  return String(bytes);
}

/** `size[unit]` with K, M, G (or T), case-insensitive; no unit means bytes. Returns null if malformed. */
export function parseSize(text: string): number | null {
  const m = /^(\d+)([kmgt]?)(?:b)?$/i.exec(text.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const unit = m[2].toLowerCase();
  const mult = unit === 'k' ? K : unit === 'm' ? M : unit === 'g' ? G : unit === 't' ? G * 1024 : 1;
  const v = n * mult;
  return Number.isSafeInteger(v) ? v : null;
}

/** Human UPTIME: `Nd Nh Nm` with zero parts left out; under a minute `Ns`. */
export function formatUptime(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts: string[] = [];
  if (d) parts.push(`${d}d`);
  if (h) parts.push(`${h}h`);
  if (m) parts.push(`${m}m`);
  return parts.length ? parts.join(' ') : '0m';
}

/** Human UTIL: one decimal below 10 %, whole percent from 10 %, right-aligned in 4 columns. */
export function formatUtilHuman(percent: number): string {
  // Round first: 9.96 is printed as ` 10%`, not `10.0%`, which would not fit the column.
  const tenths = Math.round(percent * 10) / 10;
  const text = tenths < 10 ? `${tenths.toFixed(1)}%` : `${Math.round(percent)}%`;
  return text.padStart(4);
}

/** Parseable util: bare decimal, one place, no `%`. */
export function formatUtilParseable(percent: number): string {
  return percent.toFixed(1);
}

export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** Host ID as `ldm` prints it: `0x%08x`. */
export function formatHostid(hostid: number): string {
  return `0x${hostid.toString(16).padStart(8, '0')}`;
}

/** Left-justify `text` in `width` columns; longer text keeps one trailing space. */
export function col(text: string, width: number): string {
  return text.length >= width ? `${text} ` : text.padEnd(width);
}
