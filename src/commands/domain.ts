// add-domain, set-domain, remove-domain.

import { UserError } from '../manager/errors.js';
import { addDomain, removeDomain, setDomain, type DomainProps } from '../manager/rules/domain.js';
import { createFromSpec } from '../manager/rules/import.js';
import { xmlToConstraints } from '../xml/constraints.js';
import { change, checkMacElsewhere, distinct, propMap, random } from './common.js';
import type { CommandSpec, ParsedArgs } from './types.js';

function domainProps(args: ParsedArgs): DomainProps {
  const p = propMap(args);
  return { mac: p.get('mac-addr'), hostid: p.get('hostid'), failurePolicy: p.get('failure-policy'), master: p.get('master') };
}

const PROPS = ['mac-addr', 'hostid', 'failure-policy', 'master'];

export const domainCommands: CommandSpec[] = [
  {
    name: 'add-domain',
    aliases: ['create'],
    summary: 'create logical domains',
    synopsis: [
      'add-domain -i file',
      'add-domain [mac-addr=num] [hostid=num] [failure-policy=ignore|panic|reset|stop] [master=master-ldom1,...,master-ldom4] ldom',
      'add-domain ldom...',
    ],
    auth: 'solaris.ldoms.write',
    options: { '-i': 'value' },
    props: PROPS,
    operands: [0, Infinity],
    async run(ctx, args) {
      await checkMacElsewhere(ctx, args);
      const file = args.options.get('-i');
      if (typeof file === 'string') {
        if (args.operands.length || args.props.length) throw new UserError('add-domain -i file takes no other arguments');
        const specs = xmlToConstraints(await ctx.readFile(file));
        await change(ctx, (draft, say) => specs.forEach((s) => createFromSpec(draft, s, random, say)));
        return;
      }
      if (args.operands.length === 0) throw new UserError('Missing domain name');
      if (args.props.length && args.operands.length > 1) throw new UserError('Properties can be given for one domain only');
      distinct(args.operands, 'LDom');
      await change(ctx, (draft, say) => args.operands.forEach((n) => addDomain(draft, n, domainProps(args), random, say)));
    },
  },
  {
    name: 'set-domain',
    summary: 'set properties of a logical domain',
    synopsis: [
      'set-domain -i file',
      'set-domain [mac-addr=num] [hostid=num] [failure-policy=ignore|panic|reset|stop] [master=[master-ldom1,...,master-ldom4]] ldom',
    ],
    auth: 'solaris.ldoms.write',
    options: { '-i': 'value' },
    props: PROPS,
    operands: [0, 1],
    async run(ctx, args) {
      await checkMacElsewhere(ctx, args);
      const file = args.options.get('-i');
      if (typeof file === 'string') {
        if (args.operands.length || args.props.length) throw new UserError('set-domain -i file takes no other arguments');
        const specs = xmlToConstraints(await ctx.readFile(file));
        await change(ctx, (draft, say) => specs.forEach((s) => createFromSpec(draft, s, random, say, { replace: true })));
        return;
      }
      if (args.operands.length !== 1) throw new UserError('Missing domain name');
      if (args.props.length === 0) throw new UserError('Nothing to set: give at least one property');
      await change(ctx, (draft, say) => setDomain(draft, args.operands[0], domainProps(args), random, say));
    },
  },
  {
    name: 'remove-domain',
    aliases: ['destroy'],
    summary: 'delete logical domains',
    synopsis: ['remove-domain -a', 'remove-domain ldom...'],
    auth: 'solaris.ldoms.write',
    options: { '-a': 'flag' },
    operands: [0, Infinity],
    async run(ctx, args) {
      const all = args.options.has('-a');
      if (all === (args.operands.length > 0)) throw new UserError(all ? 'remove-domain -a takes no domain names' : 'Missing domain name');
      await change(ctx, (draft, say) => {
        const names = all ? draft.domains.map((d) => d.constraints.name).filter((n) => n !== 'primary').reverse() : distinct(args.operands, 'LDom');
        for (const n of names) removeDomain(draft, n, say);
      });
    },
  },
];
