// add/set/remove-vcc (long noun: vconscon) and set-vcons (vconsole).

import { addVcc, removeVcc, setVcc, setVcons } from '../manager/rules/vcc.js';
import { UserError } from '../manager/errors.js';
import { change, propMap } from './common.js';
import type { CommandSpec } from './types.js';

export const consoleCommands: CommandSpec[] = [
  {
    name: 'add-vcc',
    xmlAction: 'add-vconscon',
    summary: 'add a virtual console concentrator service to a domain',
    synopsis: ['add-vcc port-range=x-y vcc-name ldom'],
    auth: 'solaris.ldoms.write',
    props: ['port-range'],
    operands: [2, 2],
    async run(ctx, args) {
      await change(ctx, (draft, say) => addVcc(draft, args.operands[0], args.operands[1], propMap(args).get('port-range'), say));
    },
  },
  {
    name: 'set-vcc',
    xmlAction: 'set-vconscon',
    summary: 'change the port range of a console concentrator',
    synopsis: ['set-vcc port-range=x-y vcc-name'],
    auth: 'solaris.ldoms.write',
    props: ['port-range'],
    operands: [1, 1],
    async run(ctx, args) {
      await change(ctx, (draft, say) => setVcc(draft, args.operands[0], propMap(args).get('port-range'), say));
    },
  },
  {
    name: 'remove-vcc',
    xmlAction: 'remove-vconscon',
    summary: 'remove a console concentrator service',
    synopsis: ['remove-vcc [-f] vcc-name'],
    auth: 'solaris.ldoms.write',
    options: { '-f': 'flag' },
    operands: [1, 1],
    async run(ctx, args) {
      await change(ctx, (draft, say) => removeVcc(draft, args.operands[0], args.options.has('-f'), say));
    },
  },
  {
    name: 'set-vcons',
    xmlAction: 'set-vconsole',
    summary: "set a domain's console port, group or service",
    synopsis: ['set-vcons [port=[port-num]] [group=group] [service=vcc-server] ldom'],
    auth: 'solaris.ldoms.write',
    props: ['port', 'group', 'service'],
    operands: [1, 1],
    async run(ctx, args) {
      if (!args.props.length) throw new UserError('Nothing to set: give port=, group= or service=');
      const p = propMap(args);
      await change(ctx, (draft, say) => setVcons(draft, args.operands[0], { port: p.get('port'), group: p.get('group'), service: p.get('service') }, say));
    },
  },
];
