// Turning argv into options, properties and operands, the way every subcommand reads them.

import { UserError } from '../manager/errors.js';
import type { CommandSpec, ParsedArgs } from './types.js';

export function usage(spec: CommandSpec): string {
  return `Usage:\n${spec.synopsis.map((l) => `    ldm ${l}`).join('\n')}\n`;
}

const PROP = /^([A-Za-z][A-Za-z0-9_?.\-]*)=([\s\S]*)$/;
/** OpenBoot variable names (`security-#badlogins`, ...) are wider than property names; rules check them. */
const ANY_PROP = /^([^=]*)=([\s\S]*)$/;

export function parseArgs(spec: CommandSpec, argv: string[]): ParsedArgs {
  const options = new Map<string, string | true>();
  const props: [string, string][] = [];
  const operands: string[] = [];
  const bad = (why: string): never => {
    throw new UserError(`${why}\n${usage(spec)}`.replace(/\n$/, ''));
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      operands.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) {
      const kind = spec.options?.[a];
      if (!kind) {
        // Bundled single-letter flags: `-lp`.
        if (/^-[A-Za-z]{2,}$/.test(a) && [...a.slice(1)].every((c) => spec.options?.[`-${c}`] === 'flag')) {
          for (const c of a.slice(1)) options.set(`-${c}`, true);
          continue;
        }
        bad(`Invalid option: ${a}`);
      }
      if (options.has(a)) bad(`Option ${a} given more than once`);
      if (kind === 'value') {
        const v = argv[++i];
        if (v === undefined) bad(`Option ${a} requires a value`);
        options.set(a, v);
      } else options.set(a, true);
      continue;
    }
    const m = (spec.props === '*' ? ANY_PROP : PROP).exec(a);
    if (m && operands.length === 0) {
      // A subcommand without properties would otherwise take `name=value` as its first operand
      // and complain about a later, correct one.
      if (spec.props !== '*' && !spec.props?.includes(m[1])) bad(`Invalid property: ${m[1]}`);
      if (props.some(([k]) => k === m[1])) bad(`Property ${m[1]} given more than once`);
      props.push([m[1], m[2]]);
      continue;
    }
    operands.push(a);
  }
  const [min, max] = spec.operands;
  if (operands.length < min) bad('Missing operand');
  if (operands.length > max) bad(`Unexpected operand: ${operands[max]}`);
  return { options, props, operands };
}

export function prop(args: ParsedArgs, name: string): string | undefined {
  return args.props.find(([k]) => k === name)?.[1];
}
