// Who may do what, end to end: `ldm` run as the unprivileged OS user `nobody` against a real
// host, with authorizations granted and revoked through `ldoms auth`, and hand-made answers to the
// daemon's identity challenge (ldm-cli.md §8: solaris.ldoms.read for list-*, solaris.ldoms.write
// for everything that changes state; refusals contain `Authorization failed`, §7).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { COMMANDS, resolveCommand } from '../src/commands/table.js';
import { BIN, ROOT, TestHome, type RunResult } from './helpers/hosts.js';
import { rawLdm } from './helpers/raw-ldm.js';

const home = new TestHome('ldoms-auth-');
const H = 'auth';

function passwdEntry(name: string): { uid: number; gid: number } {
  for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === name) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  throw new Error(`no user ${name} in /etc/passwd`);
}

const NOBODY = passwdEntry('nobody');
const nobody = (...args: string[]): Promise<RunResult> => home.run('ldm', args, { host: H, ...NOBODY });
const ldoms = async (...args: string[]): Promise<string> => {
  const r = await home.run('ldoms', args);
  assert.equal(r.code, 0, `ldoms ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

const READ = COMMANDS.filter((c) => c.auth === 'solaris.ldoms.read').map((c) => c.name);
const WRITE = COMMANDS.filter((c) => c.auth === 'solaris.ldoms.write').map((c) => c.name);

const disk = (n: number) => path.join(home.home, `d${n}.img`);
const xmlFile = path.join(home.home, 'ldgx.xml');
const secretXml = path.join(home.home, 'secret.xml');

/**
 * Everything a refused command could have changed: constraints, bindings, states and flags,
 * DRM policies, SP configurations. Utilization and uptime move on their own and are left out.
 */
async function snapshot(): Promise<string> {
  const constraints = await home.ok(H, 'list-constraints', '-p');
  const bindings = (await home.ok(H, 'list-bindings', '-p')).replace(/\|(util|uptime)=[^|\n]*/g, '');
  const policies = await home.ok(H, 'list', '-o', 'resmgmt', '-p');
  const spconfig = await home.ok(H, 'list-spconfig');
  return [constraints, bindings, policies, spconfig].join('--\n');
}

function assertRefused(r: RunResult, what: string): void {
  assert.notEqual(r.code, 0, `${what} exited 0: ${r.stdout}`);
  assert.match(r.stderr, /^Authorization failed: /, `${what}: ${r.stderr}`);
  assert.equal(r.stdout, '', what);
}

// The state the refused commands aim at: each of them would succeed (or at least change
// something) if it were let through.
//   ldg1 inactive (vnet0, vdisk0, vdpcc0, policy pol1, 1 crypto unit, auto-boot?=false),
//   ldg2 active, ldg3 bound; primary serves vcc, vds, vsw and vdpcs.
before(async () => {
  // nobody runs node on bin/ldm, which loads dist/: the checkout must be readable by others.
  const probe = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(path.join(ROOT, 'dist', 'src', 'cli', 'ldm.js'))}, 4)`], { ...NOBODY });
  if (probe.status !== 0) throw new Error(`user nobody cannot read ${ROOT}/dist (${BIN}): make the checkout world-readable to run this test`);

  await home.startHost(H, '--platform', 't5240', '--cores', '4', '--memory', '32G');
  for (const n of [0, 1]) {
    fs.writeFileSync(disk(n), '');
    fs.truncateSync(disk(n), 1 << 30);
  }
  await home.ok(H, 'add-vcc', 'port-range=5000-5100', 'primary-vcc0', 'primary');
  await home.ok(H, 'add-vds', 'primary-vds0', 'primary');
  await home.ok(H, 'add-vsw', 'net-dev=nxge0', 'primary-vsw0', 'primary');
  await home.ok(H, 'add-vdsdev', disk(0), 'vol0@primary-vds0');
  await home.ok(H, 'start-reconf', 'primary');
  await home.ok(H, 'set-crypto', '1', 'primary');
  await home.ok(H, 'set-vcpu', '8', 'primary');
  await home.ok(H, 'set-memory', '3872M', 'primary');
  const r = await home.run('ldoms', ['host', 'reboot', H]);
  assert.equal(r.code, 0, r.stderr);

  await home.ok(H, 'add-domain', 'ldg1');
  await home.ok(H, 'add-vcpu', '8', 'ldg1');
  await home.ok(H, 'add-crypto', '1', 'ldg1');
  await home.ok(H, 'add-memory', '2G', 'ldg1');
  await home.ok(H, 'add-vnet', 'vnet0', 'primary-vsw0', 'ldg1');
  await home.ok(H, 'add-vdisk', 'vdisk0', 'vol0@primary-vds0', 'ldg1');
  await home.ok(H, 'add-variable', 'auto-boot?=false', 'ldg1');
  await home.ok(H, 'add-vdpcs', 'primary-vdpcs0', 'primary');
  await home.ok(H, 'add-vdpcc', 'vdpcc0', 'primary-vdpcs0', 'ldg1');
  await home.ok(H, 'add-policy', 'name=pol1', 'ldg1');
  for (const d of ['ldg2', 'ldg3']) {
    await home.ok(H, 'add-domain', d);
    await home.ok(H, 'add-vcpu', '8', d);
    await home.ok(H, 'add-memory', '1G', d);
    await home.ok(H, 'bind', d);
  }
  await home.ok(H, 'start', 'ldg2');
  await home.ok(H, 'add-spconfig', 'cfg1');

  // A document for the -i forms: ldg1 under another name, without its UUID and MACs (they are taken).
  const xml = (await home.ok(H, 'list-constraints', '-x', 'ldg1'))
    .replace('id="ldg1"', 'id="ldgx"')
    .split('\n')
    .filter((l) => !/<uuid>|<rasd:Address>|key="hostid"/.test(l))
    .join('\n');
  fs.writeFileSync(xmlFile, xml, { mode: 0o644 });
  fs.writeFileSync(secretXml, xml, { mode: 0o600 });
  fs.chmodSync(secretXml, 0o600);
});
after(() => home.cleanup());

