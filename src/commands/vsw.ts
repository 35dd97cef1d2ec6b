// add/set/remove-vsw (long noun: vswitch) and add/set/remove-vnet.

import { UserError } from '../manager/errors.js';
import { addVnet, addVsw, removeVnet, removeVsw, setVnet, setVsw } from '../manager/rules/vsw.js';
import { change, checkMacElsewhere, propMap, random } from './common.js';
import type { CommandSpec } from './types.js';

const VSW_PROPS = ['default-vlan-id', 'pvid', 'vid', 'linkprop', 'mac-addr', 'net-dev', 'mode', 'mtu', 'id'];
const VNET_PROPS = ['mac-addr', 'mode', 'pvid', 'linkprop', 'vid', 'mtu', 'id'];

export const vswCommands: CommandSpec[] = [
  {
    name: 'add-vsw',
    xmlAction: 'add-vswitch',
    summary: 'add a virtual switch service to a domain',
    synopsis: [
      'add-vsw [default-vlan-id=vlan-id] [pvid=port-vlan-id] [vid=vlan-id1,vlan-id2,...] [linkprop=phys-state] [mac-addr=num] [net-dev=device] [mode=sc] [mtu=size] [id=switch-id] vswitch-name ldom',
    ],
    auth: 'solaris.ldoms.write',
    props: VSW_PROPS,
    operands: [2, 2],
    async run(ctx, args) {
      await checkMacElsewhere(ctx, args);
      await change(ctx, (draft, say) => addVsw(draft, args.operands[0], args.operands[1], propMap(args), random, say));
    },
  },
  {
    name: 'set-vsw',
    xmlAction: 'set-vswitch',
    summary: 'change a virtual switch service',
    synopsis: [
      'set-vsw [pvid=port-vlan-id] [vid=vlan-id1,vlan-id2,...] [mac-addr=num] [net-dev=device] [linkprop=[phys-state]] [mode=[sc]] [mtu=size] vswitch-name',
    ],
    auth: 'solaris.ldoms.write',
    props: ['pvid', 'vid', 'mac-addr', 'net-dev', 'linkprop', 'mode', 'mtu', 'default-vlan-id'],
    operands: [1, 1],
    async run(ctx, args) {
      await checkMacElsewhere(ctx, args);
      if (!args.props.length) throw new UserError('Nothing to set: give at least one property');
      await change(ctx, (draft, say) => setVsw(draft, args.operands[0], propMap(args), random, say));
    },
  },
  {
    name: 'remove-vsw',
    xmlAction: 'remove-vswitch',
    summary: 'remove a virtual switch service',
    synopsis: ['remove-vsw [-f] vswitch-name'],
    auth: 'solaris.ldoms.write',
    options: { '-f': 'flag' },
    operands: [1, 1],
    async run(ctx, args) {
      await change(ctx, (draft, say) => removeVsw(draft, args.operands[0], args.options.has('-f'), say));
    },
  },
  {
    name: 'add-vnet',
    summary: 'add a virtual network device to a domain',
    synopsis: [
      'add-vnet [mac-addr=num] [mode=hybrid] [pvid=[port-vlan-id]] [linkprop=phys-state] [vid=vlan-id1,vlan-id2,...] [mtu=size] [id=network-id] if-name vswitch-name ldom',
    ],
    auth: 'solaris.ldoms.write',
    props: VNET_PROPS,
    operands: [3, 3],
    async run(ctx, args) {
      await checkMacElsewhere(ctx, args);
      const [ifName, vsw, ldom] = args.operands;
      await change(ctx, (draft, say) => addVnet(draft, ifName, vsw, ldom, propMap(args), random, say));
    },
  },
  {
    name: 'set-vnet',
    summary: 'change a virtual network device',
    synopsis: [
      'set-vnet [mac-addr=num] [vswitch=vswitch-name] [mode=[hybrid]] [pvid=[port-vlan-id]] [linkprop=[phys-state]] [vid=[vlan-id1,vlan-id2,...]] [mtu=size] if-name ldom',
    ],
    auth: 'solaris.ldoms.write',
    props: ['mac-addr', 'vswitch', 'mode', 'pvid', 'linkprop', 'vid', 'mtu'],
    operands: [2, 2],
    async run(ctx, args) {
      await checkMacElsewhere(ctx, args);
      if (!args.props.length) throw new UserError('Nothing to set: give at least one property');
      await change(ctx, (draft, say) => setVnet(draft, args.operands[0], args.operands[1], propMap(args), random, say));
    },
  },
  {
    name: 'remove-vnet',
    summary: 'remove a virtual network device from a domain',
    synopsis: ['remove-vnet [-f] if-name ldom'],
    auth: 'solaris.ldoms.write',
    options: { '-f': 'flag' },
    operands: [2, 2],
    async run(ctx, args) {
      await change(ctx, (draft, say) => removeVnet(draft, args.operands[0], args.operands[1], args.options.has('-f'), say));
    },
  },
];
