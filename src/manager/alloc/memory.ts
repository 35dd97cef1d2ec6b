// Memory: how big a request ends up (alignment per domain state, ldm-cli.md §6.2) and which
// physical ranges back it (mblocks, each a guest real address → host physical address mapping).
// Sizes and addresses are bytes; a free range is `{ pa, size }` as inventory.freeMemory gives it.

import { M, formatSize, hex } from '../../format/units.js';
import type { MBlock } from '../types.js';
import { fail, ok, type Result } from './errors.js';

/** Bound domains and binding: sizes round up to 4 MB (§6.2 [V]). */
export const BIND_ALIGN = 4 * M;
/** Memory DR, `--auto-adj`, and the 2.0 control-domain shrink: 256 MB (§6.2 [V]). */
export const DR_ALIGN = 256 * M;
/** Guest real addresses start here (`RA 0x8000000` in the seed's `ldm list -o memory`). */
export const GUEST_RA_BASE = 0x8000000;

export interface FreeRange {
  pa: number;
  size: number;
}

const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;
const alignDown = (n: number, a: number) => Math.floor(n / a) * a;

// ---------------------------------------------------------------------------------------------
// Sizes: what a set/add/remove-memory request turns into, per domain state.

export type MemoryState = 'inactive' | 'bound' | 'active' | 'delayed';
export type MemoryOp = 'set' | 'add' | 'remove';

export interface MemoryRule {
  /** The resulting size is rounded up to a multiple of this (1: taken as given). */
  sizeAlign: number;
  /** An added amount must be a multiple of this (1: any amount). */
  addAlign: number;
  /** A removed amount must be a multiple of this (1: any amount). */
  removeAlign: number;
  /** A misaligned add/remove amount: refused, or adjusted (`--auto-adj`: add up, remove down). */
  misaligned: 'reject' | 'adjust';
  /** Alignment of the physical address and size of memory added to / taken from the mblocks. */
  growAlign: number;
  shrinkAlign: number;
}

/**
 * The alignment rule of a domain state (§6.2). `delayed` is the control domain in delayed
 * reconfiguration as 2.0 treats it: any size rounds up to 4 MB, but the amount removed must be
 * whole 256 MB (the 2.0 refusal text, §7.1).
 */
export function memoryRule(state: MemoryState, autoAdj: boolean): MemoryRule {
  const adjust = autoAdj ? 'adjust' : 'reject';
  switch (state) {
    case 'inactive':
      return makeRule(autoAdj ? DR_ALIGN : 1, 1, 1, 'adjust', BIND_ALIGN, BIND_ALIGN);
    case 'bound':
      return makeRule(autoAdj ? DR_ALIGN : BIND_ALIGN, 1, 1, 'adjust', BIND_ALIGN, BIND_ALIGN);
    case 'active':
      return makeRule(1, DR_ALIGN, DR_ALIGN, adjust, DR_ALIGN, DR_ALIGN);
    case 'delayed':
      return makeRule(BIND_ALIGN, 1, DR_ALIGN, adjust, BIND_ALIGN, DR_ALIGN);
  }
}

function makeRule(
  sizeAlign: number,
  addAlign: number,
  removeAlign: number,
  misaligned: 'reject' | 'adjust',
  growAlign: number,
  shrinkAlign: number,
): MemoryRule {
  return { sizeAlign, addAlign, removeAlign, misaligned, growAlign, shrinkAlign };
}

export interface MemoryChangeRequest {
  domain: string;
  op: MemoryOp;
  /** Bytes: the new size for `set`, the amount for `add` / `remove`. */
  amount: number;
  state: MemoryState;
  autoAdj: boolean;
  /** What the domain has now: its bound size, or its constraint when inactive. */
  current: number;
  /** The stored constraint when it differs from `current` (a bound size is rounded up). */
  constraint?: number;
}

