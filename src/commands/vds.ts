// add/remove-vds (long noun: vdiskserver), add/set/remove-vdsdev (vdiskserverdevice),
// add/set/remove-vdisk.

import { UserError } from '../manager/errors.js';
import { addVds, addVdisk, addVdsdev, removeVds, removeVdisk, removeVdsdev, setVdisk, setVdsdev } from '../manager/rules/vds.js';
import { change, propMap } from './common.js';
import type { CommandSpec } from './types.js';

export const vdsCommands: CommandSpec[] = [
  {
    name: 'add-vds',
    xmlAction: 'add-vdiskserver',
    summary: 'add a virtual disk service to a domain',
    synopsis: ['add-vds service-name ldom'],
    auth: 'solaris.ldoms.write',
    operands: [2, 2],
    async run(ctx, args) {
      await change(ctx, (draft, say) => addVds(draft, args.operands[0], args.operands[1], say));
    },
  },
  {
    name: 'remove-vds',
    xmlAction: 'remove-vdiskserver',
    summary: 'remove a virtual disk service',
    synopsis: ['remove-vds [-f] service-name'],
    auth: 'solaris.ldoms.write',
    options: { '-f': 'flag' },
    operands: [1, 1],
    async run(ctx, args) {
      await change(ctx, (draft, say) => removeVds(draft, args.operands[0], args.options.has('-f'), say));
    },
  },
  {
    name: 'add-vdsdev',
    xmlAction: 'add-vdiskserverdevice',
    summary: 'export a back end as a volume of a virtual disk service',
    synopsis: ['add-vdsdev [options={ro,slice,excl}] [mpgroup=mpgroup] backend volume-name@service-name'],
    auth: 'solaris.ldoms.write',
    props: ['options', 'mpgroup'],
    operands: [2, 2],
    async run(ctx, args) {
      await change(ctx, (draft, say) => addVdsdev(draft, args.operands[0], args.operands[1], propMap(args), say));
    },
  },
  {
    name: 'set-vdsdev',
    xmlAction: null,
    event: 'set-vdiskserverdevice',
    summary: 'change the options of a volume',
    synopsis: ['set-vdsdev options=[{ro,slice,excl}] [mpgroup=mpgroup] volume-name@service-name'],
    auth: 'solaris.ldoms.write',
    props: ['options', 'mpgroup'],
    operands: [1, 1],
    async run(ctx, args) {
      if (!args.props.length) throw new UserError('Nothing to set: give options= or mpgroup=');
      await change(ctx, (draft, say) => setVdsdev(draft, args.operands[0], propMap(args), say));
    },
  },
  {
    name: 'remove-vdsdev',
    xmlAction: 'remove-vdiskserverdevice',
    summary: 'remove a volume from a virtual disk service',
    synopsis: ['remove-vdsdev [-f] volume-name@service-name'],
    auth: 'solaris.ldoms.write',
    options: { '-f': 'flag' },
    operands: [1, 1],
    async run(ctx, args) {
      await change(ctx, (draft, say) => removeVdsdev(draft, args.operands[0], args.options.has('-f'), say));
    },
  },
  {
    name: 'add-vdisk',
    summary: 'add a virtual disk to a domain',
    synopsis: ['add-vdisk [timeout=seconds] [id=disk-id] disk-name volume-name@service-name ldom'],
    auth: 'solaris.ldoms.write',
    props: ['timeout', 'id'],
    operands: [3, 3],
    async run(ctx, args) {
      const [disk, vol, ldom] = args.operands;
      await change(ctx, (draft, say) => addVdisk(draft, disk, vol, ldom, propMap(args), say));
    },
  },
  {
    name: 'set-vdisk',
    xmlAction: null,
    summary: 'change a virtual disk',
    synopsis: ['set-vdisk [timeout=seconds] [volume=volume-name@service-name] disk-name ldom'],
    auth: 'solaris.ldoms.write',
    props: ['timeout', 'volume'],
    operands: [2, 2],
    async run(ctx, args) {
      if (!args.props.length) throw new UserError('Nothing to set: give timeout= or volume=');
      await change(ctx, (draft, say) => setVdisk(draft, args.operands[0], args.operands[1], propMap(args), say));
    },
  },
  {
    name: 'remove-vdisk',
    summary: 'remove a virtual disk from a domain',
    synopsis: ['remove-vdisk [-f] disk-name ldom'],
    auth: 'solaris.ldoms.write',
    options: { '-f': 'flag' },
    operands: [2, 2],
    async run(ctx, args) {
      await change(ctx, (draft, say) => removeVdisk(draft, args.operands[0], args.operands[1], args.options.has('-f'), say));
    },
  },
];
