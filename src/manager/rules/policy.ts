// Dynamic resource management policies (add/set/remove-policy, since LDoms 1.3): named rules that
// let the manager add or remove virtual CPUs of a domain within bounds as its utilisation moves.
// They are kept as constraints of the domain; `list -o resmgmt` shows them.

import { UserError } from '../errors.js';
import type { Draft } from '../manager.js';
import { checkName } from '../names.js';
import type { DrmPolicy } from '../types.js';
import { findDomain, guardOthers, type Say } from './draft.js';

export const POLICY_PROPS = [
  'enable',
  'priority',
  'attack',
  'decay',
  'elastic-margin',
  'sample-rate',
  'tod-begin',
  'tod-end',
  'util-lower',
  'util-upper',
  'vcpu-min',
  'vcpu-max',
] as const;

/** Defaults of a new policy [M: recalled from the 1.3 documentation, see docs/choices.md]. */
export function defaultPolicy(name: string): DrmPolicy {
  return {
    name,
    enable: true,
    priority: 99,
    attack: null,
    decay: null,
    elasticMargin: 5,
    sampleRate: 10,
    todBegin: '00:00:00',
    todEnd: '23:59:59',
    utilLower: 60,
    utilUpper: 85,
    vcpuMin: 1,
    vcpuMax: null,
  };
}

function int(key: string, text: string, min: number, max: number): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UserError(`Invalid value for ${key}: ${text} (must be an integer from ${min} to ${max})`);
  }
  return Number(text);
}

function intOrUnlimited(key: string, text: string, min: number, max: number): number | null {
  return text === 'unlimited' || text === '' ? null : int(key, text, min, max);
}

function timeOfDay(key: string, text: string): string {
  const m = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(text);
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59 || Number(m[3] ?? 0) > 59) throw new UserError(`Invalid value for ${key}: ${text} (use hh:mm[:ss])`);
  return `${m[1].padStart(2, '0')}:${m[2]}:${m[3] ?? '00'}`;
}

function apply(p: DrmPolicy, props: Map<string, string>): void {
  for (const [k, v] of props) {
    switch (k) {
      case 'enable':
        if (v !== 'yes' && v !== 'no') throw new UserError(`Invalid value for enable: ${v} (use yes or no)`);
        p.enable = v === 'yes';
        break;
      case 'priority':
        p.priority = int(k, v, 1, 9999);
        break;
      case 'attack':
        p.attack = intOrUnlimited(k, v, 1, 1024);
        break;
      case 'decay':
        p.decay = intOrUnlimited(k, v, 1, 1024);
        break;
      case 'elastic-margin':
        p.elasticMargin = int(k, v, 0, 100);
        break;
      case 'sample-rate':
        p.sampleRate = int(k, v, 1, 86400);
        break;
      case 'tod-begin':
        p.todBegin = timeOfDay(k, v);
        break;
      case 'tod-end':
        p.todEnd = timeOfDay(k, v);
        break;
      case 'util-lower':
        p.utilLower = int(k, v, 1, 99);
        break;
      case 'util-upper':
        p.utilUpper = int(k, v, 1, 100);
        break;
      case 'vcpu-min':
        p.vcpuMin = int(k, v, 1, 4096);
        break;
      case 'vcpu-max':
        p.vcpuMax = intOrUnlimited(k, v, 1, 4096);
        break;
    }
  }
  if (p.utilLower >= p.utilUpper) throw new UserError(`util-lower (${p.utilLower}) must be below util-upper (${p.utilUpper})`);
  if (p.vcpuMax !== null && p.vcpuMin > p.vcpuMax) throw new UserError(`vcpu-min (${p.vcpuMin}) must not exceed vcpu-max (${p.vcpuMax})`);
  if (p.todBegin >= p.todEnd) throw new UserError(`tod-begin (${p.todBegin}) must be before tod-end (${p.todEnd})`);
}

export function addPolicy(draft: Draft, name: string | undefined, ldoms: string[], props: Map<string, string>, say: Say): void {
  if (!name) throw new UserError('Missing name=policy-name');
  checkName('policy', name);
  for (const ldom of ldoms) {
    const d = findDomain(draft, ldom);
    guardOthers(draft, ldom, say);
    if (d.constraints.policies.some((p) => p.name === name)) throw new UserError(`Policy ${name} already exists in LDom ${ldom}`);
    const p = defaultPolicy(name);
    apply(p, props);
    d.constraints.policies.push(p);
  }
}

export function setPolicy(draft: Draft, name: string | undefined, ldoms: string[], props: Map<string, string>, say: Say): void {
  if (!name) throw new UserError('Missing name=policy-name');
  if (props.size === 0) throw new UserError('Nothing to set: give at least one property');
  for (const ldom of ldoms) {
    const d = findDomain(draft, ldom);
    guardOthers(draft, ldom, say);
    const p = d.constraints.policies.find((x) => x.name === name);
    if (!p) throw new UserError(`Policy ${name} does not exist in LDom ${ldom}`);
    apply(p, props);
  }
}

export function removePolicy(draft: Draft, names: string[], ldom: string, say: Say): void {
  const d = findDomain(draft, ldom);
  guardOthers(draft, ldom, say);
  for (const name of names) {
    const i = d.constraints.policies.findIndex((x) => x.name === name);
    if (i < 0) throw new UserError(`Policy ${name} does not exist in LDom ${ldom}`);
    d.constraints.policies.splice(i, 1);
  }
}
