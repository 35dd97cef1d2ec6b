// add/set/remove-memory: the alignment rule of the domain's state decides what the request
// becomes (alloc/memory.ts); bound and active domains then grow or shrink their mblocks.

import { planMemoryChange, type MemoryOp, type MemoryState } from '../alloc/memory.js';
import { UserError } from '../errors.js';
import type { Draft } from '../manager.js';
import { rebindMemory } from './binding.js';
import { findDomain, guardOthers, isControl, requireDr, type Say } from './draft.js';
import { checkRebootFits } from './reconf.js';

export function changeMemory(draft: Draft, name: string, op: MemoryOp, amount: number, autoAdj: boolean, say: Say): void {
  const d = findDomain(draft, name);
  guardOthers(draft, name, say);
  const pending = isControl(d) ? draft.delayed : null;
  const bound = d.binding ? d.binding.mblocks.reduce((n, m) => n + m.size, 0) : 0;
  const state: MemoryState = pending ? 'delayed' : d.state;
  const current = pending ? pending.memory : d.state === 'inactive' ? d.constraints.memory : bound;
  const plan = planMemoryChange({
    domain: name,
    op,
    amount,
    state,
    autoAdj,
    current,
    constraint: d.state === 'bound' ? d.constraints.memory : undefined,
  });
  if (!plan.ok) throw new UserError(plan.message);
  if (pending) {
    // Takes effect when the control domain reboots (rules/reconf.ts).
    checkRebootFits(draft, { ...pending, memory: plan.value.constraint });
    pending.memory = plan.value.constraint;
  } else {
    if (plan.value.size !== (d.state === 'inactive' ? d.constraints.memory : bound)) {
      requireDr(d, 'memoryDr');
      if (d.state === 'active' && draft.xmppEnabled === false) {
        // Documented: turning the XMPP server off also turns off memory dynamic reconfiguration.
        throw new UserError(`Memory dynamic reconfiguration is disabled: the XML interface is turned off (ldmd/xmpp_enabled=false)`);
      }
    }
    d.constraints.memory = plan.value.constraint;
    if (d.state !== 'inactive') d.binding = { ...d.binding!, mblocks: rebindMemory(draft, d, plan.value.size, plan.value.align) };
  }
  // "has been allocated ... more memory" is only true once the blocks were found.
  for (const line of plan.value.notices) say(line);
}
