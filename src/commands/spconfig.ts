// add/set/remove/list-spconfig (1.x noun: config): configurations kept by the service processor.

import { renderListSpconfig } from '../format/list-spconfig.js';
import { UserError } from '../manager/errors.js';
import { checkSpconfigName } from '../manager/names.js';
import { FACTORY_DEFAULT } from '../machine/types.js';
import type { CommandSpec } from './types.js';

export const spconfigCommands: CommandSpec[] = [
  {
    name: 'add-spconfig',
    summary: 'save the current configuration to the service processor',
    synopsis: ['add-spconfig config-name', 'add-spconfig -r autosave-name [new-config-name]'],
    auth: 'solaris.ldoms.write',
    options: { '-r': 'flag' },
    operands: [1, 2],
    async run(ctx, args) {
      const m = ctx.manager;
      if (args.options.has('-r')) {
        const [auto, target = auto] = args.operands;
        checkSpconfigName(target);
        await m.restoreAutosave(auto, target);
        return;
      }
      if (args.operands.length !== 1) throw new UserError(`Unexpected operand: ${args.operands[1]}`);
      const name = args.operands[0];
      checkSpconfigName(name);
      const listing = await m.spListingFresh();
      if (listing.configs.includes(name)) throw new UserError(`The configuration ${name} already exists`);
      await m.addSpConfig(name);
    },
  },
  {
    name: 'set-spconfig',
    summary: 'choose the configuration to boot at the next power-on',
    synopsis: ['set-spconfig config-name'],
    auth: 'solaris.ldoms.write',
    operands: [1, 1],
    async run(ctx, args) {
      const name = args.operands[0];
      const listing = await ctx.manager.spListingFresh();
      if (!listing.configs.includes(name)) throw new UserError(`The configuration ${name} does not exist`);
      await ctx.manager.setSpConfig(name);
    },
  },
  {
    name: 'remove-spconfig',
    summary: 'delete a configuration from the service processor',
    synopsis: ['remove-spconfig [-r] config-name'],
    auth: 'solaris.ldoms.write',
    options: { '-r': 'flag' },
    operands: [1, 1],
    async run(ctx, args) {
      const name = args.operands[0];
      if (args.options.has('-r')) {
        await ctx.manager.removeAutosave(name);
        return;
      }
      if (name === FACTORY_DEFAULT) throw new UserError(`The configuration ${FACTORY_DEFAULT} cannot be removed`);
      const listing = await ctx.manager.spListingFresh();
      if (!listing.configs.includes(name)) throw new UserError(`The configuration ${name} does not exist`);
      await ctx.manager.removeSpConfig(name);
    },
  },
  {
    name: 'list-spconfig',
    summary: 'list the configurations on the service processor',
    synopsis: ['list-spconfig [-r [autosave-name]]'],
    auth: 'solaris.ldoms.read',
    options: { '-r': 'flag' },
    operands: [0, 1],
    async run(ctx, args) {
      if (args.options.has('-r')) {
        ctx.out(await ctx.manager.renderAutosaves(args.operands[0]));
        return;
      }
      if (args.operands.length) throw new UserError(`Unexpected operand: ${args.operands[0]}`);
      ctx.out(renderListSpconfig(await ctx.manager.spListingFresh()));
    },
  },
];
