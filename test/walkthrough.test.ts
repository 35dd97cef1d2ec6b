// The Administration Guide's walkthrough, end to end through the `ldm` binary: services on the
// control domain, a delayed reconfiguration that shrinks it (with the 2.0 256 MB refusal), an SP
// configuration, then a guest from creation to removal.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { TestHome } from './helpers/hosts.js';

const home = new TestHome();
const H = 'wt';
before(() => home.startHost(H, '--platform', 't5240', '--cores', '4', '--memory', '32G'));
after(() => home.cleanup());

const NOTICE = [
  '----------------------------------------------------------------',
  '',
  'Notice: LDom primary is in the process of a delayed reconfiguration.',
  'Any changes made to primary will only take effect after it reboots.',
  '----------------------------------------------------------------',
  '',
].join('\n');

test('factory default: the 2.0 listing of a two-socket T2 Plus with 32 GB', async () => {
  const out = await home.ok(H, 'list');
  const lines = out.split('\n');
  assert.equal(lines[0], 'NAME             STATE      FLAGS   CONS    VCPU  MEMORY   UTIL  UPTIME');
  assert.match(lines[1], /^primary {10}active {5}-n-c-- {2}SP {6}64 {4}32544M {3}0\.1% {2}\d+[sm]$/);
  const mem = await home.ok(H, 'list-devices', '-a', 'memory');
  assert.equal(
    mem,
    [
      'MEMORY',
      '    PA                   SIZE            BOUND',
      '    0x0                  512K            _sys_',
      '    0x80000              1536K           _sys_',
      '    0x200000             94M             _sys_',
      '    0x6000000            32M             _sys_',
      '    0x8000000            96M             _sys_',
      '    0xe000000            32544M          primary',
      '',
    ].join('\n'),
  );
});

