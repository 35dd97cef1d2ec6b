// The command table: every `ldm` subcommand, once. The CLI resolves names and aliases here, `ldm
// --help` prints it, and the XML interface maps its action strings onto the same entries.

import { consoleCommands } from './console.js';
import { cpuCommands } from './cpu.js';
import { domainCommands } from './domain.js';
import { ioCommands } from './io.js';
import { lifecycleCommands } from './lifecycle.js';
import { listingCommands } from './listing.js';
import { memoryCommands } from './memory.js';
import { policyCommands } from './policy.js';
import { reconfCommands } from './reconf.js';
import { migrateCommands } from './migrate.js';
import { spconfigCommands } from './spconfig.js';
import { variableCommands } from './variable.js';
import { vdsCommands } from './vds.js';
import { vdpcsCommands } from './vdpcs.js';
import { vswCommands } from './vsw.js';
import type { CommandSpec } from './types.js';

export const COMMANDS: readonly CommandSpec[] = [
  ...domainCommands,
  ...lifecycleCommands,
  ...cpuCommands,
  ...memoryCommands,
  ...reconfCommands,
  ...migrateCommands,
  ...ioCommands,
  ...vswCommands,
  ...vdsCommands,
  ...consoleCommands,
  ...vdpcsCommands,
  ...variableCommands,
  ...spconfigCommands,
  ...policyCommands,
  ...listingCommands,
];

/** Verb aliases: `ls-bindings`, `rm-vdisk`, `create-vnet` [M], `destroy` [weak]. */
const VERBS: Record<string, string> = { ls: 'list', rm: 'remove', create: 'add', destroy: 'remove' };

/** Noun aliases, long XML nouns and short synopsis nouns alike, mapped to the synopsis noun. */
const NOUNS: Record<string, string> = {
  dom: 'domain',
  mem: 'memory',
  var: 'variable',
  mau: 'crypto',
  config: 'spconfig',
  vconscon: 'vcc',
  vconsole: 'vcons',
  vdiskserver: 'vds',
  vdiskserverdevice: 'vdsdev',
  vswitch: 'vsw',
  ndpsldcs: 'vdpcs',
  ndpsldcc: 'vdpcc',
};

const byName = new Map<string, CommandSpec>();
for (const c of COMMANDS) {
  byName.set(c.name, c);
  for (const a of c.aliases ?? []) byName.set(a, c);
}
const byXmlAction = new Map<string, CommandSpec>(COMMANDS.filter((c) => c.xmlAction !== null).map((c) => [c.xmlAction ?? c.name, c]));

/** Find a subcommand by any of the names a user may type. */
export function resolveCommand(word: string): CommandSpec | undefined {
  const direct = byName.get(word);
  if (direct) return direct;
  const m = /^([a-z]+)-([a-z-]+)$/.exec(word);
  if (!m) return undefined;
  const verb = VERBS[m[1]] ?? m[1];
  const noun = NOUNS[m[2]] ?? m[2];
  return byName.get(`${verb}-${noun}`);
}

/** XML actions take no aliases: only the canonical action string. */
export function resolveXmlAction(action: string): CommandSpec | undefined {
  return byXmlAction.get(action);
}

export function helpText(spec?: CommandSpec): string {
  if (spec) {
    return `Usage:\n${spec.synopsis.map((l) => `    ldm ${l}`).join('\n')}\n\n    ${spec.summary}\n`;
  }
  const lines = ['Usage:', '    ldm [--help] command [options] [properties] operands', '    ldm -V', '', 'Command(s) for each resource (aliases in parens):', ''];
  for (const c of COMMANDS) for (const s of c.synopsis) lines.push(`    ${s}`);
  lines.push('', 'Verb aliases:', '    ls -> list, rm -> remove, create -> add (add-domain)');
  lines.push('', 'Command aliases:', '    bind -> bind-domain, unbind -> unbind-domain, start -> start-domain, stop -> stop-domain,');
  lines.push('    panic -> panic-domain, list/ls -> list-domain, create -> add-domain, destroy -> remove-domain');
  lines.push('', 'Noun aliases:', '    dom -> domain, mem -> memory, var -> variable, mau -> crypto, config -> spconfig,');
  lines.push('    vconscon -> vcc, vconsole -> vcons, vdiskserver -> vds, vdiskserverdevice -> vdsdev, vswitch -> vsw');
  return lines.join('\n') + '\n';
}
