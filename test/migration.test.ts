// Live migration end to end between two real hosts, driven through `ldm` as a user would: the
// memory arrives byte for byte, the guest carries on at its console on the target, progress and
// peers show in `-o status` on both sides, the domain is locked while it moves, and cancelling
// (cancel-operation, a killed ldm) leaves it running on the source with nothing on the target.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN } from './helpers/hosts.js';
import { domains, makeGuest, migrate, startPair, waitFor, PASSWORD, type Pair } from './helpers/migration.js';
import { Terminal } from './helpers/tmux.js';
import { connectXmpp } from './helpers/xmpp-client.js';
import { MIGRATION } from './helpers/reference-xml.js';

let p: Pair;
const terms: Terminal[] = [];

// The tests that act while ldg2 migrates hold its migration open for 2.5 s after each pre-copy
// round (fault injection, src/migration/faults.ts): their window does not depend on the machine's speed.
process.env.LDOMS_FAULT_PAUSE_ROUND_MS = '2500';
process.env.LDOMS_FAULT_DOMAINS = 'ldg2';

before(async () => {
  p = await startPair();
});

after(async () => {
  for (const t of terms) t.close();
  await p?.t.cleanup();
});

async function checksum(host: string, domain: string): Promise<string> {
  const r = await p.t.run('ldoms', ['mem-checksum', host, domain]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split(/\s+/)[0];
}

/** A volume whose guest dirties memory fast: a live migration of it lasts seconds, long enough to act during it. */
async function addBusyVolume(name: string): Promise<void> {
  const file = path.join(p.t.home, `${name}.img`);
  const r = await p.t.run('ldoms', ['image', 'create', file, '--release', 'Solaris 10 9/10', '--hostname', name, '--working-set', '256M', '--dirty-rate', '20M']);
  assert.equal(r.code, 0, r.stderr);
  await p.t.ok(p.src, 'add-vdsdev', file, `${name}@primary-vds0`);
  await p.t.ok(p.dst, 'add-vdsdev', file, `${name}@primary-vds0`);
}

/** Start `ldm migrate-domain` in the background on the source. */
function background(...args: string[]) {
  const child = spawn(process.execPath, [path.join(BIN, 'ldm'), 'migrate-domain', '-p', p.pw, ...args], { env: p.t.env(p.src), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

async function waitMigrating(domain: string): Promise<void> {
  await waitFor(async () => (await domains(p, p.src)).get(domain)?.flags.endsWith('s') === true, 20_000, `${domain} flagged s on the source`);
}

test('an active domain moves live: same memory, same uptime, its console on the target, nothing left on the source', async () => {
  await makeGuest(p, p.src, 'ldg1');
  const before = await checksum(p.src, 'ldg1');
  const uptimeBefore = Number(/uptime=(\d+)/.exec(await p.t.ok(p.src, 'list', '-p', 'ldg1'))![1]);
  const r = await migrate(p, 'ldg1', `root@${p.dst}`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '', 'a successful migration prints nothing');
  assert.equal(r.stderr, '', 'and nothing on stderr when not on a terminal');

  assert.equal((await domains(p, p.src)).has('ldg1'), false, 'the source copy is gone');
  const there = (await domains(p, p.dst)).get('ldg1');
  assert.deepEqual(there, { state: 'active', flags: '-n----' });
  // The workload of this image writes nothing: the memory is exactly what left the source.
  assert.equal(await checksum(p.dst, 'ldg1'), before);
  const uptimeAfter = Number(/uptime=(\d+)/.exec(await p.t.ok(p.dst, 'list', '-p', 'ldg1'))![1]);
  assert.ok(uptimeAfter >= uptimeBefore, `uptime carries on (${uptimeBefore} -> ${uptimeAfter})`);
  assert.doesNotMatch(await p.t.ok(p.dst, 'list', '-o', 'status', 'ldg1'), /STATUS/, 'no STATUS once it is over');
  assert.doesNotMatch(await p.t.ok(p.src, 'list-bindings'), /ldg1/);

  // The guest runs on at the target's console: its own host name, a login prompt.
  const port = /cons=(\d+)/.exec(await p.t.ok(p.dst, 'list', '-p', 'ldg1'))![1];
  const term = Terminal.start(['telnet', p.t.address(p.dst), port]);
  terms.push(term);
  await term.waitFor(/Connecting to console "ldg1" in group "ldg1"/);
  term.type('');
  await term.waitFor(/guest1 console login:/);
  term.close();

  // Memory DR waits for a reboot after a live migration (seed, "Memory").
  const dr = await p.t.ldm(p.dst, 'set-memory', '2G', 'ldg1');
  assert.notEqual(dr.code, 0);
  assert.match(dr.stderr, /memory dynamic reconfiguration is disabled for the domain since its migration, until it reboots/);

  // And back, renamed on the way.
  const back = await p.t.run('ldm', ['migrate-domain', '-p', p.pw, 'ldg1', `root@${p.src}:ldg1b`], { host: p.dst });
  assert.equal(back.code, 0, back.stderr);
  assert.deepEqual((await domains(p, p.src)).get('ldg1b'), { state: 'active', flags: '-n----' });
  assert.equal((await domains(p, p.dst)).has('ldg1'), false);
  await p.t.ok(p.src, 'stop-domain', '-f', 'ldg1b');
  await p.t.ok(p.src, 'unbind-domain', 'ldg1b');
  await p.t.ok(p.src, 'remove-domain', 'ldg1b');
});

test('while a domain moves: -o status on both sides, s and t flags, the domain and the others locked; cancel-operation brings it back', async () => {
  await addBusyVolume('busy');
  await makeGuest(p, p.src, 'ldg2', { memory: '1G', vdisk: 'busy' });
  await makeGuest(p, p.src, 'other', { memory: '256M', state: 'bound', vnet: false, vdisk: null });
  const listingsBefore = await p.t.ok(p.dst, 'list-bindings', '-p');
  const m = background('ldg2', `root@${p.dst}`);
  await waitMigrating('ldg2');

  const status = await p.t.ok(p.src, 'list', '-o', 'status', 'ldg2');
  assert.match(status, /^STATUS\n {4}OPERATION {4}PROGRESS {4}TARGET\n {4}migration {4}\d{1,3}% +dst\n/m);
  assert.match(await p.t.ok(p.src, 'list', '-o', 'status', '-p', 'ldg2'), /^STATUS\n\|op=migration\|progress=\d{1,3}\|error=no\|target=dst$/m);
  assert.match(await p.t.ok(p.dst, 'list', '-o', 'status', 'ldg2'), /^ {4}OPERATION {4}PROGRESS {4}SOURCE\n {4}migration {4}\d{1,3}% +src\n/m);
  assert.equal((await domains(p, p.dst)).get('ldg2')?.flags.at(-1), 't');

  // Locked: the migrating domain on both hosts, state changes of others, delayed reconfiguration.
  const refused = async (host: string, re: RegExp, ...argv: string[]) => {
    const r = await p.t.ldm(host, ...argv);
    assert.notEqual(r.code, 0, `ldm ${argv.join(' ')} must be refused`);
    assert.match(r.stderr, re);
  };
  await refused(p.src, /LDom ldg2 is being migrated: no other operation is allowed on it until the migration ends/, 'set-vcpu', '4', 'ldg2');
  await refused(p.src, /LDom ldg2 is being migrated/, 'stop-domain', 'ldg2');
  await refused(p.src, /LDom ldg2 is being migrated/, 'panic-domain', 'ldg2');
  await refused(p.dst, /LDom ldg2 is being migrated/, 'start-domain', 'ldg2');
  await refused(p.src, /Unable to change the state of LDom other: a domain migration is in progress on this machine \(ldg2\)/, 'start-domain', 'other');
  await refused(p.src, /Delayed reconfiguration is not allowed while a domain migration is in progress on this machine/, 'start-reconf', 'primary');
  await refused(p.dst, /only the source machine can cancel it/, 'cancel-operation', 'migration', 'ldg2');
  // Other changes go on: a variable of another domain.
  await p.t.ok(p.src, 'set-variable', 'auto-boot?=false', 'other');

  await p.t.ok(p.src, 'cancel-operation', 'migration', 'ldg2');
  const r = await m.done;
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'Migration cancelled\nDomain Migration of LDom ldg2 failed\n');
  assert.deepEqual((await domains(p, p.src)).get('ldg2'), { state: 'active', flags: '-n----' });
  await waitFor(async () => !(await domains(p, p.dst)).has('ldg2'), 10_000, 'the target copy discarded');
  const noUptime = (s: string) => s.replace(/\|uptime=\d+/g, '');
  assert.equal(noUptime(await p.t.ok(p.dst, 'list-bindings', '-p')), noUptime(listingsBefore), 'the target is as before');
  assert.doesNotMatch(await p.t.ok(p.src, 'list', '-o', 'status', 'ldg2'), /STATUS/);
  // The guest runs on: its memory keeps changing.
  const c1 = await checksum(p.src, 'ldg2');
  await new Promise((res) => setTimeout(res, 300));
  assert.notEqual(await checksum(p.src, 'ldg2'), c1, 'the source guest resumed');
  await p.t.ok(p.src, 'start-domain', 'other');
});

test('killing ldm cancels the migration; losing its shell (SIGHUP) does not', async () => {
  const m = background('ldg2', `root@${p.dst}`);
  await waitMigrating('ldg2');
  m.child.kill('SIGKILL');
  await m.done;
  await waitFor(async () => (await domains(p, p.src)).get('ldg2')?.flags === '-n----', 15_000, 'ldg2 running on the source again');
  await waitFor(async () => !(await domains(p, p.dst)).has('ldg2'), 15_000, 'nothing on the target');

  const h = background('ldg2', `root@${p.dst}`);
  await waitMigrating('ldg2');
  h.child.kill('SIGHUP');
  const r = await h.done;
  assert.equal(r.signal, null, 'ldm ignores the hang-up');
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await domains(p, p.dst)).get('ldg2')?.state, 'active');
  assert.equal((await domains(p, p.src)).has('ldg2'), false);
});

test('on a terminal: Target Password: without echo, and a progress line on stderr', async () => {
  await makeGuest(p, p.src, 'ldg3', { memory: '1G' });
  // The shell keeps the pane open after ldm exits, to read what it left on the screen.
  const cmd = `LDOMS_HOME=${p.t.home} LDOMS_HOST=${p.src} ${process.execPath} ${path.join(BIN, 'ldm')} migrate ldg3 root@${p.dst}; echo "exit=$?"; sleep 60`;
  const term = Terminal.start(['sh', '-c', cmd]);
  terms.push(term);
  await term.waitFor(/Target Password:/);
  term.type(PASSWORD);
  const screen = await term.waitFor(/exit=\d+/, 30_000);
  assert.match(screen, /Target Password:\n(\r?Migration of LDom ldg3 to dst: \d+%)*\r?Migration of LDom ldg3 to dst: 100%\nexit=0\n/);
  assert.ok(!screen.includes(PASSWORD), 'the password is not echoed');
  await waitFor(async () => (await domains(p, p.dst)).get('ldg3')?.state === 'active', 10_000, 'ldg3 on the target');
});

test('a user with solaris.ldoms.write on both hosts migrates; the password file must be private', async () => {
  const nobody = os.userInfo().uid === 0 ? 65534 : null;
  const pwFile = path.join(p.t.home, 'nobody-pw');
  fs.writeFileSync(pwFile, `${PASSWORD}\n`, { mode: 0o644 });
  const loose = await p.t.run('ldm', ['migrate-domain', '-n', '-p', pwFile, 'ldg2', `root@${p.src}`], { host: p.dst });
  assert.equal(loose.code, 1);
  assert.match(loose.stderr, new RegExp(`^Password file ${pwFile} must not be accessible by group or others \\(mode 644\\); run chmod 600`));
  if (nobody === null) return;
  await p.t.run('ldoms', ['auth', 'grant', 'nobody', 'solaris.ldoms.write']);
  fs.chmodSync(pwFile, 0o600);
  fs.chownSync(pwFile, nobody, nobody);
  const r = await p.t.run('ldm', ['migrate-domain', '-n', '-p', pwFile, 'ldg2', `root@${p.src}`], { host: p.dst, uid: nobody, gid: nobody });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout + r.stderr, '');
});

