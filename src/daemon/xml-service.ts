// ldmd's network face: the XML interface over XMPP on port 6482 of the host's address, and the
// discovery responder on the multicast channel. Both sit at the edge: documents go through the
// same command table as `ldm`, identities through the same authorization table.

import type { Authorization } from '../commands/types.js';
import { hostProperty, type HostConfig } from '../host/config.js';
import type { Manager } from '../manager/manager.js';
import { ensureCertificate } from '../xml/xmpp/certificate.js';
import { XmppServer, type XmppSession } from '../xml/xmpp/server.js';
import { verifyPassword } from '../xml/xmpp/users.js';
import { InterfaceSession } from '../xml/interface.js';
import { checkMacCollision, DiscoveryResponder } from '../xml/discovery.js';
import { authMatches, grantedAuths, isAuthorized, userAttrFile } from './auth.js';
import { isMigrationDocument } from '../migration/peer-protocol.js';
import { MigrationTargetSession, StreamTokens } from '../migration/target.js';

export const XMPP_PORT = 6482;

export interface XmlService {
  close(): Promise<void>;
}

/** Start what the host's properties enable; returns null when ldmd/xmpp_enabled is false. */
export async function startXmlService(manager: Manager, host: HostConfig, opts: { home: string; log: (s: string) => void }): Promise<XmlService | null> {
  const attrFile = userAttrFile(opts.home);
  const closers: (() => Promise<void>)[] = [];

  const responder = new DiscoveryResponder({
    address: host.address,
    hostName: host.name,
    version: host.version,
    port: XMPP_PORT,
    macsInUse: () => manager.macsInUse(),
    log: opts.log,
  });
  try {
    await responder.start();
    closers.push(() => responder.close());
    manager.macChecker = async (mac) => (await checkMacCollision({ address: host.address, mac, timeoutMs: 200 }))?.address ?? null;
    if (hostProperty(host, 'ldmd/mac_collision_check') === 'true') {
      // As ldmd does at start-up when asked: report every MAC another manager also uses.
      for (const mac of manager.macsInUse()) {
        const other = await checkMacCollision({ address: host.address, mac, timeoutMs: 200 });
        if (other) opts.log(`MAC address collision: ${mac} is also used by the Logical Domains Manager at ${other.address}`);
      }
    }
  } catch (e) {
    // Discovery needs multicast on the loopback interface; without it the rest still works.
    opts.log(`discovery responder not started: ${e instanceof Error ? e.message : String(e)}`);
  }

  if (hostProperty(host, 'ldmd/xmpp_enabled') !== 'true') {
    opts.log('XML interface disabled (ldmd/xmpp_enabled=false)');
    return { close: async () => void (await Promise.all(closers.map((c) => c()))) };
  }
  const tls = await ensureCertificate(host.dir, host.name);
  const sessions = new Map<number, InterfaceSession>();
  const authorizedFor = (s: XmppSession) => (a: Authorization) =>
    s.uid !== null ? isAuthorized(s.uid, s.user, a, attrFile) : s.user === 'root' || authMatches(grantedAuths(attrFile, s.user), a);
  const sessionFor = (s: XmppSession): InterfaceSession => {
    let is = sessions.get(s.id);
    if (!is) {
      is = new InterfaceSession({ manager, user: s.user, uid: s.uid, authorized: authorizedFor(s), send: (xml) => s.send(xml), log: opts.log });
      sessions.set(s.id, is);
      s.onClose(() => {
        sessions.get(s.id)?.close();
        sessions.delete(s.id);
      });
    }
    return is;
  };
  // Migrations into this host: a source ldmd logs in like any remote client and speaks the
  // migration documents (src/migration/peer-protocol.ts) instead of LDM_interface.
  const tokens = new StreamTokens();
  const migrationSessions = new Map<number, MigrationTargetSession>();
  const migrationFor = (s: XmppSession): MigrationTargetSession => {
    let ms = migrationSessions.get(s.id);
    if (!ms) {
      ms = new MigrationTargetSession({
        manager,
        tokens,
        user: s.user,
        peer: s.peer,
        mayWrite: authorizedFor(s)('solaris.ldoms.write'),
        send: (xml) => s.send(xml),
        log: opts.log,
      });
      migrationSessions.set(s.id, ms);
      s.onClose(() => {
        migrationSessions.get(s.id)?.close();
        migrationSessions.delete(s.id);
      });
    }
    return ms;
  };
  const server = new XmppServer({
    address: host.address,
    port: XMPP_PORT,
    tls,
    authenticate: (user, password) => verifyPassword(opts.home, user, password),
    onDocument: (s, xml) => (isMigrationDocument(xml) ? migrationFor(s).handle(xml) : sessionFor(s).handle(xml)),
    adoptStream: (attrs, peer) => tokens.adopt(attrs, peer),
    log: opts.log,
  });
  await server.start();
  closers.push(() => server.close());
  opts.log(`XML interface on ${host.address}:${XMPP_PORT}`);
  return { close: async () => void (await Promise.all(closers.map((c) => c()))) };
}

