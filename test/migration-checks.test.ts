import { emptyConstraints } from '../src/machine/hypervisor.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { G } from '../src/format/units.js';
import { freeMemory, type HostView } from '../src/manager/inventory.js';
import type { Domain, DomainConstraints, MBlock } from '../src/manager/types.js';
import type { PlatformSpec } from '../src/platform/types.js';
import {
  CHECKS,
  OLDER_MANAGER_MESSAGE,
  bootVdisk,
  checkConsole,
  checkCrypto,
  checkDelayedReconfig,
  checkDomainState,
  checkGuestOs,
  checkMacAddresses,
  checkManagerVersions,
  checkMemory,
  checkMigrationInProgress,
  checkNiuHybrid,
  checkPhysicalIo,
  checkPowerManagement,
  checkProcessorType,
  checkStrands,
  checkTargetDomainName,
  checkVirtualDisks,
  checkVirtualSwitches,
  olderVersion,
  reportLines,
  runChecks,
  wholeCoresRequired,
} from '../src/migration/checks.js';
import type { CheckResult, HostSide, MigrationRequest } from '../src/migration/types.js';

// ---------------------------------------------------------------------------------------------
// Fixtures: two T5220-like hosts (1 chip × 8 cores × 8 strands, one crypto unit per core).

function platform(opts: { memory?: PlatformSpec['memory']; type?: PlatformSpec['cpu']['type']; clockMHz?: number } = {}): PlatformSpec {
  return {
    id: 't5220',
    model: 'SPARC Enterprise T5220',
    rootNode: 'SUNW,SPARC-Enterprise-T5220',
    cpu: {
      type: opts.type ?? 'UltraSPARC-T2',
      chips: 1,
      coresPerChip: 8,
      strandsPerCore: 8,
      clockMHz: opts.clockMHz ?? 1165,
      stickFrequencyHz: 1_165_379_264,
      cryptoUnitsPerCore: 1,
    },
    memory: opts.memory ?? { banks: [{ pa: 0, size: 32 * G }], reserved: [{ pa: 0, size: 0x8000000 }] },
    primaryConsole: 'SP',
    io: [
      { dev: 'pci@0', alias: 'pci', type: 'BUS', bus: 'pci', status: '' },
      { dev: 'niu@80', alias: 'niu', type: 'NIU', bus: 'niu', status: '' },
    ],
    netDevices: [
      { name: 'e1000g0', path: '/pci@0/pci@0/pci@1/pci@0/pci@2/network@0' },
      { name: 'nxge0', path: '/niu@80/network@0' },
    ],
    systemMac: '00:14:4f:e8:52:4a',
    firmware: { sysfw: '7.3.0', hypervisor: 'Hypervisor 1.9.0 2010/07/29 16:42', openboot: 'OBP 4.32.0 2010/07/29 14:59' },
  };
}

function constraints(name: string, over: Partial<DomainConstraints> = {}): DomainConstraints {
  // Only what differs from a new domain's constraints.
  return {
    ...emptyConstraints(name),
    uuid: `uuid-${name}`,
    ...over,
  };
}

const range = (first: number, n: number) => Array.from({ length: n }, (_, i) => first + i);

/** The control domain: core 0, crypto unit 0, 4G at 0x8000000, the PCIe bus and the NIU, every service. */
function primary(vswMac: string, opts: { mblocks?: MBlock[]; netDev?: string; vccPorts?: [number, number] } = {}): Domain {
  const [portMin, portMax] = opts.vccPorts ?? [5000, 5100];
  return {
    constraints: constraints('primary', {
      mac: '00:14:4f:e8:52:4a',
      macAuto: false,
      vcpus: 8,
      crypto: 1,
      memory: 4 * G,
      io: ['pci@0', 'niu@80'],
      vcc: [{ name: 'primary-vcc0', portMin, portMax }],
      vsw: [
        { name: 'primary-vsw0', mac: vswMac, macAuto: true, netDev: opts.netDev ?? 'nxge0', defaultVlanId: 1, pvid: 1, vids: [], mtu: 1500, mode: '', linkprop: '', id: 0 },
      ],
      vds: [
        {
          name: 'primary-vds0',
          volumes: [
            { name: 'vol1', backend: '/ldoms/ldg1-boot.img', options: [], mpgroup: '' },
            { name: 'vol2', backend: '/ldoms/ldg1-data.img', options: [], mpgroup: '' },
          ],
        },
      ],
    }),
    state: 'active',
    binding: {
      strands: range(0, 8),
      crypto: [0],
      mblocks: opts.mblocks ?? [{ ra: 0x8000000, pa: 0x8000000, size: 4 * G }],
      io: ['pci@0', 'niu@80'],
      console: { service: '', serviceDomain: '', port: null, group: 'SP' },
    },
    runtime: { softstate: 'Solaris running', osFlag: 'n', startedAt: 0, util: 1, os: null },
    delayedReconfig: false,
    migration: '',
    memoryDr: false,
  };
}