/** One plausible invocation of every write command against the state built in before(). */
const WRITE_ARGV: Record<string, string[]> = {
  'add-domain': ['add-domain', 'x'],
  'set-domain': ['set-domain', 'failure-policy=reset', 'ldg1'],
  'remove-domain': ['remove-domain', 'ldg1'],
  'bind-domain': ['bind-domain', 'ldg1'],
  'unbind-domain': ['unbind-domain', 'ldg3'],
  'start-domain': ['start-domain', 'ldg3'],
  'stop-domain': ['stop-domain', 'ldg2'],
  'panic-domain': ['panic-domain', 'ldg2'],
  'add-vcpu': ['add-vcpu', '8', 'ldg1'],
  'set-vcpu': ['set-vcpu', '16', 'ldg1'],
  'remove-vcpu': ['remove-vcpu', '4', 'ldg1'],
  'add-crypto': ['add-crypto', '1', 'ldg1'],
  'set-crypto': ['set-crypto', '2', 'ldg1'],
  'remove-crypto': ['remove-crypto', '1', 'ldg1'],
  'add-memory': ['add-memory', '1G', 'ldg1'],
  'set-memory': ['set-memory', '4G', 'ldg1'],
  'remove-memory': ['remove-memory', '1G', 'ldg1'],
  'start-reconf': ['start-reconf', 'primary'],
  'cancel-reconf': ['cancel-reconf', 'primary'],
  'cancel-operation': ['cancel-operation', 'reconf', 'primary'],
  'migrate-domain': ['migrate-domain', '-n', 'ldg1', 'nohost'],
  'add-io': ['add-io', 'pci@500', 'ldg1'],
  'remove-io': ['remove-io', 'pci@500', 'primary'],
  'add-vsw': ['add-vsw', 'net-dev=nxge1', 'primary-vsw1', 'primary'],
  'set-vsw': ['set-vsw', 'mtu=9000', 'primary-vsw0'],
  'remove-vsw': ['remove-vsw', '-f', 'primary-vsw0'],
  'add-vnet': ['add-vnet', 'vnet1', 'primary-vsw0', 'ldg1'],
  'set-vnet': ['set-vnet', 'pvid=2', 'vnet0', 'ldg1'],
  'remove-vnet': ['remove-vnet', 'vnet0', 'ldg1'],
  'add-vds': ['add-vds', 'primary-vds1', 'primary'],
  'remove-vds': ['remove-vds', '-f', 'primary-vds0'],
  'add-vdsdev': ['add-vdsdev', disk(1), 'vol1@primary-vds0'],
  'set-vdsdev': ['set-vdsdev', 'options=ro', 'vol0@primary-vds0'],
  'remove-vdsdev': ['remove-vdsdev', '-f', 'vol0@primary-vds0'],
  'add-vdisk': ['add-vdisk', 'vdisk1', 'vol0@primary-vds0', 'ldg1'],
  'set-vdisk': ['set-vdisk', 'timeout=10', 'vdisk0', 'ldg1'],
  'remove-vdisk': ['remove-vdisk', 'vdisk0', 'ldg1'],
  'add-vcc': ['add-vcc', 'port-range=6000-6100', 'primary-vcc1', 'primary'],
  'set-vcc': ['set-vcc', 'port-range=5000-5200', 'primary-vcc0'],
  'remove-vcc': ['remove-vcc', 'primary-vcc0'],
  'set-vcons': ['set-vcons', 'group=grp', 'port=5050', 'ldg1'],
  'add-variable': ['add-variable', 'boot-device=disk net', 'ldg1'],
  'set-variable': ['set-variable', 'auto-boot?=true', 'ldg1'],
  'remove-variable': ['remove-variable', 'auto-boot?', 'ldg1'],
  'add-vdpcs': ['add-vdpcs', 'primary-vdpcs1', 'primary'],
  'remove-vdpcs': ['remove-vdpcs', '-f', 'primary-vdpcs0'],
  'add-vdpcc': ['add-vdpcc', 'vdpcc1', 'primary-vdpcs0', 'ldg1'],
  'remove-vdpcc': ['remove-vdpcc', 'vdpcc0', 'ldg1'],
  'add-policy': ['add-policy', 'enable=yes', 'vcpu-max=16', 'name=pol2', 'ldg1'],
  'set-policy': ['set-policy', 'priority=2', 'name=pol1', 'ldg1'],
  'remove-policy': ['remove-policy', 'pol1', 'ldg1'],
  'add-spconfig': ['add-spconfig', 'cfg2'],
  'set-spconfig': ['set-spconfig', 'factory-default'],
  'remove-spconfig': ['remove-spconfig', 'cfg1'],
};

