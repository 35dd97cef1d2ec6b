// The shape of one `ldm` subcommand. Every subcommand is one CommandSpec in the table
// (table.ts); the CLI, `--help` and the XML interface all read the same entries.

import type { Manager } from '../manager/manager.js';

export type Authorization = 'solaris.ldoms.read' | 'solaris.ldoms.write';

export interface CommandIo {
  /** Text for standard output. */
  out(text: string): void;
  /** Text for standard error. */
  err(text: string): void;
  /** Ask the user (the terminal of the `ldm` process); `echo: false` for passwords. */
  prompt(text: string, echo: boolean): Promise<string>;
  /** Read a file as the invoking user (the `ldm` process reads it, with that user's rights). */
  readFile(path: string): Promise<string>;
  /** Whether the invoking `ldm` has a terminal on stderr (progress lines go there). */
  isTTY: boolean;
  /** Read a file that holds a secret: refused when its group or others may read it. */
  readPrivateFile?(path: string): Promise<string>;
  /** Aborted when the caller goes away (the `ldm` process was killed). */
  signal?: AbortSignal;
  /** ldmd's log. */
  log?(s: string): void;
}

export interface CommandContext extends CommandIo {
  manager: Manager;
  /** OS user name of the caller. */
  user: string;
  /** Name of the subcommand running, as events report it (set by the runner). */
  action?: string;
}

export interface ParsedArgs {
  /** Options such as `-a`, `-o fmt`, `--auto-adj`: value or `true`. */
  options: Map<string, string | true>;
  /** `name=value` arguments in the order given. */
  props: [string, string][];
  operands: string[];
}

export interface CommandSpec {
  /** CLI name as in the 2.0 synopsis: `add-vcpu`, `list-domain`, `cancel-reconf`. */
  name: string;
  /** XML `<action>` string where it differs from `name` (XML accepts no aliases); null when the
   *  2.0 XML interface has no such action (panic-domain, set-vdisk, policies, list-io, ...). */
  xmlAction?: string | null;
  /** The name events give it when that differs from both (`set-vdsdev` → `set-vdiskserverdevice`). */
  event?: string;
  /** Extra names: shortcuts such as `bind`, `start`, `ls`. Verb/noun aliases are derived. */
  aliases?: string[];
  synopsis: string[];
  summary: string;
  auth: Authorization;
  /** Accepted options: `flag` takes no value, `value` takes the next argument. */
  options?: Record<string, 'flag' | 'value'>;
  /** Accepted `name=value` properties; `*` accepts any name (variables). */
  props?: string[] | '*';
  /** Minimum and maximum operand counts. */
  operands: [number, number];
  run(ctx: CommandContext, args: ParsedArgs): Promise<void> | void;
}