export interface MemoryPlan {
  /** The new memory constraint (what the user asked for, after `--auto-adj`). */
  constraint: number;
  /** The size the domain ends up with; for an inactive domain, the constraint. */
  size: number;
  /** size − current: positive grows the mblocks, negative shrinks them. */
  delta: number;
  /** The alignment to give growMemory / shrinkMemory for this change. */
  align: number;
  /** Lines for the user when the request was adjusted. */
  notices: string[];
}

const NOT_MULTIPLE_OF_256M = 'The size of memory must be a multiple of 256MB.';

function adjustedNotices(domain: string, adjusted: number, extra: number, allocated: boolean): string[] {
  const lines = [`Adjusting request size to ${formatSize(adjusted)}.`];
  if (allocated && extra > 0) {
    lines.push(
      `The ${domain} domain has been allocated ${formatSize(extra)} more memory`,
      'than requested because of memory alignment constraints.',
    );
  }
  return lines;
}

function tooSmall(req: MemoryChangeRequest, base: number): Result<never> {
  if (req.op === 'remove') {
    return req.amount === base
      ? fail(`Unable to remove ${formatSize(req.amount)} of memory: domain ${req.domain} must keep some memory`)
      : fail(`Unable to remove ${formatSize(req.amount)} of memory: domain ${req.domain} has only ${formatSize(base)}`);
  }
  return fail('The memory size of a domain must be greater than 0');
}

/** The amount a request adds or removes, in the terms the user typed it. */
function amountOf(op: MemoryOp, base: number, size: number): number {
  return op === 'set' ? size : op === 'add' ? size - base : base - size;
}

/**
 * Turns `ldm set-mem|add-mem|rm-mem [--auto-adj] amount domain` into the new constraint, the new
 * size and the notices, or the refusal. Does not look at the mblocks: the caller then runs
 * growMemory / shrinkMemory with `plan.align`.
 */
export function planMemoryChange(req: MemoryChangeRequest): Result<MemoryPlan> {
  const rule = memoryRule(req.state, req.autoAdj);
  switch (req.state) {
    case 'inactive':
    case 'bound':
      return planBySize(req, rule);
    case 'active':
      return planDynamic(req, rule);
    case 'delayed':
      return planDelayed(req, rule);
  }
}

// Inactive and bound: the resulting size is what gets rounded (4 MB when bound; 256 MB with
// --auto-adj), the constraint keeps the request unless --auto-adj changed it.
function planBySize(req: MemoryChangeRequest, rule: MemoryRule): Result<MemoryPlan> {
  const { op, amount, current, autoAdj, domain } = req;
  const base = req.constraint ?? current;
  const requested = op === 'set' ? amount : op === 'add' ? base + amount : base - amount;
  if (requested <= 0) return tooSmall(req, base);
  const size = alignUp(requested, rule.sizeAlign);
  const notices: string[] = [];
  if (autoAdj && size !== requested) {
    const adjusted = amountOf(op, base, size);
    // Rounding up a shrink can cancel it; --auto-adj never turns a removal into an addition.
    if (op === 'remove' && adjusted <= 0) return fail(NOT_MULTIPLE_OF_256M);
    notices.push(...adjustedNotices(domain, adjusted, size - requested, req.state === 'bound'));
  }
  const constraint = autoAdj ? size : requested;
  const delta = size - current;
  return ok({ constraint, size, delta, align: delta >= 0 ? rule.growAlign : rule.shrinkAlign, notices });
}

// Active (memory DR): the amount added or removed must be whole 256 MB, at least 256 MB, and a
// removal must leave the domain some memory.
function planDynamic(req: MemoryChangeRequest, rule: MemoryRule): Result<MemoryPlan> {
  const { op, amount, current, domain } = req;
  const wanted = op === 'set' ? amount - current : op === 'add' ? amount : -amount;
  if (current + wanted <= 0) return tooSmall(req, current);
  if (wanted === 0) return ok({ constraint: current, size: current, delta: 0, align: rule.growAlign, notices: [] });
  const unit = wanted > 0 ? rule.addAlign : rule.removeAlign;
  let delta = wanted;
  const notices: string[] = [];
  if (Math.abs(wanted) % unit !== 0) {
    if (rule.misaligned === 'reject') return fail(NOT_MULTIPLE_OF_256M);
    delta = wanted > 0 ? alignUp(wanted, unit) : -alignDown(-wanted, unit);
    if (delta === 0) return fail(NOT_MULTIPLE_OF_256M);
    const size = current + delta;
    notices.push(...adjustedNotices(domain, amountOf(op, current, size), size - (current + wanted), true));
  }
  const size = current + delta;
  return ok({ constraint: size, size, delta, align: delta > 0 ? rule.growAlign : rule.shrinkAlign, notices });
}

