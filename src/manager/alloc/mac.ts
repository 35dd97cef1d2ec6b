// MAC addresses for domains, virtual switches and virtual networks, and the host IDs derived from
// them. Oracle reserves 00:14:4F:F8:00:00–00:14:4F:FF:FF:FF for Logical Domains: the lower half
// is handed out by the manager, the upper half is for `mac-addr=` (ldm-cli.md §6.3 [V]).

import { fail, ok, type Result } from './errors.js';

export const AUTO_MAC_FIRST = 0x00144ff80000;
export const AUTO_MAC_LAST = 0x00144ffbffff;
export const MANUAL_MAC_FIRST = 0x00144ffc0000;
export const MANUAL_MAC_LAST = 0x00144fffffff;

const OCTET = 2 ** 8;

/** Lower-case, colon-separated, two digits per octet. */
export function formatMac(n: number): string {
  const octets: string[] = [];
  for (let i = 5; i >= 0; i--) octets.push((Math.floor(n / OCTET ** i) % OCTET).toString(16).padStart(2, '0'));
  return octets.join(':');
}

/** The address as a 48-bit number, or null if it is not six `:`-separated hex octets. */
export function macToNumber(text: string): number | null {
  // Solaris (ether_aton) accepts one-digit octets such as `0:14:4f:f8:0:1`.
  if (!/^[0-9a-f]{1,2}(:[0-9a-f]{1,2}){5}$/i.test(text.trim())) return null;
  return text
    .trim()
    .split(':')
    .reduce((n, o) => n * OCTET + parseInt(o, 16), 0);
}

/** Canonical form (`00:14:4f:fc:00:01`) of any case and octet width, or null if malformed. */
export function parseMac(text: string): string | null {
  const n = macToNumber(text);
  return n === null ? null : formatMac(n);
}

export function isAutoMac(mac: string): boolean {
  const n = macToNumber(mac);
  return n !== null && n >= AUTO_MAC_FIRST && n <= AUTO_MAC_LAST;
}

function usedNumbers(used: Iterable<string>): Set<number> {
  const set = new Set<number>();
  for (const m of used) {
    const n = macToNumber(m);
    if (n !== null) set.add(n);
  }
  return set;
}

/**
 * Picks an automatic MAC: a random start inside the automatic range, then the next free address
 * upward, wrapping at the end. `random` returns [0, 1) like Math.random; tests inject a seeded one.
 */
export function allocateMac(used: ReadonlySet<string>, random: () => number): Result<string> {
  const taken = usedNumbers(used);
  const span = AUTO_MAC_LAST - AUTO_MAC_FIRST + 1;
  const start = Math.min(span - 1, Math.max(0, Math.floor(random() * span)));
  for (let i = 0; i < span; i++) {
    const n = AUTO_MAC_FIRST + ((start + i) % span);
    if (!taken.has(n)) return ok(formatMac(n));
  }
  return fail(`No free MAC address is left in the automatic range ${formatMac(AUTO_MAC_FIRST)} - ${formatMac(AUTO_MAC_LAST)}`);
}

/**
 * Validates a `mac-addr=` value. `used` is the set of addresses in use, or a map from address to
 * its user (`ldg1`, `vnet0@ldg1`, ...) to name it in the message. Returns the canonical form.
 */
export function checkManualMac(mac: string, used: ReadonlySet<string> | ReadonlyMap<string, string>): Result<string> {
  const n = macToNumber(mac);
  // Group (multicast/broadcast) and all-zero addresses cannot name an interface.
  if (n === null || n === 0 || Math.floor(n / 2 ** 40) % 2 === 1) {
    return fail(`Invalid MAC address: ${mac}`);
  }
  const canonical = formatMac(n);
  if (n >= AUTO_MAC_FIRST && n <= AUTO_MAC_LAST) {
    return fail(
      `MAC address ${canonical} is in the range reserved for automatic allocation (${formatMac(AUTO_MAC_FIRST)} - ${formatMac(AUTO_MAC_LAST)})`,
    );
  }
  const owners: ReadonlyMap<string, string> =
    used instanceof Map ? used : new Map([...(used as ReadonlySet<string>)].map((m) => [m, '']));
  for (const [other, owner] of owners) {
    if (macToNumber(other) === n) {
      return fail(owner ? `MAC address ${canonical} is already in use by ${owner}` : `MAC address ${canonical} is already in use`);
    }
  }
  return ok(canonical);
}

/**
 * Host ID rule "OUI prefix + NIC-specific part": the vendor's OUI picks the top byte and the low
 * three MAC octets fill the rest. Verified pairs (§6.3): 00:14:4f:fa:ed:88 → 0x84faed88,
 * 00:21:28:57:cd:16 → 0x8557cd16. 00:03:ba → 0x83 is from memory [M]; unknown OUIs get 0x84.
 */
export const HOSTID_PREFIX_BY_OUI: ReadonlyMap<number, number> = new Map([
  [0x0003ba, 0x83],
  [0x00144f, 0x84],
  [0x002128, 0x85],
]);
export const DEFAULT_HOSTID_PREFIX = 0x84;

export function hostidFromMac(mac: string): number {
  const n = macToNumber(mac);
  if (n === null) throw new RangeError(`not a MAC address: ${mac}`);
  const oui = Math.floor(n / 2 ** 24);
  const prefix = HOSTID_PREFIX_BY_OUI.get(oui) ?? DEFAULT_HOSTID_PREFIX;
  return prefix * 2 ** 24 + (n % 2 ** 24);
}

/** The value of `hostid=`: hex with or without `0x`, at most 32 bits; null if malformed. */
export function parseHostid(text: string): number | null {
  const m = /^(?:0x)?([0-9a-f]{1,8})$/i.exec(text.trim());
  return m ? parseInt(m[1], 16) : null;
}
