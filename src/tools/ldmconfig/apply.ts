// Applying a confirmed plan (§B.3 screen 9), one step at a time with progress: the disk images,
// the ldm commands, the SP power cycle, the wait for the host and ldmd, then the guests bound,
// started and saved with the configuration. A failure before the power cycle undoes every step
// that was done; after it, the saved configuration stands and the message says what is left.

import type { OsImage } from '../../guest/types.js';
import type { PlatformSpec } from '../../platform/types.js';
import type { HostLink, LdmResult } from './host.js';
import type { RunLog } from './log.js';
import { diskImagePath, guestName, planCommands, planGuestStart, planResave, renderPlan, type ConfigAnswers } from './plan.js';
import { DiskLedger } from './storage.js';

export interface ApplyContext {
  link: HostLink;
  platform: PlatformSpec;
  answers: ConfigAnswers;
  media: { file: string; image: OsImage } | null;
  log: RunLog;
  out: (text: string) => void;
  /** Set by Ctrl-C during the run: honoured up to the power cycle. */
  interrupted: () => boolean;
  /** Called once the power cycle has started: from then on nothing is undone. */
  onPowerCycle?: () => void;
  /** How long the host and ldmd may take to come back after the power cycle. */
  waitMs?: number;
}

export class ApplyError extends Error {
  constructor(
    message: string,
    /** Whether the system was brought back to where it was (every step undone). */
    readonly rolledBack: boolean,
    /** What could not be undone, or what is left to do by hand. */
    readonly details: string[],
  ) {
    super(message);
  }
}

/**
 * The command that undoes a successful one, and the phase it runs in: the delayed reconfiguration
 * is cancelled first (while it is pending, no other domain may change), then the guests, their
 * volumes and the services go, each phase newest first. Commands inside a guest need no undo:
 * removing the guest removes them.
 */
function inverse(argv: string[]): { phase: number; argv: string[] } | null {
  const [cmd, ...args] = argv;
  const last = args[args.length - 1];
  switch (cmd) {
    case 'add-spconfig':
      return { phase: 0, argv: ['remove-spconfig', last] };
    case 'start-reconf':
      return { phase: 1, argv: ['cancel-operation', 'reconf', last] };
    case 'add-domain':
      return { phase: 2, argv: ['remove-domain', last] };
    case 'add-vdsdev':
      return { phase: 3, argv: ['remove-vdsdev', last] };
    case 'add-vsw':
    case 'add-vds':
    case 'add-vcc':
      return { phase: 4, argv: [cmd.replace('add-', 'remove-'), args[args.length - 2]] };
    default:
      return null;
  }
}

