// Parsing the `name=value` properties shared by the virtual device commands.

import { UserError } from '../errors.js';

export function intProp(key: string, text: string, min: number, max: number): number {
  if (!/^\d{1,9}$/.test(text)) throw new UserError(`Invalid value for ${key}: ${text}`);
  const n = Number(text);
  if (n < min || n > max) throw new UserError(`Invalid value for ${key}: ${text} (must be between ${min} and ${max})`);
  return n;
}

/** VLAN IDs 1-4094 (IEEE 802.1Q), comma separated. */
export function vlanList(key: string, text: string): number[] {
  if (text === '') return [];
  const ids = text.split(',').map((t) => intProp(key, t, 1, 4094));
  if (new Set(ids).size !== ids.length) throw new UserError(`Invalid value for ${key}: ${text} (duplicate VLAN ID)`);
  return ids;
}

export const MTU_MIN = 1500;
export const MTU_MAX = 16000;

export function mtuProp(text: string): number {
  return intProp('mtu', text, MTU_MIN, MTU_MAX);
}

export function oneOf<T extends string>(key: string, text: string, allowed: readonly T[]): T {
  if (!allowed.includes(text as T)) throw new UserError(`Invalid value for ${key}: ${text} (use ${allowed.filter(Boolean).join(' or ') || 'an empty value'})`);
  return text as T;
}

/** Lowest N not yet used by a device of the same kind in a domain (`network@N`, `disk@N`, `switch@N`). */
export function nextDeviceId(used: number[]): number {
  let n = 0;
  while (used.includes(n)) n++;
  return n;
}
