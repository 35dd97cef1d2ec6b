// `ldm`: the Logical Domains Manager command. A thin client: the daemon does the work.

import { ClientError, connectHost, runRequest } from './client.js';

async function main(): Promise<number> {
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
