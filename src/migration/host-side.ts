// One host's facts for the phase-1 checks (types.ts HostSide), read from its manager.

import { storageIdentity } from '../guest/image.js';
import { homeOfHostDir, hostDir, readHostConfig, type HostConfig } from '../host/config.js';
import type { Manager } from '../manager/manager.js';
import type { HostSide, HostVolume } from './types.js';

export async function hostSide(manager: Manager): Promise<HostSide> {
  const view = await manager.view();
  const volumes: HostVolume[] = [];
  for (const d of view.domains) {
    for (const vds of d.constraints.vds) {
      for (const v of vds.volumes) {
        volumes.push({ volume: v.name, service: vds.name, serviceDomain: d.constraints.name, backend: v.backend, storage: storageIdentity(v.backend) });
      }
    }
  }
  const reservedStrands = view.domains.flatMap((d) => d.binding?.reserved ?? []);
  return {
    name: manager.host.name,
    address: manager.host.address,
    managerVersion: manager.host.version,
    view,
    delayedReconfig: manager.delayedReconfig !== null,
    migrationInProgress: manager.migrations.size > 0,
    volumes,
    ...(reservedStrands.length ? { reservedStrands } : {}),
  };
}

/**
 * `target-host` as the user wrote it: a host of this installation (its address) or an IPv4
 * address. Null when neither.
 */
export function resolveTarget(host: HostConfig, target: string): string | null {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(target) && target.split('.').every((n) => Number(n) <= 255)) return target;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(target)) return null;
  try {
    return readHostConfig(hostDir(target, homeOfHostDir(host.dir))).address;
  } catch {
    return null;
  }
}
