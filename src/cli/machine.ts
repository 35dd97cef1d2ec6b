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
const log = (text: string) => process.stderr.write(`${new Date().toISOString()} machine: ${text}\n`);
const bootScale = process.env.LDOMS_BOOT_SCALE ? Number(process.env.LDOMS_BOOT_SCALE) : 1;
const server = new MachineServer(machinePaths(host.dir), host.platform, { dir: host.dir, name: host.name, address: host.address }, { bootScale, log });
server.start().then(() => server.listen()).then(
  () => process.stdout.write('ready\n'),
  (e) => {
    process.stderr.write(`machine: ${e.message}\n`);
    process.exit(1);
  },
);
process.on('SIGTERM', () => {
  server.close().finally(() => process.exit(0));
});
