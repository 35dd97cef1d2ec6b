import { test } from 'node:test';
import assert from 'node:assert/strict';

import { buildPlatform } from '../src/platform/catalog.js';
import { planMemoryChange } from '../src/manager/alloc/memory.js';
import {
  defaults,
  factoryMemory,
  guestShares,
  planResave,
  planCommands,
  planGuestStart,
  primaryMemorySize,
  renderPlan,
  totalStrands,
  validate,
  type ConfigAnswers,
  type ValidateContext,
} from '../src/tools/ldmconfig/plan.js';

const M = 1024 * 1024;
const G = 1024 * M;
const NOW = new Date(Date.UTC(2011, 0, 5, 23, 59));

const t5240 = buildPlatform('t5240');
const t5240small = buildPlatform('t5240', { coresPerChip: 4, memory: 32 * G });
const t2000 = buildPlatform('t2000');

const fresh: ValidateContext = { existingDomains: ['primary'], existingConfigs: ['factory-default'], factoryDefault: true };

test('defaults: T5240 2x8 cores, 64 GB', () => {
  assert.equal(factoryMemory(t5240), 65312 * M);
  assert.deepEqual(defaults(t5240, NOW), {
    guests: 15,
    vcpusPerGuest: 8,
    memoryPerGuest: 3840 * M,
    netDev: 'nxge0',
    storageDir: '/ldoms/disks',
    diskSize: 20 * G,
    configName: 'ldmconfig-20110105',
    primaryVcpus: 8,
    // 4 GB would remove 61216M, not whole 256 MB: the next size up that does is 4128M.
    primaryMemory: 4128 * M,
  });
});

test('defaults: T5240 2x4 cores, 32 GB', () => {
  assert.deepEqual(defaults(t5240small, NOW), {
    guests: 7,
    vcpusPerGuest: 8,
    memoryPerGuest: 3840 * M,
    netDev: 'nxge0',
    storageDir: '/ldoms/disks',
    diskSize: 20 * G,
    configName: 'ldmconfig-20110105',
    primaryVcpus: 8,
    primaryMemory: 4128 * M,
  });
});

test('defaults: T2000 (memory, not cores, limits the guest count)', () => {
  assert.deepEqual(defaults(t2000, NOW), {
    guests: 5,
    vcpusPerGuest: 4,
    memoryPerGuest: 2304 * M,
    netDev: 'e1000g0',
    storageDir: '/ldoms/disks',
    diskSize: 20 * G,
    configName: 'ldmconfig-20110105',
    primaryVcpus: 4,
    primaryMemory: 4224 * M,
  });
});

test('guestShares: a chosen count shares the free cores, or strands when there are more guests than cores', () => {
  // T5240 2x4 cores: 7 cores and 28416M free after the control domain.
  assert.deepEqual(guestShares(t5240small, 2), { vcpusPerGuest: 24, memoryPerGuest: 14080 * M });
  assert.deepEqual(guestShares(t5240small, 7), { vcpusPerGuest: 8, memoryPerGuest: 3840 * M });
  // 60 guests: more guests than free cores; 28416M / 60 rounds down to 256M (validate() then refuses it).
  assert.deepEqual(guestShares(t5240small, 60), { vcpusPerGuest: 1, memoryPerGuest: 256 * M });
  // T2000: 7 cores, 28 strands free; 10 guests get 2 strands each.
  assert.equal(guestShares(t2000, 10).vcpusPerGuest, 2);
  assert.equal(guestShares(t2000, 28).vcpusPerGuest, 1);
  // The shares of the default count are the defaults.
  for (const p of [t5240, t5240small, t2000]) {
    const d = defaults(p, NOW);
    assert.deepEqual(guestShares(p, d.guests), { vcpusPerGuest: d.vcpusPerGuest, memoryPerGuest: d.memoryPerGuest }, p.id);
  }
});

test('planResave: the configuration saved again under its name', () => {
  assert.deepEqual(planResave({ ...defaults(t2000, NOW), configName: 'c1' }), [
    ['remove-spconfig', 'c1'],
    ['add-spconfig', 'c1'],
  ]);
});

test('defaults are valid and fit on every tested platform', () => {
  for (const p of [t5240, t5240small, t2000]) {
    const a = defaults(p, NOW);
    assert.deepEqual(validate(p, a, fresh), [], p.id);
    assert.ok(a.primaryVcpus! + a.guests * a.vcpusPerGuest <= totalStrands(p));
    assert.ok(a.primaryMemory! + a.guests * a.memoryPerGuest <= factoryMemory(p));
    assert.ok(a.memoryPerGuest >= 2 * G && a.vcpusPerGuest % p.cpu.strandsPerCore === 0);
  }
});

