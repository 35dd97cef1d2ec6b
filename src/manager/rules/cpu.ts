// add/set/remove-vcpu (with the whole-core `-c` form) and add/set/remove-crypto.

import { UserError } from '../errors.js';
import type { Draft } from '../manager.js';
import { checkCryptoCores } from '../alloc/crypto.js';
import { rebindCrypto, rebindStrands } from './binding.js';
import { checkRebootFits } from './reconf.js';
import { editable, enterDelayed, requireDr, findDomain, guardOthers, isControl, type Say } from './draft.js';

export type CountOp = 'add' | 'set' | 'remove';

function resultCount(op: CountOp, current: number, n: number, what: string, name: string): number {
  if (op === 'set') return n;
  if (op === 'add') return current + n;
  if (n > current) throw new UserError(`Cannot remove ${n} ${what}: LDom ${name} has only ${current}`);
  return current - n;
}

/**
 * Change a domain's virtual CPUs. `cores` is the whole-core form (`-c`): counts are cores, and the
 * domain gets the whole-core constraint with max-cores set to its core count.
 */
export function changeVcpus(draft: Draft, name: string, op: CountOp, n: number, cores: boolean, say: Say): void {
  const d = findDomain(draft, name);
  guardOthers(draft, name, say);
  const spc = draft.platform.cpu.strandsPerCore;
  if (cores && d.state !== 'inactive' && !isControl(d)) {
    // Whole-core is switched only on inactive domains, or on the control domain in a delayed reconfiguration.
    throw new UserError(`The whole-core constraint of LDom ${name} can only be changed while the domain is inactive`);
  }
  const delayed = isControl(d) && (draft.delayed !== null || cores);
  // Validate on the constraints the change would edit; the delayed reconfiguration (and its
  // announcement) starts only once the request is known to be acceptable.
  const c0 = delayed ? editable(draft, d) : d.constraints;
  const unit = cores ? spc : 1;
  if (cores && !c0.wholeCore && op !== 'set' && c0.vcpus % spc !== 0) {
    throw new UserError(`LDom ${name} has ${c0.vcpus} virtual CPUs, which is not a whole number of cores (${spc} virtual CPUs each)`);
  }
  const current = cores ? Math.floor(c0.vcpus / spc) : c0.vcpus;
  const count = resultCount(op, current, n, cores ? 'cores' : 'virtual CPUs', name) * unit;
  if (count < 1) throw new UserError(`LDom ${name} must have at least one virtual CPU`);

  const wholeCore = cores ? true : c0.wholeCore;
  if (!cores && c0.wholeCore) {
    if (count % spc !== 0) throw new UserError(`LDom ${name} has the whole-core constraint: the number of virtual CPUs must be a multiple of ${spc}`);
    if (c0.maxCores !== null && count / spc > c0.maxCores && !(d.state === 'inactive' || (isControl(d) && draft.delayed))) {
      throw new UserError(`LDom ${name} is limited to ${c0.maxCores} cores (max-cores)`);
    }
  }
  if (delayed) {
    checkCryptoFits(draft, name, c0.crypto, count);
    checkRebootFits(draft, { ...c0, vcpus: count, wholeCore, maxCores: cores ? count / spc : c0.maxCores });
  }
  const c = delayed ? enterDelayed(draft, say) : d.constraints;
  c.vcpus = count;
  c.wholeCore = wholeCore;
  if (cores) c.maxCores = count / spc;

  // The control domain in a delayed reconfiguration changes at its reboot; inactive domains have nothing bound.
  if (c === draft.delayed || d.state === 'inactive') return;
  requireDr(d, 'cpuDr');
  const strands = rebindStrands(draft, d, count, wholeCore);
  const b = d.binding!;
  // A core cannot leave a domain while the domain holds that core's crypto unit.
  const kept = checkCryptoCores(draft.platform, b.crypto, strands);
  if (!kept.ok) throw new UserError(kept.message);
  d.binding = { ...b, strands };
}

export function changeCrypto(draft: Draft, name: string, op: CountOp, n: number, say: Say): void {
  const d = findDomain(draft, name);
  guardOthers(draft, name, say);
  if (draft.platform.cpu.cryptoUnitsPerCore === 0) {
    throw new UserError(`This system (${draft.platform.model}) has no crypto units that can be assigned to domains`);
  }
  requireDr(d, 'cryptoDr');
  // The active control domain changes crypto units at its reboot: validate before announcing that.
  const delayed = isControl(d) && (draft.delayed !== null || d.state === 'active');
  const c0 = editable(draft, d);
  const count = resultCount(op, c0.crypto, n, 'crypto units', name);
  if (delayed) {
    checkCryptoFits(draft, name, count, c0.vcpus);
    checkRebootFits(draft, { ...c0, crypto: count });
  }
  const c = delayed ? enterDelayed(draft, say) : c0;
  c.crypto = count;
  if (c === draft.delayed || d.state === 'inactive') return;
  d.binding = { ...d.binding!, crypto: rebindCrypto(draft, d, count, d.binding!.strands) };
}

/**
 * A crypto unit serves the strands of its own core, so the control domain's pending configuration
 * must span at least as many cores as it has crypto units: its reboot cannot fail halfway.
 */
function checkCryptoFits(draft: Draft, name: string, crypto: number, vcpus: number): void {
  const spc = draft.platform.cpu.strandsPerCore;
  if (crypto > Math.ceil(vcpus / spc)) {
    throw new UserError(
      `LDom ${name} would have ${crypto} crypto units but only ${vcpus} virtual CPUs: each crypto unit needs virtual CPUs on its core; ` +
        `remove crypto units first (ldm set-crypto) or keep at least ${crypto * spc} virtual CPUs`,
    );
  }
}
