// Guests through their life: console groups shared by several domains, a connection flood, garbage
// on the console, panic-domain, stop-domain through the OS and forced.

import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { TestHome } from './helpers/hosts.js';
import { Terminal } from './helpers/tmux.js';

const home = new TestHome();
const H = 'gl';
const terms: Terminal[] = [];

before(async () => {
  await home.startHost(H, '--platform', 't5240', '--cores', '4', '--memory', '32G');
  await home.setupControlDomain(H);
});
after(async () => {
  for (const t of terms) t.close();
  await home.cleanup();
});

async function guest(name: string, extra: string[] = []): Promise<void> {
  const disk = path.join(home.home, `${name}.img`);
  const r = await home.run('ldoms', ['image', 'create', disk, '--release', 'Solaris 10 9/10', '--size', '1G', '--boot-time', '0.3', '--hostname', name]);
  assert.equal(r.code, 0, r.stderr);
  await home.ok(H, 'add-domain', name);
  await home.ok(H, 'add-vcpu', '4', name);
  await home.ok(H, 'add-memory', '512M', name);
  await home.ok(H, 'add-vdsdev', disk, `${name}@primary-vds0`);
  await home.ok(H, 'add-vdisk', 'vdisk0', `${name}@primary-vds0`, name);
  for (const e of extra) await home.ok(H, ...e.split(' '), name);
  await home.ok(H, 'bind', name);
  await home.ok(H, 'start', name);
}

async function untilState(name: string, re: RegExp): Promise<string> {
  const deadline = Date.now() + 15_000;
  let out = '';
  while (Date.now() < deadline) {
    out = await home.ok(H, 'list', '-p', name);
    if (re.test(out)) return out;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${name}: ${out}`);
}

function term(port: string): Terminal {
  const t = Terminal.start(['telnet', home.address(H), port]);
  terms.push(t);
  return t;
}

test('two domains in one console group share its port: menu, connect by name, a second client reads only', async () => {
  await guest('ga', ['set-vcons group=shared']);
  await guest('gb', ['set-vcons group=shared']);
  const pa = /cons=(\d+)/.exec(await home.ok(H, 'list', '-p', 'ga'))![1];
  const pb = /cons=(\d+)/.exec(await home.ok(H, 'list', '-p', 'gb'))![1];
  assert.equal(pa, pb);
  await untilState('gb', /flags=-n----/);

  const t1 = term(pa);
  await t1.waitFor(/-vnts-shared: h, l, c\{id\}, n\{name\}, q: ?$/m);
  t1.type('l');
  await t1.waitFor(/ga[\s\S]*gb/);
  t1.type('ngb');
  await t1.waitFor(/Connecting to console "gb" in group "shared"/);
  t1.type('');
  await t1.waitFor(/gb console login: ?$/m);

  const t2 = term(pa);
  await t2.waitFor(/-vnts-shared:/);
  t2.type('ngb');
  await t2.waitFor(/read-only/);
  // What the writer types shows on the reader's screen too.
  t1.type('root');
  await t2.waitFor(/^root\nPassword: ?$/m);
  t1.close();
  t2.close();
});

test('a flood of console connections leaves the console working', async () => {
  await guest('gf');
  const port = Number(/cons=(\d+)/.exec(await home.ok(H, 'list', '-p', 'gf'))![1]);
  const address = home.address(H);
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const s = net.createConnection({ host: address, port });
      s.on('error', () => resolve());
      s.on('connect', () => {
        if (i % 3 === 0) s.write(Buffer.from([0xff, 0xfa, 0x18, 0x00, 0x41, 0xff, 0xf0, 0x7e, 0x7e, 0x00, 0xff]));
        if (i % 5 === 0) s.write('garbage\r\n\u0000\u0003~.');
        setTimeout(() => s.destroy(), i % 7);
      });
      s.on('close', () => resolve());
    });
  for (let round = 0; round < 6; round++) await Promise.all(Array.from({ length: 50 }, (_, i) => one(round * 50 + i)));
  const t = term(String(port));
  await t.waitFor(/Connecting to console "gf"/);
  t.type('');
  // The flood's bytes reach the guest like any typing: a login prompt, OpenBoot, or a shell that a
  // `garbage` login with a `garbage` password left behind (logged out again for the next test).
  const screen = await t.waitFor(/(gf console login:|\{0\} ok|\$) ?$/m, 30_000);
  if (/\$ ?\n?$/.test(screen)) {
    t.type('exit');
    await t.waitFor(/gf console login: ?$/m);
  }
  assert.match(await home.ok(H, 'list'), /^gf +active /m);
  t.close();
});

test('garbage on the console: unknown commands answered, nothing breaks', async () => {
  const port = /cons=(\d+)/.exec(await home.ok(H, 'list', '-p', 'gf'))![1];
  await untilState('gf', /flags=-n----/);
  const t = term(port);
  await t.waitFor(/Connecting to console "gf"/);
  t.type('');
  await t.waitFor(/gf console login: ?$/m);
  t.type('root');
  await t.waitFor(/Password: ?$/m);
  t.type('x');
  await t.waitFor(/^# ?$/m);
  t.type('frobnicate --now');
  await t.waitFor(/frobnicate: not found/);
  t.type('init 9');
  await t.waitFor(/invalid run level/);
  t.type('psrinfo | sort');
  await t.waitFor(/sort: not found/);
  t.type('init 0');
  await t.waitFor(/\{0\} ok ?$/m);
  await untilState('gf', /flags=-t----/);
  t.type('frob');
  await t.waitFor(/frob \?/);
  t.type('setenv');
  await t.waitFor(/Usage: setenv/);
  t.type('setenv auto-boot? false');
  await t.waitFor(/auto-boot\? = false/);
  // OpenBoot's setenv is the domain's configuration: the manager shows it.
  const deadline = Date.now() + 5000;
  let vars = '';
  while (Date.now() < deadline && !/auto-boot\?=false/.test(vars)) vars = await home.ok(H, 'list-variable', 'gf');
  assert.match(vars, /auto-boot\?=false/);
  t.type('boot');
  await t.waitFor(/gf console login: ?$/m);
});

test('panic-domain reboots the OS; stop-domain goes through the OS, stop -f does not', async () => {
  await guest('gp');
  await untilState('gp', /flags=-n----/);
  const port = /cons=(\d+)/.exec(await home.ok(H, 'list', '-p', 'gp'))![1];
  const t = term(port);
  await t.waitFor(/Connecting to console "gp"/);
  assert.equal(await home.ok(H, 'panic-domain', 'gp'), '');
  await t.waitFor(/panic\[cpu0\]/);
  await t.waitFor(/rebooting/);
  await untilState('gp', /flags=-n----/);
  assert.equal(await home.ok(H, 'stop', 'gp'), 'LDom gp stopped\n');
  await t.waitFor(/Changing to init state 5/);
  assert.match(await home.ok(H, 'list', '-p', 'gp'), /state=bound/);
  await home.ok(H, 'start', 'gp');
  await untilState('gp', /flags=-n----/);
  assert.equal(await home.ok(H, 'stop', '-f', 'gp'), 'LDom gp stopped\n');
  assert.match(await home.ok(H, 'list', '-p', 'gp'), /state=bound/);
});
