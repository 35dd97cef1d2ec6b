// Which physical strands a domain's virtual CPUs get, and which it gives back.
// Core affinity is always on: a domain's vCPUs are packed onto as few cores as possible
// (ldm-cli.md §6.1 [D]); whole-core domains only ever get entirely free cores. The exact order
// below is this implementation's choice, recorded in docs/allocation.md.

import type { PlatformSpec } from '../../platform/types.js';
import { coreCount, coreOfStrand, strandsOfCore } from '../inventory.js';
import { fail, ok, type Result } from './errors.js';

export interface StrandRequestOptions {
  /** The domain's strands now, in VID order; the new ones are appended after them. */
  current?: readonly number[];
  /** Give only entirely free cores (the whole-core constraint). */
  wholeCore?: boolean;
  /** Strands nobody may get, e.g. the idle rest of a core given whole to a migrated domain. */
  reserved?: ReadonlySet<number>;
}

/** Distinct cores of a set of strands, ascending. */
export function coresOf(p: PlatformSpec, strands: readonly number[]): number[] {
  return [...new Set(strands.map((s) => coreOfStrand(p, s)))].sort((a, b) => a - b);
}

/** With whole-core, a vCPU count must be whole cores (§6.1: a non-multiple count refuses to convert). */
export function checkWholeCoreCount(p: PlatformSpec, count: number): Result<number> {
  const perCore = p.cpu.strandsPerCore;
  if (count % perCore !== 0) {
    return fail(
      `The number of virtual CPUs (${count}) is not a multiple of the ${perCore} strands per core required by the whole-core constraint`,
    );
  }
  return ok(count / perCore);
}

/**
 * Adds `count` strands to a domain. `taken` holds every strand bound to any domain (the domain's
 * own included or not: `current` is never handed out again). Returns the domain's full strand
 * list in VID order: `current` first, then the new strands.
 *
 * Order of preference, core by core, lowest strand IDs first inside a core:
 *   1. cores the domain already has strands on, lowest core ID first;
 *   2. entirely free cores, lowest core ID first;
 *   3. partly used cores, the one with the most free strands first, then lowest core ID.
 */
export function allocateStrands(
  p: PlatformSpec,
  taken: ReadonlySet<number>,
  count: number,
  opts: StrandRequestOptions = {},
): Result<number[]> {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`strand count ${count}`);
  const current = opts.current ?? [];
  const own = new Set(current);
  const reserved = opts.reserved ?? new Set<number>();
  const perCore = p.cpu.strandsPerCore;

  const freeOfCore: number[][] = [];
  for (let c = 0; c < coreCount(p); c++) {
    freeOfCore.push(strandsOfCore(p, c).filter((s) => !taken.has(s) && !own.has(s) && !reserved.has(s)));
  }
  const entirelyFree = (c: number) => freeOfCore[c].length === perCore;

  if (opts.wholeCore) {
    const cores = checkWholeCoreCount(p, count);
    if (!cores.ok) return cores;
    const candidates = freeOfCore.map((_, c) => c).filter(entirelyFree);
    if (candidates.length < cores.value) {
      return fail(`Not enough free cores: ${cores.value} requested, ${candidates.length} available`);
    }
    return ok([...current, ...candidates.slice(0, cores.value).flatMap((c) => freeOfCore[c])]);
  }

  const available = freeOfCore.reduce((n, f) => n + f.length, 0);
  if (count > available) return fail(`Not enough free CPU threads: ${count} requested, ${available} available`);

  const mine = new Set(coresOf(p, current));
  const tier = (c: number) => (mine.has(c) ? 0 : entirelyFree(c) ? 1 : 2);
  const order = freeOfCore
    .map((_, c) => c)
    .filter((c) => freeOfCore[c].length > 0)
    .sort((a, b) => tier(a) - tier(b) || (tier(a) === 2 ? freeOfCore[b].length - freeOfCore[a].length : 0) || a - b);

  // A core is only ever left half-taken by the last step, so this static order equals
  // re-ranking after every core (the half-taken core would rank first, but nothing is left).
  const added: number[] = [];
  for (const c of order) {
    if (added.length === count) break;
    added.push(...freeOfCore[c].slice(0, count - added.length));
  }
  return ok([...current, ...added]);
}

/**
 * Shrinks a domain to `newCount` strands; returns what it keeps, in the old VID order.
 * Strands go first from the core holding the fewest of the domain's strands (ties: highest core
 * ID), highest strand ID first, so the domain stays on as few cores as possible. VID 0's strand
 * is kept while any strand is. Whole-core domains lose whole cores, highest core first, never the
 * core of VID 0.
 */
export function releaseStrands(
  p: PlatformSpec,
  current: readonly number[],
  newCount: number,
  opts: { wholeCore?: boolean } = {},
): number[] {
  if (!Number.isInteger(newCount) || newCount < 0) throw new RangeError(`strand count ${newCount}`);
  if (newCount >= current.length) return [...current];
  if (newCount === 0) return [];
  const keepFirst = current[0];
  const byCore = new Map<number, number[]>();
  for (const s of current) {
    const c = coreOfStrand(p, s);
    byCore.set(c, [...(byCore.get(c) ?? []), s]);
  }
  const removed = new Set<number>();

  if (opts.wholeCore) {
    const firstCore = coreOfStrand(p, keepFirst);
    const cores = [...byCore.keys()]
      .filter((c) => c !== firstCore)
      .sort((a, b) => byCore.get(a)!.length - byCore.get(b)!.length || b - a);
    let left = current.length;
    for (const c of cores) {
      if (left === newCount) break;
      const strands = byCore.get(c)!;
      if (left - strands.length < newCount) continue;
      for (const s of strands) removed.add(s);
      left -= strands.length;
    }
    if (left !== newCount) throw new RangeError(`cannot shrink to ${newCount} strands by whole cores`);
    return current.filter((s) => !removed.has(s));
  }

  for (let left = current.length; left > newCount; left--) {
    let pick: { core: number; held: number; strand: number } | null = null;
    for (const [core, strands] of byCore) {
      const held = strands.filter((s) => !removed.has(s));
      const removable = held.filter((s) => s !== keepFirst);
      if (removable.length === 0) continue;
      if (pick === null || held.length < pick.held || (held.length === pick.held && core > pick.core)) {
        pick = { core, held: held.length, strand: Math.max(...removable) };
      }
    }
    removed.add(pick!.strand);
  }
  return current.filter((s) => !removed.has(s));
}
