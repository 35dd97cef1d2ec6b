// `ldoms discover` and `ldoms mac-check`: the client side of the discovery channel
// (src/xml/discovery.ts, docs/discovery.md).
//
//   ldoms discover [-p] [--timeout MS] [--from ADDRESS]
//   ldoms mac-check MAC [--timeout MS] [--from ADDRESS]
//
// argv starts with the subcommand name. mac-check exits 0 when no other manager uses the MAC,
// 1 when one does, 2 on errors.

import { checkMacCollision, DEFAULT_DISCOVERY_ADDRESS, discoverManagers, formatMac, parseMac, type ManagerInfo } from './discovery.js';

export const DISCOVER_USAGE = `Usage:
    ldoms discover [-p] [--timeout MS] [--from ADDRESS]
                                    list the Logical Domains Managers answering on 239.129.9.27:64535
    ldoms mac-check MAC [--timeout MS] [--from ADDRESS]
                                    ask whether another manager uses MAC
`;

class UsageError extends Error {}

interface Parsed {
  parseable: boolean;
  timeoutMs: number;
  from?: string;
  rest: string[];
}

function parse(args: string[], allowParseable: boolean): Parsed {
  const parsed: Parsed = { parseable: false, timeoutMs: 1000, rest: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-p' && allowParseable) parsed.parseable = true;
    else if (a === '--timeout' || a === '--from') {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`option ${a} needs a value`);
      if (a === '--from') parsed.from = v;
      else if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 60000) throw new UsageError(`--timeout must be 1-60000 milliseconds (got ${v})`);
      else parsed.timeoutMs = Number(v);
    } else if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option ${a}`);
    else parsed.rest.push(a);
  }
  return parsed;
}

function table(managers: ManagerInfo[]): string {
  const rows = [['HOSTNAME', 'ADDRESS', 'PORT', 'VERSION'], ...managers.map((m) => [m.hostName, m.address, String(m.port), m.version])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)) + 2);
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('')).join('\n') + '\n';
}

// Modelled on `ldm list -p` records: a record name, then `|key=value` fields.
const record = (m: ManagerInfo) => `MANAGER|hostname=${m.hostName}|address=${m.address}|port=${m.port}|version=${m.version}\n`;

export async function discoverCommand(argv: string[], out: (s: string) => void, err: (s: string) => void = out): Promise<number> {
  const [sub, ...args] = argv;
  try {
    if (sub === 'discover') {
      const p = parse(args, true);
      if (p.rest.length) throw new UsageError(`unexpected argument ${p.rest[0]}`);
      const managers = await discoverManagers({ address: p.from ?? DEFAULT_DISCOVERY_ADDRESS, timeoutMs: p.timeoutMs });
      if (p.parseable) managers.forEach((m) => out(record(m)));
      else if (managers.length) out(table(managers));
      else err(`No Logical Domains Manager answered within ${p.timeoutMs} ms\n`);
      return 0;
    }
    if (sub === 'mac-check') {
      const p = parse(args, false);
      if (p.rest.length !== 1) throw new UsageError(p.rest.length ? `unexpected argument ${p.rest[1]}` : 'missing MAC address');
      const value = parseMac(p.rest[0]);
      if (value === null) throw new UsageError(`invalid MAC address: ${p.rest[0]}`);
      const mac = formatMac(value);
      const user = await checkMacCollision({ address: p.from ?? DEFAULT_DISCOVERY_ADDRESS, mac, timeoutMs: p.timeoutMs });
      if (user) {
        out(`MAC address ${mac} is already in use by the Logical Domains Manager at ${user.address}\n`);
        return 1;
      }
      out(`MAC address ${mac} is not in use by any other Logical Domains Manager\n`);
      return 0;
    }
    throw new UsageError(sub === undefined ? 'missing subcommand' : `unknown subcommand ${sub}`);
  } catch (e) {
    if (e instanceof UsageError) err(`${e.message}\n${DISCOVER_USAGE}`);
    else err(`${(e as Error).message}\n`);
    return 2;
  }
}
