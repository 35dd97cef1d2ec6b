// Running one subcommand of the command table for a caller: authorization, argument parsing, the
// handler, and the mapping of errors to messages and exit statuses. Both front ends use it: the
// `ldm` socket (ldm-server.ts) and the XML interface.

import { parseArgs } from '../commands/args.js';
import { helpText, resolveCommand } from '../commands/table.js';
import type { Authorization, CommandContext, CommandSpec } from '../commands/types.js';
import { renderVersion } from '../format/version.js';
import { UserError } from '../manager/errors.js';
import { XmlError } from '../xml/constraints.js';

export type Authorize = (a: Authorization) => boolean;

export function authorizationFailed(user: string, auth: Authorization): UserError {
  return new UserError(`Authorization failed: user ${user} does not have the ${auth} authorization`);
}

/**
 * Events are named after the subcommand that caused them, in the XML interface's spelling where it
 * has one (`add-vdiskserverdevice`), except crypto units, which events call `*-crypto`.
 */
export function eventAction(spec: CommandSpec): string {
  if (spec.event) return spec.event;
  return spec.name.endsWith('-crypto') ? spec.name : (spec.xmlAction ?? spec.name);
}

/** Run `spec` with its arguments; returns the exit status (messages went to ctx.err). */
export async function runSpec(spec: CommandSpec, rest: string[], ctx: CommandContext, authorized: Authorize, log: (s: string) => void): Promise<number> {
  return guard(ctx, log, rest, async () => {
    if (!authorized(spec.auth)) throw authorizationFailed(ctx.user, spec.auth);
    await spec.run({ ...ctx, action: eventAction(spec) }, parseArgs(spec, rest));
  });
}

/** Run an `ldm` command line: `--help`, `-V`, or a subcommand with its arguments. */
export async function runArgv(argv: string[], ctx: CommandContext, authorized: Authorize, log: (s: string) => void): Promise<number> {
  const [word, ...rest] = argv;
  const spec = word === undefined || word.startsWith('-') ? undefined : resolveCommand(word);
  if (spec && !rest.includes('--help') && !rest.includes('-h')) return runSpec(spec, rest, ctx, authorized, log);
  return guard(ctx, log, argv, async () => {
    if (word === undefined || word === '--help' || word === '-h') {
      const sub = word === undefined ? undefined : rest[0];
      if (sub === undefined) return ctx.out(helpText());
      const s = resolveCommand(sub);
      if (!s) throw new UserError(`Invalid command: ${sub}\nRun ldm --help for the list of commands.`);
      return ctx.out(helpText(s));
    }
    if (word === '-V') {
      if (!authorized('solaris.ldoms.read')) throw authorizationFailed(ctx.user, 'solaris.ldoms.read');
      return ctx.out(renderVersion(await ctx.manager.view()));
    }
    if (!spec) throw new UserError(`Invalid command: ${word}\nRun ldm --help for the list of commands.`);
    ctx.out(helpText(spec));
  });
}

async function guard(ctx: CommandContext, log: (s: string) => void, argv: string[], fn: () => Promise<void>): Promise<number> {
  try {
    await fn();
    return 0;
  } catch (e) {
    if (e instanceof UserError || e instanceof XmlError) {
      ctx.err(e.message.endsWith('\n') ? e.message : `${e.message}\n`);
      return e instanceof UserError ? e.exitCode : 1;
    }
    log(`internal error running ${JSON.stringify(argv)}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    ctx.err(`ldmd: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