/** The other spellings of write requests: documents, shortcuts and verb/noun aliases. */
const WRITE_VARIANTS: string[][] = [
  ['add-domain', '-i', xmlFile],
  ['set-domain', '-i', xmlFile],
  ['bind-domain', '-i', xmlFile],
  ['start-domain', '-i', xmlFile],
  ['create', 'y'],
  ['bind', 'ldg1'],
  ['start', 'ldg3'],
  ['stop', '-a'],
  ['rm-domain', '-a'],
  ['destroy', 'ldg1'],
  ['create-vnet', 'vnet2', 'primary-vsw0', 'ldg1'],
  ['rm-vdisk', 'vdisk0', 'ldg1'],
  ['set-mau', '2', 'ldg1'],
  ['set-mem', '4G', 'ldg1'],
  ['add-config', 'cfg3'],
];

const READ_ARGV: string[][] = [
  ['list'],
  ['list-bindings'],
  ['list-services'],
  ['list-constraints'],
  ['list-constraints', '-x'],
  ['list-devices', '-a'],
  ['list-io'],
  ['list-spconfig'],
  ['list-variable', 'ldg1'],
  ['-V'],
];

test('the tables of this test cover the whole command table', () => {
  const missing = WRITE.filter((n) => !(n in WRITE_ARGV));
  assert.deepEqual(missing, [], `write commands without an invocation in WRITE_ARGV: ${missing.join(', ')}`);
  assert.deepEqual(Object.keys(WRITE_ARGV).sort(), [...WRITE].sort());
  for (const [name, argv] of Object.entries(WRITE_ARGV)) assert.equal(resolveCommand(argv[0])?.name, name);
  for (const argv of WRITE_VARIANTS) assert.equal(resolveCommand(argv[0])?.auth, 'solaris.ldoms.write', argv[0]);
  const readNames = new Set(READ_ARGV.filter((a) => a[0] !== '-V').map((a) => resolveCommand(a[0])?.name));
  assert.deepEqual([...readNames].sort(), [...READ].sort());
});

