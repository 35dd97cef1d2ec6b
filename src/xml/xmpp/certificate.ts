// Each host's TLS identity for the XML interface: a self-signed certificate made on the first start
// and kept in <host dir>/tls. The fault manager's client verifies nothing (§1.3), so self-signed is
// what a real ldmd has to offer too; keeping it stable lets remote clients pin it.

import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { generate } from 'selfsigned';
import { readHostConfig } from '../../host/config.js';

const VALID_YEARS = 10;

export function certificatePaths(dir: string): { key: string; cert: string } {
  return { key: path.join(dir, 'tls', 'key.pem'), cert: path.join(dir, 'tls', 'cert.pem') };
}

/** The stored pair when it is readable, matching and not expired. */
function stored(paths: { key: string; cert: string }): { key: string; cert: string } | null {
  try {
    const key = fs.readFileSync(paths.key, 'utf8');
    const cert = fs.readFileSync(paths.cert, 'utf8');
    const x = new X509Certificate(cert);
    if (!x.checkPrivateKey(createPrivateKey(key))) return null;
    if (Date.parse(x.validTo) <= Date.now()) return null;
    return { key, cert };
  } catch {
    return null;
  }
}

function writeAtomically(file: string, text: string, mode: number): void {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, text, { mode, flag: 'wx' });
  fs.chmodSync(tmp, mode); // the umask may have narrowed it
  fs.renameSync(tmp, file);
}

/**
 * The host's key and certificate, generated on first use (RSA 2048, SHA-256, 10 years,
 * CN = host name, SAN = host name and host address). `address` defaults to the one in the host's
 * host.json when `dir` is a host directory.
 */
export async function ensureCertificate(dir: string, commonName: string, address?: string): Promise<{ key: string; cert: string }> {
  const paths = certificatePaths(dir);
  const have = stored(paths);
  if (have) {
    if ((fs.statSync(paths.key).mode & 0o777) !== 0o600) fs.chmodSync(paths.key, 0o600);
    return have;
  }
  if (address === undefined) {
    try {
      address = readHostConfig(dir).address;
    } catch {
      /* not a host directory: no IP in the certificate */
    }
  }
  const now = new Date();
  const notAfter = new Date(now);
  notAfter.setFullYear(notAfter.getFullYear() + VALID_YEARS);
  const altNames: { type: 2 | 7; value?: string; ip?: string }[] = [{ type: 2, value: commonName }];
  if (address && net.isIP(address)) altNames.push({ type: 7, ip: address });
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: now,
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  fs.mkdirSync(path.dirname(paths.key), { recursive: true, mode: 0o700 });
  writeAtomically(paths.key, pems.private, 0o600);
  writeAtomically(paths.cert, pems.cert, 0o644);
  return { key: pems.private, cert: pems.cert };
}
