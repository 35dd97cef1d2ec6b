// Two real hosts for migration tests: control domains set up alike, a user who may log in to the
// target, and one OS image both hosts reach as vol1@primary-vds0 (shared storage).

import fs from 'node:fs';
import path from 'node:path';
import { TestHome, type RunResult } from './hosts.js';

export interface Pair {
  t: TestHome;
  src: string;
  dst: string;
  /** Password file (mode 600) of user root on both hosts. */
  pw: string;
  /** The shared boot image. */
  image: string;
}

export const PASSWORD = 'migrate-secret';

export interface PairOptions {
  srcOpts?: string[];
  dstOpts?: string[];
  /** `ldoms image create` options of the shared image. */
  image?: string[];
  /** Leave the target's control domain without services (vcc, vds, vsw). */
  bareTarget?: boolean;
}

export async function startPair(o: PairOptions = {}): Promise<Pair> {
  // Guests boot in a blink: tests wait for states, not for modelled boot times.
  process.env.LDOMS_BOOT_SCALE ??= '0.01';
  const t = new TestHome('ldoms-mig-');
  await Promise.all([t.startHost('src', ...(o.srcOpts ?? [])), t.startHost('dst', ...(o.dstOpts ?? []))]);
  await Promise.all([t.setupControlDomain('src'), o.bareTarget ? Promise.resolve() : t.setupControlDomain('dst')]);
  const pw = path.join(t.home, 'pw');
  fs.writeFileSync(pw, `${PASSWORD}\n`, { mode: 0o600 });
  const added = await t.run('ldoms', ['user', 'add', 'root', '--password-file', pw]);
  if (added.code !== 0) throw new Error(`ldoms user add: ${added.stderr}`);
  const image = path.join(t.home, 'disk.img');
  const made = await t.run('ldoms', ['image', 'create', image, '--release', 'Solaris 10 9/10', '--hostname', 'guest1', '--working-set', '32M', '--dirty-rate', '0', ...(o.image ?? [])]);
  if (made.code !== 0) throw new Error(`ldoms image create: ${made.stderr}`);
  await t.ok('src', 'add-vdsdev', image, 'vol1@primary-vds0');
  if (!o.bareTarget) await t.ok('dst', 'add-vdsdev', image, 'vol1@primary-vds0');
  return { t, src: 'src', dst: 'dst', pw, image };
}

export interface GuestOptions {
  vcpus?: number;
  memory?: string;
  vnet?: boolean;
  vdisk?: string | null;
  state?: 'inactive' | 'bound' | 'active';
  crypto?: number;
}

/** A guest on `host`; active ones are waited for until Solaris runs. */
export async function makeGuest(p: Pair, host: string, name: string, o: GuestOptions = {}): Promise<void> {
  const t = p.t;
  await t.ok(host, 'add-domain', name);
  await t.ok(host, 'add-vcpu', String(o.vcpus ?? 8), name);
  if (o.crypto) await t.ok(host, 'add-crypto', String(o.crypto), name);
  await t.ok(host, 'add-memory', o.memory ?? '1G', name);
  if (o.vnet !== false) await t.ok(host, 'add-vnet', 'vnet0', 'primary-vsw0', name);
  if (o.vdisk !== null) await t.ok(host, 'add-vdisk', 'vdisk0', `${o.vdisk ?? 'vol1'}@primary-vds0`, name);
  const state = o.state ?? 'active';
  if (state === 'inactive') return;
  await t.ok(host, 'bind-domain', name);
  if (state === 'bound') return;
  await t.ok(host, 'start-domain', name);
  await waitFor(async () => /-n----/.test(await t.ok(host, 'list-domain', name)), 20_000, `${name} running Solaris`);
}

export function migrate(p: Pair, ...args: string[]): Promise<RunResult> {
  return p.t.run('ldm', ['migrate-domain', '-p', p.pw, ...args], { host: p.src });
}

export async function waitFor(fn: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `ldm list -p` rows by name: state and flags. */
export async function domains(p: Pair, host: string): Promise<Map<string, { state: string; flags: string }>> {
  const out = await p.t.ok(host, 'list-domain', '-p');
  const m = new Map<string, { state: string; flags: string }>();
  for (const line of out.split('\n')) {
    const f = Object.fromEntries(line.split('|').slice(1).map((kv) => kv.split('=') as [string, string]));
    if (line.startsWith('DOMAIN|')) m.set(f.name, { state: f.state, flags: f.flags });
  }
  return m;
}
