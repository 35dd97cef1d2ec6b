// Dynamic reconfiguration follows what the guest OS supports: a capability it lacks gets a clear
// refusal while the capabilities it has keep working.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { TestHome } from './helpers/hosts.js';

const home = new TestHome();
const H = 'dr';

before(async () => {
  await home.startHost(H, '--platform', 't5240', '--cores', '4', '--memory', '32G');
  await home.setupControlDomain(H);
});
after(() => home.cleanup());

async function guest(name: string, imageArgs: string[]): Promise<void> {
  const disk = path.join(home.home, `${name}.img`);
  const r = await home.run('ldoms', ['image', 'create', disk, '--size', '1G', '--boot-time', '0.5', '--hostname', name, ...imageArgs]);
  assert.equal(r.code, 0, r.stderr);
  await home.ok(H, 'add-domain', name);
  await home.ok(H, 'add-vcpu', '8', name);
  await home.ok(H, 'add-memory', '1G', name);
  await home.ok(H, 'add-vdsdev', disk, `${name}@primary-vds0`);
  await home.ok(H, 'add-vdisk', 'vdisk0', `${name}@primary-vds0`, name);
  await home.ok(H, 'bind', name);
  await home.ok(H, 'start', name);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (/flags=-n----/.test(await home.ok(H, 'list', '-p', name))) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.fail(`${name} never reached Solaris`);
}

test('Solaris 10 10/08 without 142245-01: crypto unit DR refused, CPU DR works', async () => {
  await guest('old', ['--release', 'Solaris 10 10/08']);
  const r = await home.ldm(H, 'add-crypto', '1', 'old');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Unable to change the crypto unit configuration of LDom old dynamically: its operating system \(Solaris 10 10\/08\) does not support crypto unit dynamic reconfiguration/);
  assert.equal(r.stdout, '');
  await home.ok(H, 'add-vcpu', '8', 'old');
  assert.match(await home.ok(H, 'list', 'old'), /^old +active +-n---- +\d+ +16 +1G /m);
  // Memory DR came with Solaris 10 9/10: refused here too.
  const m = await home.ldm(H, 'add-memory', '256M', 'old');
  assert.equal(m.code, 1);
  assert.match(m.stderr, /memory dynamic reconfiguration/);
});

test('Solaris 10 10/08 with patch 142245-01 and Solaris 10 10/09 can change crypto units while running', async () => {
  await guest('patched', ['--release', 'Solaris 10 10/08', '--patch', '142245-01']);
  await home.ok(H, 'add-crypto', '1', 'patched');
  assert.match(await home.ok(H, 'list-bindings', '-p', 'patched'), /^MAU\n\|id=\d+\|/m);
  await home.ok(H, 'remove-crypto', '1', 'patched');
});

test('no drd running: every dynamic change refused, naming the daemon', async () => {
  await guest('nodrd', ['--release', 'Solaris 10 9/10', '--no-drd']);
  for (const args of [['add-vcpu', '1', 'nodrd'], ['add-memory', '256M', 'nodrd'], ['add-vnet', 'vnet9', 'primary-vsw0', 'nodrd']]) {
    const r = await home.ldm(H, ...args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, /the drd daemon \(svc:\/platform\/sun4v\/drd:default\) is not running/);
  }
  // Stopping it is always possible, and then the change is an ordinary constraint change.
  await home.ok(H, 'stop', '-f', 'nodrd');
  await home.ok(H, 'add-vcpu', '1', 'nodrd');
});
