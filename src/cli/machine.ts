// Entry point of a host's machine process (started by `ldoms host start`).

import path from 'node:path';
import { MachineServer, machinePaths } from '../machine/server.js';
import { readHostConfig } from '../host/config.js';

const hostDir = process.argv[2];
if (!hostDir) {
  process.stderr.write('usage: machine HOST-DIRECTORY\n');
  process.exit(2);
}
const host = readHostConfig(path.resolve(hostDir));
const server = new MachineServer(machinePaths(host.dir), host.platform);
server.listen().then(
  () => process.stdout.write('ready\n'),
  (e) => {
    process.stderr.write(`machine: ${e.message}\n`);
    process.exit(1);
  },
);
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