test('no authorizations: nobody can neither read nor write', async () => {
  assert.equal(await ldoms('auth', 'list'), '');
  const before = await snapshot();
  const r = await nobody('list');
  assertRefused(r, 'ldm list');
  assert.equal(r.stderr, 'Authorization failed: user nobody does not have the solaris.ldoms.read authorization\n');
  const w = await nobody('add-domain', 'x');
  assertRefused(w, 'ldm add-domain x');
  assert.equal(w.stderr, 'Authorization failed: user nobody does not have the solaris.ldoms.write authorization\n');
  assertRefused(await nobody('-V'), 'ldm -V');
  assert.equal(await snapshot(), before);
  const x = await home.ldm(H, 'list', 'x');
  assert.notEqual(x.code, 0);
  // Host administration through the daemon needs solaris.ldoms.write as well.
  const reboot = await home.run('ldoms', ['host', 'reboot', H], NOBODY);
  assert.notEqual(reboot.code, 0);
  assert.match(reboot.stderr, /Authorization failed/);
});

test('solaris.ldoms.read: every list command works, every write command is refused', async () => {
  await ldoms('auth', 'grant', 'nobody', 'solaris.ldoms.read');
  assert.equal(await ldoms('auth', 'list'), 'nobody::::auths=solaris.ldoms.read\n');

  const uptime = /\|uptime=\d*|\b\d+[smhd]\b/g;
  const reads = [...READ_ARGV, ...READ.filter((n) => !READ_ARGV.some((a) => a[0] === n)).map((n) => [n])];
  for (const argv of reads) {
    const r = await nobody(...argv);
    assert.equal(r.code, 0, `ldm ${argv.join(' ')}: ${r.stderr}`);
    assert.notEqual(r.stdout, '', `ldm ${argv.join(' ')} printed nothing`);
    // The same answer root gets (uptimes aside: they tick between the two runs).
    const root = await home.ok(H, ...argv);
    assert.equal(r.stdout.replace(uptime, 'T'), root.replace(uptime, 'T'), `ldm ${argv.join(' ')}`);
  }

  const before = await snapshot();
  // Straight from the table, so that a write command added later is checked too.
  const writes = WRITE.map((n) => WRITE_ARGV[n] ?? [n]);
  assert.ok(writes.length >= 40, 'the table lists the write commands');
  for (const argv of [...writes, ...WRITE_VARIANTS]) {
    const r = await nobody(...argv);
    assertRefused(r, `ldm ${argv.join(' ')}`);
    assert.match(r.stderr, /does not have the solaris\.ldoms\.write authorization\n$/);
  }
  assert.equal(await snapshot(), before);
  const reboot = await home.run('ldoms', ['host', 'reboot', H], NOBODY);
  assert.match(reboot.stderr, /Authorization failed/);
  assert.equal(await snapshot(), before);
});

