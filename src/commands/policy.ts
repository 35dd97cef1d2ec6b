// add-policy, set-policy, remove-policy: dynamic resource management policies.

import { UserError } from '../manager/errors.js';
import { addPolicy, POLICY_PROPS, removePolicy, setPolicy } from '../manager/rules/policy.js';
import { change, distinct } from './common.js';
import type { CommandSpec, ParsedArgs } from './types.js';

const PROPS_SYNOPSIS =
  '[enable=yes|no] [priority=value] [attack=value] [decay=value] [elastic-margin=value] [sample-rate=value] ' +
  '[tod-begin=hh:mm[:ss]] [tod-end=hh:mm[:ss]] [util-lower=percent] [util-upper=percent] [vcpu-min=value] [vcpu-max=value]';

function split(args: ParsedArgs): { name: string | undefined; props: Map<string, string> } {
  const props = new Map(args.props);
  const name = props.get('name');
  props.delete('name');
  return { name, props };
}

const policy = (op: 'add' | 'set'): CommandSpec => ({
  name: `${op}-policy`,
  xmlAction: null,
  summary: op === 'add' ? 'add a resource management policy to domains' : 'change a resource management policy of domains',
  synopsis: [`${op}-policy ${PROPS_SYNOPSIS} name=policy-name ldom...`],
  auth: 'solaris.ldoms.write',
  props: [...POLICY_PROPS, 'name'],
  operands: [1, Infinity],
  async run(ctx, args) {
    const { name, props } = split(args);
    const ldoms = distinct(args.operands, 'LDom');
    await change(ctx, (draft, say) => (op === 'add' ? addPolicy : setPolicy)(draft, name, ldoms, props, say));
  },
});

export const policyCommands: CommandSpec[] = [
  policy('add'),
  policy('set'),
  {
    name: 'remove-policy',
    xmlAction: null,
    summary: 'remove resource management policies from a domain',
    synopsis: ['remove-policy [name=]policy-name... ldom'],
    auth: 'solaris.ldoms.write',
    props: ['name'],
    operands: [1, Infinity],
    async run(ctx, args) {
      const names = [...args.props.map(([, v]) => v), ...args.operands.slice(0, -1)];
      if (names.length === 0 || names.includes('')) throw new UserError('Missing policy name');
      distinct(names, 'Policy');
      const ldom = args.operands[args.operands.length - 1];
      await change(ctx, (draft, say) => removePolicy(draft, names, ldom, say));
    },
  },
];
