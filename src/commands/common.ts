// Small helpers shared by the command modules.

import { UserError } from '../manager/errors.js';
import type { Draft } from '../manager/manager.js';
import type { HostView } from '../manager/inventory.js';
import type { Domain } from '../manager/types.js';
import { parseCount } from '../manager/names.js';
import { parseMac } from '../manager/alloc/mac.js';
import type { CommandContext, ParsedArgs } from './types.js';

export const random = (): number => Math.random();

/** Run a rule on a draft with stderr notices going to the caller. */
export function change<T>(ctx: CommandContext, fn: (draft: Draft, say: (t: string) => void, view: HostView) => T): Promise<T> {
  const say = (t: string) => ctx.err(t.endsWith('\n') ? t : `${t}\n`);
  return ctx.manager.mutate((draft, view) => fn(draft, say, view), { action: ctx.action });
}

export function count(text: string, what: string): number {
  const n = parseCount(text);
  if (n === null) throw new UserError(`Invalid ${what}: ${text}`);
  return n;
}

export function propMap(args: ParsedArgs): Map<string, string> {
  return new Map(args.props);
}

/** The domains named on the command line, in that order (all domains when none is named). */
export function selectDomains(view: HostView, names: string[]): Domain[] {
  if (names.length === 0) return view.domains;
  return names.map((n) => {
    const d = view.domains.find((x) => x.constraints.name === n);
    if (!d) throw new UserError(`LDom ${n} not found`);
    return d;
  });
}

/** A name given twice would fail later with a misleading "not found" or "already exists". */
export function distinct(names: string[], what: string): string[] {
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new UserError(`${what} ${twice} is given more than once`);
  return names;
}

/**
 * A chosen MAC address (`mac-addr=`) must not be in use by another Logical Domains Manager on the
 * network: ldmd asks them on the discovery channel before taking it.
 */
export async function checkMacElsewhere(ctx: CommandContext, args: ParsedArgs): Promise<void> {
  const text = args.props.find(([k]) => k === 'mac-addr')?.[1];
  const check = ctx.manager.macChecker;
  // A malformed address is the rule's to refuse, with its own message.
  const mac = text ? parseMac(text) : null;
  if (!mac || !check) return;
  let other: string | null = null;
  try {
    other = await check(mac);
  } catch {
    // The network could not be asked: the local checks still apply.
  }
  if (other) throw new UserError(`MAC address ${mac} is already in use by the Logical Domains Manager at ${other}`);
}
