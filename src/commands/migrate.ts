// migrate-domain: move a domain to another host (src/migration/source.ts does the work).

import { UserError } from '../manager/errors.js';
import { isValidName } from '../manager/names.js';
import { migrateDomain } from '../migration/source.js';
import type { CommandSpec } from './types.js';

/** `[user@]target-host[:target-ldom]` */
export function parseMigrationTarget(spec: string, caller: string, domain: string): { user: string; host: string; targetDomain: string } {
  const m = /^(?:([^@:\s]+)@)?([^@:\s]+)(?::([^@:\s]*))?$/.exec(spec);
  if (!m || m[3] === '') throw new UserError(`Invalid target: ${spec} (expected [user@]target-host[:target-ldom])`);
  const targetDomain = m[3] ?? domain;
  if (!isValidName(targetDomain)) throw new UserError(`Invalid target domain name: ${targetDomain}`);
  return { user: m[1] ?? caller, host: m[2], targetDomain };
}

export const migrateCommands: CommandSpec[] = [
  {
    name: 'migrate-domain',
    aliases: ['migrate'],
    summary: 'migrate a domain to another host',
    synopsis: ['migrate-domain [-f] [-n] [-p filename] source-ldom [user@]target-host[:target-ldom]'],
    auth: 'solaris.ldoms.write',
    options: { '-f': 'flag', '-n': 'flag', '-p': 'value' },
    operands: [2, 2],
    async run(ctx, args) {
      const [domain, spec] = args.operands;
      const target = parseMigrationTarget(spec, ctx.user, domain);
      const view = await ctx.manager.view();
      if (!view.domains.some((d) => d.constraints.name === domain)) throw new UserError(`LDom ${domain} not found`);
      const file = args.options.get('-p');
      let password: string;
      if (typeof file === 'string') {
        if (!ctx.readPrivateFile) throw new UserError('-p is not available here');
        // The first line of the file is the password.
        password = (await ctx.readPrivateFile(file)).split(/\r?\n/, 1)[0] ?? '';
        if (!password) throw new UserError(`Password file ${file} is empty`);
      } else {
        password = await ctx.prompt('Target Password:', false);
      }
      let shown = -1;
      await migrateDomain(ctx.manager, {
        domain,
        targetHost: target.host,
        targetUser: target.user,
        targetDomain: target.targetDomain,
        password,
        dryRun: args.options.has('-n'),
        force: args.options.has('-f'),
        say: (line) => ctx.out(`${line}\n`),
        // A progress line only for a person watching; scripts see nothing extra.
        progress: ctx.isTTY
          ? (percent) => {
              if (percent === shown) return;
              shown = percent;
              ctx.err(`\rMigration of LDom ${domain} to ${target.host}: ${percent}%${percent >= 100 ? '\n' : ''}`);
            }
          : undefined,
        signal: ctx.signal ?? new AbortController().signal,
        log: ctx.log ?? (() => undefined),
      }).finally(() => {
        if (shown >= 0 && shown < 100) ctx.err('\n');
      });
    },
  },
];