test('solaris.ldoms.write: nobody runs every write command', async () => {
  await ldoms('auth', 'grant', 'nobody', 'solaris.ldoms.write');
  assert.equal(await ldoms('auth', 'list'), 'nobody::::auths=solaris.ldoms.read,solaris.ldoms.write\n');

  const sequence: string[][] = [
    ['add-domain', 'ldg4'],
    ['add-domain', 'ldg5'],
    ['set-domain', 'failure-policy=reset', 'ldg4'],
    ['add-vcpu', '8', 'ldg4'],
    ['set-vcpu', '16', 'ldg4'],
    ['remove-vcpu', '8', 'ldg4'],
    ['add-crypto', '1', 'ldg4'],
    ['set-crypto', '2', 'ldg4'],
    ['remove-crypto', '1', 'ldg4'],
    ['add-memory', '2G', 'ldg4'],
    ['set-memory', '3G', 'ldg4'],
    ['remove-memory', '1G', 'ldg4'],
    ['add-vsw', 'net-dev=nxge1', 'primary-vsw1', 'primary'],
    ['set-vsw', 'mtu=9000', 'primary-vsw1'],
    ['add-vnet', 'vnet1', 'primary-vsw1', 'ldg5'],
    ['set-vnet', 'pvid=2', 'vnet1', 'ldg5'],
    ['remove-vnet', 'vnet1', 'ldg5'],
    ['remove-vsw', 'primary-vsw1'],
    ['add-vds', 'primary-vds1', 'primary'],
    ['add-vdsdev', disk(1), 'vol1@primary-vds1'],
    ['set-vdsdev', 'options=ro', 'vol1@primary-vds1'],
    ['add-vdisk', 'vdisk1', 'vol1@primary-vds1', 'ldg5'],
    ['set-vdisk', 'timeout=10', 'vdisk1', 'ldg5'],
    ['remove-vdisk', 'vdisk1', 'ldg5'],
    ['remove-vdsdev', 'vol1@primary-vds1'],
    ['remove-vds', 'primary-vds1'],
    ['add-vcc', 'port-range=6000-6100', 'primary-vcc1', 'primary'],
    ['set-vcc', 'port-range=6000-6200', 'primary-vcc1'],
    ['remove-vcc', 'primary-vcc1'],
    ['set-vcons', 'group=grp4', 'port=5060', 'ldg4'],
    ['add-variable', 'boot-device=disk net', 'auto-boot?=true', 'ldg4'],
    ['set-variable', 'auto-boot?=false', 'ldg4'],
    ['remove-variable', 'boot-device', 'ldg4'],
    ['add-vdpcs', 'primary-vdpcs1', 'primary'],
    ['add-vdpcc', 'vdpcc1', 'primary-vdpcs1', 'ldg5'],
    ['remove-vdpcc', 'vdpcc1', 'ldg5'],
    ['remove-vdpcs', 'primary-vdpcs1'],
    ['add-policy', 'name=p4', 'ldg4'],
    ['add-policy', 'name=p5', 'ldg4'],
    ['set-policy', 'priority=3', 'vcpu-max=16', 'name=p4', 'ldg4'],
    ['remove-policy', 'p5', 'ldg4'],
    ['bind-domain', 'ldg4'],
    ['start-domain', 'ldg4'],
    ['panic-domain', 'ldg4'],
    ['stop-domain', 'ldg4'],
    ['unbind-domain', 'ldg4'],
    ['start-reconf', 'primary'],
    ['cancel-reconf', 'primary'],
    ['start-reconf', 'primary'],
    ['cancel-operation', 'reconf', 'primary'],
    ['start-reconf', 'primary'],
    ['remove-io', 'pci@500', 'primary'],
    ['add-io', 'pci@500', 'primary'],
    ['cancel-reconf', 'primary'],
    ['add-spconfig', 'cfg2'],
    ['set-spconfig', 'cfg1'],
    ['remove-spconfig', 'cfg2'],
    ['remove-domain', 'ldg5'],
  ];
  // migrate-domain needs a second host: test/migration.test.ts runs it as nobody with the authorization.
  assert.deepEqual([...new Set(sequence.map((a) => resolveCommand(a[0])!.name))].sort(), WRITE.filter((w) => w !== 'migrate-domain').sort());
  for (const argv of sequence) {
    const r = await nobody(...argv);
    assert.equal(r.code, 0, `ldm ${argv.join(' ')} as nobody: ${r.stderr}`);
  }

  const ldg4 = await home.ok(H, 'list-constraints', '-p', 'ldg4');
  assert.match(ldg4, /^CONTROL\|failure-policy=reset$/m);
  assert.match(ldg4, /^VCPU\|count=8$/m);
  assert.match(ldg4, /^MAU\|count=1$/m);
  assert.match(ldg4, /^MEMORY\|size=2147483648$/m);
  assert.match(ldg4, /^VARIABLES\n\|auto-boot\?=false\n/m);
  assert.match(ldg4, /^VCONS\|group=grp4\|service=\|port=5060$/m);
  assert.match(await home.ok(H, 'list'), /^ldg4 +inactive /m);
  const pol = (await home.ok(H, 'list', '-o', 'resmgmt', '-p', 'ldg4')).split('\n').filter((l) => l.startsWith('POLICY|'));
  assert.equal(pol.length, 1, 'one policy left on ldg4');
  assert.match(pol[0], /\|pri=3\|min=1\|max=16\|.*\|name=p4$/);
  assert.notEqual((await home.ldm(H, 'list', 'ldg5')).code, 0);
  assert.doesNotMatch(await home.ok(H, 'list-spconfig'), /cfg2/);

  // A document is read by the caller's ldm process, with the caller's rights.
  assert.equal((await nobody('add-domain', '-i', xmlFile)).code, 0);
  assert.match(await home.ok(H, 'list'), /^ldgx +inactive +------ +8 +2G$/m);
  const denied = await nobody('add-domain', '-i', secretXml);
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /^Cannot read /);
  assert.equal((await nobody('remove-domain', 'ldgx')).code, 0);
  assert.equal((await home.ok(H, 'add-domain', '-i', secretXml)), '');
  await home.ok(H, 'remove-domain', 'ldgx');
});

