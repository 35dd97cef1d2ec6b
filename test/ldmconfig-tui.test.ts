// The Configuration Assistant in a real terminal on a fresh T5240 (the catalog model, 2 × 8 cores, 64 GB): the questions answered as a
// person types them, the plan shown as ldm commands, applied, the system power-cycled into the new
// configuration with the guests running; then a second run is refused.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { TestHome } from './helpers/hosts.js';
import { Terminal } from './helpers/tmux.js';
import { answer, startLdmconfig } from './helpers/ldmconfig.js';

const home = new TestHome();
const H = 'lctui';
const media = path.join(home.home, 's10u9.img');
const disks = path.join(home.home, 'ldoms', 'disks');
const terms: Terminal[] = [];

before(async () => {
  await home.startHost(H, '--platform', 't5240');
  const r = await home.run('ldoms', ['image', 'create', media, '--release', 'Solaris 10 9/10', '--size', '8G', '--boot-time', '1']);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  for (const t of terms) t.close();
  await home.cleanup();
});

const ldmconfig = (...args: string[]) => startLdmconfig(home, H, terms, ...args);

function logDirs(): string[] {
  const dir = path.join(home.hostDir(H), 'log');
  return fs.readdirSync(dir).filter((n) => n.startsWith('ldmconfig-'));
}