test('services, delayed reconfiguration, SP configuration, guest lifecycle', async () => {
  await home.ok(H, 'add-vcc', 'port-range=5000-5100', 'primary-vcc0', 'primary');
  await home.ok(H, 'add-vds', 'primary-vds0', 'primary');
  await home.ok(H, 'add-vsw', 'net-dev=nxge0', 'primary-vsw0', 'primary');
  assert.match(await home.ok(H, 'list'), /primary +active +-n-cv- /);

  let r = await home.ldm(H, 'start-reconf', 'primary');
  assert.equal(r.code, 0);
  assert.equal(
    r.stderr,
    'Initiating delayed reconfigure operation on LDom primary. All\nconfiguration changes for other LDoms are disabled until the\nLDom reboots, at which time the new configuration for LDom\nprimary will also take effect.\n',
  );
  r = await home.ldm(H, 'set-mau', '1', 'primary');
  assert.equal(r.code, 0);
  assert.equal(r.stderr, NOTICE);
  await home.ok(H, 'set-vcpu', '8', 'primary');
  r = await home.ldm(H, 'set-memory', '4G', 'primary');
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    NOTICE +
      'A ldm set-mem 4G command would remove 28448MB, which is not a\nmultiple of 256MB. Instead, run ldm set-mem 4128M primary\nto ensure a 256MB alignment.\n',
  );
  await home.ok(H, 'set-memory', '3872M', 'primary');
  assert.match(await home.ok(H, 'list'), /primary +active +-ndcv- +SP +64 +32544M/);
  r = await home.ldm(H, 'add-domain', 'ldg1');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, NOTICE + 'Delayed reconfiguration of LDom ldg1 is not permitted\n');

  await home.ok(H, 'add-spconfig', 'initial');
  assert.equal(await home.ok(H, 'list-spconfig'), 'factory-default\ninitial [current]\n');

  r = await home.run('ldoms', ['host', 'reboot', H]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(await home.ok(H, 'list'), /primary +active +-n-cv- +SP +8 +3872M /);
  assert.equal(await home.ok(H, 'list-spconfig'), 'factory-default\ninitial [current]\n');
  // The 2.0 capture after shrinking the control domain, row for row.
  assert.equal(
    await home.ok(H, 'list-devices', '-a', 'memory'),
    [
      'MEMORY',
      '    PA                   SIZE            BOUND',
      '    0x0                  512K            _sys_',
      '    0x80000              1536K           _sys_',
      '    0x200000             94M             _sys_',
      '    0x6000000            32M             _sys_',
      '    0x8000000            96M             _sys_',
      '    0xe000000            32M             primary',
      '    0x10000000           28G',
      '    0x710000000          3840M           primary',
      '',
    ].join('\n'),
  );
  const mau = await home.ok(H, 'list-devices', '-a', 'crypto');
  assert.match(mau, /^ {4}0 {7}\(0, 1, 2, 3, 4, 5, 6, 7\) {16}primary$/m);
  assert.match(mau, /^ {4}1 {7}\(8, 9, 10, 11, 12, 13, 14, 15\)$/m);

  const disk = path.join(home.home, 'ldg1-disk0.img');
  fs.writeFileSync(disk, '');
  fs.truncateSync(disk, 1 << 30);
  await home.ok(H, 'add-domain', 'ldg1');
  await home.ok(H, 'add-vcpu', '8', 'ldg1');
  await home.ok(H, 'add-memory', '2G', 'ldg1');
  await home.ok(H, 'add-vnet', 'vnet1', 'primary-vsw0', 'ldg1');
  await home.ok(H, 'add-vdsdev', disk, 'vol1@primary-vds0');
  await home.ok(H, 'add-vdisk', 'vdisk1', 'vol1@primary-vds0', 'ldg1');
  assert.match(await home.ok(H, 'list'), /^ldg1 +inactive +------ +8 +2G$/m);
  assert.equal(await home.ok(H, 'list-spconfig'), 'factory-default\ninitial [next poweron]\n');

  await home.ok(H, 'bind', 'ldg1');
  assert.match(await home.ok(H, 'list'), /^ldg1 +bound +------ +5000 +8 +2G$/m);
  assert.equal(await home.ok(H, 'start', 'ldg1'), 'LDom ldg1 started\n');
  assert.match(await home.ok(H, 'list'), /^ldg1 +active +-t---- +5000 +8 +2G +0\.0% +\d+s$/m);
  const bindings = await home.ok(H, 'list-bindings', 'ldg1');
  assert.match(bindings, /^ {4}0x8000000 +0x10000000 +2G$/m);
  assert.match(bindings, /^ {4}vnet1 +primary-vsw0@primary +network@0 +00:14:4f:f[89ab](:[0-9a-f]{2}){2}$/m);
  assert.match(bindings, /^ {4}vdisk1 +vol1@primary-vds0 +disk@0 +primary$/m);
  const p = await home.ok(H, 'list', '-p');
  assert.match(p, /^VERSION 1\.5\nDOMAIN\|name=primary\|state=active\|flags=-n-cv-\|cons=SP\|ncpu=8\|mem=4060086272\|util=0\.1\|uptime=\d+\nDOMAIN\|name=ldg1\|state=active\|flags=-t----\|cons=5000\|ncpu=8\|mem=2147483648\|util=0\.0\|uptime=\d+\n$/);

  assert.equal(await home.ok(H, 'stop', 'ldg1'), 'LDom ldg1 stopped\n');
  await home.ok(H, 'unbind', 'ldg1');
  r = await home.ldm(H, 'remove-vdsdev', 'vol1@primary-vds0');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /is attached/);
  await home.ok(H, 'remove-domain', 'ldg1');
  await home.ok(H, 'remove-vdsdev', 'vol1@primary-vds0');
  const list = await home.ok(H, 'list');
  assert.equal(list.split('\n').length, 3);
  r = await home.ldm(H, 'list', 'ldg1');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /not found/);
});
