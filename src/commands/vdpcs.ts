// add/remove-vdpcs and add/remove-vdpcc (Netra DPS; long nouns ndpsldcs/ndpsldcc).

import { addVdpcc, addVdpcs, removeVdpcc, removeVdpcs } from '../manager/rules/vdpcs.js';
import { change } from './common.js';
import type { CommandSpec } from './types.js';

export const vdpcsCommands: CommandSpec[] = [
  {
    name: 'add-vdpcs',
    summary: 'add a Netra DPS virtual data plane channel service to a domain',
    synopsis: ['add-vdpcs vdpcs-service-name ldom'],
    auth: 'solaris.ldoms.write',
    operands: [2, 2],
    async run(ctx, args) {
      await change(ctx, (draft, say) => addVdpcs(draft, args.operands[0], args.operands[1], say));
    },
  },
  {
    name: 'remove-vdpcs',
    summary: 'remove a Netra DPS virtual data plane channel service',
    synopsis: ['remove-vdpcs [-f] vdpcs-service-name'],
    auth: 'solaris.ldoms.write',
    options: { '-f': 'flag' },
    operands: [1, 1],
    async run(ctx, args) {
      await change(ctx, (draft, say) => removeVdpcs(draft, args.operands[0], args.options.has('-f'), say));
    },
  },
  {
    name: 'add-vdpcc',
    summary: 'add a Netra DPS virtual data plane channel client to a domain',
    synopsis: ['add-vdpcc vdpcc-name vdpcs-service-name ldom'],
    auth: 'solaris.ldoms.write',
    operands: [3, 3],
    async run(ctx, args) {
      const [name, service, ldom] = args.operands;
      await change(ctx, (draft, say) => addVdpcc(draft, name, service, ldom, say));
    },
  },
  {
    name: 'remove-vdpcc',
    summary: 'remove a Netra DPS virtual data plane channel client from a domain',
    synopsis: ['remove-vdpcc [-f] vdpcc-name ldom'],
    auth: 'solaris.ldoms.write',
    options: { '-f': 'flag' },
    operands: [2, 2],
    async run(ctx, args) {
      await change(ctx, (draft, say) => removeVdpcc(draft, args.operands[0], args.operands[1], args.options.has('-f'), say));
    },
  },
];
