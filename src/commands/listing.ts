// list-domain (bare `ldm list`), list-bindings, list-services, list-constraints, list-devices.

import { renderListConstraints } from '../format/list-constraints.js';
import { renderListDevices, type DeviceClass } from '../format/list-devices.js';
import { listFormatOf, renderList, renderListBindings } from '../format/list-domain.js';
import { renderListServices } from '../format/list-services.js';
import { renderVersion } from '../format/version.js';
import { migrationStatus } from '../format/migration-status.js';
import { UserError } from '../manager/errors.js';
import { constraintsToXml } from '../xml/constraints.js';
import { selectDomains } from './common.js';
import type { CommandSpec } from './types.js';

const DEVICE_CLASSES: Record<string, DeviceClass> = { cpu: 'cpu', crypto: 'crypto', mau: 'crypto', memory: 'memory', mem: 'memory', io: 'io' };

export const listingCommands: CommandSpec[] = [
  {
    name: 'list-domain',
    aliases: ['list', 'ls'],
    summary: 'list domains and their state',
    synopsis: ['list-domain [-e] [-l] [-o format] [-p] [ldom...]'],
    auth: 'solaris.ldoms.read',
    options: { '-e': 'flag', '-l': 'flag', '-o': 'value', '-p': 'flag' },
    operands: [0, Infinity],
    async run(ctx, args) {
      const o = args.options.get('-o');
      const formats = typeof o === 'string' ? o.split(',') : [];
      for (const f of formats) {
        if (!listFormatOf(f)) throw new UserError(`Invalid format: ${f}\nValid formats: console, cpu, crypto, disk, domain, memory, network, physio, resmgmt, serial, stats, status`);
      }
      const view = await ctx.manager.view();
      const domains = selectDomains(view, args.operands);
      ctx.out(
        renderList(view, domains, {
          long: args.options.has('-l'),
          extended: args.options.has('-e'),
          parseable: args.options.has('-p'),
          formats,
          status: migrationStatus,
        }),
      );
    },
  },
  {
    name: 'list-bindings',
    summary: 'list the resources bound to domains',
    synopsis: ['list-bindings [-e] [-p] [ldom...]'],
    auth: 'solaris.ldoms.read',
    options: { '-e': 'flag', '-p': 'flag' },
    operands: [0, Infinity],
    async run(ctx, args) {
      const view = await ctx.manager.view();
      ctx.out(renderListBindings(view, selectDomains(view, args.operands), { extended: args.options.has('-e'), parseable: args.options.has('-p') }));
    },
  },
  {
    name: 'list-services',
    summary: 'list the virtual services of domains',
    synopsis: ['list-services [-e] [-p] [ldom...]'],
    auth: 'solaris.ldoms.read',
    options: { '-e': 'flag', '-p': 'flag' },
    operands: [0, Infinity],
    async run(ctx, args) {
      const view = await ctx.manager.view();
      ctx.out(renderListServices(view, selectDomains(view, args.operands), { extended: args.options.has('-e'), parseable: args.options.has('-p') }));
    },
  },
  {
    name: 'list-constraints',
    summary: 'list the resources requested for domains',
    synopsis: ['list-constraints ([-x] | [-e] [-p]) [ldom...]'],
    auth: 'solaris.ldoms.read',
    options: { '-x': 'flag', '-e': 'flag', '-p': 'flag' },
    operands: [0, Infinity],
    async run(ctx, args) {
      const view = await ctx.manager.view();
      const domains = selectDomains(view, args.operands);
      if (args.options.has('-x')) {
        if (args.options.has('-e') || args.options.has('-p')) throw new UserError('-x cannot be combined with -e or -p');
        ctx.out(constraintsToXml(domains.map((d) => d.constraints)));
        return;
      }
      ctx.out(renderListConstraints(view, domains, { parseable: args.options.has('-p'), extended: args.options.has('-e') }));
    },
  },
  {
    name: 'list-devices',
    summary: 'list free (or, with -a, all) physical resources',
    synopsis: ['list-devices [-a] [-p] [cpu] [crypto] [memory] [io]'],
    auth: 'solaris.ldoms.read',
    options: { '-a': 'flag', '-p': 'flag' },
    operands: [0, 4],
    async run(ctx, args) {
      const classes = args.operands.map((c) => {
        const k = DEVICE_CLASSES[c];
        if (!k) throw new UserError(`Invalid resource type: ${c} (use cpu, crypto, memory or io)`);
        return k;
      });
      const view = await ctx.manager.view();
      ctx.out(renderListDevices(view, { all: args.options.has('-a'), parseable: args.options.has('-p'), classes }));
    },
  },
];

export async function versionText(ctx: { manager: { view(): Promise<import('../manager/inventory.js').HostView> } }): Promise<string> {
  return renderVersion(await ctx.manager.view());
}
