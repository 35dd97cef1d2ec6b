// Crypto units (MAU, with the CWQ on T2-class chips): one per core on T1–T3, none from T4 on
// (ldm-cli.md §6.1). A unit serves the strands of its own core, so a domain only gets units of
// cores it has strands on — the 2.0-era rule, [M]; see docs/allocation.md.

import type { PlatformSpec } from '../../platform/types.js';
import { coreOfCrypto } from '../inventory.js';
import { coresOf } from './cpu.js';
import { fail, ok, type Result } from './errors.js';

/**
 * Adds `count` crypto units to a domain whose strands are `strands`. `taken` holds every unit
 * bound to any domain. Returns `current` followed by the new units, lowest core first.
 */
export function allocateCrypto(
  p: PlatformSpec,
  taken: ReadonlySet<number>,
  strands: readonly number[],
  count: number,
  current: readonly number[] = [],
): Result<number[]> {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`crypto unit count ${count}`);
  if (count === 0) return ok([...current]);
  if (p.cpu.cryptoUnitsPerCore === 0) return fail('This system has no crypto units');
  const own = new Set(current);
  // Unit k sits on core k (inventory.coreOfCrypto), so a domain's cores name its candidate units.
  const candidates = coresOf(p, strands).filter((unit) => !taken.has(unit) && !own.has(unit));
  if (candidates.length < count) {
    return fail(`Not enough free crypto units on the cores of the domain: ${count} requested, ${candidates.length} available`);
  }
  return ok([...current, ...candidates.slice(0, count)]);
}

/** Shrinks to `newCount` units, giving back the highest unit IDs first; keeps the old order. */
export function releaseCrypto(current: readonly number[], newCount: number): number[] {
  if (!Number.isInteger(newCount) || newCount < 0) throw new RangeError(`crypto unit count ${newCount}`);
  if (newCount >= current.length) return [...current];
  const kept = new Set([...current].sort((a, b) => a - b).slice(0, newCount));
  return current.filter((u) => kept.has(u));
}

/**
 * A core cannot leave a domain while the domain holds its crypto unit (§6.1 [D] for whole-core;
 * callers run it before any vCPU removal). `strands` is what the domain would keep.
 */
export function checkCryptoCores(p: PlatformSpec, crypto: readonly number[], strands: readonly number[]): Result<void> {
  const cores = new Set(coresOf(p, strands));
  const stranded = [...crypto].sort((a, b) => a - b).find((unit) => !cores.has(coreOfCrypto(p, unit)));
  if (stranded !== undefined) {
    return fail(`Core ${coreOfCrypto(p, stranded)} cannot be removed while its crypto unit is bound to the domain`);
  }
  return ok(undefined);
}