type Os = NonNullable<NonNullable<Domain['runtime']>['os']>;

function os(over: Partial<Os> = {}): Os {
  return {
    release: 'Solaris 10 9/10',
    drd: true,
    capabilities: { cpuDr: true, memoryDr: true, cryptoDr: true, ioDr: true },
    migrationCompatible: true,
    ...over,
  };
}

/** An active guest: core 1, crypto unit 1, 2G at RA 0x8000000, boot disk vol1, data disk vol2, one vnet. */
function guest(name = 'ldg1', over: { mblocks?: MBlock[]; strands?: number[]; crypto?: number[]; os?: Os | null } = {}): Domain {
  return {
    constraints: constraints(name, {
      mac: '00:14:4f:f8:00:03',
      vcpus: (over.strands ?? range(8, 8)).length,
      crypto: (over.crypto ?? [1]).length,
      memory: 2 * G,
      vnets: [
        {
          name: 'vnet0',
          service: 'primary-vsw0',
          serviceDomain: 'primary',
          mac: '00:14:4f:f8:00:02',
          macAuto: true,
          mode: '',
          pvid: 1,
          vids: [],
          mtu: 1500,
          linkprop: '',
          id: 0,
        },
      ],
      vdisks: [
        { name: 'vdisk0', volume: 'vol1', service: 'primary-vds0', serviceDomain: 'primary', timeout: 0, id: 0 },
        { name: 'vdisk1', volume: 'vol2', service: 'primary-vds0', serviceDomain: 'primary', timeout: 0, id: 1 },
      ],
    }),
    state: 'active',
    binding: {
      strands: over.strands ?? range(8, 8),
      crypto: over.crypto ?? [1],
      mblocks: over.mblocks ?? [{ ra: 0x8000000, pa: 0x108000000, size: 2 * G }],
      io: [],
      console: { service: 'primary-vcc0', serviceDomain: 'primary', port: 5000, group: name },
    },
    runtime: { softstate: 'Solaris running', osFlag: 'n', startedAt: 0, util: 1, os: over.os === undefined ? os() : over.os },
    delayedReconfig: false,
    migration: '',
    memoryDr: false,
  };
}

/** A bound guest on the target holding the given strands (and crypto units), for crowding it. */
function squatter(name: string, strands: number[], crypto: number[] = [], port = 5001): Domain {
  const d = guest(name, { strands, crypto, mblocks: [{ ra: 0x8000000, pa: 0x400000000, size: 1 * G }] });
  d.constraints.mac = '00:14:4f:f8:20:00';
  d.constraints.vnets = [];
  d.constraints.vdisks = [];
  d.state = 'bound';
  d.runtime = null;
  d.binding!.console = { service: 'primary-vcc0', serviceDomain: 'primary', port, group: name };
  return d;
}

/** A host: its volumes come from its vds services, each reaching `storage:<backend>` unless overridden. */
function side(name: string, platformSpec: PlatformSpec, domains: Domain[], storage: Record<string, string | null> = {}): HostSide {
  const view: HostView = { platform: platformSpec, domains, pmPolicy: 'performance', now: 0, managerVersion: '2.0' };
  const volumes = domains.flatMap((d) =>
    d.constraints.vds.flatMap((s) =>
      s.volumes.map((v) => ({
        volume: v.name,
        service: s.name,
        serviceDomain: d.constraints.name,
        backend: v.backend,
        storage: v.name in storage ? storage[v.name] : `storage:${v.backend}`,
      })),
    ),
  );
  return { name, address: `${name}.example.com`, managerVersion: '2.0', view, delayedReconfig: false, migrationInProgress: false, volumes };
}

/** ldg1 active on `src`, and a target `dt212-239` with only its control domain: everything passes. */
function scenario(): MigrationRequest {
  return {
    domain: 'ldg1',
    targetDomain: 'ldg1',
    source: side('src', platform(), [primary('00:14:4f:f8:00:01'), guest()]),
    target: side('dt212-239', platform(), [primary('00:14:4f:f8:10:01')]),
    dryRun: false,
  };
}

function guestOf(req: MigrationRequest): Domain {
  return req.source.view.domains.find((d) => d.constraints.name === req.domain)!;
}

