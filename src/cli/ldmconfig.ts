// `ldmconfig [-cdh]`: the Configuration Assistant (ldmconfig(1M), p2v-and-config-assistant.md §B).
// A terminal dialogue on the host `ldm` talks to: it checks that the system is still in
// factory-default, asks the questions, shows the plan as ldm commands and, once confirmed,
// applies it and power-cycles the system into the new configuration. docs/ldmconfig.md.

import { input } from '@inquirer/prompts';
import { ApplyError, applyPlan } from '../tools/ldmconfig/apply.js';
import { HostError, HostLink } from '../tools/ldmconfig/host.js';
import { RunLog } from '../tools/ldmconfig/log.js';
import { checkMedia, describeMedia } from '../tools/ldmconfig/media.js';
import { defaults, diskImagePath, validate, type ConfigAnswers } from '../tools/ldmconfig/plan.js';
import { askAfterRefusal, askConfirm, askQuestions, describePlan, describeSystem, screenTitle, STEPS, TITLE, type Media } from '../tools/ldmconfig/screens.js';
import { storageProblems } from '../tools/ldmconfig/storage.js';

const USAGE = `Usage: ldmconfig [-cdh]
    -c    check the Solaris OS media (an OS image file) for a valid installation, then exit
    -d    debug mode: keep the run and error logs after completion
    -h    print this usage
`;

/** Exit statuses [M]: 0 configured (or -c media valid, -h), 1 refused or failed, 2 usage, 130 interrupted. */
const EXIT = { ok: 0, fail: 1, usage: 2, interrupted: 130 } as const;

/** Terminal size the screens are laid out for (§B.3 prerequisites). */
const MIN_COLUMNS = 80;
const MIN_ROWS = 24;

/** The ldm versions the assistant configures: from 1.2, the first with it (§B.3) [M]. */
const MIN_VERSION = [1, 2];

class Refusal extends Error {}

const out = (text: string) => process.stdout.write(text);
const err = (text: string) => process.stderr.write(text);

function parseOptions(argv: string[]): { check: boolean; debug: boolean; help: boolean } {
  const o = { check: false, debug: false, help: false };
  for (const arg of argv) {
    if (!/^-./.test(arg) || arg === '--') throw new UsageError(`unexpected operand ${arg}`);
    for (const ch of arg.slice(1)) {
      if (ch === 'c') o.check = true;
      else if (ch === 'd') o.debug = true;
      else if (ch === 'h') o.help = true;
      else throw new UsageError(`illegal option -- ${ch}`);
    }
  }
  return o;
}

class UsageError extends Error {}

/** The dialogue needs a person at a terminal of a usable size; there is no scripted mode. */
function requireTerminal(): void {
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    throw new Refusal(
      'standard input and output must be a terminal (a console, a terminal emulator or an ssh session): the assistant is interactive. ' +
        'To configure a system from a script, run the ldm commands themselves.',
    );
  }
  const cols = process.stdout.columns ?? 0;
  const rows = process.stdout.rows ?? 0;
  if (cols < MIN_COLUMNS || rows < MIN_ROWS) {
    throw new Refusal(`The terminal is ${cols}x${rows}: ldmconfig needs at least ${MIN_COLUMNS}x${MIN_ROWS}`);
  }
}

function isInterrupt(e: unknown): boolean {
  return e instanceof Error && e.name === 'ExitPromptError';
}

async function checkMediaOnly(): Promise<number> {
  out(`${TITLE}\n${screenTitle(1, 1, 'Checking the Solaris OS media')}`);
  const file = (
    await input({ message: 'Solaris OS media to check (an OS image file):', validate: (v) => (v.trim() ? true : 'Give the path of the media') })
  ).trim();
  const r = checkMedia(file);
  if (!r.ok) {
    err(`ldmconfig: ${r.problem}\n`);
    return EXIT.fail;
  }
  out(describeMedia(file, r.image).join('\n') + '\nThe media is valid: guest domains can be installed from it.\n');
  return EXIT.ok;
}

function versionAtLeast(v: string, min: number[]): boolean {
  const parts = v.split('.').map(Number);
  for (let i = 0; i < min.length; i++) {
    const a = parts[i] ?? 0;
    if (a !== min[i]) return a > min[i];
  }
  return true;
}

/** Every refusal at once, against the system as it is now. */
async function problemsFor(link: HostLink, answers: ConfigAnswers): Promise<string[]> {
  const ins = await link.inspect();
  const files = Array.from({ length: Math.max(0, Math.min(answers.guests, 10_000)) }, (_, i) => diskImagePath(answers, i + 1));
  return [
    ...validate(ins.platform, answers, { existingDomains: ins.domains, existingConfigs: ins.configs.map((c) => c.name), factoryDefault: ins.factoryDefault }),
    ...storageProblems(answers.storageDir, files),
  ];
}

