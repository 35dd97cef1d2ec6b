// `ldoms`: runs modelled hosts side by side on this machine and administers them.
//
//   ldoms host start NAME [--platform MODEL|FILE] [--cores N] [--chips N] [--memory SIZE]
//                         [--address 127.0.0.N] [--version X.Y]
//   ldoms host stop NAME | ldoms host list | ldoms host reboot NAME | ldoms host destroy NAME
//   ldoms auth grant USER AUTH... | ldoms auth revoke USER [AUTH...] | ldoms auth list
//   ldoms platforms
//   ldoms quickstart            (what `npm start` runs)

import fs from 'node:fs';
import path from 'node:path';
import { hostDir, hostPaths, hostProperty, ldomsHome, LDMD_PROPERTIES, listHostNames, readHostConfig, writeHostConfig, type HostConfig } from '../host/config.js';
import { runningPid, startProcess, stopProcess } from '../host/processes.js';
import { catalogIds, DEFAULT_PLATFORM_ID } from '../platform/catalog.js';
import { describePlatform, loadPlatform, PlatformError } from '../platform/load.js';
import { parseSize } from '../format/units.js';
import { isValidName } from '../manager/names.js';
import { grantedAuths, userAttrFile } from '../daemon/auth.js';
import { ClientError, connectHost, promptLine, runRequest } from './client.js';
import { userCommand } from '../xml/xmpp/users.js';
import { RpcClient } from '../ipc/rpc-client.js';
import { machinePaths } from '../machine/server.js';
import { imageCommand } from '../guest/image-cli.js';
import { discoverCommand } from '../xml/discovery-cli.js';

class UsageError extends Error {}
/** A refusal that is not about the command line: no usage text after it. */
class HostError extends Error {}

const USAGE = `Usage:
    ldoms host start NAME [--platform MODEL|FILE] [--cores N] [--chips N] [--memory SIZE]
                          [--address 127.0.0.N] [--version X.Y]
    ldoms host stop NAME
    ldoms host list
    ldoms host reboot NAME          reboot the control domain (applies a delayed reconfiguration)
    ldoms host destroy NAME         delete a stopped host and all its state
    ldoms host set-prop NAME PROP=VALUE   ldmd properties, read when ldmd starts (ldmd/xmpp_enabled=false)
    ldoms host props NAME
    ldoms auth grant USER AUTH...   AUTH is solaris.ldoms.read, solaris.ldoms.write or solaris.ldoms.*
    ldoms auth revoke USER [AUTH...]
    ldoms auth list
    ldoms sp HOST COMMAND...        the host's service processor (show /HOST, set /SP/powermgmt policy=...,
                                    set /HOST/bootmode config=NAME, start /SYS, stop /SYS, reset /SYS)
    ldoms mem-checksum HOST DOMAIN  checksum of a bound domain's memory
    ldoms image create FILE --release R [...] | ldoms image show FILE | ldoms image releases
    ldoms discover [-p] [--timeout MS] [--from ADDRESS]   list the Logical Domains Managers that answer
    ldoms mac-check MAC [--from ADDRESS]                  is a MAC address used by another manager?
    ldoms user add|passwd|remove|list ...                 users of the XML interface (remote clients)
    ldoms platforms                 list the modelled servers
    ldoms quickstart                start (or reuse) host "host1" on the default platform
`;

const AUTHS = ['solaris.ldoms.read', 'solaris.ldoms.write', 'solaris.ldoms.*', 'solaris.*'];

function options(args: string[], allowed: string[]): { opts: Map<string, string>; rest: string[] } {
  const opts = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith('--')) {
      if (!allowed.includes(a)) throw new UsageError(`unknown option ${a}`);
      const v = args[++i];
      if (v === undefined) throw new UsageError(`option ${a} needs a value`);
      opts.set(a, v);
    } else rest.push(a);
  }
  return { opts, rest };
}

function checkHostName(name: string | undefined): string {
  if (!name) throw new UsageError('missing host name');
  if (!isValidName(name) || name.length > 64 || name.includes('/')) throw new UsageError(`invalid host name: ${name}`);
  return name;
}

function positiveInt(opt: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`${opt} must be a positive integer (got ${v})`);
  return Number(v);
}