const passed = (check: string): CheckResult => ({ check, ok: true, messages: [], warnings: [] });
const failed = (check: string, ...messages: string[]): CheckResult => ({ check, ok: false, messages, warnings: [] });
const warned = (check: string, ...warnings: string[]): CheckResult => ({ check, ok: true, messages: [], warnings });

// ---------------------------------------------------------------------------------------------
// The whole run

test('the base scenario passes every check and plans a live migration', () => {
  const req = scenario();
  const { results, plan } = runChecks(req);
  assert.deepEqual(
    results.filter((r) => !r.ok || r.warnings.length),
    [],
  );
  assert.equal(results.length, CHECKS.length);
  assert.ok(plan);
  assert.equal(plan.kind, 'live');
  assert.equal(plan.state, 'active');
  // Core 1 is the first entirely free core of the target; no reserved strands under the 2.0 rules.
  assert.deepEqual(plan.binding!.strands, range(8, 8));
  assert.equal(plan.wholeCores, false);
  assert.deepEqual(plan.reservedStrands, []);
  // Same real address, physical address re-chosen: the lowest free one of the target.
  assert.deepEqual(plan.binding!.mblocks, [{ ra: 0x8000000, pa: 0x108000000, size: 2 * G }]);
  assert.deepEqual(plan.binding!.console, { service: 'primary-vcc0', serviceDomain: 'primary', port: 5000, group: 'ldg1' });
  assert.deepEqual(plan.binding!.crypto, []);
  assert.deepEqual(plan.crypto, { removeAtStart: [1], addAfter: [1] });
  assert.equal(plan.cpuDrDisabledUntilReboot, false);
  assert.equal(plan.memoryDrDisabledUntilReboot, true);
  assert.deepEqual(plan.niuHybridUnsatisfied, []);
  assert.deepEqual(plan.vdisks.map((k) => [k.name, k.serviceDomain, k.boot]), [
    ['vdisk0', 'primary', true],
    ['vdisk1', 'primary', false],
  ]);
  assert.equal(plan.constraints.name, 'ldg1');
  assert.deepEqual(plan.warnings, []);
  assert.deepEqual(reportLines(req, results), { lines: [], failed: false });
});

test('runChecks collects several failures; a dry run names them all, a real run stops at the first', () => {
  const req = scenario();
  req.target.view.pmPolicy = 'elastic';
  req.target.view.domains[0].constraints.vsw[0].name = 'switch-x';
  req.target.view.platform.cpu.clockMHz = 1415;
  const { results, plan } = runChecks(req);
  assert.equal(plan, null);
  assert.deepEqual(
    results.filter((r) => !r.ok),
    [
      failed('power-management', 'Migration is not supported while the power management policy of target machine is elastic'),
      failed('processor-type', 'Processor frequency of target machine (1415 MHz) differs from source machine (1165 MHz)'),
      failed('virtual-switches', 'Failed to find required vsw primary-vsw0 on target machine'),
    ],
  );
  assert.deepEqual(reportLines({ ...req, dryRun: true }, results).lines, [
    'Migration is not supported while the power management policy of target machine is elastic',
    'Processor frequency of target machine (1415 MHz) differs from source machine (1165 MHz)',
    'Failed to find required vsw primary-vsw0 on target machine',
    'Domain Migration of LDom ldg1 would fail if attempted',
  ]);
  assert.deepEqual(reportLines(req, results), {
    lines: ['Migration is not supported while the power management policy of target machine is elastic', 'Domain Migration of LDom ldg1 failed'],
    failed: true,
  });
});

// ---------------------------------------------------------------------------------------------
// Memory: the seed's example, byte for byte

/** Target free memory exactly as the seed's `ldm list-devices memory`: 0x108000000 1G, 0x188000000 1G. */
function seedMemoryScenario(sourceBlocks: MBlock[]): MigrationRequest {
  const targetPlatform = platform({ memory: { banks: [{ pa: 0, size: 0x1c8000000 }], reserved: [{ pa: 0, size: 0x8000000 }] } });
  const targetPrimary = primary('00:14:4f:f8:10:01', {
    mblocks: [
      { ra: 0x8000000, pa: 0x8000000, size: 4 * G },
      { ra: 0x148000000, pa: 0x148000000, size: 1 * G },
    ],
  });
  return {
    domain: 'ldg-src',
    targetDomain: 'ldg-src',
    source: side('src', platform(), [primary('00:14:4f:f8:00:01'), guest('ldg-src', { mblocks: sourceBlocks })]),
    target: side('dt212-239', targetPlatform, [targetPrimary]),
    dryRun: false,
  };
}

