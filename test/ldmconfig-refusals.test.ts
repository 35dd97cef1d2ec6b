// The Configuration Assistant refusing: bad answers are refused where they are typed or, when
// only their combination is wrong, on the summary screen; an interrupted run and a declined plan
// change nothing; -c checks OS media only; no terminal, no dialogue.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BIN, TestHome } from './helpers/hosts.js';
import { Terminal } from './helpers/tmux.js';
import { answer, startLdmconfig } from './helpers/ldmconfig.js';

const home = new TestHome();
const H = 'lcbad';
const terms: Terminal[] = [];
const CTRL_C = '\x03';
const CTRL_U = '\x15';

before(async () => {
  await home.startHost(H, '--platform', 't5240', '--cores', '4', '--memory', '32G');
  // A configuration already on the SP while the system runs factory-default again.
  await home.ok(H, 'add-spconfig', 'mine');
  for (const argv of [['set', '/HOST/bootmode', 'config=factory-default'], ['reset', '/SYS']]) {
    const r = await home.run('ldoms', ['sp', H, ...argv]);
    assert.equal(r.code, 0, r.stdout);
  }
  assert.equal(await home.ok(H, 'list-spconfig'), 'factory-default [current]\nmine\n');
});
after(async () => {
  for (const t of terms) t.close();
  await home.cleanup();
});

const ldmconfig = (...args: string[]) => startLdmconfig(home, H, terms, ...args);

/** After a refusal under the prompt: wait for it, clear the line, type again. */
async function retype(t: Terminal, refusal: RegExp, text: string): Promise<void> {
  await t.waitFor(refusal);
  t.type(CTRL_U, false);
  t.type(text);
}

/** Everything ldmconfig could change: domains, services, SP configurations. */
async function state(): Promise<string> {
  const out = [];
  for (const argv of [['list-constraints', '-p'], ['list-services', '-p'], ['list-spconfig']]) out.push(await home.ok(H, ...argv));
  return out.join('\n');
}

const exitOf = (screen: string) => Number(/EXIT=(\d+)/.exec(screen)![1]);