test('the control-domain size respects the 256 MB removal rule of delayed reconfiguration', () => {
  const delayed = (p: typeof t5240, amount: number) =>
    planMemoryChange({ domain: 'primary', op: 'set', amount, state: 'delayed', autoAdj: false, current: factoryMemory(p) });
  // The rule is real: a plain 4G is refused on the T5240 ...
  assert.equal(delayed(t5240, 4 * G).ok, false);
  for (const p of [t5240, t5240small, t2000]) {
    for (const requested of [1 * G, 4 * G, 5000 * M, 6 * G + 1, factoryMemory(p) - 100 * M]) {
      const size = primaryMemorySize(p, requested);
      assert.ok(size >= requested, `${p.id} ${requested}`);
      assert.ok(size - requested < 256 * M + 4 * M, `${p.id} ${requested}: no more than one step up`);
      // ... and the planned size passes it, unadjusted.
      const r = delayed(p, size);
      assert.ok(r.ok, `${p.id} ${requested}: ${r.ok ? '' : r.message}`);
      if (r.ok) assert.equal(r.value.size, size);
    }
    // The set-memory argument of the plan is exactly that size.
    const setMem = planCommands(p, defaults(p, NOW)).find((c) => c[0] === 'set-memory')!;
    const r = delayed(p, primaryMemorySize(p, 4 * G));
    assert.ok(r.ok);
    assert.equal(setMem[1], `${(r.ok ? r.value.size : 0) / M}M`);
  }
});

test('planCommands: T2000 with two guests, exact', () => {
  const a: ConfigAnswers = { ...defaults(t2000, NOW), guests: 2, memoryPerGuest: 3 * G - 1 };
  assert.deepEqual(planCommands(t2000, a), [
    ['add-vcc', 'port-range=5000-5100', 'primary-vcc0', 'primary'],
    ['add-vds', 'primary-vds0', 'primary'],
    ['add-vsw', 'net-dev=e1000g0', 'primary-vsw0', 'primary'],
    ['add-domain', 'ldg1'],
    ['add-vcpu', '4', 'ldg1'],
    ['add-memory', '3G', 'ldg1'],
    ['add-vdsdev', '/ldoms/disks/ldg1-disk0.img', 'vol-ldg1@primary-vds0'],
    ['add-vdisk', 'vdisk0', 'vol-ldg1@primary-vds0', 'ldg1'],
    ['add-vnet', 'vnet0', 'primary-vsw0', 'ldg1'],
    ['add-domain', 'ldg2'],
    ['add-vcpu', '4', 'ldg2'],
    ['add-memory', '3G', 'ldg2'],
    ['add-vdsdev', '/ldoms/disks/ldg2-disk0.img', 'vol-ldg2@primary-vds0'],
    ['add-vdisk', 'vdisk0', 'vol-ldg2@primary-vds0', 'ldg2'],
    ['add-vnet', 'vnet0', 'primary-vsw0', 'ldg2'],
    ['start-reconf', 'primary'],
    ['set-crypto', '1', 'primary'],
    ['set-vcpu', '4', 'primary'],
    ['set-memory', '4224M', 'primary'],
    ['add-spconfig', 'ldmconfig-20110105'],
  ]);
  assert.deepEqual(planGuestStart(a), [
    ['bind-domain', 'ldg1'],
    ['bind-domain', 'ldg2'],
    ['start-domain', 'ldg1'],
    ['start-domain', 'ldg2'],
  ]);
});

test('planCommands: crypto follows the cores kept; a trailing slash on the directory is dropped', () => {
  const a: ConfigAnswers = { ...defaults(t5240, NOW), guests: 1, primaryVcpus: 12, storageDir: '/export/ldoms/' };
  const cmds = planCommands(t5240, a);
  assert.deepEqual(cmds.find((c) => c[0] === 'set-crypto'), ['set-crypto', '2', 'primary']);
  assert.deepEqual(cmds.find((c) => c[0] === 'add-vdsdev'), ['add-vdsdev', '/export/ldoms/ldg1-disk0.img', 'vol-ldg1@primary-vds0']);
});

test('renderPlan: one ldm line per command, odd arguments quoted', () => {
  assert.equal(
    renderPlan([
      ['add-vds', 'primary-vds0', 'primary'],
      ['add-spconfig', "it's"],
    ]),
    "ldm add-vds primary-vds0 primary\nldm add-spconfig 'it'\\''s'",
  );
});

// ---- refusals -------------------------------------------------------------------------------------

const base = (over: Partial<ConfigAnswers> = {}): ConfigAnswers => ({ ...defaults(t5240, NOW), ...over });
const refuse = (a: ConfigAnswers, ctx: Partial<ValidateContext> = {}) => validate(t5240, a, { ...fresh, ...ctx });

test('refused: host not in factory-default', () => {
  assert.deepEqual(refuse(base(), { factoryDefault: false }), [
    'The system is not in the factory-default configuration: ldmconfig sets up only a system with no logical domains yet',
  ]);
});

test('refused: too many guests for the strands', () => {
  assert.deepEqual(refuse(base({ guests: 16 })), [
    'Too many guest domains for the virtual CPUs: 16 guests of 8 need 128, but only 120 of the 128 are left after the control domain keeps 8',
    'Too many guest domains for the memory: 16 guests of 3840M need 60G, but only 61184M of 65312M is left after the control domain keeps 4128M',
  ]);
});