test('golden: the seed memory example fails with its exact text', () => {
  const req = seedMemoryScenario([{ ra: 0x8000000, pa: 0x208000000, size: 2 * G }]);
  assert.deepEqual(freeMemory(req.target.view.platform, req.target.view.domains), [
    { pa: 0x108000000, size: 1 * G },
    { pa: 0x188000000, size: 1 * G },
  ]);
  assert.deepEqual(checkMemory(req), failed('memory', 'Unable to bind 2G memory region at real address 0x8000000'));
  const { results, plan } = runChecks(req);
  assert.equal(plan, null);
  assert.deepEqual(
    results.filter((r) => !r.ok).map((r) => r.check),
    ['memory'],
  );
  // From the seed (after the `Target Password:` prompt).
  const golden = 'Unable to bind 2G memory region at real address 0x8000000\nDomain Migration of LDom ldg-src failed';
  assert.equal(reportLines(req, results).lines.join('\n'), golden);
});

test('memory: the same two 1G blocks fit the fragmented target, real addresses kept', () => {
  const req = seedMemoryScenario([
    { ra: 0x8000000, pa: 0x208000000, size: 1 * G },
    { ra: 0x48000000, pa: 0x308000000, size: 1 * G },
  ]);
  assert.deepEqual(checkMemory(req), passed('memory'));
  assert.deepEqual(runChecks(req).plan!.binding!.mblocks, [
    { ra: 0x8000000, pa: 0x108000000, size: 1 * G },
    { ra: 0x48000000, pa: 0x188000000, size: 1 * G },
  ]);
});

test('memory: not enough free memory at all', () => {
  const req = seedMemoryScenario([{ ra: 0x8000000, pa: 0x208000000, size: 3 * G }]);
  assert.deepEqual(checkMemory(req), failed('memory', 'Not enough free memory on target machine for LDom ldg-src: 3G required, 2G available'));
});

// ---------------------------------------------------------------------------------------------
// One test per check: passing and failing

test('checkTargetDomainName', () => {
  const req = scenario();
  assert.deepEqual(checkTargetDomainName(req), passed('target-domain-name'));
  assert.deepEqual(checkTargetDomainName({ ...req, targetDomain: '-ldg1' }), failed('target-domain-name', 'Invalid target domain name: -ldg1'));
  req.target.view.domains.push(squatter('ldg9', range(16, 8)));
  assert.deepEqual(checkTargetDomainName({ ...req, targetDomain: 'ldg9' }), failed('target-domain-name', 'LDom ldg9 already exists on target machine'));
  assert.deepEqual(checkTargetDomainName({ ...req, targetDomain: 'ldg2' }), passed('target-domain-name'));
});

test('checkDomainState', () => {
  const req = scenario();
  assert.deepEqual(checkDomainState(req), passed('domain-state'));
  assert.deepEqual(checkDomainState({ ...req, domain: 'ldg7' }), failed('domain-state', 'LDom ldg7 not found'));
  assert.deepEqual(checkDomainState({ ...req, domain: 'primary' }), failed('domain-state', 'LDom primary is the control domain and cannot be migrated'));
  // Only the refusal is reported for the control domain, not its I/O, services or memory.
  const all = runChecks({ ...req, domain: 'primary', targetDomain: 'primary2' });
  assert.deepEqual(
    all.results.filter((r) => !r.ok).map((r) => r.check),
    ['domain-state'],
  );
  guestOf(req).migration = 'e';
  assert.deepEqual(
    checkDomainState(req),
    failed('domain-state', 'LDom ldg1 is in an error state after a failed migration: run ldm cancel-operation migration ldg1 first'),
  );
  guestOf(req).migration = '';
  guestOf(req).memoryDr = true;
  assert.deepEqual(checkDomainState(req), failed('domain-state', 'LDom ldg1 has a memory dynamic reconfiguration in progress'));
});

test('checkProcessorType: type, then frequency; bound domains may cross', () => {
  const req = scenario();
  assert.deepEqual(checkProcessorType(req), passed('processor-type'));
  req.target.view.platform = platform({ type: 'UltraSPARC-T2+', clockMHz: 1415 });
  assert.deepEqual(checkProcessorType(req), failed('processor-type', 'Processor type of target machine (UltraSPARC-T2+) differs from source machine (UltraSPARC-T2)'));
  req.target.view.platform = platform({ clockMHz: 1415 });
  assert.deepEqual(checkProcessorType(req), failed('processor-type', 'Processor frequency of target machine (1415 MHz) differs from source machine (1165 MHz)'));
  guestOf(req).state = 'bound';
  assert.deepEqual(checkProcessorType(req), passed('processor-type'));
});

