// ldmconfig's applier on a real host, with a failure injected at the edge (one ldm command, the
// SP, an interrupt): every step done before the power cycle is undone, the system is left exactly
// as before and is still accepted as factory-default by the next run.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { TestHome } from './helpers/hosts.js';
import { ApplyError, applyPlan, undoCommands } from '../src/tools/ldmconfig/apply.js';
import { HostLink, type LdmResult } from '../src/tools/ldmconfig/host.js';
import { RunLog } from '../src/tools/ldmconfig/log.js';
import { defaults, planCommands, type ConfigAnswers } from '../src/tools/ldmconfig/plan.js';

const home = new TestHome();
const H = 'lcrb';
let real: HostLink;

before(async () => {
  await home.startHost(H, '--platform', 't5240', '--cores', '4', '--memory', '32G');
  process.env.LDOMS_HOME = home.home;
  process.env.LDOMS_HOST = H;
  real = await HostLink.open();
});
after(() => home.cleanup());

async function snapshot(): Promise<string> {
  const parts = [];
  for (const argv of [['list-constraints', '-p'], ['list-services', '-p'], ['list-domain']]) parts.push(await home.ok(H, ...argv));
  // UPTIME moves on; everything else must be identical.
  return parts.join('\n').replace(/ +\d+[smhd]( \d+[smhd])*\s*$/gm, '');
}

function answers(dir: string, name: string): ConfigAnswers {
  return { ...defaults(real.config.platform), guests: 2, storageDir: dir, diskSize: 1024 ** 3, configName: name };
}

/** The real host, with one ldm command or the SP made to fail. */
function failing(opts: { ldm?: (argv: string[]) => boolean; sp?: boolean }): HostLink {
  const link = Object.create(real) as HostLink;
  link.ldm = async (argv: string[]): Promise<LdmResult> => (opts.ldm?.(argv) ? { code: 1, stdout: '', stderr: 'injected failure\n' } : real.ldm(argv));
  if (opts.sp) link.sp = async () => ({ status: 1, output: 'reset: injected failure' });
  return link;
}

async function applyFailing(link: HostLink, a: ConfigAnswers, interrupted = () => false): Promise<{ error: ApplyError; printed: string; log: RunLog }> {
  let printed = '';
  const log = new RunLog(real.dir);
  const error = await applyPlan({ link, platform: real.config.platform, answers: a, media: null, log, out: (t) => (printed += t), interrupted }).then(
    () => assert.fail('the apply succeeded'),
    (e) => e,
  );
  assert.ok(error instanceof ApplyError, String(error));
  return { error, printed, log };
}

test('undo order: the reconfiguration first, then guests, volumes, services; nothing for commands inside a guest', () => {
  const a = answers('/d', 'x');
  assert.deepEqual(undoCommands(planCommands(real.config.platform, a)), [
    ['remove-spconfig', 'x'],
    ['cancel-operation', 'reconf', 'primary'],
    ['remove-domain', 'ldg2'],
    ['remove-domain', 'ldg1'],
    ['remove-vdsdev', 'vol-ldg2@primary-vds0'],
    ['remove-vdsdev', 'vol-ldg1@primary-vds0'],
    ['remove-vsw', 'primary-vsw0'],
    ['remove-vds', 'primary-vds0'],
    ['remove-vcc', 'primary-vcc0'],
  ]);
});

test('a command failing halfway through the guests: everything undone, disks and directory removed', async () => {
  const beforeState = await snapshot();
  assert.equal(await home.ok(H, 'list-spconfig'), 'factory-default [current]\n');
  const dir = path.join(home.home, 'rb1', 'disks');
  const { error, printed, log } = await applyFailing(failing({ ldm: (argv) => argv[0] === 'add-vnet' && argv[3] === 'ldg2' }), answers(dir, 'rb1'));
  assert.equal(error.rolledBack, true, error.details.join('\n'));
  assert.match(error.message, /^ldm add-vnet vnet0 primary-vsw0 ldg2 failed: injected failure$/);
  assert.match(printed, /ldm add-vnet vnet0 primary-vsw0 ldg2 \.\.\. FAILED\n\nRolling back: undoing every step done so far\.\n/);
  assert.match(printed, /ldm remove-domain ldg1 \.\.\. done/);
  assert.equal(await snapshot(), beforeState);
  assert.equal(fs.existsSync(path.join(home.home, 'rb1')), false, 'the directories it created are gone');
  // The SP still boots factory-default, and the next run accepts the system.
  assert.equal(await home.ok(H, 'list-spconfig'), 'factory-default [next poweron]\n');
  assert.equal((await real.inspect()).factoryDefault, true);
  assert.match(fs.readFileSync(log.errorFile, 'utf8'), /injected failure/);
  log.finish(false);
});

test('the SP refusing the power cycle: the saved configuration is removed and the reconfiguration cancelled', async () => {
  const beforeState = await snapshot();
  const dir = path.join(home.home, 'rb2');
  fs.mkdirSync(dir);
  const { error, printed, log } = await applyFailing(failing({ sp: true }), answers(dir, 'rb2'));
  assert.equal(error.rolledBack, true, error.details.join('\n'));
  assert.match(error.message, /refused the power cycle: reset: injected failure/);
  assert.match(printed, /ldm remove-spconfig rb2 \.\.\. done\n {2}ldm cancel-operation reconf primary \.\.\. done/);
  assert.equal(await snapshot(), beforeState);
  assert.deepEqual(fs.readdirSync(dir), [], 'the disk images are gone; the directory that existed stays');
  assert.equal(await home.ok(H, 'list-spconfig'), 'factory-default [next poweron]\n');
  assert.equal((await real.inspect()).factoryDefault, true);
  log.finish(false);
});

test('an interrupt during the run stops before the next step and undoes the rest', async () => {
  const beforeState = await snapshot();
  const dir = path.join(home.home, 'rb3');
  let commands = 0;
  const counting = Object.create(real) as HostLink;
  counting.ldm = async (argv) => {
    commands++;
    return real.ldm(argv);
  };
  const { error, log } = await applyFailing(counting, answers(dir, 'rb3'), () => commands >= 5);
  assert.equal(error.rolledBack, true);
  assert.equal(error.message, 'Interrupted before the power cycle');
  assert.equal(await snapshot(), beforeState);
  assert.equal(fs.existsSync(dir), false);
  log.finish(false);
});
