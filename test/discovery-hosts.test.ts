// Two real hosts find each other on the discovery channel, and a MAC address chosen on one that the
// other already uses is refused.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TestHome } from './helpers/hosts.js';
import { ensureLoopbackMulticast } from '../src/xml/discovery.js';

const home = new TestHome();

before(async () => {
  await ensureLoopbackMulticast();
  await home.startHost('da', '--platform', 't5240', '--cores', '4', '--memory', '32G');
  await home.startHost('db', '--platform', 't4-2');
});
after(() => home.cleanup());

test('ldoms discover lists both managers with their addresses and port 6482', async () => {
  const r = await home.run('ldoms', ['discover', '-p', '--timeout', '1500', '--from', home.address('da')]);
  assert.equal(r.code, 0, r.stderr);
  for (const h of ['da', 'db']) {
    assert.match(r.stdout, new RegExp(`^MANAGER\\|hostname=${h}\\|address=${home.address(h).replace(/\./g, '\\.')}\\|port=6482\\|version=2\\.0$`, 'm'));
  }
});

test('a MAC address used on one host is reported as a collision on the other', async () => {
  await home.ok('da', 'add-domain', 'mac-addr=00:14:4f:fc:12:34', 'ldga');
  const check = await home.run('ldoms', ['mac-check', '00:14:4f:fc:12:34', '--from', home.address('db')]);
  assert.equal(check.code, 1);
  assert.match(check.stdout, new RegExp(`already in use by the Logical Domains Manager at ${home.address('da').replace(/\./g, '\\.')}`));
  const r = await home.ldm('db', 'add-domain', 'mac-addr=00:14:4f:fc:12:34', 'ldgb');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `MAC address 00:14:4f:fc:12:34 is already in use by the Logical Domains Manager at ${home.address('da')}\n`);
  assert.notEqual((await home.ldm('db', 'list', 'ldgb')).code, 0);
  await home.ok('db', 'add-domain', 'mac-addr=00:14:4f:fc:12:35', 'ldgb');
});