// The control domain in delayed reconfiguration (2.0): sizes round up to 4 MB; the amount removed
// must be whole 256 MB, otherwise 2.0 refuses and suggests the nearest aligned request (§7.1).
function planDelayed(req: MemoryChangeRequest, rule: MemoryRule): Result<MemoryPlan> {
  const { op, amount, current, domain } = req;
  const requested = op === 'set' ? amount : op === 'add' ? current + amount : current - amount;
  if (requested <= 0) return tooSmall(req, current);
  const target = alignUp(requested, rule.sizeAlign);
  if (target >= current) {
    return ok({ constraint: requested, size: target, delta: target - current, align: rule.growAlign, notices: [] });
  }
  const removal = current - target;
  if (removal % rule.removeAlign === 0) {
    return ok({ constraint: requested, size: target, delta: -removal, align: rule.shrinkAlign, notices: [] });
  }
  const aligned = alignDown(removal, rule.removeAlign);
  if (rule.misaligned === 'adjust') {
    if (aligned === 0) return fail(NOT_MULTIPLE_OF_256M);
    const size = current - aligned;
    const notices = adjustedNotices(domain, amountOf(op, current, size), size - requested, true);
    return ok({ constraint: size, size, delta: -aligned, align: rule.shrinkAlign, notices });
  }
  // Suggest removing the aligned part of the removal; a removal under 256 MB suggests 256 MB.
  const suggested = aligned > 0 || current <= rule.removeAlign ? aligned : rule.removeAlign;
  const command = op === 'remove' ? 'rm-mem' : 'set-mem';
  const suggestion = op === 'remove' ? suggested : current - suggested;
  return fail(
    `A ldm ${command} ${formatSize(amount)} command would remove ${removal / M}MB, which is not a`,
    `multiple of 256MB. Instead, run ldm ${command} ${formatSize(suggestion)} ${domain}`,
    'to ensure a 256MB alignment.',
  );
}

// ---------------------------------------------------------------------------------------------
// Placement: which physical ranges back the memory, at which real addresses.

/** Free ranges minus the given blocks (both sorted by PA; the result too). */
export function withoutRanges(free: readonly FreeRange[], used: readonly FreeRange[]): FreeRange[] {
  let ranges = [...free].sort((a, b) => a.pa - b.pa).map((r) => ({ ...r }));
  for (const u of used) {
    const next: FreeRange[] = [];
    for (const r of ranges) {
      const end = r.pa + r.size;
      const uEnd = u.pa + u.size;
      if (uEnd <= r.pa || u.pa >= end) {
        next.push(r);
        continue;
      }
      if (u.pa > r.pa) next.push({ pa: r.pa, size: u.pa - r.pa });
      if (uEnd < end) next.push({ pa: uEnd, size: end - uEnd });
    }
    ranges = next;
  }
  return ranges;
}

/** The part of a range usable at an alignment: aligned start, size a multiple of the alignment. */
function usable(r: FreeRange, align: number): FreeRange {
  const pa = alignUp(r.pa, align);
  return { pa, size: Math.max(0, alignDown(r.pa + r.size - pa, align)) };
}

function totalUsable(free: readonly FreeRange[], align: number): number {
  return free.reduce((n, r) => n + usable(r, align).size, 0);
}

/**
 * Physical pieces for `size` bytes: one piece at the lowest aligned address that can hold it all;
 * otherwise the largest ranges first (ties: lowest PA). Returns the pieces sorted by PA, or null.
 */