test('answers typed, the plan shown, applied; after the power cycle the system runs it with the guests up', async () => {
  assert.equal(await home.ok(H, 'list-spconfig'), 'factory-default [current]\n');
  const t = ldmconfig('-d');
  await t.waitFor(/Platform: +SPARC Enterprise T5240\n/);
  await t.waitFor(/Processors: +2 x UltraSPARC-T2\+, 16 cores, 128 virtual CPUs, 16 crypto units\n/);
  await t.waitFor(/SP configurations: +factory-default \[current\]\n/);
  await t.waitFor(/The system is in the factory-default configuration\./);

  await answer(t, /\? Solaris OS media for the guests \(empty for none\):/, media);
  await t.waitFor(/Release: +Solaris 10 9\/10 \(Generic_142909-17\)/);
  // Defaults from the platform: 15 guests of one core; 2 guests share the 15 free cores as 7 each.
  await answer(t, /\? Number of guest domains: \(15\)/, '2');
  await answer(t, /\? Virtual CPUs per guest domain: \(56\)/, '');
  await answer(t, /\? Memory per guest domain \(e\.g\. 2G, 3840M\): \(30464M\)/, '4G');
  await answer(t, /\? Network device for the virtual switch/, '2');
  await answer(t, /\? Directory for the disk image files: \(\/ldoms\/disks\)/, disks);
  await answer(t, /\? Size of each virtual disk \(e\.g\. 20G\): \(20G\)/, '2G');
  await answer(t, /\? Configuration name: \(ldmconfig-\d{8}\)/, 'lc-two');

  const summary = await t.waitFor(/\? Apply this configuration now\? The system will be power-cycled\. \(y\/N\)/);
  const plan = [
    'ldm add-vcc port-range=5000-5100 primary-vcc0 primary',
    'ldm add-vds primary-vds0 primary',
    'ldm add-vsw net-dev=nxge1 primary-vsw0 primary',
    ...[1, 2].flatMap((n) => [
      `ldm add-domain ldg${n}`,
      `ldm add-vcpu 56 ldg${n}`,
      `ldm add-memory 4G ldg${n}`,
      `ldm add-vdsdev ${disks}/ldg${n}-disk0.img vol-ldg${n}@primary-vds0`,
      `ldm add-vdisk vdisk0 vol-ldg${n}@primary-vds0 ldg${n}`,
      `ldm add-vnet vnet0 primary-vsw0 ldg${n}`,
    ]),
    'ldm start-reconf primary',
    'ldm set-crypto 1 primary',
    'ldm set-vcpu 8 primary',
    'ldm set-memory 4128M primary',
    'ldm add-spconfig lc-two',
  ];
  assert.ok(summary.includes(`Commands to run:\n${plan.map((l) => `  ${l}\n`).join('')}`), summary);
  assert.match(summary, /Guest domains: +ldg1 ldg2\n +each: +56 virtual CPUs, 4G, vdisk0 \(2G\), vnet0 on primary-vsw0\n/);
  // Shown, not yet done.
  assert.equal(await home.ok(H, 'list-spconfig'), 'factory-default [current]\n');
  assert.equal(fs.existsSync(disks), false);

  t.type('y');
  const done = await t.waitFor(/EXIT=\d+/, 30_000);
  assert.match(done, /EXIT=0\n/, done);
  assert.match(done, /\[ 1\/23\] create disk image .*ldg1-disk0\.img \(Solaris 10 9\/10 installed\) \.\.\. done\n/);
  assert.match(done, /\[22\/23\] ldm add-spconfig lc-two \.\.\. done\n\[23\/23\] power-cycle the system through the service processor \(reset \/SYS\) \.\.\. done\n/);
  assert.match(done, /Waiting for the system and the Logical Domains Manager to come back \.\.\. up/);
  assert.match(done, / {2}ldm start-domain ldg2 \.\.\. done\n/);

  // The SP booted the saved configuration, saved again with the guests running.
  assert.equal(await home.ok(H, 'list-spconfig'), 'factory-default\nlc-two [current]\n');
  const list = await home.ok(H, 'list');
  assert.match(list, /^primary +active +-n-cv- +SP +8 +4128M /m);
  assert.match(list, /^ldg1 +active +-[tn]---- +5000 +56 +4G /m);
  assert.match(list, /^ldg2 +active +-[tn]---- +5001 +56 +4G /m);
  assert.equal(list.trim().split('\n').length, 4, list);
  const services = await home.ok(H, 'list-services', '-p');
  assert.match(services, /^VSW\|name=primary-vsw0\|ldom=primary\|.*\|net-dev=nxge1\|/m);
  assert.match(services, /^\|vol=vol-ldg2\|opts=\|dev=.*\/ldg2-disk0\.img\|/m);

  // The disks hold the Solaris of the media, each with its guest's name; the guests boot it.
  for (const n of [1, 2]) {
    const show = await home.run('ldoms', ['image', 'show', '-p', path.join(disks, `ldg${n}-disk0.img`)]);
    assert.match(show.stdout, new RegExp(`^size=${2 * 1024 ** 3}$`, 'm'));
    assert.match(show.stdout, new RegExp(`^hostname=ldg${n}$`, 'm'));
  }
  const deadline = Date.now() + 10_000;
  while (!/^ldg2 +active +-n----/m.test(await home.ok(H, 'list')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  assert.match(await home.ok(H, 'list'), /^ldg1 +active +-n---- .*\n^ldg2 +active +-n---- /m);

  // -d kept the logs, and they say what ran.
  const logs = logDirs();
  assert.equal(logs.length, 1);
  assert.match(done, new RegExp(`Logs kept in .*${logs[0]}`));
  const run = fs.readFileSync(path.join(home.hostDir(H), 'log', logs[0], 'run.log'), 'utf8');
  assert.match(run, /ldm add-spconfig lc-two \(exit 0\)/);
  assert.match(run, /sp reset \/SYS \(status 0\)/);
});

test('a second run on the same host is refused: it is no longer factory-default', async () => {
  const before = await home.ok(H, 'list-constraints', '-p');
  const t = ldmconfig();
  const screen = await t.waitFor(/EXIT=\d+/);
  assert.match(screen, /EXIT=1\n/);
  assert.match(screen, /SP configurations: +factory-default, lc-two \[current\]/);
  assert.match(
    screen,
    /ldmconfig: The system is not in the factory-default configuration: ldmconfig sets up only a system with no logical domains yet \(the system runs configuration lc-two; domains exist: ldg1, ldg2; the control domain has virtual services\)/,
  );
  assert.doesNotMatch(screen, /\? /, 'no question was asked');
  assert.equal(await home.ok(H, 'list-constraints', '-p'), before);
  assert.equal(await home.ok(H, 'list-spconfig'), 'factory-default\nlc-two [current]\n');
  assert.equal(logDirs().length, 1, 'without -d the refused run leaves no logs');
});
