// Randomized invariant test: thousands of operations (the short run in `npm test`, 10,000 with
// LDOMS_LONG=1) with ldmd killed -9 at random moments, in flight or between commands, and the
// machine process killed now and then. After every restart: no strand, crypto unit, memory byte,
// MAC address or console port is bound twice; the database agrees with the machine process; and
// nothing a command acknowledged was lost.

import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { TestHome } from './helpers/hosts.js';
import { rawLdm } from './helpers/raw-ldm.js';

const LONG = process.env.LDOMS_LONG === '1';
const OPS = Number(process.env.LDOMS_INVARIANT_OPS ?? (LONG ? 10_000 : 1_200));
const H = 'inv';
const home = new TestHome();

// Deterministic pseudo-random sequence (mulberry32), seed printed so that a failure can be replayed.
const SEED = Number(process.env.LDOMS_SEED ?? Date.now() % 1_000_000);
let state = SEED;
function rnd(): number {
  state |= 0;
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));

const sock = () => path.join(home.hostDir(H), 'run', 'ldmd.sock');
const ldm = (...argv: string[]) => rawLdm(sock(), argv);

async function ldmOk(...argv: string[]): Promise<string> {
  const r = await ldm(...argv);
  assert.equal(r.code, 0, `ldm ${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

before(async () => {
  await home.startHost(H, '--platform', 't5240', '--cores', '4', '--memory', '32G');
  await ldmOk('add-vcc', 'port-range=5000-5009', 'primary-vcc0', 'primary');
  await ldmOk('add-vds', 'primary-vds0', 'primary');
  await ldmOk('add-vsw', 'net-dev=nxge0', 'primary-vsw0', 'primary');
  for (let i = 0; i < 3; i++) await ldmOk('add-vdsdev', `/backend/disk${i}`, `vol${i}@primary-vds0`);
  await ldmOk('start-reconf', 'primary');
  await ldmOk('set-crypto', '1', 'primary');
  await ldmOk('set-vcpu', '8', 'primary');
  await ldmOk('set-memory', '4128M', 'primary');
  const r = await home.run('ldoms', ['host', 'reboot', H]);
  assert.equal(r.code, 0, r.stderr);
});
after(() => home.cleanup());

interface MachineFile {
  platform: any;
  domains: { name: string; state: string; constraints: any; binding: any }[];
}

/** The oracle: checks written here, independently of the manager's own guard. */
function checkInvariants(): { names: string[] } {
  const m = JSON.parse(fs.readFileSync(path.join(home.hostDir(H), 'machine.json'), 'utf8')) as MachineFile;
  const p = m.platform;
  const claim = (seen: Map<string, string>, key: string, owner: string, what: string) => {
    assert.ok(!seen.has(key), `${what} ${key} bound to both ${seen.get(key)} and ${owner}`);
    seen.set(key, owner);
  };
  const strands = new Map<string, string>();
  const crypto = new Map<string, string>();
  const ports = new Map<string, string>();
  const bytes: [number, number, string][] = p.memory.reserved.map((r: any) => [r.pa, r.pa + r.size, '_sys_']);
  for (const d of m.domains) {
    for (const s of d.binding.strands) claim(strands, String(s), d.name, 'strand');
    for (const c of d.binding.crypto) claim(crypto, String(c), d.name, 'crypto unit');
    if (d.binding.console.port !== null) {
      // One port per console group: domains of the same group share it, no other domain may.
      const holder = ports.get(String(d.binding.console.port));
      assert.ok(holder === undefined || holder === d.binding.console.group, `console port ${d.binding.console.port} bound to groups ${holder} and ${d.binding.console.group}`);
      ports.set(String(d.binding.console.port), d.binding.console.group);
    }
    for (const b of d.binding.mblocks) bytes.push([b.pa, b.pa + b.size, d.name]);
    // Strands per constraint, memory at least the constraint.
    assert.equal(d.binding.strands.length, d.constraints.vcpus, `${d.name}: bound strands vs constraint`);
    const mem = d.binding.mblocks.reduce((n: number, b: any) => n + b.size, 0);
    assert.ok(mem >= d.constraints.memory, `${d.name}: bound memory below its constraint`);
  }
  bytes.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < bytes.length; i++) {
    assert.ok(bytes[i][0] >= bytes[i - 1][1], `memory 0x${bytes[i][0].toString(16)} bound to both ${bytes[i - 1][2]} and ${bytes[i][2]}`);
  }
  const installed = p.memory.banks.reduce((n: number, b: any) => n + b.size, 0);
  assert.ok(bytes.reduce((n, [a, b]) => n + (b - a), 0) <= installed);

  // The database agrees with the machine.
  const db = new Database(path.join(home.hostDir(H), 'ldom.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT name, constraints FROM domains').all() as { name: string; constraints: string }[];
    const byName = new Map(rows.map((r) => [r.name, JSON.parse(r.constraints)]));
    for (const d of m.domains) {
      assert.ok(byName.has(d.name), `machine has ${d.name}, database does not`);
      assert.deepEqual(byName.get(d.name), d.constraints, `database and machine disagree on ${d.name}`);
    }
    // MAC addresses are unique across every domain the manager knows, bound or not.
    const macs = new Map<string, string>();
    for (const [name, c] of byName) {
      for (const mac of [c.mac, ...c.vnets.map((v: any) => v.mac), ...c.vsw.map((v: any) => v.mac)]) if (mac) claim(macs, mac, name, 'MAC address');
    }
    return { names: [...byName.keys()].sort() };
  } finally {
    db.close();
  }
}

async function restartHost(): Promise<void> {
  const r = await home.run('ldoms', ['host', 'start', H]);
  assert.equal(r.code, 0, `restart: ${r.stderr}`);
}

function randomOp(): string[] {
  const g = `g${int(0, 9)}`;
  switch (int(0, 21)) {
    case 0:
    case 1:
      return ['add-domain', g];
    case 2:
      return ['remove-domain', g];
    case 3:
      return ['set-vcpu', String(int(1, 20)), g];
    case 4:
      return [pick(['add-vcpu', 'remove-vcpu']), String(int(1, 8)), g];
    case 5:
      return ['set-vcpu', '-c', String(int(1, 2)), g];
    case 6:
      return ['set-memory', pick(['256M', '512M', '1G', '1965M', '2G', '3G', '6G']), g];
    case 7:
      return [pick(['add-memory', 'remove-memory']), pick(['256M', '4M', '512M']), g];
    case 8:
      return ['set-crypto', String(int(0, 2)), g];
    case 9:
      return ['add-vnet', ...(rnd() < 0.2 ? [`mac-addr=00:14:4f:fc:00:${int(0, 15).toString(16).padStart(2, '0')}`] : []), `net${int(0, 2)}`, 'primary-vsw0', g];
    case 10:
      return ['remove-vnet', `net${int(0, 2)}`, g];
    case 11:
      return ['add-vdisk', `disk${int(0, 2)}`, `vol${int(0, 2)}@primary-vds0`, g];
    case 12:
      return ['remove-vdisk', `disk${int(0, 2)}`, g];
    case 13:
      return rnd() < 0.5 ? ['set-vcons', `port=${int(5000, 5011)}`, g] : ['set-vcons', `group=${pick(['grpa', 'grpb', g])}`, g];
    case 14:
    case 15:
      return ['bind', g];
    case 16:
      return ['unbind', g];
    case 17:
    case 18:
      return ['start', g];
    case 19:
      return ['stop', g];
    case 20:
      return ['set-domain', `failure-policy=${pick(['ignore', 'panic', 'reset', 'stop'])}`, g];
    default:
      return ['list', '-p'];
  }
}

test(`randomized invariants: ${OPS} operations with kill -9 of ldmd (seed ${SEED})`, { timeout: LONG ? 3_600_000 : 300_000 }, async () => {
  let acknowledged = new Set<string>(checkInvariants().names);
  let done = 0;
  let kills = 0;
  let machineKills = 0;
  let succeeded = 0;
  while (done < OPS) {
    const argv = randomOp();
    const killNow = rnd() < 0.02;
    if (!killNow) {
      const r = await ldm(...argv);
      assert.notEqual(r.code, -1, `ldm ${argv.join(' ')} got no exit status`);
      assert.ok(!/internal error/.test(r.stderr), `ldm ${argv.join(' ')}: ${r.stderr}`);
      if (r.code === 0) {
        succeeded++;
        if (argv[0] === 'add-domain') acknowledged.add(argv[1]);
        if (argv[0] === 'remove-domain') acknowledged.delete(argv[1]);
      }
      done++;
      if (done % 200 === 0) assert.deepEqual(checkInvariants().names, [...acknowledged].sort());
      continue;
    }
    // Kill ldmd (and sometimes the machine process) with a command in flight, at a random instant.
    const victim = rnd() < 0.15 ? 'machine' : 'ldmd';
    const pid = home.pid(H, victim);
    const delay = rnd() * 4;
    const inFlight = rawLdm(sock(), argv, { timeoutMs: 5000, onSent: () => setTimeout(() => process.kill(pid, 'SIGKILL'), delay) });
    const r = await inFlight;
    done++;
    kills++;
    if (victim === 'machine') machineKills++;
    await new Promise((res) => setTimeout(res, 20));
    await restartHost();
    const { names } = checkInvariants();
    // The in-flight command may or may not have happened; everything acknowledged before it stands.
    const touched = argv[0] === 'add-domain' || argv[0] === 'remove-domain' ? argv[1] : null;
    const expected = new Set(acknowledged);
    if (touched) {
      if (names.includes(touched)) expected.add(touched);
      else expected.delete(touched);
    }
    assert.deepEqual(names, [...expected].sort(), `after killing ${victim} during "${argv.join(' ')}" (exit ${r.code})`);
    acknowledged = expected;
  }
  const final = checkInvariants();
  assert.deepEqual(final.names, [...acknowledged].sort());
  // The listing agrees with the machine after all that.
  const listing = await ldmOk('list', '-p');
  const m = JSON.parse(fs.readFileSync(path.join(home.hostDir(H), 'machine.json'), 'utf8')) as MachineFile;
  for (const d of m.domains) assert.match(listing, new RegExp(`^DOMAIN\\|name=${d.name}\\|state=${d.state}\\|`, 'm'));
  assert.ok(succeeded > OPS / 10, `too few operations succeeded (${succeeded}) for the test to mean anything`);
  console.log(`# invariants: ${done} operations, ${succeeded} succeeded, ${kills} kills (${machineKills} of the machine process), seed ${SEED}`);
});
