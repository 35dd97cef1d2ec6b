// Delayed reconfiguration of the control domain: what waits for the reboot and what does not.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TestHome } from './helpers/hosts.js';

const home = new TestHome();
const H = 'dr';
before(() => home.startHost(H, '--platform', 't5240', '--cores', '4', '--memory', '32G'));
after(() => home.cleanup());

test('virtual services added during a delayed reconfiguration survive the reboot', async () => {
  await home.ok(H, 'start-reconf', 'primary');
  assert.match(await home.ok(H, 'list', '-o', 'status', 'primary'), /delayed/);
  await home.ok(H, 'add-vds', 'primary-vds0', 'primary');
  await home.ok(H, 'add-vdsdev', '/backend/a', 'vol0@primary-vds0');
  await home.ok(H, 'set-variable', 'auto-boot?=false', 'primary');
  await home.ok(H, 'set-crypto', '2', 'primary');
  await home.ok(H, 'set-vcpu', '16', 'primary');
  // Services are dynamic: they exist at once; the CPUs wait for the reboot.
  assert.match(await home.ok(H, 'list-services', '-p'), /^\|vol=vol0\|/m);
  assert.match(await home.ok(H, 'list'), /^primary +active +-ndcv- +SP +64 /m);
  const r = await home.run('ldoms', ['host', 'reboot', H]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(await home.ok(H, 'list'), /^primary +active +-n-cv- +SP +16 /m);
  assert.match(await home.ok(H, 'list-services', '-p'), /^\|vol=vol0\|opts=\|dev=\/backend\/a\|/m);
  assert.equal(await home.ok(H, 'list-variable', 'auto-boot?', 'primary'), 'auto-boot?=false\n');
  assert.doesNotMatch(await home.ok(H, 'list', '-o', 'status', 'primary'), /delayed/);
});

test('cancel-reconf drops the pending changes; nothing is pending afterwards', async () => {
  await home.ok(H, 'start-reconf', 'primary');
  await home.ok(H, 'set-crypto', '1', 'primary');
  await home.ok(H, 'set-vcpu', '8', 'primary');
  assert.match(await home.ok(H, 'list-constraints', '-p', 'primary'), /^VCPU\|count=8$/m);
  await home.ok(H, 'cancel-reconf', 'primary');
  assert.match(await home.ok(H, 'list'), /^primary +active +-n-cv- +SP +16 /m);
  assert.match(await home.ok(H, 'list-constraints', '-p', 'primary'), /^VCPU\|count=16$/m);
  const r = await home.ldm(H, 'cancel-reconf', 'primary');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not in a delayed reconfiguration/);
});

test('a pending configuration that could not be bound is refused at once', async () => {
  await home.ok(H, 'start-reconf', 'primary');
  const r = await home.ldm(H, 'set-memory', '64G', 'primary');
  assert.equal(r.code, 1);
  assert.doesNotMatch(r.stderr, /internal error/);
  await home.ok(H, 'cancel-reconf', 'primary');
});