test('bad answers: refused as typed, then too many guests for the strands and the memory refused on the summary', async () => {
  const before = await state();
  const dir = path.join(home.home, 'new', 'disks');
  const t = ldmconfig();
  await answer(t, /\? Solaris OS media for the guests/, '/no/such/media.img');
  await retype(t, /> Cannot read the Solaris OS media \/no\/such\/media\.img: no such file or directory/, '');
  await answer(t, /\? Number of guest domains: \(7\)/, 'many');
  await retype(t, /> "many" is not a whole number/, '0');
  await retype(t, /> The number of guest domains must be a whole number of at least 1 \(got 0\)/, '5');
  // 5 x 16 strands > the 56 left; 5 x 8G > the 28416M left.
  await answer(t, /\? Virtual CPUs per guest domain: \(8\)/, '16');
  await answer(t, /\? Memory per guest domain .*: \(5632M\)/, '256M');
  await retype(t, /> Each guest domain needs at least 512M of memory \(got 256M\)/, '8G');
  await answer(t, /\? Network device for the virtual switch/, '');
  await answer(t, /\? Directory for the disk image files/, 'disks');
  await retype(t, /> The storage directory must be an absolute path below \/ without spaces, quotes or "\." and "\.\." parts \(got "disks"\)/, '/etc/hostname/disks');
  await retype(t, /> The storage directory \/etc\/hostname\/disks cannot be created: \/etc\/hostname is not a directory/, dir);
  await answer(t, /\? Size of each virtual disk/, '512M');
  await retype(t, /> The virtual disk size must be a whole number of megabytes, at least 1G \(got 512M\)/, '1G');
  await answer(t, /\? Configuration name:/, 'mine');
  await retype(t, /> Configuration name "mine" already exists on the service processor/, 'my config');
  await retype(t, /> Configuration name "my config" is invalid: it needs 1 to 64 printable characters without spaces, the first a letter, a digit or \//, 'ok1');

  const summary = await t.waitFor(/\? What now\?/);
  assert.match(
    summary,
    new RegExp(
      'The configuration cannot be applied:\n' +
        '  - Too many guest domains for the virtual CPUs: 5 guests of 16 need 80, but only 56 of the 64 are left after the control domain keeps 8\n' +
        '  - Too many guest domains for the memory: 5 guests of 8G need 40G, but only 28416M of 32544M is left after the control domain keeps 4128M\n',
    ),
  );
  assert.doesNotMatch(summary, /Commands to run:/);
  t.type('2'); // Quit without changing anything
  const end = await t.waitFor(/EXIT=\d+/);
  assert.equal(exitOf(end), 1);
  assert.match(end, /ldmconfig: the configuration was refused; nothing was changed/);
  assert.equal(await state(), before);
  assert.equal(fs.existsSync(path.join(home.home, 'new')), false);
});

test('a refused summary offers the answers again; Ctrl-C there changes nothing', async () => {
  const before = await state();
  const t = ldmconfig();
  await answer(t, /\? Solaris OS media/, '');
  await answer(t, /\? Number of guest domains/, '3');
  await answer(t, /\? Virtual CPUs per guest domain: \(16\)/, '60');
  await answer(t, /\? Memory per guest domain/, '');
  await answer(t, /\? Network device/, '');
  await answer(t, /\? Directory for the disk image files/, path.join(home.home, 'd2'));
  await answer(t, /\? Size of each virtual disk/, '');
  await answer(t, /\? Configuration name/, 'c2');
  await t.waitFor(/ - A guest domain cannot have 60 virtual CPUs: only 56 of the 64 are left after the control domain keeps 8\n/);
  await answer(t, /\? What now\?/, '1'); // Change the answers: the earlier ones are the defaults now
  // Asked again from the start, with the earlier answers as the defaults.
  const again = (re: RegExp) => new RegExp(`What now\\? Change the answers\n[\\s\\S]*${re.source}`);
  await answer(t, again(/\? Solaris OS media for the guests/), '');
  await answer(t, again(/\? Number of guest domains: \(3\)/), '');
  await t.waitFor(again(/\? Virtual CPUs per guest domain: \(60\)/));
  t.type(CTRL_C, false);
  const end = await t.waitFor(/EXIT=\d+/);
  assert.equal(exitOf(end), 130);
  assert.match(end, /ldmconfig: interrupted; nothing was changed/);
  assert.equal(await state(), before);
});

test('Ctrl-C at the first question, and a plan declined at the confirmation, change nothing', async () => {
  const before = await state();
  const t1 = ldmconfig();
  await t1.waitFor(/\? Solaris OS media/);
  t1.type(CTRL_C, false);
  assert.equal(exitOf(await t1.waitFor(/EXIT=\d+/)), 130);

  const dir = path.join(home.home, 'd3');
  const t2 = ldmconfig();
  for (const [question, text] of [
    [/\? Solaris OS media/, ''],
    [/\? Number of guest domains/, '1'],
    [/\? Virtual CPUs per guest domain/, ''],
    [/\? Memory per guest domain/, ''],
    [/\? Network device/, ''],
    [/\? Directory for the disk image files/, dir],
    [/\? Size of each virtual disk/, ''],
    [/\? Configuration name/, 'c3'],
  ] as const) {
    await answer(t2, question, text);
  }
  await answer(t2, /\? Apply this configuration now\?.*\(y\/N\)/, ''); // the default is No
  const end = await t2.waitFor(/EXIT=\d+/);
  assert.equal(exitOf(end), 1);
  assert.match(end, /Nothing was changed\./);
  assert.equal(await state(), before);
  assert.equal(fs.existsSync(dir), false);
});

test('-c checks the OS media only: valid media, a disk without Solaris, a release too old', async () => {
  const good = path.join(home.home, 'good.img');
  const old = path.join(home.home, 'old.img');
  const blank = path.join(home.home, 'blank.img');
  for (const [file, release] of [
    [good, 'Solaris 10 10/09'],
    [old, 'Solaris 10 6/06'],
  ]) {
    const r = await home.run('ldoms', ['image', 'create', file, '--release', release, '--size', '1G']);
    assert.equal(r.code, 0, r.stderr);
  }
  fs.writeFileSync(blank, Buffer.alloc(65536));
  const before = await state();
  const cases: [string, number, RegExp][] = [
    [good, 0, /Release: +Solaris 10 10\/09 \(Generic_141444-09\)\nPatches: +none\nDR daemon: +drd enabled\nThe media is valid: guest domains can be installed from it\./],
    [blank, 1, /ldmconfig: .*blank\.img is not Solaris OS media: it holds no installable Solaris/],
    [old, 1, /ldmconfig: .*old\.img holds Solaris 10 6\/06: guest domains need Solaris 10 11\/06 or later/],
  ];
  for (const [file, code, re] of cases) {
    const t = ldmconfig('-c');
    await answer(t, /\? Solaris OS media to check/, file);
    const end = await t.waitFor(/EXIT=\d+/);
    assert.equal(exitOf(end), code, end);
    assert.match(end, re);
    assert.doesNotMatch(end, /Checking the system/, '-c does not inspect the host');
  }
  assert.equal(await state(), before);
});

test('usage, bad options, and no terminal', () => {
  const run = (args: string[]) => spawnSync(process.execPath, [path.join(BIN, 'ldmconfig'), ...args], { env: home.env(H), input: '', encoding: 'utf8' });
  let r = run(['-h']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^Usage: ldmconfig \[-cdh\]\n/);
  r = run(['-x']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^ldmconfig: illegal option -- x\nUsage: ldmconfig \[-cdh\]/);
  r = run(['extra']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unexpected operand extra/);
  for (const args of [[], ['-d'], ['-c']]) {
    r = run(args);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^ldmconfig: standard input and output must be a terminal \(a console, a terminal emulator or an ssh session\)/);
    assert.equal(r.stdout, '');
  }
});