test('refused: guest vCPUs not available', () => {
  assert.deepEqual(refuse(base({ guests: 1, vcpusPerGuest: 121 })), [
    'A guest domain cannot have 121 virtual CPUs: only 120 of the 128 are left after the control domain keeps 8',
  ]);
  assert.deepEqual(refuse(base({ vcpusPerGuest: 0 })), ['Each guest domain needs a whole number of at least 1 virtual CPU (got 0)']);
});

test('refused: too many guests for the memory', () => {
  assert.deepEqual(refuse(base({ guests: 15, memoryPerGuest: 4 * G })), [
    'Too many guest domains for the memory: 15 guests of 4G need 60G, but only 61184M of 65312M is left after the control domain keeps 4128M',
  ]);
  // Guests bind in 4 MB pieces: 1 byte over 4080M counts as 4084M.
  assert.deepEqual(refuse(base({ guests: 15, memoryPerGuest: 4080 * M + 1 })), [
    'Too many guest domains for the memory: 15 guests of 4084M need 61260M, but only 61184M of 65312M is left after the control domain keeps 4128M',
  ]);
  // 4078M x 15 = 61170M would fit, but each guest binds 4080M.
  assert.deepEqual(refuse(base({ guests: 15, memoryPerGuest: 4078 * M })), [
    'Too many guest domains for the memory: 15 guests of 4080M need 61200M, but only 61184M of 65312M is left after the control domain keeps 4128M',
  ]);
  assert.deepEqual(refuse(base({ guests: 15, memoryPerGuest: 4076 * M })), []);
});

test('refused: guest names already used', () => {
  assert.deepEqual(refuse(base({ guests: 3 }), { existingDomains: ['primary', 'ldg2', 'ldg3', 'ldg9'] }), [
    'Domain name ldg2 is already in use',
    'Domain name ldg3 is already in use',
  ]);
});

test('refused: configuration name exists, too long, malformed; SP full', () => {
  assert.deepEqual(refuse(base({ configName: 'factory-default' })), [
    'Configuration name "factory-default" already exists on the service processor',
  ]);
  const long = 'c'.repeat(65);
  assert.deepEqual(refuse(base({ configName: long })), [
    `Configuration name "${long}" is invalid: it needs 1 to 64 printable characters without spaces, the first a letter, a digit or /`,
  ]);
  assert.deepEqual(refuse(base({ configName: 'c'.repeat(64) })), []);
  assert.equal(refuse(base({ configName: 'my config' })).length, 1);
  assert.equal(refuse(base({ configName: '' })).length, 1);
  const full = ['factory-default', 'a', 'b', 'c', 'd', 'e', 'f', 'g'];
  assert.deepEqual(refuse(base(), { existingConfigs: full }), ['The service processor already holds 8 configurations, its limit is 8']);
});

test('refused: network device not on the platform', () => {
  assert.deepEqual(refuse(base({ netDev: 'e1000g0' })), [
    'Network device "e1000g0" is not on this platform (it has nxge0, nxge1, nxge2, nxge3)',
  ]);
});

test('refused: disk size and storage directory', () => {
  assert.deepEqual(refuse(base({ diskSize: 512 * M })), [
    'The virtual disk size must be a whole number of megabytes, at least 1G (got 512M)',
  ]);
  assert.equal(refuse(base({ diskSize: 2 * G + 1 })).length, 1);
  for (const dir of ['ldoms/disks', '/', '/ldoms/../etc', '/my disks', '']) {
    assert.deepEqual(refuse(base({ storageDir: dir })), [
      `The storage directory must be an absolute path below / without spaces, quotes or "." and ".." parts (got "${dir}")`,
    ]);
  }
});

test('refused: guest count, control-domain vCPUs and memory', () => {
  assert.deepEqual(refuse(base({ guests: 0 })), ['The number of guest domains must be a whole number of at least 1 (got 0)']);
  assert.deepEqual(refuse(base({ guests: 1, primaryVcpus: 0 })), ['The control domain must keep between 1 and 128 virtual CPUs (got 0)']);
  assert.deepEqual(refuse(base({ guests: 1, primaryMemory: 512 * M })), [
    'The control domain must keep between 1G and 65312M of memory (got 512M)',
  ]);
  assert.deepEqual(refuse(base({ guests: 1, memoryPerGuest: 256 * M })), ['Each guest domain needs at least 512M of memory (got 256M)']);
});

test('every reason is reported at once, before anything changes', () => {
  const errors = refuse(base({ guests: 20, netDev: 'igb0', configName: 'factory-default' }), { factoryDefault: false, existingDomains: ['primary', 'ldg1'] });
  assert.equal(errors.length, 6);
  assert.match(errors[0], /factory-default configuration/);
  assert.match(errors[1], /virtual CPUs: 20 guests/);
  assert.match(errors[2], /memory: 20 guests/);
  assert.equal(errors[3], 'Domain name ldg1 is already in use');
  assert.match(errors[4], /already exists/);
  assert.match(errors[5], /igb0/);
});
