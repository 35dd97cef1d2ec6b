// start-reconf, cancel-reconf, cancel-operation.

import { UserError } from '../manager/errors.js';
import { cancelReconf, startReconf } from '../manager/rules/reconf.js';
import { findDomain } from '../manager/rules/draft.js';
import { change } from './common.js';
import type { Manager } from '../manager/manager.js';
import { restore } from '../migration/source.js';

/**
 * migration.md §5.7–5.8: on the source, stop the migration (the domain runs on here); on a domain
 * in the error state, take it back as the master copy. The target cannot cancel.
 */
async function cancelMigration(m: Manager, ldom: string): Promise<void> {
  const view = await m.view();
  const d = view.domains.find((x) => x.constraints.name === ldom);
  if (!d) throw new UserError(`LDom ${ldom} not found`);
  const live = m.migrations.get(ldom);
  if (d.migration === 't' || live?.role === 't') {
    throw new UserError(`LDom ${ldom} is the target of a migration from ${d.migrationMark?.peer ?? 'another machine'}: only the source machine can cancel it`);
  }
  if (live) return live.cancel('migration cancelled by ldm cancel-operation');
  if (d.migration === 'e') return restore(m, ldom, []);
  throw new UserError(`No migration is in progress for LDom ${ldom}`);
}
import type { CommandSpec } from './types.js';

export const reconfCommands: CommandSpec[] = [
  {
    name: 'start-reconf',
    xmlAction: null,
    summary: 'begin a delayed reconfiguration of the control domain',
    synopsis: ['start-reconf ldom'],
    auth: 'solaris.ldoms.write',
    operands: [1, 1],
    async run(ctx, args) {
      await change(ctx, (draft, say) => startReconf(draft, args.operands[0], say));
    },
  },
  {
    name: 'cancel-reconf',
    xmlAction: 'remove-reconf',
    summary: 'cancel a pending delayed reconfiguration',
    synopsis: ['cancel-reconf ldom'],
    auth: 'solaris.ldoms.write',
    operands: [1, 1],
    async run(ctx, args) {
      await change(ctx, (draft) => cancelReconf(draft, args.operands[0]));
    },
  },
  {
    name: 'cancel-operation',
    summary: 'cancel a migration, delayed reconfiguration or memory DR operation',
    synopsis: ['cancel-operation (migration | reconf | memdr) ldom'],
    auth: 'solaris.ldoms.write',
    operands: [2, 2],
    async run(ctx, args) {
      const [what, ldom] = args.operands;
      if (!['migration', 'reconf', 'memdr'].includes(what)) throw new UserError(`Invalid operation: ${what} (use migration, reconf or memdr)`);
      if (what === 'migration') return cancelMigration(ctx.manager, ldom);
      await change(ctx, (draft) => {
        findDomain(draft, ldom);
        if (what === 'reconf') return cancelReconf(draft, ldom);
        throw new UserError(what === 'migration' ? `No migration is in progress for LDom ${ldom}` : `No memory DR operation is in progress for LDom ${ldom}`);
      });
    },
  },
];
