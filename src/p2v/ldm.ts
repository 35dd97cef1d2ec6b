// ldmp2v's way to the Logical Domains Manager: the same requests `ldm` sends (src/cli/client.ts),
// so every domain ldmp2v makes goes through the one command table, its rules and its messages.
// Output is captured; the parseable listings (-p) are read back to check what exists.

import { ClientError, connectHost, converse } from '../cli/client.js';

export interface LdmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** An `ldm` command that failed; the message is what ldm said, prefixed with the command. */
export class LdmError extends Error {
  constructor(
    readonly args: string[],
    readonly result: LdmResult,
  ) {
    const said = (result.stderr || result.stdout).trim();
    super(`ldm ${args.join(' ')} failed${said ? `:\n${said}` : ` (exit status ${result.code})`}`);
  }
}

export type DomainState = 'inactive' | 'bound' | 'active';

export interface DomainInfo {
  name: string;
  state: DomainState;
  flags: string;
  /** Console port (`cons=5001`), or null when there is none (inactive, or SP). */
  port: number | null;
}

export interface Services {
  vds: Map<string, { ldom: string; volumes: Map<string, string> }>;
  vsw: Map<string, { ldom: string }>;
  vcc: Map<string, { ldom: string }>;
}

export class Ldm {
  private hostName: string | undefined;

  /** `log` sees every command (ldmp2v -v). */
  constructor(
    host: string | undefined,
    private readonly log?: (line: string) => void,
  ) {
    this.hostName = host;
  }

  /** The host ldmp2v works on: LDOMS_HOST, or the only running one (as for ldm). */
  async host(): Promise<string> {
    if (this.hostName) return this.hostName;
    const { sock, host } = await connectHost(undefined);
    sock.destroy();
    this.hostName = host;
    return host;
  }

  async run(args: string[]): Promise<LdmResult> {
    const { sock } = await connectHost(await this.host());
    this.log?.(`ldm ${args.join(' ')}`);
    let stdout = '';
    let stderr = '';
    const code = await converse(
      sock,
      { type: 'run', argv: args, tty: { stdin: false, stdout: false, stderr: false } },
      {
        out: (fd, data) => (fd === 2 ? (stderr += data) : (stdout += data)),
        prompt: () => Promise.reject(new Error('ldmp2v does not answer questions')),
      },
    );
    if (code === null) throw new ClientError(`ldm ${args.join(' ')}: lost the connection to the Logical Domains Manager (ldmd); the command may or may not have completed`);
    return { code, stdout, stderr };
  }

  /** Runs a command that must succeed; returns its standard output. */
  async ok(...args: string[]): Promise<string> {
    const r = await this.run(args);
    if (r.code !== 0) throw new LdmError(args, r);
    return r.stdout;
  }

  async domain(name: string): Promise<DomainInfo | null> {
    const r = await this.run(['list-domain', '-p', name]);
    if (r.code !== 0) {
      if (/not found/.test(r.stderr)) return null;
      throw new LdmError(['list-domain', '-p', name], r);
    }
    const line = r.stdout.split('\n').find((l) => l.startsWith('DOMAIN|'));
    if (!line) return null;
    const f = fields(line);
    const port = /^\d+$/.test(f.get('cons') ?? '') ? Number(f.get('cons')) : null;
    return { name, state: f.get('state') as DomainState, flags: f.get('flags') ?? '', port };
  }

  async domains(): Promise<string[]> {
    const out = await this.ok('list-domain', '-p');
    return out.split('\n').filter((l) => l.startsWith('DOMAIN|')).map((l) => fields(l).get('name')!);
  }

  async services(): Promise<Services> {
    const out = await this.ok('list-services', '-p');
    const s: Services = { vds: new Map(), vsw: new Map(), vcc: new Map() };
    let vds: Map<string, string> | null = null;
    for (const line of out.split('\n')) {
      const f = fields(line);
      if (line.startsWith('VDS|')) {
        vds = new Map();
        s.vds.set(f.get('name')!, { ldom: f.get('ldom') ?? '', volumes: vds });
      } else if (line.startsWith('|vol=') && vds) vds.set(f.get('vol')!, f.get('dev') ?? '');
      else {
        vds = null;
        if (line.startsWith('VSW|')) s.vsw.set(f.get('name')!, { ldom: f.get('ldom') ?? '' });
        if (line.startsWith('VCC|')) s.vcc.set(f.get('name')!, { ldom: f.get('ldom') ?? '' });
      }
    }
    return s;
  }

  /** Names of a domain's virtual disks (from its constraints). */
  async vdisks(domain: string): Promise<string[]> {
    const r = await this.run(['list-constraints', '-p', domain]);
    if (r.code !== 0) return [];
    return r.stdout.split('\n').filter((l) => l.startsWith('VDISK|')).map((l) => fields(l).get('name')!);
  }

  /** Unbound virtual CPUs and bytes of memory. */
  async free(): Promise<{ vcpus: number; memory: number }> {
    const cpu = await this.ok('list-devices', '-p', 'cpu');
    const mem = await this.ok('list-devices', '-p', 'memory');
    let section = '';
    let vcpus = 0;
    for (const l of cpu.split('\n')) {
      if (/^[A-Z]/.test(l)) section = l.split('|')[0];
      else if (section === 'VCPU' && l.startsWith('|pid=') && fields(l).get('free') === '100') vcpus++;
    }
    let memory = 0;
    for (const l of mem.split('\n')) if (l.startsWith('|pa=')) memory += Number(fields(l).get('size') ?? 0);
    return { vcpus, memory };
  }
}

/** `KEY|a=1|b=2` → { a: '1', b: '2' }. */
function fields(line: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of line.split('|').slice(1)) {
    const eq = part.indexOf('=');
    if (eq > 0) m.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return m;
}
