// End to end, each phase-1 requirement of a domain migration (issue 5 §3; the seed; the checks and
// their exact texts in docs/migration-checks.md), with a case that passes and one that fails, driven
// through `ldm migrate-domain` between real hosts of one $LDOMS_HOME:
//
//   src, dst    T5240s, manager 2.0 (test/helpers/migration.ts startPair)
//   t2          a T5120 (UltraSPARC-T2: another processor type)
//   fast        a T5240 at 1415 MHz (a platform file: same type, another frequency)
//   old         a T5240 whose manager reports 1.3
//   dt212-239   a T5240 named like the seed's target, for the seed's memory-layout example
//
// A refusal is checked twice: `-n` lists every reason and ends `... would fail if attempted`, a real
// run stops at the first failing check (with all of its reasons) and ends `... failed`; both exit 1
// and leave `ldm list-bindings -p` of both hosts as it was (its DOMAIN rows carry state and flags,
// the rest every binding). Tests run one after the other; every guest is removed from every host
// used after each. Guests are made with `ldm start-domain -i` / `bind-domain -i` (several at once,
// one command) where the way they are made does not matter, and with the commands the requirement
// names where it does. Live guests have 64M: a live migration scans every page of the guest.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { BIN, type RunResult } from './helpers/hosts.js';
import { PASSWORD, domains, startPair, waitFor, type Pair } from './helpers/migration.js';
import { Terminal } from './helpers/tmux.js';

/** The seed's texts and the summary lines (docs/migration-checks.md). */
const OLDER_MANAGER =
  'The target machine is running an older version of the domain manager that does not support the latest migration functionality.';
const olderOs = (d: string) => `Domain ${d} is not running an operating system that is compatible with the latest migration functionality.`;
const failedLine = (d: string) => `Domain Migration of LDom ${d} failed`;
const wouldFailLine = (d: string) => `Domain Migration of LDom ${d} would fail if attempted`;
const CPU_DR_OFF = (d: string) =>
  `Unable to change the virtual CPU configuration of LDom ${d} dynamically: virtual CPU dynamic reconfiguration is disabled for the domain since its migration, until it reboots`;
const MEMORY_DR_OFF = (d: string) =>
  `Unable to change the memory configuration of LDom ${d} dynamically: memory dynamic reconfiguration is disabled for the domain since its migration, until it reboots`;

const HOSTS = ['src', 'dst', 't2', 'fast', 'old', 'dt212-239'];

// The test of what is refused during a migration holds it open after its first pre-copy round
// (fault injection, src/migration/faults.ts), for its domain only: it acts in that window.
process.env.LDOMS_FAULT_PAUSE_ROUND_MS = '6000';
process.env.LDOMS_FAULT_DOMAINS = 'gslow';

let p: Pair;
/** Hosts a test used: the ones cleaned after it. */
const touched = new Set<string>();
/** Older Solaris images ([release, options]), exported on src and dst as volumes of these names. */
const OLD_IMAGES = { s10u8: ['Solaris 10 10/09'], s10u6: ['Solaris 10 10/08'], s10u6p: ['Solaris 10 10/08', '--patch', '142245-01'] };

function ldm(host: string, ...args: string[]): Promise<RunResult> {
  touched.add(host);
  return p.t.ldm(host, ...args);
}

async function ldmOk(host: string, ...args: string[]): Promise<string> {
  touched.add(host);
  return p.t.ok(host, ...args);
}

/** `ldm migrate-domain -p FILE ARGS` as run on `host`. */
function migrateFrom(host: string, args: string[], pw = p.pw): Promise<RunResult> {
  touched.add(host);
  const to = args[args.length - 1];
  if (to && HOSTS.includes(hostOf(to))) touched.add(hostOf(to));
  return p.t.run('ldm', ['migrate-domain', '-p', pw, ...args], { host });
}

/** The host part of `[user@]host[:ldom]`. */
function hostOf(spec: string): string {
  return spec.replace(/^[^@]*@/, '').replace(/:.*$/, '');
}

/** Every binding and domain state of the hosts, without the figures that move by themselves. */
async function snapshot(hosts: string[]): Promise<string[]> {
  const outs = await Promise.all(hosts.map((h) => ldmOk(h, 'list-bindings', '-p')));
  return outs.map((o) => o.replace(/\|(?:util|uptime)=[^|\n]*/g, ''));
}

interface Refusal {
  domain: string;
  /** `[user@]host[:ldom]` */
  to: string;
  from?: string;
  /** The dry run's lines before its summary: every reason and warning, in check order. */
  dry: string[];
  /** The real run's lines before its summary; by default the dry run's up to its first reason. */
  real?: string[];
  /** Password file (default: the pair's). */
  pw?: string;
}

/** `-n` and a real run, refused with exactly these lines; neither changes anything on either host. */
async function refused(r: Refusal): Promise<void> {
  const from = r.from ?? 'src';
  const hosts = [from, hostOf(r.to)].filter((h) => HOSTS.includes(h));
  const before = await snapshot(hosts);
  const dry = await migrateFrom(from, ['-n', r.domain, r.to], r.pw);
  assert.equal(dry.stderr, [...r.dry, wouldFailLine(r.domain)].join('\n') + '\n');
  assert.equal(dry.stdout, '');
  assert.equal(dry.code, 1, 'a dry run that would fail exits 1');
  const real = await migrateFrom(from, [r.domain, r.to], r.pw);
  assert.equal(real.stderr, [...(r.real ?? [r.dry[0]]), failedLine(r.domain)].join('\n') + '\n');
  assert.equal(real.stdout, '');
  assert.equal(real.code, 1, 'a refused migration exits 1');
  assert.deepEqual(await snapshot(hosts), before, 'nothing changed on either host');
}

