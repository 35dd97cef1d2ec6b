// `ldm`: the Logical Domains Manager command. A thin client: the daemon does the work.

import { ClientError, connectHost, runRequest } from './client.js';

async function main(): Promise<number> {
  // A migration goes on when ldm loses its controlling shell (migration.md §5.7); only a kill
  // (SIGKILL, SIGTERM, SIGINT) ends ldm and with it the migration.
  if (process.argv[2] === 'migrate-domain' || process.argv[2] === 'migrate') process.on('SIGHUP', () => undefined);
  const { sock } = await connectHost();
  return runRequest(sock, {
    type: 'run',
    argv: process.argv.slice(2),
    tty: { stdin: Boolean(process.stdin.isTTY), stdout: Boolean(process.stdout.isTTY), stderr: Boolean(process.stderr.isTTY) },
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`${e instanceof ClientError ? e.message : `ldm: ${e instanceof Error ? e.message : String(e)}`}\n`);
    process.exitCode = 1;
  },
);