test('revoking takes effect on the next command; other users keep their lines', async () => {
  await ldoms('auth', 'grant', 'daemon', 'solaris.ldoms.read');
  await ldoms('auth', 'revoke', 'nobody', 'solaris.ldoms.write');
  // A user's line stays where it was; a grant for a new user is appended.
  assert.equal(await ldoms('auth', 'list'), 'nobody::::auths=solaris.ldoms.read\ndaemon::::auths=solaris.ldoms.read\n');
  const before = await snapshot();
  assertRefused(await nobody('add-domain', 'x'), 'ldm add-domain x');
  assertRefused(await nobody('remove-domain', 'ldg4'), 'ldm remove-domain ldg4');
  assert.equal(await snapshot(), before);
  assert.equal((await nobody('list')).code, 0);

  await ldoms('auth', 'revoke', 'nobody');
  assert.equal(await ldoms('auth', 'list'), 'daemon::::auths=solaris.ldoms.read\n');
  assertRefused(await nobody('list'), 'ldm list');
  assertRefused(await nobody('list-constraints', '-x'), 'ldm list-constraints -x');

  // solaris.ldoms.* covers both, as the "LDoms Management" profile does.
  await ldoms('auth', 'grant', 'nobody', 'solaris.ldoms.*');
  assert.equal(await ldoms('auth', 'list'), 'daemon::::auths=solaris.ldoms.read\nnobody::::auths=solaris.ldoms.*\n');
  assert.equal((await nobody('add-domain', 'ldg6')).code, 0);
  assert.equal((await nobody('remove-domain', 'ldg6')).code, 0);
  assert.equal((await nobody('list')).code, 0);
  await ldoms('auth', 'revoke', 'nobody');
  assertRefused(await nobody('list'), 'ldm list');

  // Unknown authorizations are not written.
  const bad = await home.run('ldoms', ['auth', 'grant', 'nobody', 'solaris.ldoms.admin']);
  assert.notEqual(bad.code, 0);
  assert.equal(await ldoms('auth', 'list'), 'daemon::::auths=solaris.ldoms.read\n');
});

