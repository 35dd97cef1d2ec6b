// start-reconf, cancel-reconf, cancel-operation.

import { UserError } from '../manager/errors.js';
import { cancelReconf, startReconf } from '../manager/rules/reconf.js';
import { findDomain } from '../manager/rules/draft.js';
import { change } from './common.js';
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
      await change(ctx, (draft) => {
        findDomain(draft, ldom);
        if (what === 'reconf') return cancelReconf(draft, ldom);
        throw new UserError(what === 'migration' ? `No migration is in progress for LDom ${ldom}` : `No memory DR operation is in progress for LDom ${ldom}`);
      });
    },
  },
];
