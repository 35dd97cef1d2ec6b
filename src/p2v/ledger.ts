// The ledger of a prepared domain: everything ldmp2v created for it, so that `prepare -C` — or a
// re-run after a failed or interrupted prepare — removes exactly that and nothing of the user's.
// It lives in the data directory (`ldmp2v.ledger`); since `prepare -C domain` is given no data
// directory, the control domain keeps a pointer to it under $LDOMS_HOME/var/ldmp2v/<host>/.
// Each step is written down as `pending` before it runs and `done` after, so a step killed
// halfway is still undone.

import fs from 'node:fs';
import path from 'node:path';
import type { Backend } from './backend.js';
import { ldomsHome } from './backend.js';
import type { P2vConfig } from './config.js';
import type { Layout } from './layout.js';

export const LEDGER_FILE = 'ldmp2v.ledger';

export type LedgerStatus = 'preparing' | 'prepared' | 'converting' | 'converted' | 'removing';

export type LedgerEntry =
  | { kind: 'dir'; path: string; state: EntryState }
  | { kind: 'backend'; path: string; display: string; backendType: string; tmp: string; state: EntryState }
  | { kind: 'vdsdev'; volume: string; vds: string; state: EntryState }
  | { kind: 'vdisk'; name: string; domain: string; state: EntryState }
  | { kind: 'domain'; name: string; state: EntryState };

/** `undone`: created and already removed again by prepare itself (the control domain's temporary vdisks). */
export type EntryState = 'pending' | 'done' | 'undone';

export interface ConvertRecord {
  media: string;
  method: 'iso' | 'network' | 'jumpstart';
  fromRelease: string;
  toRelease: string;
  /** Set once the boot disk holds the new release. */
  upgraded: boolean;
}

export interface LedgerData {
  format: 1;
  domain: string;
  host: string;
  dataDir: string;
  /** `auto` (prepare creates and restores the disks) or `root` (-R: the user did). */
  mode: 'auto' | 'root';
  status: LedgerStatus;
  /** Process working on it while `preparing` / `converting` / `removing`. */
  pid: number;
  created: string;
  config: P2vConfig;
  layout: Layout;
  backends: Backend[];
  cpus: number;
  memory: number;
  entries: LedgerEntry[];
  convert?: ConvertRecord;
}

export class LedgerError extends Error {}

export function ledgerPath(dataDir: string): string {
  return path.join(dataDir, LEDGER_FILE);
}

export function pointerPath(host: string, domain: string): string {
  return path.join(ldomsHome(), 'var', 'ldmp2v', host, `${domain}.json`);
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o644);
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

export function readLedger(dataDir: string): LedgerData | null {
  const file = ledgerPath(dataDir);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new LedgerError(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  try {
    const d = JSON.parse(text) as LedgerData;
    if (d.format !== 1 || !Array.isArray(d.entries)) throw new Error('not a ledger');
    return d;
  } catch {
    throw new LedgerError(`${file}: not a valid ldmp2v ledger`);
  }
}

/** The data directory of a domain ldmp2v prepared on `host`, or null. */
export function findDataDir(host: string, domain: string): string | null {
  try {
    const p = JSON.parse(fs.readFileSync(pointerPath(host, domain), 'utf8'));
    return typeof p.dataDir === 'string' ? p.dataDir : null;
  } catch {
    return null;
  }
}

/** True while another live process works on the ledger. */
export function busy(d: LedgerData): boolean {
  if (d.pid === process.pid) return false;
  if (d.status !== 'preparing' && d.status !== 'converting' && d.status !== 'removing') return false;
  try {
    process.kill(d.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class Ledger {
  constructor(readonly data: LedgerData) {}

  /** Starts a ledger; fails if the data directory already has one (another run got there first). */
  static create(data: LedgerData): Ledger {
    const file = ledgerPath(data.dataDir);
    try {
      fs.writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`, { flag: 'wx', mode: 0o644 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new LedgerError(`${data.dataDir}: another ldmp2v run is using this data directory`);
      throw new LedgerError(`${file}: cannot write the ledger: ${(e as NodeJS.ErrnoException).code ?? e}`);
    }
    const l = new Ledger(data);
    const ptr = pointerPath(data.host, data.domain);
    fs.mkdirSync(path.dirname(ptr), { recursive: true });
    writeAtomic(ptr, `${JSON.stringify({ dataDir: data.dataDir, domain: data.domain })}\n`);
    return l;
  }

  save(): void {
    writeAtomic(ledgerPath(this.data.dataDir), `${JSON.stringify(this.data, null, 2)}\n`);
  }

  /** Writes the intent down before the step runs; returns a function to mark it done. */
  intend(entry: LedgerEntry): () => void {
    this.data.entries.push(entry);
    this.save();
    return () => {
      entry.state = 'done';
      this.save();
    };
  }

  setStatus(status: LedgerStatus): void {
    this.data.status = status;
    this.data.pid = process.pid;
    this.save();
  }

  /** Everything is undone: the ledger and its pointer go. */
  remove(): void {
    fs.rmSync(ledgerPath(this.data.dataDir), { force: true });
    const ptr = pointerPath(this.data.host, this.data.domain);
    try {
      const p = JSON.parse(fs.readFileSync(ptr, 'utf8'));
      if (p.dataDir === this.data.dataDir) fs.rmSync(ptr, { force: true });
    } catch {
      /* no pointer */
    }
    // ldmp2v's own directories go when the last pointer does: the host is left as it was found.
    for (let d = path.dirname(ptr); d.startsWith(path.join(ldomsHome(), 'var')) && d !== ldomsHome(); d = path.dirname(d)) {
      try {
        fs.rmdirSync(d);
      } catch {
        break;
      }
    }
  }
}