test('checkStrands: enough free strands', () => {
  const req = scenario();
  // Cores 1-7 taken except 4 strands of core 1.
  req.target.view.domains.push(squatter('busy', [...range(8, 4), ...range(16, 48)]));
  assert.deepEqual(checkStrands(req), failed('strands', 'Not enough free strands on target machine for LDom ldg1: 8 required, 4 available'));
  req.target.view.domains[1].binding!.strands = [...range(8, 4), ...range(24, 40)];
  assert.deepEqual(checkStrands(req), passed('strands'));
  // Strands held back for an earlier migrated domain count as taken.
  req.target.reservedStrands = range(16, 6);
  assert.deepEqual(checkStrands(req), failed('strands', 'Not enough free strands on target machine for LDom ldg1: 8 required, 6 available'));
});

test('checkManagerVersions: an older target warns, an older source is silent; both impose whole cores', () => {
  const req = scenario();
  assert.deepEqual(checkManagerVersions(req), passed('manager-versions'));
  assert.equal(wholeCoresRequired(req), false);
  req.target.managerVersion = '1.3';
  assert.deepEqual(checkManagerVersions(req), warned('manager-versions', OLDER_MANAGER_MESSAGE));
  assert.equal(
    OLDER_MANAGER_MESSAGE,
    'The target machine is running an older version of the domain manager that does not support the latest migration functionality.',
  );
  assert.equal(wholeCoresRequired(req), true);
  const { plan, results } = runChecks(req);
  assert.equal(plan!.cpuDrDisabledUntilReboot, true);
  assert.deepEqual(plan!.warnings, [OLDER_MANAGER_MESSAGE]);
  // A warning prints, the migration goes on.
  assert.deepEqual(reportLines(req, results), { lines: [OLDER_MANAGER_MESSAGE], failed: false });

  const old = scenario();
  old.source.managerVersion = '1.3';
  assert.deepEqual(checkManagerVersions(old), passed('manager-versions'));
  assert.equal(wholeCoresRequired(old), true);
  assert.equal(runChecks(old).plan!.cpuDrDisabledUntilReboot, true);
});

test('olderVersion', () => {
  assert.equal(olderVersion('1.3', '2.0'), true);
  assert.equal(olderVersion('2.0', '2.0'), false);
  assert.equal(olderVersion('2.1', '2.0'), false);
  assert.equal(olderVersion('1.10', '2.0'), true);
  assert.equal(olderVersion('2', '2.0'), false);
  assert.equal(olderVersion('x', '2.0'), false);
});

test('checkGuestOs: older than Solaris 10 9/10, or no OS running, warns with the domain name', () => {
  const req = scenario();
  assert.deepEqual(checkGuestOs(req), passed('guest-os'));
  guestOf(req).runtime!.os = os({ release: 'Solaris 10 10/09', migrationCompatible: false });
  const text = 'Domain ldg1 is not running an operating system that is compatible with the latest migration functionality.';
  assert.deepEqual(checkGuestOs(req), warned('guest-os', text));
  assert.equal(wholeCoresRequired(req), true);
  guestOf(req).runtime = { softstate: 'OpenBoot Running', osFlag: 't', startedAt: 0, util: 0, os: null };
  assert.deepEqual(checkGuestOs(req), warned('guest-os', text));
  guestOf(req).state = 'bound';
  guestOf(req).runtime = null;
  assert.deepEqual(checkGuestOs(req), passed('guest-os'));
});

test('whole cores under the old rules: entirely free cores, the spare strands reserved', () => {
  const req = scenario();
  const g = guestOf(req);
  g.binding!.strands = range(8, 12);
  g.constraints.vcpus = 12;
  req.target.managerVersion = '1.3';
  // Free: 4 strands of core 1, core 2 whole; cores 3-7 taken. 12 free strands, 1 free core.
  req.target.view.domains.push(squatter('busy', [...range(8, 4), ...range(24, 40)], [], 5001));
  assert.deepEqual(checkStrands(req), failed('strands', 'Not enough free whole cores on target machine for LDom ldg1: 2 required, 1 available'));
  // Under the 2.0 rules the 12 loose strands would do.
  req.target.managerVersion = '2.0';
  assert.deepEqual(checkStrands(req), passed('strands'));

  req.target.managerVersion = '1.3';
  req.target.view.domains[1].binding!.strands = range(32, 32);
  assert.deepEqual(checkStrands(req), passed('strands'));
  const plan = runChecks(req).plan!;
  assert.equal(plan.wholeCores, true);
  assert.deepEqual(plan.binding!.strands, range(8, 12));
  assert.deepEqual(plan.reservedStrands, range(20, 4));
  assert.equal(plan.cpuDrDisabledUntilReboot, true);
  assert.equal(plan.memoryDrDisabledUntilReboot, true);
});