function pickPieces(free: readonly FreeRange[], size: number, align: number): FreeRange[] | null {
  const ranges = [...free].sort((a, b) => a.pa - b.pa).map((r) => usable(r, align));
  const single = ranges.find((r) => r.size >= size);
  if (single) return [{ pa: single.pa, size }];
  if (ranges.reduce((n, r) => n + r.size, 0) < size) return null;
  const pieces: FreeRange[] = [];
  let left = size;
  for (const r of ranges.filter((x) => x.size > 0).sort((a, b) => b.size - a.size || a.pa - b.pa)) {
    if (left === 0) break;
    const take = Math.min(left, r.size);
    pieces.push({ pa: r.pa, size: take });
    left -= take;
  }
  return pieces.sort((a, b) => a.pa - b.pa);
}

function notEnoughMemory(requested: number, available: number) {
  return fail(`Not enough free memory: ${formatSize(requested)} requested, ${formatSize(available)} available`);
}

/** Sorts by RA and joins blocks that touch in both RA and PA. */
function normalise(blocks: readonly MBlock[]): MBlock[] {
  const out: MBlock[] = [];
  for (const b of [...blocks].sort((x, y) => x.ra - y.ra)) {
    const last = out[out.length - 1];
    if (last && last.ra + last.size === b.ra && last.pa + last.size === b.pa) last.size += b.size;
    else out.push({ ...b });
  }
  return out;
}

/**
 * Memory for a domain being bound: `size` is rounded up to `align` (the bound size). Guests get
 * real addresses contiguous from `raBase` in PA order; `'identity'` (the control domain) maps
 * RA == PA.
 */
export function allocateMemory(
  free: readonly FreeRange[],
  size: number,
  opts: { raBase: number | 'identity'; align: number },
): Result<MBlock[]> {
  const need = alignUp(size, opts.align);
  if (need === 0) return ok([]);
  const pieces = pickPieces(free, need, opts.align);
  if (!pieces) return notEnoughMemory(need, totalUsable(free, opts.align));
  let ra = opts.raBase === 'identity' ? 0 : opts.raBase;
  return ok(
    pieces.map((piece) => {
      const block = { ra: opts.raBase === 'identity' ? piece.pa : ra, pa: piece.pa, size: piece.size };
      ra += piece.size;
      return block;
    }),
  );
}

/**
 * Adds `delta` bytes (rounded up to `align`) to a bound domain's mblocks. First each block, in RA
 * order, grows in place when the free memory right after it starts on an aligned address (and,
 * for contiguous guest RAs, no other block sits right above it in RA space); the rest comes as new
 * blocks placed like allocateMemory, at the RAs after the highest current RA ('contiguous') or
 * at RA == PA ('identity').
 */
export function growMemory(
  current: readonly MBlock[],
  free: readonly FreeRange[],
  delta: number,
  opts: { align: number; raMode: 'identity' | 'contiguous' },
): Result<MBlock[]> {
  const { align, raMode } = opts;
  const wanted = alignUp(delta, align);
  const blocks = [...current].sort((a, b) => a.ra - b.ra).map((b) => ({ ...b }));
  let ranges = [...free].sort((a, b) => a.pa - b.pa);
  let left = wanted;

  for (const b of blocks) {
    if (left === 0) break;
    const end = b.pa + b.size;
    if (end % align !== 0) continue;
    const r = ranges.find((x) => x.pa <= end && end < x.pa + x.size);
    if (!r) continue;
    let room = alignDown(r.pa + r.size - end, align);
    if (raMode === 'contiguous') {
      const raEnd = b.ra + b.size;
      const above = blocks.filter((o) => o.ra >= raEnd).map((o) => o.ra);
      if (above.length > 0) room = Math.min(room, alignDown(Math.min(...above) - raEnd, align));
    }
    const take = Math.min(left, room);
    if (take <= 0) continue;
    b.size += take;
    ranges = withoutRanges(ranges, [{ pa: end, size: take }]);
    left -= take;
  }

  if (left > 0) {
    const pieces = pickPieces(ranges, left, align);
    if (!pieces) return notEnoughMemory(wanted, wanted - left + totalUsable(ranges, align));
    let ra = blocks.reduce((n, b) => Math.max(n, b.ra + b.size), 0);
    for (const piece of pieces) {
      blocks.push({ ra: raMode === 'identity' ? piece.pa : ra, pa: piece.pa, size: piece.size });
      ra += piece.size;
    }
  }
  return ok(normalise(blocks));
}