test('the XML interface action migrate-domain moves a domain, the password never echoed back', async () => {
  await makeGuest(p, p.src, 'ldgx', { memory: '512M' });
  const b64 = (v: string) => Buffer.from(v).toString('base64');
  const data = MIGRATION.replaceAll('ldg1', 'ldgx')
    .replace('target-host', p.dst)
    .replace('user-name', b64('root'))
    .replace('>password<', `>${b64(PASSWORD)}<`);
  const doc = `<LDM_interface version="1.1"><cmd><action>migrate-domain</action><data version="3.0">${data}</data></cmd></LDM_interface>`;
  // A subscriber of hardware events also gets the migration's progress events (§4.4).
  const events = await connectXmpp({ host: p.t.address(p.src), timeoutMs: 60_000 });
  events.send('<LDM_interface version="1.1"><cmd><action>reg-hardware-events</action><data version="3.0"/></cmd></LDM_interface>');
  assert.match(await events.next(), /<status>success<\/status>/);
  // A local client of the source host (its own address): the control domain's own tools.
  const c = await connectXmpp({ host: p.t.address(p.src), timeoutMs: 60_000 });
  try {
    c.send(doc);
    const answer = await c.next(60_000);
    assert.match(answer, /<status>success<\/status>/, answer);
    assert.ok(!answer.includes(b64(PASSWORD)) && !answer.includes(PASSWORD), 'the password is not in the response');
    const seen: string[] = [];
    while (!seen.some((e) => /key=.status.>done</.test(e))) seen.push(await events.next(5000));
    const progress = seen.filter((e) => /<action>migration-process<\/action>/.test(e));
    assert.ok(progress.length >= 2, 'progress events while it ran');
    for (const e of progress) assert.match(e, /id=.ldgx./);
    assert.match(progress.at(-1)!, /key=.progress.>100%<.*key=.status.>done<.*key=.source.>src</s);
  } finally {
    c.close();
    events.close();
  }
  assert.equal((await domains(p, p.dst)).get('ldgx')?.state, 'active');
  assert.equal((await domains(p, p.src)).has('ldgx'), false);
});