/**
 * A migration that succeeds, printing exactly `say` (the warnings) on standard output; the domain
 * then exists on the target only, in the state it had. `dry` runs `-n` first, which must pass.
 */
async function migrated(o: { domain: string; to: string; from?: string; say?: string[]; dry?: boolean; state?: string; pw?: string }): Promise<void> {
  const from = o.from ?? 'src';
  const out = (o.say ?? []).map((l) => `${l}\n`).join('');
  if (o.dry) assert.deepEqual(await migrateFrom(from, ['-n', o.domain, o.to], o.pw), { code: 0, stdout: out, stderr: '' }, 'the dry run passes');
  assert.deepEqual(await migrateFrom(from, [o.domain, o.to], o.pw), { code: 0, stdout: out, stderr: '' }, 'the migration succeeds');
  const name = o.to.includes(':') ? o.to.replace(/^.*:/, '') : o.domain;
  const [left, arrived] = await Promise.all([domains(p, from), domains(p, hostOf(o.to))]);
  assert.equal(left.has(o.domain), false, `${o.domain} is gone from ${from}`);
  assert.equal(arrived.get(name)?.state, o.state ?? 'active', `${name} arrived ${o.state ?? 'active'} on ${hostOf(o.to)}`);
}

/** A domain's binding as `ldm list-bindings -p` shows it. */
async function binding(host: string, name: string) {
  const out = await ldmOk(host, 'list-bindings', '-p', name);
  const fields = (l: string) => Object.fromEntries(l.split('|').slice(1).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const rows = (section: string) => {
    const lines = out.split('\n');
    const i = lines.indexOf(section);
    const r: Record<string, string>[] = [];
    for (const l of i < 0 ? [] : lines.slice(i + 1)) {
      if (!l.startsWith('|')) break;
      r.push(fields(l));
    }
    return r;
  };
  const records = (key: string) => out.split('\n').filter((l) => l.startsWith(`${key}|`)).map(fields);
  return {
    strands: rows('VCPU').map((v) => Number(v.pid)),
    mblocks: rows('MEMORY').map((m) => `${m.ra} ${m.pa} ${m.size}`),
    crypto: rows('MAU').map((m) => Number(m.id)),
    mac: records('MAC')[0]?.['mac-addr'],
    vnets: records('VNET'),
    vcons: records('VCONS')[0],
  };
}

interface Spec {
  name: string;
  vcpus?: number;
  crypto?: number;
  /** Default 64M: a live migration copies (and scans) all of it. */
  memory?: string;
  /** [vnet, vsw]; default one vnet0 on primary-vsw0. */
  vnets?: [string, string][];
  /** [vdisk, volume@vds]; default vdisk0 on vol1@primary-vds0 (the shared Solaris 10 9/10 image). */
  vdisks?: [string, string][];
  console?: { group?: string; port?: number };
}

function constraintsXml(specs: Spec[]): string {
  const g = (k: string, v: string | number) => `<gprop:GenericProperty key="${k}">${v}</gprop:GenericProperty>`;
  const item = (type: string, body: string) =>
    `<Section xsi:type="ovf:VirtualHardwareSection_Type"><Item><rasd:OtherResourceType>${type}</rasd:OtherResourceType>${body}</Item></Section>`;
  const units = (n: string | number) => `<rasd:AllocationUnits>${n}</rasd:AllocationUnits>`;
  const data = specs.map((s) => {
    const parts = [
      `<Section xsi:type="ovf:ResourceAllocationSection_type"><Item><rasd:OtherResourceType>ldom_info</rasd:OtherResourceType></Item></Section>`,
      item('cpu', units(s.vcpus ?? 4)),
      s.crypto ? item('mau', units(s.crypto)) : '',
      item('memory', units(s.memory ?? '64M')),
      ...(s.vnets ?? [['vnet0', 'primary-vsw0']]).map(([n, sw]) => item('network', g('vnet_name', n) + g('service_name', sw))),
      ...(s.vdisks ?? [['vdisk0', 'vol1@primary-vds0']]).map(([n, v]) => {
        const [vol, vds] = v.split('@');
        return item('disk', g('vdisk_name', n) + g('service_name', vds) + g('vol_name', vol));
      }),
      s.console ? item('console', (s.console.port ? g('port', s.console.port) : '') + (s.console.group ? g('group', s.console.group) : '')) : '',
    ];
    return `<data version="3.0"><Envelope><References/><Content xsi:type="ovf:VirtualSystem_Type" id="${s.name}">${parts.join('')}</Content></Envelope></data>`;
  });
  return (
    '<?xml version="1.0"?>\n<LDM_interface version="1.3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:ovf="./schemas/envelope" ' +
    `xmlns:rasd="./schemas/CIM_ResourceAllocationSettingData" xmlns:gprop="./schemas/GenericProperty">${data.join('')}</LDM_interface>\n`
  );
}

let xmlFiles = 0;

/** Domains made in one `ldm add-domain|bind-domain|start-domain -i`; active ones waited for until Solaris runs. */
async function guests(host: string, state: 'inactive' | 'bound' | 'active', ...specs: Spec[]): Promise<void> {
  const file = path.join(p.t.home, `domains-${++xmlFiles}.xml`);
  fs.writeFileSync(file, constraintsXml(specs));
  const cmd = { inactive: 'add-domain', bound: 'bind-domain', active: 'start-domain' }[state];
  await ldmOk(host, cmd, '-i', file);
  if (state === 'active') await running(host, ...specs.map((s) => s.name));
}

async function running(host: string, ...names: string[]): Promise<void> {
  await waitFor(
    async () => {
      const ds = await domains(p, host);
      return names.every((n) => ds.get(n)?.flags === '-n----');
    },
    20_000,
    `${names.join(', ')} running Solaris on ${host}`,
  );
}

/** Remove every guest of every host the test used: stop, unbind, remove. */
async function removeGuests(): Promise<void> {
  const hosts = [...touched];
  touched.clear();
  await Promise.all(
    hosts.map(async (h) => {
      const ds = [...(await domains(p, h))].filter(([n]) => n !== 'primary');
      if (ds.length === 0) return;
      if (ds.some(([, d]) => d.state === 'active')) await p.t.ok(h, 'stop-domain', '-a');
      for (const [n, d] of ds) if (d.state !== 'inactive') await p.t.ok(h, 'unbind-domain', n);
      await p.t.ok(h, 'remove-domain', '-a');
    }),
  );
}

async function sp(host: string, ...args: string[]): Promise<string> {
  const r = await p.t.run('ldoms', ['sp', host, ...args]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return r.stdout;
}

/** An OS image; its workload, unless given, barely touches memory (fast migrations). */
async function makeImage(name: string, ...opts: string[]): Promise<string> {
  const file = path.join(p.t.home, `${name}.img`);
  const workload = opts.includes('--working-set') ? [] : ['--working-set', '32M', '--dirty-rate', '0'];
  const r = await p.t.run('ldoms', ['image', 'create', file, ...workload, ...opts]);
  assert.equal(r.code, 0, r.stderr);
  return file;
}

/** What the console of `name` on `host` prints after `type` is typed, until `until` shows. */
async function consoleAnswer(host: string, name: string, type: string, until: RegExp): Promise<string> {
  const port = Number((await binding(host, name)).vcons.port);
  const sock = net.createConnection({ host: p.t.address(host), port });
  let text = '';
  sock.on('data', (d: Buffer) => (text += d.toString('latin1')));
  await new Promise((resolve, reject) => sock.once('connect', resolve).once('error', reject));
  try {
    await waitFor(() => /Press ~\? for control options/.test(text), 5_000, `the console of ${name}`);
    sock.write(`${type}\n`);
    await waitFor(() => until.test(text), 15_000, `${until} on the console of ${name}`);
    return text;
  } finally {
    sock.destroy();
  }
}

before(async () => {
  const t0 = Date.now();
  p = await startPair();
  const fast = path.join(p.t.home, 'fast.json');
  fs.writeFileSync(fast, JSON.stringify({ base: 't5240', cpu: { clockMHz: 1415 } }));
  const extra: [string, string[]][] = [
    ['t2', ['--platform', 't5120']],
    ['fast', ['--platform', fast]],
    ['old', ['--version', '1.3']],
    ['dt212-239', []],
  ];
  await Promise.all([
    ...extra.map(async ([name, opts]) => {
      await p.t.startHost(name, ...opts);
      await p.t.setupControlDomain(name);
      await p.t.ok(name, 'add-vdsdev', p.image, 'vol1@primary-vds0');
    }),
    ...Object.entries(OLD_IMAGES).map(async ([vol, [release, ...opts]]) => {
      const file = await makeImage(vol, '--release', release, ...opts);
      for (const h of ['src', 'dst']) await p.t.ok(h, 'add-vdsdev', file, `${vol}@primary-vds0`);
    }),
  ]);
  process.stdout.write(`# six hosts ready in ${Date.now() - t0} ms\n`);
});

after(async () => {
  await p?.t.cleanup();
});

afterEach(removeGuests);

// ---------------------------------------------------------------------------------------------

describe('CPU', () => {
  test('same processor type at the same frequency for a live migration; bound domains may cross', async () => {
    await guests('src', 'active', { name: 'g' });
    await refused({ domain: 'g', to: 't2', dry: ['Processor type of target machine (UltraSPARC-T2) differs from source machine (UltraSPARC-T2+)'] });
    await refused({ domain: 'g', to: 'fast', dry: ['Processor frequency of target machine (1415 MHz) differs from source machine (1165 MHz)'] });
    await migrated({ domain: 'g', to: 'dst', dry: true });
    // Cold migration does not compare processors ([M], docs/migration-checks.md).
    await guests('src', 'bound', { name: 'cold' });
    await migrated({ domain: 'cold', to: 't2', state: 'bound' });
  });

  test('enough free strands and enough free memory on the target', async () => {
    // dst keeps 4 of its 120 free strands and 512M of its 61184M.
    await guests('dst', 'bound', { name: 'big', vcpus: 116, memory: '60672M', vnets: [], vdisks: [] });
    await guests(
      'src',
      'active',
      { name: 'g', vcpus: 8, memory: '1G' },
      { name: 'g2', vcpus: 4, memory: '1G' },
      { name: 'small', vcpus: 4, memory: '64M' },
    );
    await refused({
      domain: 'g',
      to: 'dst',
      dry: [
        'Not enough free strands on target machine for LDom g: 8 required, 4 available',
        'Not enough free memory on target machine for LDom g: 1G required, 512M available',
      ],
    });
    await refused({ domain: 'g2', to: 'dst', dry: ['Not enough free memory on target machine for LDom g2: 1G required, 512M available'] });
    await migrated({ domain: 'small', to: 'dst', dry: true });
    assert.deepEqual((await binding('dst', 'small')).strands, [124, 125, 126, 127]);
  });

  test('target manager older than 2.0: the seed text; a whole core, its spare strands held and CPU and memory DR off until the domain reboots', async () => {
    await guests('src', 'active', { name: 'g', vcpus: 4 });
    await migrated({ domain: 'g', to: 'old', say: [OLDER_MANAGER], dry: true });
    assert.deepEqual((await binding('old', 'g')).strands, [8, 9, 10, 11], 'an entirely free core');
    // old had 120 free strands: 4 went to g, the other 4 of its core (12-15) are held.
    await guests('old', 'inactive', { name: 'other', vcpus: 116, vnets: [], vdisks: [] });
    const bind = await ldm('old', 'bind-domain', 'other');
    assert.deepEqual([bind.code, bind.stderr], [1, 'Not enough free CPU threads: 116 requested, 112 available\n'], 'the held strands are nobody\'s');
    // Nor are they shown as free.
    assert.match(await ldmOk('old', 'list-devices', '-a', '-p', 'cpu'), /^\|cid=1\|free=0\|cpuset=8,9,10,11,12,13,14,15$/m);
    assert.doesNotMatch(await ldmOk('old', 'list-devices', '-p', 'cpu'), /^\|pid=1[2-5]\|free=100/m);
    const cpuDr = await ldm('old', 'add-vcpu', '1', 'g');
    assert.deepEqual([cpuDr.code, cpuDr.stderr], [1, `${CPU_DR_OFF('g')}\n`]);
    const memDr = await ldm('old', 'add-memory', '256M', 'g');
    assert.deepEqual([memDr.code, memDr.stderr], [1, `${MEMORY_DR_OFF('g')}\n`]);
    // The reboot ends it: the held strands are free and DR works again.
    await ldmOk('old', 'stop-domain', 'g');
    await ldmOk('old', 'start-domain', 'g');
    await running('old', 'g');
    await ldmOk('old', 'bind-domain', 'other');
    assert.deepEqual((await binding('old', 'other')).strands.filter((s) => s >= 12 && s <= 15), [12, 13, 14, 15]);
    await ldmOk('old', 'unbind-domain', 'other');
    await ldmOk('old', 'add-vcpu', '1', 'g');
    await ldmOk('old', 'add-memory', '256M', 'g');
  });

  test('target manager older than 2.0 and no entirely free core: the whole-core failure', async () => {
    // 116 strands bound on old: core 15 keeps 4 free strands, no core is entirely free.
    await guests('old', 'bound', { name: 'big', vcpus: 116, vnets: [], vdisks: [] });
    await guests('src', 'active', { name: 'g', vcpus: 4 });
    const whole = 'Not enough free whole cores on target machine for LDom g: 1 required, 0 available';
    await refused({ domain: 'g', to: 'old', dry: [OLDER_MANAGER, whole], real: [OLDER_MANAGER, whole] });
    // The same domain fits a 2.0 target in the same state.
    await guests('dst', 'bound', { name: 'big', vcpus: 116, vnets: [], vdisks: [] });
    await migrated({ domain: 'g', to: 'dst' });
  });

  test('source manager older than 2.0: no message, and the old rules all the same', async () => {
    await guests('old', 'active', { name: 'g', vcpus: 4 });
    await migrated({ domain: 'g', from: 'old', to: 'dst', dry: true });
    assert.deepEqual((await binding('dst', 'g')).strands, [8, 9, 10, 11]);
    const cpuDr = await ldm('dst', 'add-vcpu', '1', 'g');
    assert.deepEqual([cpuDr.code, cpuDr.stderr], [1, `${CPU_DR_OFF('g')}\n`], 'CPU DR waits for the reboot: the old rules applied');
  });

  test('guest OS older than Solaris 10 9/10: the seed text and the old rules; a current OS keeps CPU DR', async () => {
    // dst keeps 4 free strands, on a core that is not entirely free.
    await guests('dst', 'bound', { name: 'big', vcpus: 116, vnets: [], vdisks: [] });
    await guests('src', 'active', { name: 'g', vdisks: [['vdisk0', 's10u8@primary-vds0']] }, { name: 'cur' });
    const whole = 'Not enough free whole cores on target machine for LDom g: 1 required, 0 available';
    await refused({ domain: 'g', to: 'dst', dry: [olderOs('g'), whole], real: [olderOs('g'), whole] });
    await migrated({ domain: 'cur', to: 'dst' });
    assert.deepEqual((await binding('dst', 'cur')).strands, [124, 125, 126, 127], 'any free strands');
    const memDr = await ldm('dst', 'add-memory', '256M', 'cur');
    assert.deepEqual([memDr.code, memDr.stderr], [1, `${MEMORY_DR_OFF('cur')}\n`], 'memory DR waits for the reboot after every live migration');
    await ldmOk('dst', 'remove-vcpu', '1', 'cur');
    // With an entirely free core the old OS goes ahead, under the old rules.
    await ldmOk('dst', 'unbind-domain', 'big');
    await migrated({ domain: 'g', to: 'dst', say: [olderOs('g')], dry: true });
    assert.deepEqual((await binding('dst', 'g')).strands, [8, 9, 10, 11]);
    const cpuDr = await ldm('dst', 'add-vcpu', '1', 'g');
    assert.deepEqual([cpuDr.code, cpuDr.stderr], [1, `${CPU_DR_OFF('g')}\n`]);
  });
});

describe('memory', () => {
  test("the seed's example byte for byte: 2G free in two 1G blocks cannot take a 2G block; one 3G hole can, at the same real address", async () => {
    const target = 'dt212-239';
    // Source: a filler up to 0x208000000, so that ldg-src's 2G lands there.
    await guests('src', 'bound', { name: 'fill', vcpus: 1, memory: '8064M', vnets: [], vdisks: [] });
    await guests('src', 'active', { name: 'ldg-src', vcpus: 4, memory: '2G' });
    // Target: free memory from 0x10000000; bound in order, h1 and h2 then unbound leave the two holes.
    const sizes: [string, string][] = [['a', '3968M'], ['h1', '1G'], ['c', '1G'], ['h2', '1G'], ['e', '54144M']];
    await guests(target, 'bound', ...sizes.map(([name, memory]) => ({ name, vcpus: 1, memory, vnets: [], vdisks: [] })));
    await ldmOk(target, 'unbind-domain', 'h1');
    await ldmOk(target, 'unbind-domain', 'h2');
    assert.equal(await ldmOk(target, 'list-devices', 'memory'), 'MEMORY\n    PA                   SIZE\n    0x108000000          1G\n    0x188000000          1G\n');
    assert.equal(await ldmOk('src', 'list', '-o', 'memory', 'ldg-src'), 'NAME\nldg-src\n\nMEMORY\n    RA               PA               SIZE\n    0x8000000        0x208000000      2G\n');

    // As the seed types it: on a terminal, the password at the prompt.
    const before = await snapshot(['src', target]);
    const term = Terminal.start(['env', `LDOMS_HOME=${p.t.home}`, 'LDOMS_HOST=src', `PATH=${BIN}:${process.env.PATH}`, 'PS1=# ', 'sh']);
    try {
      await term.waitFor(/^# ?$/m);
      term.type('ldm migrate-domain ldg-src dt212-239');
      await term.waitFor(/Target Password:/);
      term.type(PASSWORD);
      await term.waitFor(/failed\n#/);
      term.type('echo status=$?');
      const screen = await term.waitFor(/status=\d+\n#/);
      assert.equal(
        screen.slice(screen.indexOf('# ldm migrate-domain')).trimEnd(),
        '# ldm migrate-domain ldg-src dt212-239\n' +
          'Target Password:\n' +
          'Unable to bind 2G memory region at real address 0x8000000\n' +
          'Domain Migration of LDom ldg-src failed\n' +
          '# echo status=$?\nstatus=1\n#',
      );
    } finally {
      term.close();
    }
    assert.deepEqual(await snapshot(['src', target]), before, 'nothing changed on either host');
    await refused({ domain: 'ldg-src', to: target, dry: ['Unable to bind 2G memory region at real address 0x8000000'] });

    // One 3G hole holds the 2G block (a dry run: moving 2G would only cost time). A domain that
    // does move keeps its real address, at a new physical one: the lowest that holds its block.
    await ldmOk(target, 'unbind-domain', 'c');
    assert.deepEqual(await migrateFrom('src', ['-n', 'ldg-src', target]), { code: 0, stdout: '', stderr: '' });
    await guests('src', 'active', { name: 'ldg-small' });
    assert.deepEqual((await binding('src', 'ldg-small')).mblocks, ['0x8000000 0x288000000 67108864']);
    await migrated({ domain: 'ldg-small', to: target });
    assert.deepEqual((await binding(target, 'ldg-small')).mblocks, ['0x8000000 0x108000000 67108864']);
  });
});

describe('I/O', () => {
  test('no physical I/O: a domain owning a PCIe bus cannot migrate; without it, it can', async () => {
    // pci@400 (pci_0) goes from primary to iodom: a delayed reconfiguration and a reboot of primary.
    await ldmOk('src', 'remove-io', 'pci@400', 'primary');
    assert.equal((await p.t.run('ldoms', ['host', 'reboot', 'src'])).code, 0);
    try {
      await guests('src', 'inactive', { name: 'iodom', vnets: [], vdisks: [] });
      await ldmOk('src', 'add-io', 'pci@400', 'iodom');
      await ldmOk('src', 'bind-domain', 'iodom');
      assert.match(await ldmOk('src', 'list-io'), /^pci_0 +BUS +pci_0 +iodom/m);
      const owns = 'LDom iodom owns physical I/O devices (pci@400) and cannot be migrated';
      await refused({ domain: 'iodom', to: 'dst', dry: [owns] });
      await ldmOk('src', 'unbind-domain', 'iodom');
      await refused({ domain: 'iodom', to: 'dst', dry: [owns] }); // inactive, the bus in its constraints
      await ldmOk('src', 'remove-io', 'pci@400', 'iodom');
      await migrated({ domain: 'iodom', to: 'dst', state: 'inactive', dry: true });
    } finally {
      await ldm('src', 'remove-domain', 'iodom');
      await ldmOk('src', 'add-io', 'pci@400', 'primary');
      assert.equal((await p.t.run('ldoms', ['host', 'reboot', 'src'])).code, 0);
    }
  });

  test('virtual disks: every volume on the target, on the same storage', async () => {
    const dataA = path.join(p.t.home, 'data-a.img');
    const dataB = path.join(p.t.home, 'data-b.img');
    fs.writeFileSync(dataA, 'disk A');
    fs.writeFileSync(dataB, 'disk B');
    await ldmOk('src', 'add-vdsdev', dataA, 'data@primary-vds0');
    await ldmOk('dst', 'add-vdsdev', dataB, 'data@primary-vds0'); // same name, other storage
    await ldmOk('src', 'add-vdsdev', dataA, 'only@primary-vds0'); // none on dst
    await guests('src', 'active', {
      name: 'g',
      vdisks: [['vdisk0', 'vol1@primary-vds0'], ['vdisk1', 'data@primary-vds0'], ['vdisk2', 'only@primary-vds0']],
    });
    await refused({
      domain: 'g',
      to: 'dst',
      dry: ['Volume data@primary-vds0 does not refer to the same storage on target machine', 'Failed to find required volume only@primary-vds0 on target machine'],
      // A real run stops at the first failing check, with all its reasons.
      real: ['Volume data@primary-vds0 does not refer to the same storage on target machine', 'Failed to find required volume only@primary-vds0 on target machine'],
    });
    // Another path to the same file is the same storage.
    const link = path.join(p.t.home, 'data-a-link.img');
    fs.symlinkSync(dataA, link);
    await ldmOk('dst', 'remove-vdsdev', 'data@primary-vds0');
    await ldmOk('dst', 'add-vdsdev', link, 'data@primary-vds0');
    await refused({ domain: 'g', to: 'dst', dry: ['Failed to find required volume only@primary-vds0 on target machine'] });
    await ldmOk('dst', 'add-vdsdev', dataA, 'only@primary-vds0');
    await migrated({ domain: 'g', to: 'dst', dry: true });
  });

  test('virtual disks: a boot volume on other storage is a warning, the migration goes on, and the domain cannot boot there', async () => {
    const blank = path.join(p.t.home, 'blank.img');
    fs.writeFileSync(blank, Buffer.alloc(64 * 1024));
    await ldmOk('src', 'add-vdsdev', p.image, 'boot@primary-vds0');
    await ldmOk('dst', 'add-vdsdev', blank, 'boot@primary-vds0');
    await guests('src', 'active', { name: 'g', vdisks: [['vdisk0', 'boot@primary-vds0']] });
    const warning = 'Volume boot@primary-vds0, the boot device of LDom g, refers to different storage on target machine: the migrated domain will not be able to boot';
    await migrated({ domain: 'g', to: 'dst', say: [warning], dry: true });
    // It runs on from memory; its next boot finds an empty disk and stays at OpenBoot.
    await ldmOk('dst', 'stop-domain', 'g');
    await ldmOk('dst', 'start-domain', 'g');
    await waitFor(async () => (await domains(p, 'dst')).get('g')?.flags === '-t----', 10_000, 'g at OpenBoot');
    const text = await consoleAnswer('dst', 'g', 'boot', /executable\.[\s\S]*\{0\} ok/);
    assert.match(text, /\r\nThe file just loaded does not appear to be executable\.\r\n/);
  });

  test('virtual networks: a vsw of the same name on the target', async () => {
    await ldmOk('src', 'add-vsw', 'net-dev=nxge1', 'switch-y', 'primary');
    try {
      await guests('src', 'active', { name: 'g', vnets: [['vnet0', 'primary-vsw0'], ['vnet1', 'switch-y']] });
      await refused({ domain: 'g', to: 'dst', dry: ['Failed to find required vsw switch-y on target machine'] });
      // The target's switch may sit on another network (seed, "Virtual I/O", note).
      await ldmOk('dst', 'add-vsw', 'net-dev=nxge3', 'switch-y', 'primary');
      await migrated({ domain: 'g', to: 'dst', dry: true });
      assert.deepEqual(
        (await binding('dst', 'g')).vnets.map((v) => `${v.name} ${v.service}`),
        ['vnet0 primary-vsw0@primary', 'vnet1 switch-y@primary'],
      );
    } finally {
      await removeGuests();
      await ldm('src', 'remove-vsw', 'switch-y');
      await ldm('dst', 'remove-vsw', 'switch-y');
    }
  });

  test('automatic MAC addresses free on the target', async () => {
    // A domain leaves dst for src; dst then boots an SP configuration saved before: both hosts hold
    // its automatic MACs (add-domain mac-addr= refuses the automatic range and addresses in use).
    await guests('dst', 'bound', { name: 'twin' });
    await ldmOk('dst', 'add-spconfig', 'before-move');
    await migrated({ domain: 'twin', from: 'dst', to: 'src:g', state: 'bound' });
    await sp('dst', 'set', '/HOST/bootmode', 'config=before-move');
    await sp('dst', 'reset', '/SYS');
    await waitFor(async () => (await ldm('dst', 'list-domain', 'twin')).code === 0, 15_000, 'dst back with twin');
    await ldmOk('src', 'start-domain', 'g');
    await running('src', 'g');
    const g = await binding('src', 'g');
    const twin = await binding('dst', 'twin');
    assert.deepEqual([twin.mac, twin.vnets[0]['mac-addr']], [g.mac, g.vnets[0]['mac-addr']]);
    const inUse = [
      `MAC address ${g.mac} of LDom g is already in use on target machine`,
      `MAC address ${g.vnets[0]['mac-addr']} of vnet vnet0 of LDom g is already in use on target machine`,
    ];
    await refused({ domain: 'g', to: 'dst', dry: inUse, real: inUse });
    await ldmOk('dst', 'unbind-domain', 'twin');
    await ldmOk('dst', 'remove-domain', 'twin');
    await migrated({ domain: 'g', to: 'dst', dry: true });
    assert.equal((await binding('dst', 'g')).mac, g.mac, 'the domain keeps its MAC address');
  });

  test('console: a vcc with a free port on the target; explicit constraints ignored; the group name must be free', async () => {
    await guests('src', 'bound', { name: 'cold' });
    await ldmOk('dst', 'remove-vcc', 'primary-vcc0');
    try {
      await refused({ domain: 'cold', to: 'dst', dry: ['No virtual console concentrator (vcc) service exists in the control domain of target machine'] });
      await ldmOk('dst', 'add-vcc', 'port-range=5000-5000', 'primary-vcc0', 'primary');
      await guests('dst', 'bound', { name: 'one', vnets: [], vdisks: [] });
      await refused({ domain: 'cold', to: 'dst', dry: ['No free port is left on virtual console concentrator primary-vcc0 of target machine'] });
    } finally {
      await removeGuests();
      await ldm('dst', 'remove-vcc', 'primary-vcc0');
      await ldmOk('dst', 'add-vcc', 'port-range=5000-5100', 'primary-vcc0', 'primary');
    }
    // Explicit console constraints on the source.
    await guests('src', 'inactive', { name: 'g' });
    await ldmOk('src', 'set-vcons', 'port=5042', 'group=grp1', 'g');
    await ldmOk('src', 'bind-domain', 'g');
    await ldmOk('src', 'start-domain', 'g');
    await running('src', 'g');
    const vcons = (b: Awaited<ReturnType<typeof binding>>) => `${b.vcons.service} ${b.vcons.port} ${b.vcons.group}`;
    assert.equal(vcons(await binding('src', 'g')), 'primary-vcc0@primary 5042 grp1');
    // A target domain whose console group is named like the migrating domain.
    await guests('dst', 'bound', { name: 'other', vnets: [], vdisks: [], console: { group: 'g' } });
    await refused({ domain: 'g', to: 'dst', dry: ['Console group g is already in use on target machine'] });
    await ldmOk('dst', 'unbind-domain', 'other');
    await migrated({ domain: 'g', to: 'dst', dry: true });
    assert.equal(vcons(await binding('dst', 'g')), 'primary-vcc0@primary 5000 g', 'group = domain name, lowest free port');
    assert.doesNotMatch(await ldmOk('dst', 'list-constraints', '-p', 'g'), /^VCONS/m, 'no console constraint is kept');
  });

  test('NIU hybrid I/O: the constraint moves with the domain, unsatisfied on a target without NIU resources', async () => {
    await guests('src', 'inactive', { name: 'g' });
    await ldmOk('src', 'add-vnet', 'mode=hybrid', 'vnet1', 'primary-vsw0', 'g');
    await ldmOk('src', 'bind-domain', 'g');
    await ldmOk('src', 'start-domain', 'g');
    await running('src', 'g');
    assert.doesNotMatch(await ldmOk('dst', 'list-io'), /^niu/m, 'a T5240 has no NIU');
    await migrated({ domain: 'g', to: 'dst', dry: true });
    assert.match(await ldmOk('dst', 'list-constraints', '-p', 'g'), /^VNET\|name=vnet1\|.*\|mode=hybrid\|/m);
  });
});

describe('crypto units', () => {
  test('an OS with crypto DR: the units go back on the target, fewer when it is short', async () => {
    await guests('src', 'active', { name: 'g', vcpus: 12, crypto: 2 });
    assert.deepEqual((await binding('src', 'g')).crypto, [1, 2]);
    await migrated({ domain: 'g', to: 'dst', dry: true });
    assert.deepEqual((await binding('dst', 'g')).crypto, [1, 2], 'both units, on the cores the domain got');
    // Back to src, where a domain now holds every unit but core 15's; g's 12 strands go on cores 15 and 14.
    await guests('src', 'bound', { name: 'cr', vcpus: 108, crypto: 14, vnets: [], vdisks: [] });
    await migrated({ domain: 'g', from: 'dst', to: 'src', say: ['Only 1 of the 2 crypto units of LDom g will be added back on target machine'], dry: true });
    assert.deepEqual((await binding('src', 'g')).crypto, [15]);
  });

  test('an OS without crypto DR (Solaris 10 10/08) cannot migrate with crypto units; with patch 142245-01 it can', async () => {
    await guests(
      'src',
      'active',
      { name: 'g', crypto: 1, vdisks: [['vdisk0', 's10u6@primary-vds0']] },
      { name: 'patched', crypto: 1, vdisks: [['vdisk0', 's10u6p@primary-vds0']] },
    );
    const noDr = 'LDom g has crypto units but its operating system does not support crypto unit dynamic reconfiguration';
    await refused({ domain: 'g', to: 'dst', dry: [olderOs('g'), noDr], real: [olderOs('g'), noDr] });
    await migrated({ domain: 'patched', to: 'dst', say: [olderOs('patched')], dry: true });
    assert.equal((await binding('dst', 'patched')).crypto.length, 1);
  });
});

describe('reconfiguration and power management', () => {
  test('a delayed reconfiguration pending on either host', async () => {
    await guests('src', 'active', { name: 'g' });
    for (const [host, side] of [['src', 'source'], ['dst', 'target']]) {
      await ldmOk(host, 'start-reconf', 'primary');
      try {
        await refused({ domain: 'g', to: 'dst', dry: [`A delayed reconfiguration is pending on ${side} machine`] });
      } finally {
        await ldmOk(host, 'cancel-reconf', 'primary');
      }
    }
    await migrated({ domain: 'g', to: 'dst', dry: true });
  });

  test('the elastic power-management policy on either host', async () => {
    await guests('src', 'active', { name: 'g' });
    for (const [host, side] of [['src', 'source'], ['dst', 'target']]) {
      assert.equal(await sp(host, 'set', '/SP/powermgmt', 'policy=Elastic'), "Set 'policy' to 'Elastic'\n");
      try {
        await refused({ domain: 'g', to: 'dst', dry: [`Migration is not supported while the power management policy of ${side} machine is elastic`] });
      } finally {
        await sp(host, 'set', '/SP/powermgmt', 'policy=Performance');
      }
    }
    await migrated({ domain: 'g', to: 'dst', dry: true });
  });

  test('during a migration: s and t flags, progress; no delayed reconfiguration, no state change of other domains; the elastic policy waits', async () => {
    // A guest writing its memory, held after its first pre-copy round for 6 s (LDOMS_FAULT_*
    // above): everything below happens in that window, whatever the speed of the machine.
    const busy = await makeImage('busy', '--release', 'Solaris 10 9/10', '--working-set', '256M', '--dirty-rate', '16M');
    await ldmOk('src', 'add-vdsdev', busy, 'busy@primary-vds0');
    await ldmOk('dst', 'add-vdsdev', busy, 'busy@primary-vds0');
    await guests('src', 'active', { name: 'gslow', memory: '1G', vdisks: [['vdisk0', 'busy@primary-vds0']] });
    await guests('src', 'inactive', { name: 'idle', vnets: [], vdisks: [] });
    const run = migrateFrom('src', ['gslow', 'dst']);
    try {
      await waitFor(async () => (await domains(p, 'dst')).get('gslow')?.flags === '-----t', 10_000, 'gslow flagged t on dst');
      assert.equal((await domains(p, 'src')).get('gslow')?.flags, '-n---s');
      assert.match(await ldmOk('src', 'list-domain', '-o', 'status', 'gslow'), /^STATUS\n {4}OPERATION +PROGRESS +TARGET\n {4}migration +\d+% +dst\n/m);
      for (const host of ['src', 'dst']) {
        const r = await ldm(host, 'start-reconf', 'primary');
        assert.deepEqual(
          [r.code, r.stderr.split('\n').filter(Boolean).pop()],
          [1, 'Delayed reconfiguration is not allowed while a domain migration is in progress on this machine (gslow)'],
          `start-reconf on ${host}`,
        );
      }
      const bind = await ldm('src', 'bind-domain', 'idle');
      assert.deepEqual([bind.code, bind.stderr], [1, 'Unable to change the state of LDom idle: a domain migration is in progress on this machine (gslow)\n']);
      for (const host of ['src', 'dst']) {
        assert.equal(
          await sp(host, 'set', '/SP/powermgmt', 'policy=Elastic'),
          "Set 'policy' to 'Elastic'\nA domain migration is in progress: the elastic policy takes effect when it ends\n",
        );
        assert.match(await sp(host, 'show', '/SP/powermgmt'), /policy = Performance/);
      }
      assert.equal((await domains(p, 'src')).get('gslow')?.flags, '-n---s', 'all of the above happened during the migration');
      assert.deepEqual(await run, { code: 0, stdout: '', stderr: '' });
      for (const host of ['src', 'dst']) {
        assert.match(await sp(host, 'show', '/SP/powermgmt'), /policy = Elastic/, `the switch happens on ${host} when the migration ends`);
      }
      assert.equal((await domains(p, 'dst')).get('gslow')?.flags, '-n----');
      assert.doesNotMatch(await ldmOk('src', 'list-domain', '-p', 'primary'), /flags=..d/, 'no delayed reconfiguration began');
    } finally {
      await run;
      await sp('src', 'set', '/SP/powermgmt', 'policy=Performance');
      await sp('dst', 'set', '/SP/powermgmt', 'policy=Performance');
    }
  });
});

describe('authentication', () => {
  test('a wrong password, a password file others can read, an unknown host: refused, nothing changed', async () => {
    await guests('src', 'active', { name: 'g' });
    const wrong = path.join(p.t.home, 'wrong.pw');
    fs.writeFileSync(wrong, 'not-the-password\n', { mode: 0o600 });
    await refused({ domain: 'g', to: 'dst', pw: wrong, dry: ['Authentication failed: invalid user name or password for root on target machine dst'] });
    const open = path.join(p.t.home, 'open.pw');
    fs.writeFileSync(open, `${PASSWORD}\n`);
    fs.chmodSync(open, 0o644);
    const before = await snapshot(['src', 'dst']);
    const r = await migrateFrom('src', ['g', 'dst'], open);
    assert.deepEqual(r, {
      code: 1,
      stdout: '',
      stderr: `Password file ${open} must not be accessible by group or others (mode 644); run chmod 600 ${open}\n`,
    });
    await refused({ domain: 'g', to: 'nosuch', dry: ['Unknown target host: nosuch'] });
    assert.deepEqual(await snapshot(['src', 'dst']), before);
    await migrated({ domain: 'g', to: 'root@dst', dry: true });
  });

  test('a user with solaris.ldoms.write on the target may migrate', async () => {
    const pw = path.join(p.t.home, 'carol.pw');
    fs.writeFileSync(pw, 'carol-secret\n', { mode: 0o600 });
    assert.equal((await p.t.run('ldoms', ['user', 'add', 'carol', '--password-file', pw])).code, 0);
    assert.equal((await p.t.run('ldoms', ['auth', 'grant', 'carol', 'solaris.ldoms.read', 'solaris.ldoms.write'])).code, 0);
    await guests('src', 'active', { name: 'g' });
    await migrated({ domain: 'g', to: 'carol@dst', pw, dry: true });
  });

  test(
    'a user without solaris.ldoms.write on the target is refused',
    async () => {
      const pw = path.join(p.t.home, 'bob.pw');
      fs.writeFileSync(pw, 'bob-secret\n', { mode: 0o600 });
      assert.equal((await p.t.run('ldoms', ['user', 'add', 'bob', '--password-file', pw])).code, 0);
      assert.equal((await p.t.run('ldoms', ['auth', 'grant', 'bob', 'solaris.ldoms.read'])).code, 0);
      await guests('src', 'active', { name: 'g' });
      await refused({
        domain: 'g',
        to: 'bob@dst',
        pw,
        dry: ['Authorization failed: user bob does not have the solaris.ldoms.write authorization on the target machine'],
      });
    },
  );
});

describe('cold migration', () => {
  test('bound arrives bound, inactive arrives inactive, under a new name if asked; a name in use on the target is refused', async () => {
    await guests('src', 'bound', { name: 'b', vcpus: 8, memory: '1G' });
    await guests('src', 'inactive', { name: 'i', vcpus: 2, memory: '512M' });
    await guests('dst', 'inactive', { name: 'b', vnets: [], vdisks: [] });
    await refused({ domain: 'b', to: 'dst', dry: ['LDom b already exists on target machine'] });
    await migrated({ domain: 'b', to: 'dst:b2', state: 'bound', dry: true });
    const b2 = await binding('dst', 'b2');
    assert.equal(b2.strands.length, 8);
    assert.deepEqual(b2.mblocks.map((m) => m.split(' ')[2]), [String(1024 * 1024 * 1024)]);
    await migrated({ domain: 'i', to: 'dst', state: 'inactive', dry: true });
    assert.match(await ldmOk('dst', 'list-constraints', '-p', 'i'), /^VCPU\|count=2\n^MEMORY\|size=536870912$/m);
  });
});