test('checkPhysicalIo', () => {
  const req = scenario();
  assert.deepEqual(checkPhysicalIo(req), passed('physical-io'));
  guestOf(req).constraints.io = ['pci@780'];
  guestOf(req).binding!.io = ['pci@780'];
  assert.deepEqual(checkPhysicalIo(req), failed('physical-io', 'LDom ldg1 owns physical I/O devices (pci@780) and cannot be migrated'));
  // Inactive too (migration.md §4.4).
  guestOf(req).state = 'inactive';
  guestOf(req).binding = null;
  assert.equal(checkPhysicalIo(req).ok, false);
});

test('checkVirtualDisks: missing volume, other storage, boot volume on other storage, options', () => {
  const req = scenario();
  assert.deepEqual(checkVirtualDisks(req), passed('virtual-disks'));
  assert.equal(bootVdisk(guestOf(req).constraints)?.name, 'vdisk0');

  const missing = scenario();
  missing.target.volumes = missing.target.volumes.filter((v) => v.volume !== 'vol2');
  assert.deepEqual(checkVirtualDisks(missing), failed('virtual-disks', 'Failed to find required volume vol2@primary-vds0 on target machine'));

  // Same volume@service, other storage (or none): a data disk fails the migration.
  const data = scenario();
  data.target.volumes.find((v) => v.volume === 'vol2')!.storage = 'storage:/other/copy.img';
  assert.deepEqual(checkVirtualDisks(data), failed('virtual-disks', 'Volume vol2@primary-vds0 does not refer to the same storage on target machine'));
  data.target.volumes.find((v) => v.volume === 'vol2')!.storage = null;
  assert.equal(checkVirtualDisks(data).ok, false);

  // The boot volume: it would migrate and not boot (the seed's caution) — a warning, not a failure.
  const boot = scenario();
  boot.target.volumes.find((v) => v.volume === 'vol1')!.storage = 'storage:/other/copy.img';
  const warning = 'Volume vol1@primary-vds0, the boot device of LDom ldg1, refers to different storage on target machine: the migrated domain will not be able to boot';
  assert.deepEqual(checkVirtualDisks(boot), warned('virtual-disks', warning));
  assert.deepEqual(runChecks(boot).plan!.warnings, [warning]);
  // boot-device naming the second disk makes vol2 the boot volume and vol1 a data volume.
  guestOf(boot).constraints.variables = [{ name: 'boot-device', value: '/virtual-devices@100/channel-devices@200/disk@1:a disk0' }];
  assert.equal(bootVdisk(guestOf(boot).constraints)?.name, 'vdisk1');
  assert.deepEqual(checkVirtualDisks(boot), failed('virtual-disks', 'Volume vol1@primary-vds0 does not refer to the same storage on target machine'));

  // Active domains: back-end options and mpgroup must match (migration.md §4.5); bound ones are not checked.
  const opts = scenario();
  const vol = opts.target.view.domains[0].constraints.vds[0].volumes[1];
  vol.options = ['ro'];
  vol.mpgroup = 'mp1';
  assert.deepEqual(
    checkVirtualDisks(opts),
    failed(
      'virtual-disks',
      'Volume vol2@primary-vds0 has different options on target machine (ro) than on source machine (none)',
      'Volume vol2@primary-vds0 has a different mpgroup on target machine (mp1) than on source machine (none)',
    ),
  );
  guestOf(opts).state = 'bound';
  assert.deepEqual(checkVirtualDisks(opts), passed('virtual-disks'));

  // Inactive domains need no services until they bind (migration.md §4.12).
  guestOf(missing).state = 'inactive';
  guestOf(missing).binding = null;
  assert.deepEqual(checkVirtualDisks(missing), passed('virtual-disks'));
});

test('checkVirtualSwitches', () => {
  const req = scenario();
  assert.deepEqual(checkVirtualSwitches(req), passed('virtual-switches'));
  // Another domain of the target may provide the switch.
  req.target.view.domains[0].constraints.vsw[0].name = 'switch-x';
  assert.deepEqual(checkVirtualSwitches(req), failed('virtual-switches', 'Failed to find required vsw primary-vsw0 on target machine'));
  const svc = squatter('service', range(16, 8));
  svc.constraints.vsw = [{ ...req.target.view.domains[0].constraints.vsw[0], name: 'primary-vsw0', mac: '00:14:4f:f8:30:00' }];
  req.target.view.domains.push(svc);
  assert.deepEqual(checkVirtualSwitches(req), passed('virtual-switches'));
  assert.deepEqual(
    runChecks(req).plan!.vnets.map((n) => [n.name, n.service, n.serviceDomain]),
    [['vnet0', 'primary-vsw0', 'service']],
  );
});