function nextAddress(): string {
  const used = new Set(listHostNames().map((n) => readHostConfig(hostDir(n)).address));
  for (let i = 2; i < 255; i++) if (!used.has(`127.0.0.${i}`)) return `127.0.0.${i}`;
  throw new Error('no free loopback address left (127.0.0.2-127.0.0.254)');
}

function isRunning(dir: string): boolean {
  return runningPid(dir, 'ldmd') !== null && runningPid(dir, 'machine') !== null;
}

export async function hostStart(name: string, args: string[]): Promise<HostConfig> {
  const { opts, rest } = options(args, ['--platform', '--cores', '--chips', '--memory', '--address', '--version']);
  if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
  const dir = hostDir(name);
  let cfg: HostConfig;
  if (fs.existsSync(path.join(dir, 'host.json'))) {
    cfg = readHostConfig(dir);
    for (const o of ['--platform', '--cores', '--chips', '--memory', '--address', '--version']) {
      if (opts.has(o)) throw new HostError(`host ${name} already exists; ${o} applies only when a host is created (ldoms host destroy ${name} first)`);
    }
  } else {
    const memText = opts.get('--memory');
    const memory = memText === undefined ? undefined : parseSize(memText);
    if (memory === null) throw new UsageError(`invalid --memory size: ${memText}`);
    const platform = loadPlatform(opts.get('--platform') ?? DEFAULT_PLATFORM_ID, {
      coresPerChip: positiveInt('--cores', opts.get('--cores')),
      chips: positiveInt('--chips', opts.get('--chips')),
      memory,
    });
    const address = opts.get('--address') ?? nextAddress();
    const m = /^127\.0\.0\.(\d{1,3})$/.exec(address);
    if (!m || Number(m[1]) < 2 || Number(m[1]) > 254) throw new UsageError(`--address must be a loopback address 127.0.0.2-127.0.0.254 (got ${address})`);
    const clash = listHostNames().find((n) => readHostConfig(hostDir(n)).address === address);
    if (clash) throw new UsageError(`address ${address} is already used by host ${clash}`);
    const version = opts.get('--version') ?? '2.0';
    if (!/^\d+\.\d+(\.\d+)*$/.test(version)) throw new UsageError(`--version must look like 2.0 or 1.3 (got ${version})`);
    cfg = { name, dir, address, platform, version, createdAt: Date.now() };
    writeHostConfig(cfg);
  }
  if (isRunning(dir)) throw new HostError(`host ${name} is already running`);
  await startProcess(dir, 'machine');
  await startProcess(dir, 'ldmd');
  return cfg;
}

async function hostStop(name: string): Promise<void> {
  const dir = hostDir(name);
  if (!fs.existsSync(path.join(dir, 'host.json'))) throw new HostError(`host ${name} does not exist`);
  const a = await stopProcess(dir, 'ldmd');
  const b = await stopProcess(dir, 'machine');
  fs.rmSync(hostPaths(dir).ldmdSocket, { force: true });
  if (!a && !b) throw new HostError(`host ${name} is not running`);
}

function hostList(): string {
  const rows = [['NAME', 'ADDRESS', 'STATE', 'VERSION', 'PLATFORM']];
  for (const n of listHostNames()) {
    const c = readHostConfig(hostDir(n));
    rows.push([n, c.address, isRunning(c.dir) ? 'running' : 'stopped', c.version, c.platform.model]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)) + 2);
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('')).join('\n') + '\n';
}

