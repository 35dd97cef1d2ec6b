// The documents two ldmds exchange during a migration, on an authenticated XMPP session of the
// target's XML interface: a request names an operation and carries JSON, the reply echoes its id.
//
//   <migration xmlns='urn:ldoms:migration' id='3' op='begin'>BASE64(JSON)</migration>
//   <migration-reply xmlns='urn:ldoms:migration' id='3' status='ok|error'>BASE64(JSON)</migration-reply>
//
// Operations, in order: hello, check (dry run or phase 1), begin (the target binds the domain and
// hands out a memory-stream token), commit (the target takes over), abort.

import { NS_MIGRATION } from '../xml/xmpp/server.js';

export type PeerOp = 'hello' | 'check' | 'begin' | 'commit' | 'abort';
const OPS = new Set<PeerOp>(['hello', 'check', 'begin', 'commit', 'abort']);

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v ?? null), 'utf8').toString('base64');
const unb64 = (s: string) => JSON.parse(Buffer.from(s, 'base64').toString('utf8')) as unknown;

export function encodeRequest(id: number, op: PeerOp, body: unknown): string {
  return `<migration xmlns='${NS_MIGRATION}' id='${id}' op='${op}'>${b64(body)}</migration>`;
}

export function encodeReply(id: number, ok: boolean, body: unknown): string {
  return `<migration-reply xmlns='${NS_MIGRATION}' id='${id}' status='${ok ? 'ok' : 'error'}'>${b64(body)}</migration-reply>`;
}

const REQUEST = /^<migration\s+xmlns=(['"])urn:ldoms:migration\1\s+id=(['"])(\d{1,9})\2\s+op=(['"])([a-z]+)\4\s*>([A-Za-z0-9+/=]*)<\/migration>$/;
const REPLY = /^<migration-reply\s+xmlns=(['"])urn:ldoms:migration\1\s+id=(['"])(\d{1,9})\2\s+status=(['"])(ok|error)\4\s*>([A-Za-z0-9+/=]*)<\/migration-reply>$/;

/** True when a document on the XML interface is a migration request (not an LDM_interface). */
export function isMigrationDocument(xml: string): boolean {
  return /^<migration[\s>]/.test(xml.trimStart());
}

export function decodeRequest(xml: string): { id: number; op: PeerOp; body: any } | null {
  const m = REQUEST.exec(xml.trim());
  if (!m || !OPS.has(m[5] as PeerOp)) return null;
  try {
    return { id: Number(m[3]), op: m[5] as PeerOp, body: unb64(m[6]) };
  } catch {
    return null;
  }
}

export function decodeReply(xml: string): { id: number; ok: boolean; body: any } | null {
  const m = REPLY.exec(xml.trim());
  if (!m) return null;
  try {
    return { id: Number(m[3]), ok: m[5] === 'ok', body: unb64(m[6]) };
  } catch {
    return null;
  }
}
