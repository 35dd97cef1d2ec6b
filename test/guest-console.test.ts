// A guest from an OS image, driven through a real terminal: telnet to its console, watch OpenBoot
// boot the disk to the login prompt, log in, psrinfo, add CPUs from the control domain, psrinfo
// again, shut down; `ldm list` flags checked at every step.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { TestHome } from './helpers/hosts.js';
import { Terminal } from './helpers/tmux.js';

const home = new TestHome();
const H = 'gc';
let term: Terminal | null = null;

before(async () => {
  await home.startHost(H, '--platform', 't5240', '--cores', '4', '--memory', '32G');
  await home.setupControlDomain(H);
});
after(async () => {
  term?.close();
  await home.cleanup();
});

async function flags(domain: string): Promise<string> {
  const out = await home.ok(H, 'list', '-p', domain);
  return /flags=([^|]*)/.exec(out)![1];
}

async function waitFlags(domain: string, want: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let f = '';
  while (Date.now() < deadline) {
    f = await flags(domain);
    if (f === want) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`flags of ${domain} stayed ${f}, expected ${want}`);
}

test('boot to login through telnet, psrinfo follows CPU DR, shutdown powers the domain off', async () => {
  const disk = path.join(home.home, 'ldg1.img');
  const img = await home.run('ldoms', ['image', 'create', disk, '--release', 'Solaris 10 9/10', '--size', '8G', '--boot-time', '2', '--hostname', 'ldg1']);
  assert.equal(img.code, 0, img.stderr);
  await home.ok(H, 'add-domain', 'ldg1');
  await home.ok(H, 'add-vcpu', '8', 'ldg1');
  await home.ok(H, 'add-memory', '2G', 'ldg1');
  await home.ok(H, 'add-vdsdev', disk, 'vol1@primary-vds0');
  await home.ok(H, 'add-vdisk', 'vdisk1', 'vol1@primary-vds0', 'ldg1');
  await home.ok(H, 'add-vnet', 'vnet1', 'primary-vsw0', 'ldg1');
  await home.ok(H, 'bind', 'ldg1');
  assert.equal(await flags('ldg1'), '------');
  assert.equal(await home.ok(H, 'start', 'ldg1'), 'LDom ldg1 started\n');

  term = Terminal.start(['telnet', home.address(H), '5000']);
  await term.waitFor(/Connecting to console "ldg1" in group "ldg1" \.\.\.\./);
  // OpenBoot: the domain is in transition until Solaris runs.
  const early = await flags('ldg1');
  assert.match(early, /^-[tn]----$/);
  term.type('');
  await term.waitFor(/ldg1 console login: ?$/m);
  await waitFlags('ldg1', '-n----');
  assert.match(await home.ok(H, 'list', '-o', 'domain', 'ldg1'), /^Solaris running$/m);

  term.type('root');
  await term.waitFor(/Password: ?$/m);
  term.type('secret');
  await term.waitFor(/^# ?$/m);
  let mark = term.screen().length;
  term.type('psrinfo');
  let screen = await term.waitFor(/7 +on-line[^\n]*\n# ?\n$/, 10_000, mark);
  assert.equal((screen.slice(mark).match(/on-line/g) ?? []).length, 8);

  await home.ok(H, 'add-vcpu', '8', 'ldg1');
  mark = term.screen().length;
  term.type('psrinfo');
  screen = await term.waitFor(/15 +on-line[^\n]*\n# ?\n$/, 10_000, mark);
  assert.equal((screen.slice(mark).match(/on-line/g) ?? []).length, 16);

  mark = term.screen().length;
  term.type('prtconf | grep Memory');
  await term.waitFor(/Memory size: 2048 Megabytes/, 10_000, mark);
  mark = term.screen().length;
  term.type('uname -a');
  await term.waitFor(/SunOS ldg1 5\.10 Generic_\S+ sun4v sparc SUNW,T5240/, 10_000, mark);

  term.type('shutdown -y -g0 -i5');
  const deadline = Date.now() + 15_000;
  let state = '';
  while (Date.now() < deadline) {
    state = /state=(\w+)/.exec(await home.ok(H, 'list', '-p', 'ldg1'))![1];
    if (state === 'bound') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(state, 'bound');
  assert.equal(await flags('ldg1'), '------');
});

test('a disk without an OS leaves the domain at the ok prompt with OpenBoot\'s message', async () => {
  const blank = path.join(home.home, 'blank.img');
  const { writeFileSync, truncateSync } = await import('node:fs');
  writeFileSync(blank, '');
  truncateSync(blank, 256 * 1024 * 1024);
  await home.ok(H, 'add-domain', 'ldg2');
  await home.ok(H, 'add-vcpu', '4', 'ldg2');
  await home.ok(H, 'add-memory', '1G', 'ldg2');
  await home.ok(H, 'add-vdsdev', blank, 'blank@primary-vds0');
  await home.ok(H, 'add-vdisk', 'vdisk0', 'blank@primary-vds0', 'ldg2');
  await home.ok(H, 'bind', 'ldg2');
  await home.ok(H, 'start', 'ldg2');
  const port = /cons=(\d+)/.exec(await home.ok(H, 'list', '-p', 'ldg2'))![1];
  const t = Terminal.start(['telnet', home.address(H), port]);
  try {
    await t.waitFor(/Connecting to console "ldg2"/);
    t.type('');
    await t.waitFor(/\{0\} ok ?$/m);
    t.type('boot');
    await t.waitFor(/The file just loaded does not appear to be executable\.\n\{0\} ok ?$/m);
    assert.equal(await flags('ldg2'), '-t----');
    assert.match(await home.ok(H, 'list', '-o', 'domain', 'ldg2'), /^OpenBoot Running$/m);
  } finally {
    t.close();
  }
});