async function configure(debug: boolean): Promise<number> {
  out(`${TITLE}\n${screenTitle(1, STEPS.length, STEPS[0])}`);
  const link = await HostLink.open();
  const log = new RunLog(link.dir);
  let keepLogs = debug;
  let changing = false;
  const finish = (code: number): number => {
    log.run(`exit status ${code}`);
    if (log.finish(keepLogs)) out(`Logs kept in ${log.dir} (run.log, error.log)\n`);
    return code;
  };
  // Outside the questions (which read Ctrl-C themselves) an interrupt ends the run, except while
  // deploying, where it asks for a stop after the current step.
  let onInterrupt: () => void = () => {
    log.run('interrupted');
    err('\nldmconfig: interrupted; nothing was changed\n');
    process.exit(finish(EXIT.interrupted));
  };
  process.on('SIGINT', () => onInterrupt());
  try {
    log.run(`ldmconfig on host ${link.host}${debug ? ' (debug: logs kept)' : ''}`);
    const ins = await link.inspect();
    const p = ins.platform;
    out(describeSystem(ins, link.config.address));
    log.run(describeSystem(ins, link.config.address));
    if (!versionAtLeast(ins.version, MIN_VERSION)) {
      throw new Refusal(`The Logical Domains Manager ${ins.version} is too old: ldmconfig needs ${MIN_VERSION.join('.')} or later`);
    }
    if (!ins.factoryDefault) {
      throw new Refusal(
        `The system is not in the factory-default configuration: ldmconfig sets up only a system with no logical domains yet (${ins.notFactoryBecause.join('; ')})`,
      );
    }
    out('The system is in the factory-default configuration.\n');

    const start = defaults(p);
    let previous: { answers: ConfigAnswers; media: Media | null } | null = null;
    for (;;) {
      const { answers, media } = await askQuestions(p, ins, start, previous, out);
      previous = { answers, media };
      log.run(`answers: ${JSON.stringify({ ...answers, media: media?.file ?? null })}`);

      out(screenTitle(7, STEPS.length, STEPS[6]));
      const problems = await problemsFor(link, answers);
      if (problems.length) {
        for (const pr of problems) log.error(`refused: ${pr}`);
        out(`The configuration cannot be applied:\n${problems.map((pr) => `  - ${pr}\n`).join('')}\n`);
        if ((await askAfterRefusal()) === 'change') continue;
        err(`ldmconfig: the configuration was refused; nothing was changed\n`);
        return finish(EXIT.fail);
      }
      out(describePlan(p, answers, media));
      if (!(await askConfirm())) {
        out('Nothing was changed.\n');
        log.run('not confirmed');
        return finish(EXIT.fail);
      }
      // The system may have changed while the summary waited: check again, just before the first change.
      const late = await problemsFor(link, answers);
      if (late.length) {
        for (const pr of late) log.error(`refused: ${pr}`);
        err(`ldmconfig: the system changed while the summary was shown; nothing was changed:\n${late.map((pr) => `  - ${pr}\n`).join('')}`);
        return finish(EXIT.fail);
      }

      out(screenTitle(8, STEPS.length, STEPS[7]));
      let interrupted = false;
      let powerCycled = false;
      onInterrupt = () => {
        if (powerCycled) out('\n(interrupt ignored: the system already runs the new configuration)\n');
        else if (!interrupted) out('\n(interrupt: stopping after this step; what was done is undone)\n');
        interrupted = true;
      };
      changing = true;
      await applyPlan({
        link,
        platform: p,
        answers,
        media,
        log,
        out,
        interrupted: () => interrupted,
        onPowerCycle: () => {
          powerCycled = true;
        },
      });
      const list = await link.ldm(['list-domain']);
      const spc = await link.ldm(['list-spconfig']);
      out(`\nThe system runs configuration ${answers.configName}.\n\n${list.stdout}\n${spc.stdout}`);
      log.run('done');
      return finish(EXIT.ok);
    }
  } catch (e) {
    if (isInterrupt(e)) {
      log.run('interrupted at a question');
      err('\nldmconfig: interrupted; nothing was changed\n');
      return finish(EXIT.interrupted);
    }
    if (e instanceof ApplyError) {
      keepLogs = true;
      err(`\nldmconfig: ${e.message}\n`);
      for (const d of e.details) err(`  ${d}\n`);
      err(e.rolledBack ? 'ldmconfig: every step was undone; the system is as it was before\n' : '');
      return finish(EXIT.fail);
    }
    const text = e instanceof Error ? e.message : String(e);
    log.error(text);
    if (changing) keepLogs = true;
    err(`ldmconfig: ${text}\n`);
    return finish(EXIT.fail);
  }
}

async function main(argv: string[]): Promise<number> {
  const o = parseOptions(argv);
  if (o.help) {
    out(USAGE);
    return EXIT.ok;
  }
  requireTerminal();
  return o.check ? checkMediaOnly() : configure(o.debug);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    if (e instanceof UsageError) {
      err(`ldmconfig: ${e.message}\n${USAGE}`);
      process.exit(EXIT.usage);
    }
    if (isInterrupt(e)) {
      err('\nldmconfig: interrupted; nothing was changed\n');
      process.exit(EXIT.interrupted);
    }
    err(`ldmconfig: ${e instanceof Refusal || e instanceof HostError ? e.message : e instanceof Error ? e.message : String(e)}\n`);
    process.exit(EXIT.fail);
  },
);
