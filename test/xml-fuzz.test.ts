// Hostile documents against a real ldmd: malformed, truncated, oversized, entity expansion, deep
// nesting, binary junk, half-finished TLS. The daemon keeps serving the other sessions, its memory
// stays bounded, nothing crashes. `npm test` sends 1,500 documents; LDOMS_LONG=1 sends 10,000.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import { TestHome } from './helpers/hosts.js';
import { connectXmpp, FMA_STARTTLS, FMA_STREAM_START, type XmppTestClient } from './helpers/xmpp-client.js';

const LONG = process.env.LDOMS_LONG === '1';
const DOCS = Number(process.env.LDOMS_FUZZ_DOCS ?? (LONG ? 10_000 : 1_500));
const home = new TestHome();
const H = 'fz';
let address = '';

before(async () => {
  await home.startHost(H, '--platform', 't5240', '--cores', '4', '--memory', '32G');
  address = home.address(H);
  await home.ok(H, 'add-domain', 'ldg1');
  await home.ok(H, 'add-domain', 'fuzz1');
});
after(() => home.cleanup());

// Deterministic generator (mulberry32) so a failure can be replayed with its seed.
const SEED = Number(process.env.LDOMS_SEED ?? Date.now() % 1_000_000);
let s = SEED;
const rnd = () => {
  s = (s + 0x6d2b79f5) | 0;
  let t = Math.imul(s ^ (s >>> 15), 1 | s);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];

const ACTIONS = ['list-domain', 'add-vcpu', 'set-memory', 'remove-domain', 'bind-domain', 'add-vdiskserverdevice', 'ls', 'constructor', '', 'add-domain'];
const ITEMS = ['cpu', 'memory', 'mau', 'disk', 'network', 'vds_volume', 'ldom_info', 'bogus', ''];

/** A well-formed document whose LDM content is wrong in some way: the session must stay open. */
function invalidDocument(): string {
  const v = pick(['', ' version="1.0"', ' version="x"']);
  const action = pick(ACTIONS);
  const item = pick(ITEMS);
  const units = pick(['8', '-1', 'abc', '99999999999999999999', '4G', '', '0x10']);
  const id = pick(['fuzz1', 'nosuch', 'primary', '', '-bad', 'x'.repeat(300), '&amp;&lt;']);
  const body = pick([
    `<cmd><action>${action}</action><data version="3.0"/></cmd>`,
    `<cmd><action>${action}</action><action>${action}</action><data/></cmd>`,
    `<cmd><data version="3.0"/></cmd>`,
    `<cmd><action>${action}</action><data version="3.0"><Envelope><Content xsi:type="ovf:VirtualSystem_Type" id="${id}"><Section><Item><rasd:OtherResourceType>${item}</rasd:OtherResourceType><rasd:AllocationUnits>${units}</rasd:AllocationUnits><gprop:GenericProperty key="${pick(['vol_name', 'service_name', 'block_dev', 'x'])}">${units}</gprop:GenericProperty></Item></Section></Content></Envelope></data></cmd>`,
    `<cmd><action>${action}</action><option>${pick(['-a', '-f', '-i /etc/passwd', 'migration', '--bogus'])}</option><data version="3.0"/></cmd>`,
    '',
  ]);
  return pick([`<LDM_interface${v}>${body}</LDM_interface>`, `<LDM_event${v}>${body}</LDM_event>`, `<iq type='get' id='1'/>`, `<LDM_interface${v}>${body.repeat(20)}</LDM_interface>`]);
}

/** Documents that break the stream: the server must close that session only. */
function breakingPayload(): Buffer {
  const kind = Math.floor(rnd() * 7);
  switch (kind) {
    case 0:
      return Buffer.from('<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><LDM_interface version="1">&lol2;</LDM_interface>');
    case 1:
      return Buffer.from(`<LDM_interface version="1">${'<a>'.repeat(5000)}`);
    case 2:
      return Buffer.from(`<LDM_interface version="1"><cmd><action>${'x'.repeat(2 * 1024 * 1024)}</action></cmd></LDM_interface>`);
    case 3:
      return Buffer.from(Array.from({ length: 4096 }, () => Math.floor(rnd() * 256)));
    case 4:
      return Buffer.from('<LDM_interface version="1"><cmd><action>list-domain</act');
    case 5:
      return Buffer.from('</stream:stream><<<>>>&&&');
    default:
      return Buffer.from('<LDM_interface version="1"><cmd></LDM_interface></cmd>');
  }
}