test('a user_attr file in Solaris form is honoured', async () => {
  fs.writeFileSync(
    path.join(home.home, 'user_attr'),
    '# user_attr written by hand\nroot::::type=normal;auths=solaris.*;profiles=All\nnobody::::type=normal;auths=solaris.ldoms.read;profiles=Basic Solaris User\n',
  );
  assert.equal((await nobody('list')).code, 0);
  assertRefused(await nobody('add-domain', 'x'), 'ldm add-domain x');
  fs.writeFileSync(path.join(home.home, 'user_attr'), '#nobody::::auths=solaris.*\nnobody::::profiles=All\n');
  assertRefused(await nobody('list'), 'ldm list');
  fs.rmSync(path.join(home.home, 'user_attr'));
  assertRefused(await nobody('list'), 'ldm list');
});

// Answering the challenge by hand, as a client of the socket (protocol: src/cli/client.ts).

interface RawResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Where the daemon asked for the proof. */
  proof: string;
}

async function rawRun(argv: string[], answer: (file: string, nonce: string) => void): Promise<RawResult> {
  let proof = '';
  const r = await rawLdm(path.join(home.hostDir(H), 'run', 'ldmd.sock'), argv, {
    challenge: (dir, nonce) => {
      proof = path.join(dir, nonce);
      answer(proof, nonce);
    },
  });
  return { ...r, proof };
}

const UNIDENTIFIED = 'Authorization failed: the caller could not be identified\n';

test('a forged or missing proof of identity is refused', async () => {
  const before = await snapshot();
  const outside = path.join(home.home, 'outside');

  // (a) `proved` without creating the file.
  let r = await rawRun(['add-domain', 'evil'], () => {});
  assert.equal(r.stderr, UNIDENTIFIED);
  assert.equal(r.code, 1);

  // (b) The file, holding something else than the nonce.
  r = await rawRun(['add-domain', 'evil'], (file, nonce) => fs.writeFileSync(file, `${nonce}\n`));
  assert.equal(r.stderr, UNIDENTIFIED);
  assert.equal(fs.existsSync(r.proof), false, 'the daemon removes the proof');

  // (c) A symbolic link to a file that does hold the nonce.
  r = await rawRun(['add-domain', 'evil'], (file, nonce) => {
    fs.writeFileSync(outside, nonce);
    fs.symlinkSync(outside, file);
  });
  assert.equal(r.stderr, UNIDENTIFIED);
  assert.equal(fs.existsSync(outside), true, 'the link target is left alone');

  // (d) A hard link: the file would be someone else's, created earlier.
  r = await rawRun(['add-domain', 'evil'], (file, nonce) => {
    fs.writeFileSync(outside, nonce);
    fs.linkSync(outside, file);
  });
  assert.equal(r.stderr, UNIDENTIFIED);

  // (e) The proof of an earlier request does not carry over.
  let stale = '';
  await rawRun(['list'], (file) => (stale = file));
  const replay = path.join(path.dirname(stale), path.basename(stale));
  r = await rawRun(['add-domain', 'evil'], () => fs.writeFileSync(replay, path.basename(stale)));
  assert.equal(r.stderr, UNIDENTIFIED);
  fs.rmSync(replay);

  assert.equal(await snapshot(), before);
  assert.notEqual((await home.ldm(H, 'list', 'evil')).code, 0);

  // Control: the same request with an honest proof goes through (as root, who runs this test).
  r = await rawRun(['add-domain', 'evil'], (file, nonce) => {
    const fd = fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o600);
    fs.writeSync(fd, nonce);
    fs.closeSync(fd);
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(fs.existsSync(r.proof), false);
  await home.ok(H, 'remove-domain', 'evil');
});

test('a directory in place of the proof is refused and the daemon keeps serving', async () => {
  const r = await rawRun(['add-domain', 'evil'], (file) => fs.mkdirSync(file));
  assert.equal(r.stderr, UNIDENTIFIED);
  assert.equal((await home.ldm(H, 'list', 'primary')).code, 0);
  assert.notEqual((await home.ldm(H, 'list', 'evil')).code, 0);
});
