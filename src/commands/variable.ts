// add/set/remove/list-variable (short noun: var).

import { renderListVariable } from '../format/list-spconfig.js';
import { UserError } from '../manager/errors.js';
import { addVariables, removeVariables, setVariables } from '../manager/rules/variables.js';
import { change, distinct, selectDomains } from './common.js';
import type { CommandSpec } from './types.js';

export const variableCommands: CommandSpec[] = [
  {
    name: 'add-variable',
    summary: 'add OpenBoot variables to a domain',
    synopsis: ['add-variable var-name=[value]... ldom'],
    auth: 'solaris.ldoms.write',
    props: '*',
    operands: [1, 1],
    async run(ctx, args) {
      if (!args.props.length) throw new UserError('Missing var-name=value');
      await change(ctx, (draft, say) => addVariables(draft, args.operands[0], args.props, say));
    },
  },
  {
    name: 'set-variable',
    summary: 'set OpenBoot variables of a domain',
    synopsis: ['set-variable var-name=[value]... ldom'],
    auth: 'solaris.ldoms.write',
    props: '*',
    operands: [1, 1],
    async run(ctx, args) {
      if (!args.props.length) throw new UserError('Missing var-name=value');
      await change(ctx, (draft, say) => setVariables(draft, args.operands[0], args.props, say));
    },
  },
  {
    name: 'remove-variable',
    summary: 'remove OpenBoot variables from a domain',
    synopsis: ['remove-variable var-name... ldom'],
    auth: 'solaris.ldoms.write',
    operands: [2, Infinity],
    async run(ctx, args) {
      const ldom = args.operands[args.operands.length - 1];
      const names = distinct(args.operands.slice(0, -1), 'Variable');
      await change(ctx, (draft, say) => removeVariables(draft, ldom, names, say));
    },
  },
  {
    name: 'list-variable',
    summary: 'list OpenBoot variables of a domain',
    synopsis: ['list-variable [var-name...] ldom'],
    auth: 'solaris.ldoms.read',
    operands: [1, Infinity],
    async run(ctx, args) {
      const ldom = args.operands[args.operands.length - 1];
      const wanted = args.operands.slice(0, -1);
      const [d] = selectDomains(await ctx.manager.view(), [ldom]);
      const vars = d.constraints.variables;
      const missing = wanted.filter((w) => !vars.some((v) => v.name === w));
      const shown = wanted.length ? vars.filter((v) => wanted.includes(v.name)) : vars;
      ctx.out(renderListVariable(shown));
      if (missing.length) throw new UserError(missing.map((m) => `Variable ${m} not found in LDom ${ldom}`).join('\n'));
    },
  },
];