test('checkMacAddresses: automatic-range addresses of the domain and its vnets must be free', () => {
  const req = scenario();
  assert.deepEqual(checkMacAddresses(req), passed('mac-addresses'));
  const other = squatter('ldg5', range(16, 8));
  other.constraints.mac = '00:14:4F:F8:00:03';
  other.constraints.vnets = [{ ...guestOf(req).constraints.vnets[0], name: 'net9' }];
  req.target.view.domains.push(other);
  assert.deepEqual(
    checkMacAddresses(req),
    failed(
      'mac-addresses',
      'MAC address 00:14:4f:f8:00:03 of LDom ldg1 is already in use on target machine',
      'MAC address 00:14:4f:f8:00:02 of vnet vnet0 of LDom ldg1 is already in use on target machine',
    ),
  );
  // A manual address (outside the automatic range) is not checked.
  guestOf(req).constraints.mac = '00:14:4f:fc:00:03';
  other.constraints.mac = '00:14:4f:fc:00:03';
  other.constraints.vnets = [];
  assert.deepEqual(checkMacAddresses(req), passed('mac-addresses'));
});

test('checkConsole: a free port of the control domain vcc, group = domain name, constraints ignored', () => {
  const req = scenario();
  guestOf(req).constraints.console = { group: 'mygroup', port: 5050, service: 'other-vcc' };
  assert.deepEqual(checkConsole(req), passed('console'));
  const plan = runChecks(req).plan!;
  assert.deepEqual(plan.binding!.console, { service: 'primary-vcc0', serviceDomain: 'primary', port: 5000, group: 'ldg1' });
  assert.deepEqual(plan.constraints.console, {});
  // Renamed on the target: the group follows the new name.
  assert.equal(runChecks({ ...req, targetDomain: 'ldg1b' }).plan!.binding!.console.group, 'ldg1b');

  const conflict = scenario();
  const other = squatter('ldg5', range(16, 8));
  other.binding!.console.group = 'ldg1';
  conflict.target.view.domains.push(other);
  assert.deepEqual(checkConsole(conflict), failed('console', 'Console group ldg1 is already in use on target machine'));

  const full = scenario();
  full.target.view.domains[0] = primary('00:14:4f:f8:10:01', { vccPorts: [5000, 5000] });
  full.target.view.domains.push(squatter('ldg5', range(16, 8), [], 5000));
  assert.deepEqual(checkConsole(full), failed('console', 'No free port is left on virtual console concentrator primary-vcc0 of target machine'));

  const none = scenario();
  none.target.view.domains[0].constraints.vcc = [];
  assert.deepEqual(
    checkConsole(none),
    failed('console', 'No virtual console concentrator (vcc) service exists in the control domain of target machine'),
  );
});

test('checkNiuHybrid never fails; the plan notes an unsatisfied hybrid constraint', () => {
  const req = scenario();
  guestOf(req).constraints.vnets[0].mode = 'hybrid';
  assert.deepEqual(checkNiuHybrid(req), passed('niu-hybrid'));
  // The target switch sits on an NIU port its domain owns.
  assert.deepEqual(runChecks(req).plan!.niuHybridUnsatisfied, []);
  // On a PCIe NIC there are no NIU resources: kept, unsatisfied, not an error.
  req.target.view.domains[0] = primary('00:14:4f:f8:10:01', { netDev: 'e1000g0' });
  assert.deepEqual(checkNiuHybrid(req), passed('niu-hybrid'));
  const plan = runChecks(req).plan!;
  assert.deepEqual(plan.niuHybridUnsatisfied, ['vnet0']);
  assert.equal(plan.constraints.vnets[0].mode, 'hybrid');
});

