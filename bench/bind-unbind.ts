// Binding and unbinding 128 guests on a SPARC T5-2, one `ldm` process per operation as a script
// would do it, then the same 256 operations over ldmd's socket without a process, to tell process
// start-up from the daemon's work. After each pass, `ldm list-devices -p` must show the free
// strands and memory that the guests' sizes predict, or the timings are of something else.
// Last, one guest bound and unbound over and over, on an otherwise empty host and then beside 127
// bound guests: how the daemon's cost per operation grows with the number of domains.

import {
  BenchHome,
  NODE_E0,
  PRIMARY_MEMORY,
  PRIMARY_VCPUS,
  fmt,
  freeResources,
  interleave,
  median,
  must,
  ok,
  request,
  startShrunkT52,
  table,
  timeNode,
  type Series,
} from './harness.js';

export const GUESTS = 128;
const HOST = 'bench';
const GUEST_MEMORY = 2 * 1024 ** 3;

export interface BindOptions {
  /** Rounds of the single-guest bind/unbind cycles. */
  rounds: number;
  warmup: number;
  log: (text: string) => void;
}

const name = (i: number) => `d${String(i).padStart(3, '0')}`;

// 256 strands less the control domain's 8 leave 248; 128 guests of 2 vCPUs would need 256. Every
// eighth guest gets 1 vCPU: 112 × 2 + 16 × 1 = 240, so 8 strands must stay free after the binds.
const vcpusOf = (i: number) => (i % 8 === 7 ? 1 : 2);

async function populate(sock: string): Promise<void> {
  const names = Array.from({ length: GUESTS }, (_, i) => name(i));
  await must(sock, 'add-domain', ...names);
  for (let i = 0; i < GUESTS; i++) {
    await must(sock, 'add-vcpu', String(vcpusOf(i)), name(i));
    await must(sock, 'add-memory', '2G', name(i));
  }
}

type Op = (i: number) => Promise<number>;

/** One pass over every guest; each operation runs right after a baseline run. */
async function pass(what: string, op: Op, baseline: () => Promise<number>): Promise<Series> {
  const s: Series = { name: what, ms: [], baselineMs: [] };
  for (let i = 0; i < GUESTS; i++) {
    s.baselineMs.push(await baseline());
    s.ms.push(await op(i));
  }
  return s;
}

interface Free {
  strands: number[];
  memory: number;
  text: string;
}

