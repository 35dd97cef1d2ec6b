// The manager's own accounts for remote XML clients (SASL PLAIN, xml-interface.md §1.4): names and
// scrypt hashes in $LDOMS_HOME/xmpp_passwd, one `name:scrypt$N$r$p$salt$hash` line each, and the
// `ldoms user` commands that edit it. What a user may do is not kept here: authorizations stay in
// user_attr (`ldoms auth grant NAME solaris.ldoms.read`) so that one table serves ldm and XML.

import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** scrypt cost: 16 MiB of memory per check, so guessing is slow on any hardware. */
const N = 16384;
const R = 8;
const P = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
const MAX_PASSWORD = 1024;
const HASH = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

export function passwdFile(home: string): string {
  return path.join(home, 'xmpp_passwd');
}

/** Solaris login-name rules, minus anything that would break the file or SASL: no `:`, NUL or spaces. */
export function isValidUserName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9._-]{0,31}$/.test(name);
}

function passwordProblem(password: string): string | null {
  if (password === '') return 'empty password';
  if (password.includes('\0') || password.includes('\n')) return 'the password must not contain NUL or newline characters';
  if (Buffer.byteLength(password) > MAX_PASSWORD) return `the password is longer than ${MAX_PASSWORD} bytes`;
  return null;
}

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_BYTES, { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

interface Entry {
  name: string;
  hash: string;
}

function readEntries(home: string): { lines: string[]; entries: Entry[] } {
  let text = '';
  try {
    text = fs.readFileSync(passwdFile(home), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const lines = text.split('\n').filter((l) => l !== '');
  const entries: Entry[] = [];
  for (const l of lines) {
    if (l.startsWith('#')) continue;
    const colon = l.indexOf(':');
    if (colon > 0) entries.push({ name: l.slice(0, colon), hash: l.slice(colon + 1) });
  }
  return { lines, entries };
}

function writeLines(home: string, lines: string[]): void {
  const file = passwdFile(home);
  fs.mkdirSync(home, { recursive: true });
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, lines.map((l) => `${l}\n`).join(''), { mode: 0o600, flag: 'wx' });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}

/** Parameters a stored hash may carry; anything else is treated as no password at all. */
function parseHash(hash: string): { n: number; r: number; p: number; salt: Buffer; key: Buffer } | null {
  const m = HASH.exec(hash);
  if (!m) return null;
  const [n, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (n < 2 || n > 1 << 20 || (n & (n - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) return null;
  const key = Buffer.from(m[5], 'base64');
  if (key.length !== KEY_BYTES) return null;
  return { n, r, p, salt: Buffer.from(m[4], 'base64'), key };
}

/**
 * Whether `password` is `user`'s. An unknown user costs the same scrypt work as a known one, so
 * the answer time does not tell which names exist.
 */
export async function verifyPassword(home: string, user: string, password: string): Promise<boolean> {
  let entry: Entry | undefined;
  try {
    entry = readEntries(home).entries.find((e) => e.name === user);
  } catch {
    entry = undefined;
  }
  const stored = entry ? parseHash(entry.hash) : null;
  const h = stored ?? { n: N, r: R, p: P, salt: randomBytes(SALT_BYTES), key: randomBytes(KEY_BYTES) };
  const key = await derive(password, h.salt, h.n, h.r, h.p);
  return timingSafeEqual(key, h.key) && stored !== null;
}

export async function setPassword(home: string, user: string, password: string): Promise<void> {
  if (!isValidUserName(user)) throw new Error(`invalid user name: ${user}`);
  const problem = passwordProblem(password);
  if (problem) throw new Error(problem);
  const hash = await hashPassword(password);
  const { lines } = readEntries(home);
  const line = `${user}:${hash}`;
  const i = lines.findIndex((l) => !l.startsWith('#') && l.slice(0, l.indexOf(':')) === user);
  if (i >= 0) lines[i] = line;
  else lines.push(line);
  writeLines(home, lines);
}

/** False when there was no such user. */
export function removeUser(home: string, user: string): boolean {
  const { lines } = readEntries(home);
  const kept = lines.filter((l) => l.startsWith('#') || l.slice(0, l.indexOf(':')) !== user);
  if (kept.length === lines.length) return false;
  writeLines(home, kept);
  return true;
}

export function listUsers(home: string): string[] {
  return readEntries(home).entries.map((e) => e.name);
}

// ---------------------------------------------------------------------------------------------
// ldoms user

export interface UserCommandIo {
  out(text: string): void;
  err(text: string): void;
  readPassword(prompt: string): Promise<string>;
}

export const USER_USAGE = `Usage:
    ldoms user add NAME [--password-file FILE]
    ldoms user passwd NAME [--password-file FILE]
    ldoms user remove NAME
    ldoms user list
`;

class Refusal extends Error {}

/** The first line of FILE, which only its owner may read (the password must not leak through it). */
function passwordFromFile(file: string): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new Refusal(`cannot read password file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (!st.isFile()) throw new Refusal(`password file ${file} is not a regular file`);
  if (st.mode & 0o044) throw new Refusal(`password file ${file} is readable by group or others (chmod 600 ${file})`);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Refusal(`cannot read password file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return text.split('\n')[0].replace(/\r$/, '');
}

async function newPassword(file: string | undefined, io: UserCommandIo): Promise<string> {
  let password: string;
  if (file !== undefined) password = passwordFromFile(file);
  else {
    password = await io.readPassword('Password: ');
    const again = await io.readPassword('Re-enter password: ');
    if (again !== password) throw new Refusal('passwords do not match');
  }
  const problem = passwordProblem(password);
  if (problem) throw new Refusal(problem);
  return password;
}

/** `ldoms user ...` (argv after `user`); returns the exit status. */
export async function userCommand(argv: string[], io: UserCommandIo, home: string): Promise<number> {
  const [verb, ...args] = argv;
  const usage = (msg: string) => {
    io.err(`ldoms: ${msg}\n${USER_USAGE}`);
    return 1;
  };
  let file: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--password-file') {
      if (verb !== 'add' && verb !== 'passwd') return usage(`--password-file applies only to add and passwd`);
      file = args[++i];
      if (file === undefined) return usage('option --password-file needs a value');
    } else if (args[i].startsWith('-')) return usage(`unknown option ${args[i]}`);
    else rest.push(args[i]);
  }
  try {
    switch (verb) {
      case 'list':
        if (rest.length) return usage(`unexpected argument ${rest[0]}`);
        for (const u of listUsers(home)) io.out(`${u}\n`);
        return 0;
      case 'add':
      case 'passwd':
      case 'remove': {
        if (rest.length !== 1) return usage(rest.length ? `unexpected argument ${rest[1]}` : 'missing user name');
        const name = rest[0];
        if (!isValidUserName(name)) return usage(`invalid user name: ${name}`);
        const exists = listUsers(home).includes(name);
        if (verb === 'add' && exists) throw new Refusal(`user ${name} already exists (ldoms user passwd ${name} changes the password)`);
        if (verb !== 'add' && !exists) throw new Refusal(`user ${name} does not exist`);
        if (verb === 'remove') {
          removeUser(home, name);
          io.out(`user ${name} removed\n`);
          return 0;
        }
        await setPassword(home, name, await newPassword(file, io));
        io.out(verb === 'add' ? `user ${name} added; grant it rights with: ldoms auth grant ${name} solaris.ldoms.read\n` : `password of ${name} changed\n`);
        return 0;
      }
      case undefined:
        return usage('missing subcommand');
      default:
        return usage(`unknown command: user ${verb}`);
    }
  } catch (e) {
    io.err(`ldoms: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

/** Read a line from the terminal without echoing it (for `io.readPassword`). */
export function readPasswordFromTty(prompt: string, input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr): Promise<string> {
  if (!input.isTTY) return Promise.reject(new Refusal('no terminal to ask for the password on; use --password-file FILE'));
  return new Promise((resolve, reject) => {
    output.write(prompt);
    const wasRaw = input.isRaw;
    input.setRawMode(true);
    input.resume();
    let line = '';
    const done = (err: Error | null) => {
      input.removeListener('data', onData);
      input.setRawMode(wasRaw);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(line);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done(null);
        if (ch === '\u0003' || ch === '\u0004') return done(new Refusal('interrupted'));
        if (ch === '\u007f' || ch === '\b') line = line.slice(0, -1);
        else if (ch === '\u0015') line = '';
        else line += ch;
      }
    };
    input.on('data', onData);
  });
}
