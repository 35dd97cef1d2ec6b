// add-variable, set-variable, remove-variable: OpenBoot variables kept with a domain.

import { UserError } from '../errors.js';
import type { Draft } from '../manager.js';
import { isValidVariableName } from '../names.js';
import type { Variable } from '../types.js';
import { findDomain, guardOthers, type Say } from './draft.js';

/** Variables belong to the domain's OpenBoot, not to its hypervisor resources: they change at once. */
function each(draft: Draft, name: string, fn: (vars: Variable[]) => void): void {
  const d = findDomain(draft, name);
  fn(d.constraints.variables);
}

function checkVarName(n: string): void {
  if (!isValidVariableName(n)) throw new UserError(n ? `Invalid variable name: ${n}` : 'Missing variable name before =');
}

export function addVariables(draft: Draft, name: string, pairs: [string, string][], say: Say): void {
  findDomain(draft, name);
  guardOthers(draft, name, say);
  each(draft, name, (vars) => {
    for (const [k, v] of pairs) {
      checkVarName(k);
      if (vars.some((x) => x.name === k)) throw new UserError(`Variable ${k} already exists in LDom ${name}`);
      vars.push({ name: k, value: v });
    }
  });
}

export function setVariables(draft: Draft, name: string, pairs: [string, string][], say: Say): void {
  findDomain(draft, name);
  guardOthers(draft, name, say);
  each(draft, name, (vars) => {
    for (const [k, v] of pairs) {
      checkVarName(k);
      const found = vars.find((x) => x.name === k);
      if (found) found.value = v;
      else vars.push({ name: k, value: v });
    }
  });
}

export function removeVariables(draft: Draft, name: string, names: string[], say: Say): void {
  findDomain(draft, name);
  guardOthers(draft, name, say);
  each(draft, name, (vars) => {
    for (const k of names) {
      const i = vars.findIndex((x) => x.name === k);
      if (i < 0) throw new UserError(`Variable ${k} not found in LDom ${name}`);
      vars.splice(i, 1);
    }
  });
}
