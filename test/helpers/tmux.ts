// A real terminal for tests: tmux runs a program (telnet), we type into it and read its screen.

import { execFileSync } from 'node:child_process';

/**
 * Each test process talks to a tmux server of its own (-L): with one shared server, a test killing
 * its last session stops the server under another test creating one.
 */
const SOCKET = ['-L', `ldoms-test-${process.pid}`];

function tmux(args: string[], opts: { encoding?: 'utf8'; stdio?: 'ignore' } = {}): string {
  return execFileSync('tmux', [...SOCKET, ...args], opts as { encoding: 'utf8' }) as unknown as string;
}

export class Terminal {
  private constructor(readonly session: string) {}

  static start(command: string[], opts: { width?: number; height?: number } = {}): Terminal {
    const session = `ldoms-test-${process.pid}-${Math.floor(Math.random() * 1e9)}`;
    tmux(['new-session', '-d', '-s', session, '-x', String(opts.width ?? 160), '-y', String(opts.height ?? 50), ...command]);
    return new Terminal(session);
  }

  /** Type text; `enter` adds the Enter key. */
  type(text: string, enter = true): void {
    if (text) tmux(['send-keys', '-t', this.session, '-l', text]);
    if (enter) tmux(['send-keys', '-t', this.session, 'Enter']);
  }

  /** The screen and its scrollback as text. */
  screen(): string {
    try {
      // tmux pads the pane with empty lines and drops trailing spaces: a prompt `# ` reads `#`.
      return tmux(['capture-pane', '-p', '-J', '-S', '-2000', '-t', this.session], { encoding: 'utf8' }).replace(/\n+$/, '\n');
    } catch {
      return '';
    }
  }

  /** Wait until the screen matches (after `since` characters of it, to skip earlier output). */
  async waitFor(re: RegExp, timeoutMs = 15_000, since = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      last = this.screen();
      if (re.test(last.slice(since))) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`terminal never showed ${re}; screen:\n${last}`);
  }

  close(): void {
    try {
      tmux(['kill-session', '-t', this.session], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
  }
}
