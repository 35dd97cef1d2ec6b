// add-io, remove-io, list-io.

import { renderListIo } from '../format/list-io.js';
import { addIo, removeIo } from '../manager/rules/io.js';
import { change } from './common.js';
import type { CommandSpec } from './types.js';

export const ioCommands: CommandSpec[] = [
  {
    name: 'add-io',
    summary: 'give a PCIe bus (root complex) or NIU to a domain',
    synopsis: ['add-io bus-or-device ldom'],
    auth: 'solaris.ldoms.write',
    operands: [2, 2],
    async run(ctx, args) {
      await change(ctx, (draft, say) => addIo(draft, args.operands[0], args.operands[1], say));
    },
  },
  {
    name: 'remove-io',
    summary: 'take a PCIe bus (root complex) or NIU from a domain',
    synopsis: ['remove-io bus-or-device ldom'],
    auth: 'solaris.ldoms.write',
    operands: [2, 2],
    async run(ctx, args) {
      await change(ctx, (draft, say) => removeIo(draft, args.operands[0], args.operands[1], say));
    },
  },
  {
    name: 'list-io',
    xmlAction: null,
    summary: 'list the I/O devices of the system and their owners',
    synopsis: ['list-io [-l] [-p]'],
    auth: 'solaris.ldoms.read',
    options: { '-l': 'flag', '-p': 'flag' },
    operands: [0, 0],
    async run(ctx, args) {
      const view = await ctx.manager.view();
      ctx.out(renderListIo(view, { long: args.options.has('-l'), parseable: args.options.has('-p') }));
    },
  },
];
