// ldmd/xmpp_enabled=false: no XML interface on port 6482, and (as documented) no memory DR.

import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { TestHome } from './helpers/hosts.js';

const home = new TestHome();
const H = 'nx';

before(async () => {
  await home.startHost(H, '--platform', 't5240', '--cores', '4', '--memory', '32G');
  await home.setupControlDomain(H);
});
after(() => home.cleanup());

function connects(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection({ host: address, port: 6482 });
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

test('turning the XML interface off closes port 6482 and refuses memory DR', async () => {
  assert.equal(await connects(home.address(H)), true);
  const set = await home.run('ldoms', ['host', 'set-prop', H, 'ldmd/xmpp_enabled=false']);
  assert.equal(set.code, 0, set.stderr);
  assert.equal((await home.run('ldoms', ['host', 'stop', H])).code, 0);
  await home.startHost(H);
  assert.equal(await connects(home.address(H)), false);
  assert.match((await home.run('ldoms', ['host', 'props', H])).stdout, /^ldmd\/xmpp_enabled=false$/m);

  const disk = path.join(home.home, 'g.img');
  assert.equal((await home.run('ldoms', ['image', 'create', disk, '--release', 'Solaris 10 9/10', '--size', '1G', '--boot-time', '0.2'])).code, 0);
  for (const a of [['add-domain', 'g'], ['add-vcpu', '4', 'g'], ['add-memory', '1G', 'g'], ['add-vdsdev', disk, 'g@primary-vds0'], ['add-vdisk', 'd0', 'g@primary-vds0', 'g'], ['bind', 'g'], ['start', 'g']]) {
    await home.ok(H, ...a);
  }
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !/flags=-n----/.test(await home.ok(H, 'list', '-p', 'g'))) await new Promise((r) => setTimeout(r, 100));
  const r = await home.ldm(H, 'add-memory', '256M', 'g');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Memory dynamic reconfiguration is disabled: the XML interface is turned off \(ldmd\/xmpp_enabled=false\)/);
  await home.ok(H, 'add-vcpu', '1', 'g');
  const bad = await home.run('ldoms', ['host', 'set-prop', H, 'ldmd/xmpp_enabled=maybe']);
  assert.equal(bad.code, 1);
});
