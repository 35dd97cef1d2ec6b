// add/set/remove-memory (short noun: mem).

import { parseSize } from '../format/units.js';
import { UserError } from '../manager/errors.js';
import { changeMemory } from '../manager/rules/memory.js';
import type { MemoryOp } from '../manager/alloc/memory.js';
import { change } from './common.js';
import type { CommandSpec } from './types.js';

const memory = (op: MemoryOp): CommandSpec => ({
  name: `${op}-memory`,
  summary: `${op} memory ${op === 'set' ? 'of' : op === 'add' ? 'to' : 'from'} a domain`,
  synopsis: [`${op}-memory [--auto-adj] size[unit] ldom`],
  auth: 'solaris.ldoms.write',
  options: { '--auto-adj': 'flag' },
  operands: [2, 2],
  async run(ctx, args) {
    const [sizeText, ldom] = args.operands;
    const size = parseSize(sizeText);
    if (size === null || size === 0) throw new UserError(`Invalid memory size: ${sizeText}`);
    await change(ctx, (draft, say) => changeMemory(draft, ldom, op, size, args.options.has('--auto-adj'), say));
  },
});

export const memoryCommands: CommandSpec[] = [memory('add'), memory('set'), memory('remove')];
