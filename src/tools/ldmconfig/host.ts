// The host ldmconfig runs on, seen the way an administrator sees it: chosen as `ldm` chooses it
// (LDOMS_HOST, or the only running host), questioned with `ldm` commands through ldmd's socket,
// and power-cycled through its service processor.

import fs from 'node:fs';
import path from 'node:path';
import { ClientError, connectHost, converse } from '../../cli/client.js';
import { hostDir, readHostConfig, type HostConfig } from '../../host/config.js';
import { RpcClient } from '../../ipc/rpc-client.js';
import { machinePaths } from '../../machine/server.js';
import type { PlatformSpec } from '../../platform/types.js';
import { factoryMemory, totalStrands } from './plan.js';

export class HostError extends Error {}

export interface LdmResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface SpConfigEntry {
  name: string;
  current: boolean;
  nextPoweron: boolean;
}

/** What the "Checking the system" screen shows and the plan is checked against. */
export interface Inspection {
  host: string;
  platform: PlatformSpec;
  /** Logical Domains Manager version the host runs, e.g. `2.0`. */
  version: string;
  configs: SpConfigEntry[];
  domains: string[];
  /** Virtual services (vcc, vds, vsw, ...) anywhere: a factory-default system has none. */
  services: number;
  primary: { vcpus: number; memory: number; crypto: number; delayed: boolean };
  factoryDefault: boolean;
  /** Why the system is not in factory-default, for the refusal (empty when it is). */
  notFactoryBecause: string[];
}

/** `KEY|a=b|c=d` lines of `ldm ... -p` output. */
function parseable(text: string): { key: string; fields: Map<string, string> }[] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('VERSION'))
    .map((l) => {
      const [key, ...rest] = l.split('|');
      return { key, fields: new Map(rest.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as [string, string])) };
    });
}

export function parseSpConfigs(text: string): SpConfigEntry[] {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const m = /^(\S+)((?: \[[a-z ]+\])*)$/.exec(l.trim());
      const name = m ? m[1] : l.trim();
      const marks = m ? m[2] : '';
      return { name, current: marks.includes('[current]'), nextPoweron: marks.includes('[next poweron]') };
    });
}

export class HostLink {
  private constructor(
    readonly host: string,
    readonly config: HostConfig,
  ) {}

  /** The host `ldm` would talk to; fails as `ldm` fails when there is none or ldmd is down. */
  static async open(): Promise<HostLink> {
    let host: string;
    try {
      const c = await connectHost();
      c.sock.destroy();
      host = c.host;
    } catch (e) {
      throw new HostError(e instanceof Error ? e.message.replace(/^ldm: /, '') : String(e));
    }
    return new HostLink(host, readHostConfig(hostDir(host)));
  }

  get dir(): string {
    return this.config.dir;
  }

  /** Run one `ldm` command as a script would (no terminal), collecting its output. */
  async ldm(argv: string[]): Promise<LdmResult> {
    let sock;
    try {
      sock = (await connectHost(this.host)).sock;
    } catch (e) {
      const text = e instanceof ClientError ? e.message : String(e);
      return { code: 1, stdout: '', stderr: `${text}\n` };
    }
    let stdout = '';
    let stderr = '';
    const code = await converse(sock, { type: 'run', argv, tty: { stdin: false, stdout: false, stderr: false } }, {
      out: (fd, data) => {
        if (fd === 2) stderr += data;
        else stdout += data;
      },
      // No question can be answered: a command that asks is a command this tool must not run.
      prompt: () => Promise.reject(new Error('ldmconfig does not answer prompts')),
    });
    if (code === null) return { code: 1, stdout, stderr: `${stderr}lost the connection to the Logical Domains Manager (ldmd)\n` };
    return { code, stdout, stderr };
  }

  /** `ldm` that must succeed: its error text otherwise. */
  async ldmOk(argv: string[]): Promise<string> {
    const r = await this.ldm(argv);
    if (r.code !== 0) throw new HostError(`ldm ${argv.join(' ')}: ${(r.stderr || r.stdout).trim() || `exit status ${r.code}`}`);
    return r.stdout;
  }

  /** A service-processor command, as `ldoms sp HOST ...` sends it to the machine process. */
  async sp(argv: string[]): Promise<{ status: number; output: string }> {
    const socket = machinePaths(this.dir).socket;
    if (!fs.existsSync(socket)) throw new HostError(`the service processor of host ${this.host} does not answer (${path.basename(socket)} is missing)`);
    let client: RpcClient;
    try {
      client = await RpcClient.connect(socket);
    } catch (e) {
      throw new HostError(`cannot reach the service processor of host ${this.host}: ${e instanceof Error ? e.message : String(e)}`);
    }
    try {
      return await client.call<{ status: number; output: string }>('sp', { argv });
    } catch (e) {
      throw new HostError(`service processor: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      client.close();
    }
  }

  async inspect(): Promise<Inspection> {
    const p = this.config.platform;
    const configs = parseSpConfigs(await this.ldmOk(['list-spconfig']));
    const domainRows = parseable(await this.ldmOk(['list-domain', '-p'])).filter((r) => r.key === 'DOMAIN');
    const domains = domainRows.map((r) => r.fields.get('name') ?? '');
    const services = parseable(await this.ldmOk(['list-services', '-p'])).filter((r) => /^(VCC|VDS|VSW|VDPCS)$/.test(r.key)).length;
    const cons = parseable(await this.ldmOk(['list-constraints', '-p', 'primary']));
    const num = (key: string, field: string) => Number(cons.find((r) => r.key === key)?.fields.get(field) ?? 0);
    const flags = domainRows.find((r) => r.fields.get('name') === 'primary')?.fields.get('flags') ?? '';
    const primary = { vcpus: num('VCPU', 'count'), memory: num('MEMORY', 'size'), crypto: num('MAU', 'count'), delayed: flags[2] === 'd' };

    // Factory-default: the SP booted it and nothing changed since ([current]); or the SP boots it
    // next and what runs is still exactly it (a run of ours that was rolled back leaves that).
    const fd = configs.find((c) => c.name === 'factory-default');
    const why: string[] = [];
    const unchanged =
      domains.length === 1 &&
      services === 0 &&
      !primary.delayed &&
      primary.vcpus === totalStrands(p) &&
      primary.memory === factoryMemory(p) &&
      primary.crypto === p.cpu.chips * p.cpu.coresPerChip * p.cpu.cryptoUnitsPerCore;
    const factoryDefault = Boolean(fd?.current || (fd?.nextPoweron && unchanged));
    if (!factoryDefault) {
      const running = configs.find((c) => c.current);
      if (running && running.name !== 'factory-default') why.push(`the system runs configuration ${running.name}`);
      else if (!fd?.nextPoweron && !fd?.current) why.push(`the next power-on boots ${configs.find((c) => c.nextPoweron)?.name ?? 'another configuration'}`);
      const others = domains.filter((d) => d !== 'primary');
      if (others.length) why.push(`domains exist: ${others.join(', ')}`);
      if (services) why.push('the control domain has virtual services');
      if (primary.delayed) why.push('a delayed reconfiguration is pending');
      if (!why.length) why.push('the control domain has been reconfigured since factory-default was booted');
    }
    return { host: this.host, platform: p, version: this.config.version, configs, domains, services, primary, factoryDefault, notFactoryBecause: why };
  }
}
