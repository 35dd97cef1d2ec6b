// `ldm list` on a host with 64 guests, timed as a user meets it: a whole `ldm` process, from spawn
// to exit. Beside it, the same requests sent over ldmd's socket without a process (the daemon's
// share), a request that does no work (the per-connection floor), an `ldm` that never reaches a
// daemon (the client's own start-up) and an empty ES module (what loading any file costs Node.js).

import fs from 'node:fs';
import path from 'node:path';
import {
  BenchHome,
  BIN,
  NODE_E0,
  PRIMARY_MEMORY,
  PRIMARY_VCPUS,
  interleave,
  must,
  ok,
  request,
  startShrunkT52,
  table,
  timeNode,
  type Series,
} from './harness.js';

export const GUESTS = 64;
const HOST = 'bench';

export interface ListOptions {
  rounds: number;
  warmup: number;
  log: (text: string) => void;
}

const name = (i: number) => `ldg${String(i).padStart(2, '0')}`;

/** Guest i is active when i % 3 == 0, bound when i % 3 == 1, inactive otherwise. */
function stateOf(i: number): 'active' | 'bound' | 'inactive' {
  return (['active', 'bound', 'inactive'] as const)[i % 3];
}

async function populate(home: BenchHome): Promise<void> {
  const sock = home.socket(HOST);
  await must(sock, 'add-vcc', 'port-range=5000-5199', 'primary-vcc0', 'primary');
  await must(sock, 'add-vds', 'primary-vds0', 'primary');
  await must(sock, 'add-vsw', 'net-dev=ixgbe0', 'primary-vsw0', 'primary');
  const names = Array.from({ length: GUESTS }, (_, i) => name(i));
  await must(sock, 'add-domain', ...names);
  for (const n of names) {
    await must(sock, 'add-vcpu', '2', n);
    await must(sock, 'add-memory', '4G', n);
    await must(sock, 'add-vnet', 'vnet0', 'primary-vsw0', n);
  }
  for (let i = 0; i < GUESTS; i++) if (stateOf(i) !== 'inactive') await must(sock, 'bind', name(i));
  for (let i = 0; i < GUESTS; i++) if (stateOf(i) === 'active') await must(sock, 'start', name(i));
}

/** The listing must show what was built, or the timings are of something else. */
function checkListing(text: string): void {
  const rows = text.trimEnd().split('\n').slice(1);
  if (rows.length !== GUESTS + 1) throw new Error(`ldm list shows ${rows.length} domains, expected ${GUESTS + 1}`);
  for (let i = 0; i < GUESTS; i++) {
    const re = new RegExp(`^${name(i)} +${stateOf(i)} `, 'm');
    if (!re.test(text)) throw new Error(`ldm list does not show ${name(i)} ${stateOf(i)}`);
  }
}

export async function runListBenchmark(opts: ListOptions): Promise<string> {
  const home = new BenchHome('ldoms-bench-list-');
  try {
    opts.log(`ldm-list: starting a T5-2 host in ${home.home}`);
    await startShrunkT52(home, HOST);
    opts.log(`ldm-list: creating ${GUESTS} guests`);
    await populate(home);
    const sock = home.socket(HOST);
    const env = home.env(HOST);
    const ldm = path.join(BIN, 'ldm');
    checkListing(ok('ldm list', await home.ldm(HOST, 'list')).stdout);

    const baseline = async () => ok('node -e 0', await timeNode(NODE_E0, env)).ms;
    const proc = (...args: string[]) => async () => ok(`ldm ${args.join(' ')}`, await timeNode([ldm, ...args], env)).ms;
    const proto = (...args: string[]) => async () => ok(`ldm ${args.join(' ')} (socket)`, await request(sock, args)).ms;
    const emptyModule = path.join(home.home, 'empty.mjs');
    fs.writeFileSync(emptyModule, '');
    const esmFloor = async () => ok('node empty.mjs', await timeNode([emptyModule], env)).ms;
    const noHostEnv = home.env('no-such-host');
    const clientOnly = async () => {
      const r = await timeNode([ldm, 'list'], noHostEnv);
      if (r.code !== 1 || !/does not exist/.test(r.stderr)) throw new Error(`ldm with a missing host: unexpected exit ${r.code}: ${r.stderr}`);
      return r.ms;
    };
    const floor = async () => {
      const r = await request(sock, ['no-such-subcommand']);
      if (r.code !== 1 || !/Invalid command/.test(r.stderr)) throw new Error(`unknown subcommand: unexpected exit ${r.code}: ${r.stderr}`);
      return r.ms;
    };

    opts.log(`ldm-list: ${opts.warmup} warm-up + ${opts.rounds} measured rounds`);
    const series: Series[] = await interleave(
      baseline,
      [
        { name: 'ldm list', run: proc('list') },
        { name: 'ldm list -p', run: proc('list', '-p') },
        { name: 'ldm list -l', run: proc('list', '-l') },
        { name: 'ldm list, no daemon reached (client start-up)', run: clientOnly },
        { name: 'node empty.mjs (ES module loader floor)', run: esmFloor },
        { name: 'daemon: list (socket, no process)', run: proto('list') },
        { name: 'daemon: list -p (socket, no process)', run: proto('list', '-p') },
        { name: 'daemon: list -l (socket, no process)', run: proto('list', '-l') },
        { name: 'daemon: unknown subcommand (request floor)', run: floor },
      ],
      opts.rounds,
      opts.warmup,
    );
    const sizes = await Promise.all([['list'], ['list', '-p'], ['list', '-l']].map(async (a) => [a.join(' '), (await request(sock, a)).stdout.length] as const));
    const counts = { active: 0, bound: 0, inactive: 0 };
    for (let i = 0; i < GUESTS; i++) counts[stateOf(i)]++;
    return [
      `ldm list — SPARC T5-2, primary ${PRIMARY_VCPUS} vCPUs/${PRIMARY_MEMORY}, ${GUESTS} guests (${counts.active} active, ${counts.bound} bound, ${counts.inactive} inactive; 2 vCPUs, 4G, 1 vnet each)`,
      `${opts.rounds} rounds after ${opts.warmup} warm-up rounds; every subject run right after a node -e 0 run, ratio = subject / that run`,
      '',
      table(series, 'node -e 0'),
      '',
      `output sizes: ${sizes.map(([a, n]) => `ldm ${a} ${n} bytes`).join(', ')}`,
    ].join('\n');
  } finally {
    home.cleanup();
  }
}