/** The machine process's socket: the service processor and the hardware, without ldmd in between. */
async function machineCall<T>(name: string, op: string, params: Record<string, unknown>): Promise<T> {
  const dir = hostDir(name);
  if (!fs.existsSync(path.join(dir, 'host.json'))) throw new HostError(`host ${name} does not exist`);
  if (!runningPid(dir, 'machine')) throw new HostError(`host ${name} is not running (ldoms host start ${name})`);
  let client: RpcClient;
  try {
    client = await RpcClient.connect(machinePaths(dir).socket);
  } catch (e) {
    throw new HostError(`cannot reach the service processor of host ${name}: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    return await client.call<T>(op, params);
  } catch (e) {
    throw new HostError(e instanceof Error ? e.message : String(e));
  } finally {
    client.close();
  }
}

async function admin(name: string, op: string): Promise<number> {
  const dir = hostDir(name);
  if (!fs.existsSync(path.join(dir, 'host.json'))) throw new HostError(`host ${name} does not exist`);
  if (!isRunning(dir)) throw new HostError(`host ${name} is not running (ldoms host start ${name})`);
  const { sock } = await connectHost(name);
  return runRequest(sock, { type: 'run', argv: [], admin: op, tty: { stderr: Boolean(process.stderr.isTTY) } });
}

/** Change one user's `auths=` in user_attr, keeping the user's other attributes and other users' lines. */
function editUserAttr(user: string, change: (auths: string[]) => string[]): void {
  const file = userAttrFile(ldomsHome());
  let lines: string[] = [];
  try {
    lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  } catch {
    /* new file */
  }
  const next = change(grantedAuths(file, user));
  const i = lines.findIndex((l) => !l.startsWith('#') && l.split(':')[0] === user);
  const fields = i >= 0 ? lines[i].split(':') : [user, '', '', '', ''];
  while (fields.length < 5) fields.push('');
  const attrs = fields.slice(4).join(':').split(';').filter((a) => a !== '' && !a.startsWith('auths='));
  if (next.length) attrs.push(`auths=${next.join(',')}`);
  const line = [...fields.slice(0, 4), attrs.join(';')].join(':');
  if (i >= 0) {
    if (attrs.length) lines[i] = line;
    else lines.splice(i, 1);
  } else if (attrs.length) lines.push(line);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, lines.map((l) => `${l}\n`).join(''), { mode: 0o644 });
  fs.renameSync(tmp, file);
}

async function main(argv: string[]): Promise<number> {
  const [group, verb, ...rest] = argv;
  switch (group) {
    case 'host':
      switch (verb) {
        case 'start': {
          const cfg = await hostStart(checkHostName(rest[0]), rest.slice(1));
          process.stdout.write(`host ${cfg.name} started: ${cfg.platform.model} at ${cfg.address} (Logical Domains Manager ${cfg.version})\n`);
          return 0;
        }
        case 'stop':
          await hostStop(checkHostName(rest[0]));
          process.stdout.write(`host ${rest[0]} stopped\n`);
          return 0;
        case 'list':
          process.stdout.write(hostList());
          return 0;
        case 'reboot':
          return admin(checkHostName(rest[0]), 'reboot-primary');
        case 'set-prop': {
          const name = checkHostName(rest[0]);
          const dir = hostDir(name);
          if (!fs.existsSync(path.join(dir, 'host.json'))) throw new HostError(`host ${name} does not exist`);
          const m = /^([^=]+)=(.*)$/.exec(rest[1] ?? '');
          if (!m || rest.length !== 2) throw new UsageError('usage: ldoms host set-prop NAME PROPERTY=VALUE');
          const prop = LDMD_PROPERTIES[m[1]];
          if (!prop) throw new HostError(`unknown property ${m[1]} (known: ${Object.keys(LDMD_PROPERTIES).join(', ')})`);
          if (!prop.values.test(m[2])) throw new HostError(`invalid value for ${m[1]}: ${m[2]}`);
          const cfg = readHostConfig(dir);
          writeHostConfig({ ...cfg, properties: { ...cfg.properties, [m[1]]: m[2] } });
          if (runningPid(dir, 'ldmd')) process.stdout.write(`${m[1]}=${m[2]}; restart ldmd to apply it (ldoms host stop ${name}; ldoms host start ${name})\n`);
          return 0;
        }
        case 'props': {
          const name = checkHostName(rest[0]);
          const dir = hostDir(name);
          if (!fs.existsSync(path.join(dir, 'host.json'))) throw new HostError(`host ${name} does not exist`);
          const cfg = readHostConfig(dir);
          for (const k of Object.keys(LDMD_PROPERTIES)) process.stdout.write(`${k}=${hostProperty(cfg, k)}\n`);
          return 0;
        }
        case 'destroy': {
          const name = checkHostName(rest[0]);
          const dir = hostDir(name);
          if (!fs.existsSync(path.join(dir, 'host.json'))) throw new HostError(`host ${name} does not exist`);
          if (runningPid(dir, 'ldmd') || runningPid(dir, 'machine')) throw new HostError(`host ${name} is running; stop it first`);
          fs.rmSync(dir, { recursive: true, force: true });
          process.stdout.write(`host ${name} destroyed\n`);
          return 0;
        }
      }
      break;
    case 'auth':
      switch (verb) {
        case 'grant':
        case 'revoke': {
          const [user, ...auths] = rest;
          if (!user) throw new UsageError('missing user name');
          if (!/^[A-Za-z0-9_.][A-Za-z0-9_.-]*$/.test(user)) throw new UsageError(`invalid user name: ${user}`);
          for (const a of auths) if (!AUTHS.includes(a)) throw new UsageError(`unknown authorization ${a} (use ${AUTHS.join(', ')})`);
          if (verb === 'grant' && !auths.length) throw new UsageError('missing authorization');
          editUserAttr(user, (cur) => (verb === 'grant' ? [...new Set([...cur, ...auths])] : auths.length ? cur.filter((a) => !auths.includes(a)) : []));
          return 0;
        }
        case 'list': {
          const file = userAttrFile(ldomsHome());
          process.stdout.write(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');
          return 0;
        }
      }
      break;
    case 'sp': {
      const name = checkHostName(verb);
      const r = await machineCall<{ output: string; status: number }>(name, 'sp', { argv: rest });
      process.stdout.write(r.output);
      return r.status;
    }
    case 'mem-checksum': {
      const name = checkHostName(verb);
      if (!rest[0] || rest.length > 1) throw new UsageError('usage: ldoms mem-checksum HOST DOMAIN');
      const r = await machineCall<{ checksum: string; size: number }>(name, 'mem-checksum', { name: rest[0] });
      process.stdout.write(`${r.checksum}  ${rest[0]} (${r.size} bytes)\n`);
      return 0;
    }
    case 'user':
      return userCommand(argv.slice(1), { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), readPassword: (p) => promptLine(p, false) }, ldomsHome());
    case 'discover':
    case 'mac-check':
      return discoverCommand(argv, (t) => process.stdout.write(t), (t) => process.stderr.write(t));
    case 'image':
      return imageCommand(argv.slice(1), (t) => process.stdout.write(t), (t) => process.stderr.write(t));
    case 'platforms':
      for (const id of catalogIds()) process.stdout.write(`${id}${id === DEFAULT_PLATFORM_ID ? ' (default)' : ''}\n${describePlatform(loadPlatform(id)).replace(/^/gm, '    ')}\n`);
      return 0;
    case 'quickstart': {
      const name = 'host1';
      const dir = hostDir(name);
      let cfg: HostConfig;
      if (fs.existsSync(path.join(dir, 'host.json')) && isRunning(dir)) cfg = readHostConfig(dir);
      else cfg = await hostStart(name, []);
      process.stdout.write(
        `Host ${name} is running: ${cfg.platform.model}, Logical Domains Manager ${cfg.version}, address ${cfg.address}\n` +
          `State: ${cfg.dir}\n\n` +
          'Try:\n' +
          '    ldm list\n' +
          '    ldm list-devices -a\n' +
          '    ldm add-vcc port-range=5000-5100 primary-vcc0 primary\n' +
          '    ldm add-vds primary-vds0 primary\n' +
          `    ldm add-vsw net-dev=${cfg.platform.netDevices[0]?.name ?? 'nxge0'} primary-vsw0 primary\n` +
          '    ldm --help\n' +
          `Stop it with: ldoms host stop ${name}\n`,
      );
      return 0;
    }
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE);
      return group === undefined ? 1 : 0;
  }
  throw new UsageError(`unknown command: ${[group, verb].filter(Boolean).join(' ')}`);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    if (e instanceof UsageError) process.stderr.write(`ldoms: ${e.message}\n${USAGE}`);
    else if (e instanceof PlatformError || e instanceof ClientError || e instanceof HostError) process.stderr.write(`ldoms: ${e.message}\n`);
    else process.stderr.write(`ldoms: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
