// Who is calling, and what they may do.
//
// Identity: the daemon hands the client a random name inside a sticky, world-writable drop box
// (mode 1733) and asks it to create that file. The kernel records the creator as the file's
// owner, so the owner's uid is the caller's — a client cannot create a file owned by someone else.
//
// Authorizations: Solaris keeps them in /etc/user_attr (`user::::auths=solaris.ldoms.read`); each
// installation here keeps the same format in $LDOMS_HOME/user_attr, edited with
// `ldoms auth grant|revoke`. Root and the user who runs the daemon hold solaris.* implicitly.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Authorization } from '../commands/types.js';

export function prepareDropBox(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.chmodSync(dir, 0o1733);
}

export function newChallenge(): string {
  return randomBytes(18).toString('hex');
}

/** The uid that created `dir/nonce` holding `nonce`, or null when the proof does not hold. */
export function verifyChallenge(dir: string, nonce: string): number | null {
  const file = path.join(dir, nonce);
  try {
    const st = fs.lstatSync(file);
    if (!st.isFile() || st.nlink !== 1 || st.size !== nonce.length) return null;
    // Read no more than the nonce: the file is the caller's, and could be anything.
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      const buf = Buffer.alloc(nonce.length);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      if (n !== nonce.length || buf.toString('utf8') !== nonce) return null;
    } finally {
      fs.closeSync(fd);
    }
    return st.uid;
  } catch {
    return null;
  } finally {
    // Whatever the caller left there (a directory, a link), clearing it must never take the daemon down.
    try {
      fs.rmSync(file, { force: true, recursive: true });
    } catch {
      /* a leftover in the drop box is harmless: the nonce is never reused */
    }
  }
}

export function userName(uid: number): string {
  try {
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length >= 3 && Number(f[2]) === uid) return f[0];
    }
  } catch {
    /* fall through */
  }
  return String(uid);
}

export function userAttrFile(home: string): string {
  return path.join(home, 'user_attr');
}

/** Authorizations granted to `user` in a user_attr file. */
export function grantedAuths(file: string, user: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const f = line.split(':');
    if (f[0] !== user || f.length < 5) continue;
    const attrs = f.slice(4).join(':').split(';');
    for (const a of attrs) {
      const [k, v] = a.split('=');
      if (k === 'auths' && v) return v.split(',').map((s) => s.trim()).filter(Boolean);
    }
  }
  return [];
}

/** Wildcards as Solaris matches them: `solaris.*`, `solaris.ldoms.*`. */
export function authMatches(granted: readonly string[], wanted: Authorization): boolean {
  return granted.some((g) => g === wanted || (g.endsWith('.*') && wanted.startsWith(g.slice(0, -1))));
}

export function isAuthorized(uid: number, user: string, wanted: Authorization, attrFile: string): boolean {
  if (uid === 0 || uid === process.getuid?.()) return true;
  return authMatches(grantedAuths(attrFile, user), wanted);
}