/** How much shrinkMemory can take away at this alignment (see there for what always stays). */
export function removableMemory(current: readonly MBlock[], align: number): number {
  return removableSpans(current, align).reduce((n, s) => n + s.size, 0);
}

/** Per block in RA order: the aligned span that may go (`lo` = its PA, `size` bytes). */
function removableSpans(current: readonly MBlock[], align: number): { block: MBlock; lo: number; size: number }[] {
  return [...current]
    .sort((a, b) => a.ra - b.ra)
    .map((block, i) => {
      let lo = alignUp(block.pa, align);
      // The block at the lowest RA always keeps its start: its unaligned head, or one aligned unit.
      if (i === 0 && lo === block.pa) lo += align;
      const hi = alignDown(block.pa + block.size, align);
      return { block, lo, size: Math.max(0, hi - lo) };
    });
}

/**
 * Takes `delta` bytes away from a domain's mblocks, in `align`-aligned pieces (RA and PA move
 * together, so RA == PA stays so). Removal starts at the lowest aligned address above the first
 * block's unaligned head (or above its first aligned unit) and moves up, block by block in RA
 * order — the 2.0 capture: 0xe000000 32544M less 28672M leaves 0xe000000 32M and 0x710000000
 * 3840M. Preconditions (a caller's bug otherwise, RangeError): `delta` a multiple of `align`, at
 * most removableMemory().
 */
export function shrinkMemory(current: readonly MBlock[], delta: number, align: number): MBlock[] {
  if (delta < 0 || delta % align !== 0) throw new RangeError(`shrink by ${delta} at alignment ${align}`);
  const spans = removableSpans(current, align);
  if (delta > spans.reduce((n, s) => n + s.size, 0)) throw new RangeError(`cannot remove ${delta} bytes`);
  const out: MBlock[] = [];
  let left = delta;
  for (const { block, lo, size } of spans) {
    const take = Math.min(left, size);
    if (take === 0) {
      out.push({ ...block });
      continue;
    }
    const head = lo - block.pa;
    if (head > 0) out.push({ ra: block.ra, pa: block.pa, size: head });
    const tail = head + take;
    if (tail < block.size) out.push({ ra: block.ra + tail, pa: block.pa + tail, size: block.size - tail });
    left -= take;
  }
  return out;
}

/**
 * Migration (migration.md §4.3): the target must rebuild the same blocks — same count, sizes and
 * real addresses — each from one free range; only the PAs change. Blocks are placed largest
 * first, each at the lowest aligned free address that holds it whole.
 */
export function bindMblocksAtRa(
  free: readonly FreeRange[],
  blocks: readonly { ra: number; size: number }[],
  opts: { align?: number } = {},
): Result<MBlock[]> {
  const align = opts.align ?? BIND_ALIGN;
  let ranges = [...free].sort((a, b) => a.pa - b.pa);
  const order = blocks.map((_, i) => i).sort((a, b) => blocks[b].size - blocks[a].size || blocks[a].ra - blocks[b].ra);
  const placed: MBlock[] = new Array(blocks.length);
  for (const i of order) {
    const { ra, size } = blocks[i];
    const home = ranges.map((r) => usable(r, align)).find((r) => r.size >= size);
    if (!home) return fail(`Unable to bind ${formatSize(size)} memory region at real address ${hex(ra)}`);
    placed[i] = { ra, pa: home.pa, size };
    ranges = withoutRanges(ranges, [{ pa: home.pa, size }]);
  }
  return ok(placed);
}
