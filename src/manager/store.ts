// ldmd's constraints database (SQLite, WAL journal, synchronous=FULL): one row per domain with its
// constraints document, plus a few settings. Every change is one transaction, so a kill -9 leaves
// the database as it was before or after a command, never between.

import Database from 'better-sqlite3';
import type { DomainConstraints } from './types.js';

export interface StoredDomain {
  constraints: DomainConstraints;
  ord: number;
  seq: number;
}

export interface StoreSnapshot {
  seq: number;
  powerEpoch: number;
  delayed: DomainConstraints | null;
  domains: StoredDomain[];
}

export class Store {
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS domains (
        name TEXT PRIMARY KEY,
        ord INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        constraints TEXT NOT NULL
      );
    `);
  }

  load(): StoreSnapshot {
    const meta = new Map<string, string>(
      (this.db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]),
    );
    const rows = this.db.prepare('SELECT name, ord, seq, constraints FROM domains ORDER BY ord').all() as {
      ord: number;
      seq: number;
      constraints: string;
    }[];
    return {
      seq: Number(meta.get('seq') ?? 0),
      powerEpoch: Number(meta.get('powerEpoch') ?? 0),
      delayed: meta.has('delayed') ? (JSON.parse(meta.get('delayed')!) as DomainConstraints) : null,
      domains: rows.map((r) => ({ constraints: { policies: [], vdpcs: [], vdpcc: [], ...JSON.parse(r.constraints) }, ord: r.ord, seq: r.seq })),
    };
  }

  /** Replace the whole content in one transaction (first start, after a power cycle). */
  replaceAll(snap: StoreSnapshot): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM domains').run();
      this.db.prepare('DELETE FROM meta').run();
      this.writeMeta(snap.seq, snap.powerEpoch, snap.delayed);
      const ins = this.db.prepare('INSERT INTO domains (name, ord, seq, constraints) VALUES (?, ?, ?, ?)');
      for (const d of snap.domains) ins.run(d.constraints.name, d.ord, d.seq, JSON.stringify(d.constraints));
    })();
  }

  /** Write the rows that changed and delete the removed ones, with the new sequence number. */
  commit(seq: number, powerEpoch: number, delayed: DomainConstraints | null, upserts: StoredDomain[], removed: string[]): void {
    this.db.transaction(() => {
      const up = this.db.prepare(
        'INSERT INTO domains (name, ord, seq, constraints) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET ord = excluded.ord, seq = excluded.seq, constraints = excluded.constraints',
      );
      for (const d of upserts) up.run(d.constraints.name, d.ord, d.seq, JSON.stringify(d.constraints));
      const del = this.db.prepare('DELETE FROM domains WHERE name = ?');
      for (const n of removed) del.run(n);
      this.writeMeta(seq, powerEpoch, delayed);
    })();
  }

  private writeMeta(seq: number, powerEpoch: number, delayed: DomainConstraints | null): void {
    const put = this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
    put.run('seq', String(seq));
    put.run('powerEpoch', String(powerEpoch));
    if (delayed) put.run('delayed', JSON.stringify(delayed));
    else this.db.prepare("DELETE FROM meta WHERE key = 'delayed'").run();
  }

  close(): void {
    this.db.close();
  }
}