test('checkCrypto: crypto DR needed, units given back, fewer with a warning', () => {
  const req = scenario();
  assert.deepEqual(checkCrypto(req), passed('crypto'));
  guestOf(req).runtime!.os = os({ release: 'Solaris 10 5/08', capabilities: { cpuDr: true, memoryDr: false, cryptoDr: false, ioDr: true }, migrationCompatible: false });
  assert.deepEqual(
    checkCrypto(req),
    failed('crypto', 'LDom ldg1 has crypto units but its operating system does not support crypto unit dynamic reconfiguration'),
  );

  // The domain lands on other cores: it gets back a unit of its new core.
  const moved = scenario();
  moved.target.view.domains.push(squatter('ldg5', range(8, 4), [1]));
  assert.deepEqual(checkCrypto(moved), passed('crypto'));
  const plan = runChecks(moved).plan!;
  assert.deepEqual(plan.binding!.strands, range(16, 8));
  assert.deepEqual(plan.crypto, { removeAtStart: [1], addAfter: [2] });

  // The units of the cores it lands on are held by a domain sharing them: none to give back.
  const short = scenario();
  short.target.view.domains.push(squatter('ldg5', [...range(12, 4), ...range(20, 44)], [1, 2, 3, 4, 5, 6, 7]));
  assert.deepEqual(checkCrypto(short), warned('crypto', 'Only 0 of the 1 crypto units of LDom ldg1 will be added back on target machine'));
  const shortPlan = runChecks(short).plan!;
  assert.deepEqual(shortPlan.binding!.strands, [...range(8, 4), ...range(16, 4)]);
  assert.deepEqual(shortPlan.crypto, { removeAtStart: [1], addAfter: [] });
  assert.deepEqual(shortPlan.warnings, ['Only 0 of the 1 crypto units of LDom ldg1 will be added back on target machine']);

  // A bound domain binds its units on the target like any constraint: short is a failure.
  guestOf(short).state = 'bound';
  guestOf(short).runtime = null;
  assert.deepEqual(checkCrypto(short), failed('crypto', 'Not enough free crypto units on target machine for LDom ldg1: 1 required, 0 available'));
});

test('checkDelayedReconfig: pending on either machine', () => {
  const req = scenario();
  assert.deepEqual(checkDelayedReconfig(req), passed('delayed-reconfig'));
  req.source.delayedReconfig = true;
  req.target.view.domains[0].delayedReconfig = true;
  assert.deepEqual(
    checkDelayedReconfig(req),
    failed('delayed-reconfig', 'A delayed reconfiguration is pending on source machine', 'A delayed reconfiguration is pending on target machine'),
  );
});

test('checkPowerManagement: elastic on either machine', () => {
  const req = scenario();
  assert.deepEqual(checkPowerManagement(req), passed('power-management'));
  req.source.view.pmPolicy = 'elastic';
  assert.deepEqual(
    checkPowerManagement(req),
    failed('power-management', 'Migration is not supported while the power management policy of source machine is elastic'),
  );
  req.source.view.pmPolicy = 'disabled';
  assert.deepEqual(checkPowerManagement(req), passed('power-management'));
});

test('checkMigrationInProgress: either machine busy', () => {
  const req = scenario();
  assert.deepEqual(checkMigrationInProgress(req), passed('migration-in-progress'));
  req.target.migrationInProgress = true;
  assert.deepEqual(checkMigrationInProgress(req), failed('migration-in-progress', 'Another migration is in progress on target machine'));
  req.target.migrationInProgress = false;
  req.source.view.domains.push({ ...squatter('ldg3', range(16, 8)), migration: 's' });
  assert.deepEqual(checkMigrationInProgress(req), failed('migration-in-progress', 'Another migration is in progress on source machine'));
});

// ---------------------------------------------------------------------------------------------
// Cold migration (migration.md §4.12)

test('a bound domain migrates cold: its constraints must fit, processor type may differ', () => {
  const req = scenario();
  const g = guestOf(req);
  g.state = 'bound';
  g.runtime = null;
  req.target.view.platform = platform({ clockMHz: 1415 });
  req.target.managerVersion = '1.3';
  const { results, plan } = runChecks(req);
  assert.deepEqual(
    results.filter((r) => !r.ok || r.warnings.length),
    [],
  );
  assert.equal(plan!.kind, 'cold');
  assert.equal(plan!.state, 'bound');
  assert.deepEqual(plan!.binding!.crypto, [1]);
  assert.deepEqual(plan!.crypto, { removeAtStart: [], addAfter: [] });
  assert.equal(plan!.cpuDrDisabledUntilReboot, false);
  assert.equal(plan!.memoryDrDisabledUntilReboot, false);
  // Memory is bound afresh from the guest RA base.
  assert.deepEqual(plan!.binding!.mblocks, [{ ra: 0x8000000, pa: 0x108000000, size: 2 * G }]);
});

test('an inactive domain needs no target services and gets no binding', () => {
  const req = scenario();
  const g = guestOf(req);
  g.state = 'inactive';
  g.binding = null;
  g.runtime = null;
  req.target.view.domains[0].constraints.vsw = [];
  req.target.view.domains[0].constraints.vcc = [];
  req.target.volumes = [];
  const { results, plan } = runChecks(req);
  assert.deepEqual(
    results.filter((r) => !r.ok),
    [],
  );
  assert.equal(plan!.kind, 'cold');
  assert.equal(plan!.binding, null);
  assert.deepEqual(plan!.vdisks.map((k) => k.serviceDomain), ['primary', 'primary']);
});
