// add/set/remove-vcpu and add/set/remove-crypto (long noun: mau).

import { changeCrypto, changeVcpus, type CountOp } from '../manager/rules/cpu.js';
import { change, count } from './common.js';
import type { CommandSpec } from './types.js';

const vcpu = (op: CountOp): CommandSpec => ({
  name: `${op}-vcpu`,
  summary: `${op} virtual CPUs ${op === 'set' ? 'of' : op === 'add' ? 'to' : 'from'} a domain`,
  synopsis: [`${op}-vcpu [-c] number ldom`],
  auth: 'solaris.ldoms.write',
  options: { '-c': 'flag' },
  operands: [2, 2],
  async run(ctx, args) {
    const [n, ldom] = args.operands;
    const cores = args.options.has('-c');
    const value = count(n, cores ? 'number of cores' : 'number of virtual CPUs');
    await change(ctx, (draft, say) => changeVcpus(draft, ldom, op, value, cores, say));
  },
});

const crypto = (op: CountOp): CommandSpec => ({
  name: `${op}-crypto`,
  xmlAction: `${op}-mau`,
  summary: `${op} crypto units (MAU) ${op === 'set' ? 'of' : op === 'add' ? 'to' : 'from'} a domain`,
  synopsis: [`${op}-crypto number ldom`],
  auth: 'solaris.ldoms.write',
  operands: [2, 2],
  async run(ctx, args) {
    const [n, ldom] = args.operands;
    const value = count(n, 'number of crypto units');
    await change(ctx, (draft, say) => changeCrypto(draft, ldom, op, value, say));
  },
});

export const cpuCommands: CommandSpec[] = [vcpu('add'), vcpu('set'), vcpu('remove'), crypto('add'), crypto('set'), crypto('remove')];