export function undoCommands(done: string[][]): string[][] {
  const undo = done.map(inverse).filter((u): u is { phase: number; argv: string[] } => u !== null);
  return undo
    .map((u, i) => ({ ...u, i }))
    .sort((a, b) => a.phase - b.phase || b.i - a.i)
    .map((u) => u.argv);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function applyPlan(c: ApplyContext): Promise<void> {
  const { link, answers: a, log, out } = c;
  const cmds = planCommands(c.platform, a);
  const ledger = new DiskLedger();
  const done: string[][] = [];
  const total = a.guests + cmds.length + 1;
  let step = 0;
  const begin = (text: string) => {
    step++;
    out(`[${String(step).padStart(String(total).length)}/${total}] ${text} ... `);
    log.run(`step ${step}/${total}: ${text}`);
  };

  const rollback = async (why: string): Promise<never> => {
    out('\nRolling back: undoing every step done so far.\n');
    log.error(why);
    const left: string[] = [];
    for (const argv of undoCommands(done)) {
      out(`  ${renderPlan([argv])} ... `);
      const r = await link.ldm(argv);
      log.command(argv, r);
      out(r.code === 0 ? 'done\n' : 'FAILED\n');
      if (r.code !== 0) left.push(`ldm ${argv.join(' ')}: ${(r.stderr || r.stdout).trim()}`);
    }
    for (const f of [...ledger.files].reverse()) out(`  remove ${f}\n`);
    left.push(...ledger.undo());
    for (const l of left) log.error(`not undone: ${l}`);
    throw new ApplyError(why, left.length === 0, left.length ? ['The rollback could not undo these; undo them by hand:', ...left.map((l) => `  ${l}`)] : []);
  };

  const check = async () => {
    if (c.interrupted()) await rollback('Interrupted before the power cycle');
  };

  // 1. The disk images, before any volume names them.
  try {
    ledger.makeDir(a.storageDir.replace(/\/+$/, ''));
  } catch (e) {
    await rollback(e instanceof Error ? e.message : String(e));
  }
  for (let n = 1; n <= a.guests; n++) {
    await check();
    const file = diskImagePath(a, n);
    begin(`create disk image ${file}${c.media ? ` (${c.media.image.release} installed)` : ''}`);
    try {
      ledger.createDisk(file, a.diskSize, c.media ? { image: c.media.image, hostname: guestName(n) } : null);
    } catch (e) {
      out('FAILED\n');
      await rollback(e instanceof Error ? e.message : String(e));
    }
    log.run(`created ${file}`);
    out('done\n');
  }

  // 2. The ldm commands, ending with add-spconfig.
  for (const argv of cmds) {
    await check();
    begin(renderPlan([argv]));
    const r: LdmResult = await link.ldm(argv);
    log.command(argv, r);
    if (r.code !== 0) {
      out('FAILED\n');
      await rollback(`ldm ${argv.join(' ')} failed: ${(r.stderr || r.stdout).trim() || `exit status ${r.code}`}`);
    }
    done.push(argv);
    out('done\n');
  }

  // 3. The power cycle through the SP: it boots the saved configuration.
  await check();
  begin('power-cycle the system through the service processor (reset /SYS)');
  let reset: { status: number; output: string };
  c.onPowerCycle?.();
  try {
    reset = await link.sp(['reset', '/SYS']);
  } catch (e) {
    out('FAILED\n');
    return rollback(`The power cycle could not be started: ${e instanceof Error ? e.message : String(e)}`);
  }
  log.run(`sp reset /SYS (status ${reset.status}): ${reset.output.trim()}`);
  if (reset.status !== 0) {
    out('FAILED\n');
    await rollback(`The service processor refused the power cycle: ${reset.output.trim()}`);
  }
  out('done\n');

  // From here on the system runs the new configuration: nothing is undone.
  await waitForHost(c);
  await startGuests(c);
}

/** Until ldmd answers again and reports the saved configuration as the one booted. */
async function waitForHost(c: ApplyContext): Promise<void> {
  const { link, answers: a, log, out } = c;
  out('Waiting for the system and the Logical Domains Manager to come back ... ');
  const started = Date.now();
  const deadline = started + (c.waitMs ?? 120_000);
  let last = '';
  for (;;) {
    const r = await link.ldm(['list-spconfig']);
    last = (r.code === 0 ? r.stdout : r.stderr).trim();
    if (r.code === 0 && r.stdout.split('\n').includes(`${a.configName} [current]`)) break;
    if (Date.now() > deadline) {
      out('FAILED\n');
      log.error(`after the power cycle: ${last}`);
      throw new ApplyError(
        `The system did not come back with configuration ${a.configName} within ${Math.round((deadline - started) / 1000)} seconds`,
        false,
        [`ldm list-spconfig: ${last}`, `The configuration ${a.configName} is saved on the service processor; once the system is up, bind and start the guests with ldm bind-domain and ldm start-domain`],
      );
    }
    await sleep(250);
  }
  log.run(`back after ${Date.now() - started} ms: ${last.replace(/\n/g, ', ')}`);
  out(`up (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
}

async function startGuests(c: ApplyContext): Promise<void> {
  const { link, answers: a, log, out } = c;
  const run = async (argv: string[]): Promise<string | null> => {
    out(`  ${renderPlan([argv])} ... `);
    const r = await link.ldm(argv);
    log.command(argv, r);
    out(r.code === 0 ? 'done\n' : 'FAILED\n');
    if (r.code === 0) return null;
    const why = `ldm ${argv.join(' ')}: ${(r.stderr || r.stdout).trim() || `exit status ${r.code}`}`;
    log.error(why);
    return why;
  };
  out('Binding and starting the guest domains:\n');
  const failed: string[] = [];
  for (const argv of planGuestStart(a)) {
    const why = await run(argv);
    if (why) failed.push(why);
  }
  if (failed.length) {
    // The saved configuration (guests inactive) stays as it is: it still boots.
    throw new ApplyError(`The system runs configuration ${a.configName}, but not every guest domain could be bound and started`, false, [
      ...failed,
      `Finish by hand: ldm bind-domain / ldm start-domain for the guests above, then save the configuration again (ldm remove-spconfig ${a.configName}; ldm add-spconfig ${a.configName})`,
    ]);
  }
  out(`Saving configuration ${a.configName} again, with the guest domains running:\n`);
  const [remove, add] = planResave(a);
  const whyRemove = await run(remove);
  if (whyRemove) {
    throw new ApplyError(`The guest domains run, but configuration ${a.configName} could not be saved again with them`, false, [
      whyRemove,
      `The saved ${a.configName} holds the guests inactive; to save them running: ldm remove-spconfig ${a.configName}; ldm add-spconfig ${a.configName}`,
    ]);
  }
  const whyAdd = await run(add);
  if (whyAdd) {
    throw new ApplyError(`Configuration ${a.configName} was removed from the service processor and could not be saved again`, false, [
      whyAdd,
      `Save it now, or the next power-on boots factory-default: ldm add-spconfig ${a.configName}`,
    ]);
  }
}
