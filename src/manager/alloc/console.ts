// Console ports of a virtual console concentrator (vcc). Guests get the lowest free port of the
// vcc's range, so consecutive binds yield 5000, 5001, ... (ldm-cli.md §6.4 [I]); `set-vcons
// port=` asks for one port, which must lie in the range and be free.

import { fail, ok, type Result } from './errors.js';

export interface PortRange {
  portMin: number;
  portMax: number;
}

export function allocateConsolePort(range: PortRange, used: ReadonlySet<number>, wanted?: number): Result<number> {
  const { portMin, portMax } = range;
  if (wanted !== undefined) {
    if (!Number.isInteger(wanted) || wanted < portMin || wanted > portMax) {
      return fail(`Console port ${wanted} is outside the port range ${portMin}-${portMax}`);
    }
    if (used.has(wanted)) return fail(`Console port ${wanted} is already in use`);
    return ok(wanted);
  }
  for (let port = portMin; port <= portMax; port++) if (!used.has(port)) return ok(port);
  return fail(`No free console port is left in the port range ${portMin}-${portMax}`);
}