const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(2)}G`;

export async function runBindBenchmark(opts: BindOptions): Promise<string> {
  const home = new BenchHome('ldoms-bench-bind-');
  try {
    opts.log(`bind-unbind: starting a T5-2 host in ${home.home}`);
    await startShrunkT52(home, HOST);
    const sock = home.socket(HOST);
    const env = home.env(HOST);
    const baseline = async () => ok('node -e 0', await timeNode(NODE_E0, env)).ms;
    const cycle = (guest: string, label: string) => [
      { name: `daemon: bind, ${label}`, run: async () => ok(`ldm bind ${guest}`, await request(sock, ['bind', guest])).ms },
      { name: `daemon: unbind, ${label}`, run: async () => ok(`ldm unbind ${guest}`, await request(sock, ['unbind', guest])).ms },
    ];

    opts.log(`bind-unbind: one guest alone, ${opts.warmup} + ${opts.rounds} bind/unbind cycles over the socket`);
    await must(sock, 'add-vcc', 'port-range=5000-5199', 'primary-vcc0', 'primary');
    await must(sock, 'add-domain', 'solo');
    await must(sock, 'add-vcpu', '2', 'solo');
    await must(sock, 'add-memory', '2G', 'solo');
    const alone = await interleave(baseline, cycle('solo', 'the only guest'), opts.rounds, opts.warmup);
    await must(sock, 'remove-domain', 'solo');

    opts.log(`bind-unbind: creating ${GUESTS} inactive guests`);
    await populate(sock);

    const devices = async (): Promise<Free> => {
      const text = ok('ldm list-devices -p', await home.ldm(HOST, 'list-devices', '-p')).stdout;
      return { ...freeResources(text), text };
    };
    const countState = async (state: string) =>
      ok('ldm list -p', await home.ldm(HOST, 'list', '-p')).stdout.split('\n').filter((l) => l.startsWith('DOMAIN|name=d') && l.includes(`|state=${state}|`)).length;

    const before = await devices();
    const wantStrands = 256 - PRIMARY_VCPUS;
    if (before.strands.length !== wantStrands) throw new Error(`before the binds: ${before.strands.length} free strands, expected ${wantStrands}`);
    const boundStrands = Array.from({ length: GUESTS }, (_, i) => vcpusOf(i)).reduce((a, b) => a + b, 0);
    const checks: string[] = [];

    /** After binding everything: the strands and memory the guests asked for are gone, no more. */
    const checkBound = async (label: string) => {
      const after = await devices();
      const bound = await countState('bound');
      const expStrands = before.strands.length - boundStrands;
      const expMemory = before.memory - GUESTS * GUEST_MEMORY;
      const good = bound === GUESTS && after.strands.length === expStrands && after.memory === expMemory;
      checks.push(
        `${good ? 'ok  ' : 'FAIL'} after ${label}: ${bound}/${GUESTS} guests bound; list-devices -p shows ${after.strands.length} free strands ` +
          `(expected ${expStrands}: ${wantStrands} - ${boundStrands}) and ${gib(after.memory)} free memory (expected ${gib(expMemory)})`,
      );
      if (!good) throw new Error(checks[checks.length - 1]);
    };
    /** After unbinding everything: list-devices -p is what it was before the first bind. */
    const checkFree = async (label: string) => {
      const after = await devices();
      const inactive = await countState('inactive');
      const good = inactive === GUESTS && after.text === before.text;
      checks.push(
        `${good ? 'ok  ' : 'FAIL'} after ${label}: ${inactive}/${GUESTS} guests inactive; list-devices -p ${after.text === before.text ? 'identical to' : 'DIFFERS from'} ` +
          `before the binds (${after.strands.length} free strands, ${gib(after.memory)} free memory)`,
      );
      if (!good) throw new Error(checks[checks.length - 1]);
    };

    const proc = (verb: string): Op => async (i) => ok(`ldm ${verb} ${name(i)}`, await home.ldm(HOST, verb, name(i))).ms;
    const proto = (verb: string): Op => async (i) => ok(`ldm ${verb} ${name(i)} (socket)`, await request(sock, [verb, name(i)])).ms;

    // Warm-up: the first guests bound and unbound again, and the baseline, untimed.
    opts.log(`bind-unbind: warm-up (${opts.warmup} bind/unbind pairs)`);
    for (let i = 0; i < opts.warmup; i++) {
      await baseline();
      await proc('bind')(i);
      await proc('unbind')(i);
    }

    opts.log(`bind-unbind: ${GUESTS} × ldm bind, then ${GUESTS} × ldm unbind (processes)`);
    const t0 = Date.now();
    const pBind = await pass('ldm bind (process)', proc('bind'), baseline);
    await checkBound('128 × ldm bind (processes)');
    const pUnbind = await pass('ldm unbind (process)', proc('unbind'), baseline);
    await checkFree('128 × ldm unbind (processes)');
    opts.log(`bind-unbind: the same over the socket (no process)`);
    const sBind = await pass('daemon: bind (socket, no process)', proto('bind'), baseline);
    await checkBound('128 binds over the socket');
    const last = name(GUESTS - 1);
    opts.log(`bind-unbind: ${last} beside ${GUESTS - 1} bound guests, ${opts.warmup} + ${opts.rounds} unbind/bind cycles over the socket`);
    const crowded = await interleave(baseline, cycle(last, `${GUESTS - 1} other guests bound`).reverse(), opts.rounds, opts.warmup);
    await checkBound(`${opts.rounds + opts.warmup} more unbind/bind cycles of ${last}`);
    const sUnbind = await pass('daemon: unbind (socket, no process)', proto('unbind'), baseline);
    await checkFree('128 unbinds over the socket');
    const elapsed = Date.now() - t0;

    // Does a bind cost more when many guests are already bound? Compare the first and last 16.
    const ends = (s: Series) => `${s.name}: first 16 median ${fmt(median(s.ms.slice(0, 16)))}, last 16 median ${fmt(median(s.ms.slice(-16)))}`;
    return [
      `bind/unbind — SPARC T5-2, primary ${PRIMARY_VCPUS} vCPUs/${PRIMARY_MEMORY}, ${GUESTS} inactive guests (${GUESTS - GUESTS / 8} × 2 vCPUs + ${GUESTS / 8} × 1 vCPU, 2G each)`,
      `one pass per row over all ${GUESTS} guests in order, after ${opts.warmup} warm-up bind/unbind pairs; every operation run right after a node -e 0 run, ratio = operation / that run`,
      '',
      table([pBind, pUnbind, sBind, sUnbind], 'node -e 0', { total: true }),
      '',
      ...[pBind, pUnbind, sBind, sUnbind].map(ends),
      '',
      `daemon cost of one operation by host size: ${opts.rounds} bind/unbind cycles of one guest (2 vCPUs, 2G) after ${opts.warmup} warm-up cycles, over the socket`,
      '',
      table([alone[0], crowded[1], alone[1], crowded[0]], 'node -e 0'),
      '',
      ...checks,
      `(the four passes, the cycles beside 127 bound guests, their baseline runs and the checks took ${(elapsed / 1000).toFixed(1)} s)`,
    ].join('\n');
  } finally {
    home.cleanup();
  }
}