function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

async function victimAnswers(victim: XmppTestClient): Promise<void> {
  victim.send('<LDM_interface version="1.0"><cmd><action>list-domain</action><data version="3.0"/></cmd></LDM_interface>');
  // (The fuzzer may legitimately remove guests, `remove-domain -a` included: look for the control domain.)
  assert.match(await victim.next(10_000), /id="primary"[\s\S]*<status>success<\/status><\/response><\/LDM_interface>$/);
}

/** Before TLS, or in the middle of its handshake: junk, then gone. */
function rawJunk(): Promise<void> {
  return new Promise((resolve) => {
    const sock = net.createConnection({ host: address, port: 6482, localAddress: address });
    sock.on('error', () => resolve());
    sock.on('close', () => resolve());
    sock.on('connect', () => {
      const k = Math.floor(rnd() * 3);
      if (k === 0) sock.end(Buffer.from(Array.from({ length: 512 }, () => Math.floor(rnd() * 256))));
      else if (k === 1) sock.end('<LDM_interface version="1"><cmd><action>list-domain</action><data/></cmd></LDM_interface>');
      else {
        // Half a TLS handshake: ask for STARTTLS, send a ClientHello's first bytes, vanish.
        sock.write(FMA_STREAM_START);
        setTimeout(() => {
          sock.write(FMA_STARTTLS);
          setTimeout(() => sock.end(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00])), 20);
        }, 20);
      }
      setTimeout(() => sock.destroy(), 120);
    });
  });
}

test(`fuzz: ${DOCS} hostile documents; other sessions keep being served, memory stays bounded (seed ${SEED})`, { timeout: LONG ? 1_800_000 : 300_000 }, async () => {
  const ldmd = home.pid(H, 'ldmd');
  const victim = await connectXmpp({ host: address, mode: 'fma' });
  await victimAnswers(victim);
  const rssStart = rss(ldmd);
  let sent = 0;
  let breaking = 0;
  let invalid = 0;
  while (sent < DOCS) {
    // A session carries a run of invalid documents, each answered, then maybe a stream breaker.
    const c = await connectXmpp({ host: address, mode: 'fma' });
    const run = 1 + Math.floor(rnd() * 8);
    for (let i = 0; i < run && sent < DOCS; i++, sent++, invalid++) {
      c.send(invalidDocument());
      const r = await c.next(10_000);
      assert.ok(r.length > 0);
    }
    if (sent < DOCS && rnd() < 0.6) {
      (c.socket as tls.TLSSocket).write(breakingPayload());
      sent++;
      breaking++;
      await Promise.race([c.closed, new Promise((r) => setTimeout(r, 150))]);
    }
    c.close();
    if (rnd() < 0.3) {
      await rawJunk();
      sent++;
      breaking++;
    }
    if (sent % 250 < 60) await victimAnswers(victim);
  }
  await victimAnswers(victim);
  // The daemon is the same process, still serving ldm too.
  assert.equal(home.pid(H, 'ldmd'), ldmd);
  assert.match(await home.ok(H, 'list'), /^primary +active /m);
  const rssEnd = rss(ldmd);
  assert.ok(rssEnd < rssStart + 150 * 1024 * 1024, `ldmd grew from ${rssStart} to ${rssEnd} bytes`);
  victim.close();
  console.log(`# fuzz: ${sent} documents (${invalid} invalid but well-formed, ${breaking} stream breakers/junk), ldmd RSS ${(rssStart / 2 ** 20).toFixed(0)} -> ${(rssEnd / 2 ** 20).toFixed(0)} MiB, seed ${SEED}`);
});
