// The service processor: its command line, power cycles booting the configuration marked for the
// next power-on, and guest memory that survives ldmd restarts and power cycles of bound domains.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { TestHome } from './helpers/hosts.js';

const home = new TestHome();
const H = 'sp';
const sp = (...args: string[]) => home.run('ldoms', ['sp', H, ...args]);

before(async () => {
  await home.startHost(H, '--platform', 't5240', '--cores', '4', '--memory', '32G');
  await home.setupControlDomain(H);
});
after(() => home.cleanup());

test('show, set power policy, bad commands', async () => {
  let r = await sp('show', '/HOST');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /status = Solaris running/);
  r = await sp('set', '/SP/powermgmt', 'policy=Elastic');
  assert.equal(r.code, 0, r.stdout);
  assert.match((await sp('show', '/SP/powermgmt')).stdout, /policy = Elastic/);
  r = await sp('set', '/SP/powermgmt', 'policy=Turbo');
  assert.equal(r.code, 1);
  assert.match(r.stdout, /Invalid value/);
  for (const bad of [['frobnicate'], ['show', '/NOPE'], ['set', '/HOST/bootmode', 'config=nope'], ['start', '/SYS'], []]) {
    const x = await sp(...bad);
    assert.equal(x.code, 1, bad.join(' '));
  }
  await sp('set', '/SP/powermgmt', 'policy=Performance');
});

test('a bound domain keeps its memory bytes across an ldmd kill and a power cycle', async () => {
  const disk = path.join(home.home, 'idle.img');
  fs.writeFileSync(disk, '');
  fs.truncateSync(disk, 64 << 20);
  await home.ok(H, 'add-domain', 'idle');
  await home.ok(H, 'add-vcpu', '4', 'idle');
  await home.ok(H, 'add-memory', '512M', 'idle');
  await home.ok(H, 'bind', 'idle');
  await home.ok(H, 'add-spconfig', 'with-idle');
  const sum = async () => {
    const r = await home.run('ldoms', ['mem-checksum', H, 'idle']);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const before = await sum();
  assert.match(before, /^[0-9a-f]{64} {2}idle \(536870912 bytes\)\n$/);

  process.kill(home.pid(H, 'ldmd'), 'SIGKILL');
  await new Promise((r) => setTimeout(r, 100));
  await home.startHost(H);
  assert.equal(await sum(), before);

  assert.equal((await sp('stop', '/SYS')).code, 0);
  const off = await home.ldm(H, 'list');
  assert.equal(off.code, 1);
  assert.match(off.stderr, /powered off/);
  assert.equal((await sp('start', '/SYS')).code, 0);
  assert.match(await home.ok(H, 'list'), /^idle +bound /m);
  assert.equal(await home.ok(H, 'list-spconfig'), 'factory-default\nwith-idle [current]\n');
  assert.equal(await sum(), before);
});

test('set /HOST/bootmode and a power cycle boot the chosen configuration', async () => {
  await home.ok(H, 'add-domain', 'later');
  assert.equal(await home.ok(H, 'list-spconfig'), 'factory-default\nwith-idle [next poweron]\n');
  await home.ok(H, 'add-spconfig', 'with-later');
  assert.equal((await sp('set', '/HOST/bootmode', 'config=with-idle')).code, 0);
  assert.match(await home.ok(H, 'list-spconfig'), /with-idle \[next poweron\]/);
  assert.equal((await sp('reset', '/SYS')).code, 0);
  const list = await home.ok(H, 'list');
  assert.doesNotMatch(list, /^later /m);
  assert.match(list, /^idle +bound /m);
  assert.equal(await home.ok(H, 'list-spconfig'), 'factory-default\nwith-idle [current]\nwith-later\n');
});
