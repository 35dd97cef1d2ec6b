// bind-domain, unbind-domain, start-domain, stop-domain, panic-domain (shortcuts bind, unbind,
// start, stop, panic).

import { UserError } from '../manager/errors.js';
import { bindDomain, startDomain, stopDomain, unbindDomain } from '../manager/rules/binding.js';
import { findDomain, guardOthers, CONTROL_DOMAIN } from '../manager/rules/draft.js';
import { createFromSpec } from '../manager/rules/import.js';
import { xmlToConstraints } from '../xml/constraints.js';
import { change, distinct, random } from './common.js';
import type { CommandContext, CommandSpec, ParsedArgs } from './types.js';

/** Names from `-i file` (creating or replacing those domains first), `-a`, or the operands. */
async function fromFile(ctx: CommandContext, args: ParsedArgs) {
  const file = args.options.get('-i');
  if (typeof file !== 'string') return null;
  if (args.operands.length || args.options.has('-a')) throw new UserError('-i file takes no other arguments');
  return xmlToConstraints(await ctx.readFile(file));
}

export const lifecycleCommands: CommandSpec[] = [
  {
    name: 'bind-domain',
    aliases: ['bind'],
    summary: 'bind resources to a domain',
    synopsis: ['bind-domain (-i file | ldom)'],
    auth: 'solaris.ldoms.write',
    options: { '-i': 'value' },
    operands: [0, 1],
    async run(ctx, args) {
      const specs = await fromFile(ctx, args);
      if (!specs && args.operands.length !== 1) throw new UserError('Missing domain name');
      await change(ctx, (draft, say) => {
        const names = specs ? specs.map((s) => (createFromSpec(draft, s, random, say, { replace: true }), s.name)) : args.operands;
        for (const n of names) {
          guardOthers(draft, n, say);
          bindDomain(draft, n);
        }
      });
    },
  },
  {
    name: 'unbind-domain',
    aliases: ['unbind'],
    summary: 'release the resources of a bound domain',
    synopsis: ['unbind-domain ldom'],
    auth: 'solaris.ldoms.write',
    operands: [1, 1],
    async run(ctx, args) {
      await change(ctx, (draft, say) => {
        guardOthers(draft, args.operands[0], say);
        unbindDomain(draft, args.operands[0]);
      });
    },
  },
  {
    name: 'start-domain',
    aliases: ['start'],
    summary: 'start bound domains',
    synopsis: ['start-domain (-a | -i file | ldom...)'],
    auth: 'solaris.ldoms.write',
    options: { '-a': 'flag', '-i': 'value' },
    operands: [0, Infinity],
    async run(ctx, args) {
      const specs = await fromFile(ctx, args);
      const all = args.options.has('-a');
      if (!specs && all === args.operands.length > 0) throw new UserError(all ? 'start-domain -a takes no domain names' : 'Missing domain name');
      const started = await change(ctx, (draft, say) => {
        let names: string[];
        if (specs) {
          names = specs.map((s) => s.name);
          for (const s of specs) {
            createFromSpec(draft, s, random, say, { replace: true });
            bindDomain(draft, s.name);
          }
        } else if (all) names = draft.domains.filter((d) => d.state === 'bound').map((d) => d.constraints.name);
        else names = distinct(args.operands, 'LDom');
        for (const n of names) {
          guardOthers(draft, n, say);
          startDomain(draft, n);
        }
        return names;
      });
      for (const n of started) ctx.out(`LDom ${n} started\n`);
    },
  },
  {
    name: 'stop-domain',
    aliases: ['stop'],
    summary: 'stop active domains',
    synopsis: ['stop-domain [-f] (-a | ldom...)'],
    auth: 'solaris.ldoms.write',
    options: { '-f': 'flag', '-a': 'flag' },
    operands: [0, Infinity],
    async run(ctx, args) {
      const all = args.options.has('-a');
      if (all === args.operands.length > 0) throw new UserError(all ? 'stop-domain -a takes no domain names' : 'Missing domain name');
      const stopped = await change(ctx, (draft, say) => {
        const names = all
          ? draft.domains.filter((d) => d.state === 'active' && d.constraints.name !== CONTROL_DOMAIN).map((d) => d.constraints.name)
          : distinct(args.operands, 'LDom');
        for (const n of names) {
          guardOthers(draft, n, say);
          stopDomain(draft, n, args.options.has('-f'));
        }
        return names;
      });
      for (const n of stopped) ctx.out(`LDom ${n} stopped\n`);
    },
  },
  {
    name: 'panic-domain',
    xmlAction: null,
    aliases: ['panic'],
    summary: "panic a domain's operating system",
    synopsis: ['panic-domain ldom'],
    auth: 'solaris.ldoms.write',
    operands: [1, 1],
    async run(ctx, args) {
      const name = args.operands[0];
      await change(ctx, (draft, say) => {
        const d = findDomain(draft, name);
        guardOthers(draft, name, say);
        if (name === CONTROL_DOMAIN) throw new UserError(`LDom ${name} is the control domain and cannot be panicked`);
        if (d.state !== 'active') throw new UserError(`LDom ${name} is not active`);
      });
      await ctx.manager.machineOp({ kind: 'panic', name });
    },
  },
];
