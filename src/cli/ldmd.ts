// Entry point of a host's Logical Domains Manager daemon (started by `ldoms host start`).

import fs from 'node:fs';
import path from 'node:path';
import { homeOfHostDir, hostPaths, readHostConfig } from '../host/config.js';
import { machinePaths } from '../machine/server.js';
import { LdmServer } from '../daemon/ldm-server.js';
import { userAttrFile } from '../daemon/auth.js';
import { Manager } from '../manager/manager.js';
import { applyAtReboot } from '../manager/rules/reconf.js';
import { UserError } from '../manager/errors.js';
import { startXmlService } from '../daemon/xml-service.js';
import { recoverMigrations } from '../migration/source.js';

const log = (text: string) => process.stderr.write(`${new Date().toISOString()} ldmd: ${text}\n`);

async function connectManager(dir: string): Promise<Manager> {
  const host = readHostConfig(dir);
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await Manager.open(host, machinePaths(dir).socket);
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function main(): Promise<void> {
  const dirArg = process.argv[2];
  if (!dirArg) {
    process.stderr.write('usage: ldmd HOST-DIRECTORY\n');
    process.exit(2);
  }
  const dir = path.resolve(dirArg);
  const paths = hostPaths(dir);
  const manager = await connectManager(dir);
  // Migrations cut short by the end of the previous ldmd (or machine process) are settled first.
  await recoverMigrations(manager, log);
  manager.afterReconnect = () => recoverMigrations(manager, log);
  const home = homeOfHostDir(dir);
  const server = new LdmServer(
    manager,
    { socket: paths.ldmdSocket, authDir: paths.authDir, userAttr: userAttrFile(home), log },
    async (op, ctx) => {
      switch (op) {
        case 'reboot-primary': {
          const applied = await manager.mutate((draft) => applyAtReboot(draft), { modifies: false });
          await manager.machineOp({ kind: 'reboot', name: 'primary' });
          ctx.out(applied ? 'primary rebooted; the delayed reconfiguration took effect\n' : 'primary rebooted\n');
          return;
        }
        case 'power-cycle':
          await manager.powerCycle();
          return;
        case 'ping':
          return;
        default:
          throw new UserError(`unknown administrative request ${op}`);
      }
    },
  );
  await server.listen();
  // The local `ldm` socket works without the network face; a failure there is logged, not fatal.
  const xml = await startXmlService(manager, manager.host, { home, log }).catch((e) => {
    log(`XML interface not started: ${e instanceof Error ? e.message : String(e)}`);
    return null;
  });
  fs.writeFileSync(paths.ldmdPid, `${process.pid}\n`);
  log(`serving ${manager.host.name} (${manager.platform.model}) on ${paths.ldmdSocket}`);
  const stop = () => {
    server.close();
    void (xml?.close() ?? Promise.resolve()).finally(() => {
      manager.close();
      process.exit(0);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write('ready\n');
}

main().catch((e) => {
  log(`cannot start: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
