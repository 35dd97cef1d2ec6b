// The run log and the error log of one ldmconfig run (ldmconfig(1M) -d "keeps run and error logs
// after completion"). They live in the host's log directory while the run lasts; at the end they
// are deleted unless -d asked to keep them or the run failed while changing the system [M].

import fs from 'node:fs';
import path from 'node:path';
import { hostPaths } from '../../host/config.js';

function stamp(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
}

export class RunLog {
  readonly dir: string;
  readonly runFile: string;
  readonly errorFile: string;

  constructor(hostDir: string, now = new Date()) {
    this.dir = path.join(hostPaths(hostDir).log, `ldmconfig-${stamp(now)}-${process.pid}`);
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    this.runFile = path.join(this.dir, 'run.log');
    this.errorFile = path.join(this.dir, 'error.log');
    fs.writeFileSync(this.runFile, '');
    fs.writeFileSync(this.errorFile, '');
  }

  private write(file: string, text: string): void {
    const at = new Date().toISOString();
    const lines = text.replace(/\n+$/, '').split('\n');
    try {
      fs.appendFileSync(file, lines.map((l) => `${at} ${l}\n`).join(''));
    } catch {
      /* a log that cannot be written must not stop the run */
    }
  }

  run(text: string): void {
    this.write(this.runFile, text);
  }

  /** Errors go to both logs: the run log keeps them in sequence. */
  error(text: string): void {
    this.write(this.runFile, `ERROR ${text}`);
    this.write(this.errorFile, text);
  }

  /** One ldm command and everything it printed. */
  command(argv: string[], r: { code: number; stdout: string; stderr: string }): void {
    this.run(`ldm ${argv.join(' ')} (exit ${r.code})`);
    if (r.stdout.trim()) this.run(r.stdout.replace(/^/gm, '  | '));
    if (r.stderr.trim()) (r.code === 0 ? this.run.bind(this) : this.error.bind(this))(r.stderr.replace(/^/gm, '  ! '));
  }

  /** Delete the logs unless kept; returns whether they are still there. */
  finish(keep: boolean): boolean {
    if (keep) return true;
    fs.rmSync(this.dir, { recursive: true, force: true });
    return false;
  }
}
