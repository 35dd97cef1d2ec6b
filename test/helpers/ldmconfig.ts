// ldmconfig in a real terminal for the tests: started through a shell that prints its exit status
// and keeps the pane open, so the screen can be read after it ends.

import path from 'node:path';
import { BIN, type TestHome } from './hosts.js';
import { Terminal } from './tmux.js';

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Start `ldmconfig ARGS` for `host`; the terminal is added to `terms` for the caller to close. */
export function startLdmconfig(home: TestHome, host: string, terms: Terminal[], ...args: string[]): Terminal {
  const cmd = `LDOMS_HOME=${quote(home.home)} LDOMS_HOST=${host} ${quote(process.execPath)} ${quote(path.join(BIN, 'ldmconfig'))} ${args.join(' ')}; echo "EXIT=$?"; sleep 120`;
  const t = Terminal.start(['sh', '-c', cmd], { width: 160, height: 50 });
  terms.push(t);
  return t;
}

/** Wait for the question, then type the answer (empty: take the default) and Enter. */
export async function answer(t: Terminal, question: RegExp, text: string): Promise<void> {
  await t.waitFor(question);
  t.type(text);
}
