// The XMPP transport of the XML interface (xml-interface.md §1): the fault manager's exact byte
// sequence, framing of documents on the stream, one response per TLS record, local and remote
// identities, slowed-down wrong passwords, hostile input, many sessions; and the user store with
// its `ldoms user` commands.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { ensureCertificate } from '../src/xml/xmpp/certificate.js';
import { localUid, XmppServer, type XmppLimits, type XmppSession } from '../src/xml/xmpp/server.js';
import { listUsers, passwdFile, removeUser, setPassword, userCommand, verifyPassword } from '../src/xml/xmpp/users.js';
import { connectXmpp, FMA_REG_DOMAIN_EVENTS, FMA_STARTTLS, FMA_STREAM_START, type XmppTestClient } from './helpers/xmpp-client.js';
import { userName } from '../src/daemon/auth.js';

const octet = 100 + Math.floor(Math.random() * 100);
const ADDR = `127.0.0.${octet}`;
/** Another loopback address: a peer that is not the control domain. */
const other = (k: number) => `127.0.0.${2 + ((octet - 2 + k) % 252)}`;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xmpp-test-'));
let tlsPair: { key: string; cert: string };

const sha = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the stub dispatcher answers: who asked, and a digest of exactly what it was handed. */
const echo = (user: string, local: boolean, xml: string) => `<LDM_interface version='1.1'><echo user='${user}' local='${local}' sha='${sha(xml)}'/></LDM_interface>`;

interface Stub {
  server: XmppServer;
  received: { session: XmppSession; xml: string }[];
  inFlight: number;
  maxInFlight: number;
  closedSessions: number;
}

async function startStub(limits: XmppLimits = {}, address = ADDR): Promise<Stub> {
  const stub: Stub = { server: null as unknown as XmppServer, received: [], inFlight: 0, maxInFlight: 0, closedSessions: 0 };
  const seen = new Set<number>();
  stub.server = new XmppServer({
    address,
    port: 0,
    tls: tlsPair,
    limits,
    authenticate: async (user, password) => user === 'bob' && password === 'right horse battery',
    onDocument: async (s, xml) => {
      if (!seen.has(s.id)) {
        seen.add(s.id);
        s.onClose(() => stub.closedSessions++);
      }
      stub.received.push({ session: s, xml });
      stub.inFlight++;
      stub.maxInFlight = Math.max(stub.maxInFlight, stub.inFlight);
      try {
        if (xml.includes('<slow/>')) await sleep(5 + Math.random() * 25);
        if (xml.includes('<throw/>')) throw new Error('handler failure (expected by the test)');
        if (xml.includes('<three/>')) for (const n of [1, 2, 3]) s.send(`<LDM_event version='1.1'><n>${n}</n></LDM_event>`);
        if (xml.includes('<bye/>')) return s.close();
        s.send(echo(s.user, s.local, xml));
      } finally {
        stub.inFlight--;
      }
    },
  });
  await stub.server.start();
  return stub;
}

async function until(what: string, pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A socket's incoming data, as text, chunk by chunk. */
function collect(sock: net.Socket) {
  const chunks: string[] = [];
  let closed = false;
  sock.on('data', (d: Buffer) => chunks.push(d.toString('utf8')));
  sock.on('error', () => undefined);
  sock.on('close', () => (closed = true));
  return {
    chunks,
    text: () => chunks.join(''),
    isClosed: () => closed,
    waitFor: (what: string, pred: (text: string) => boolean, ms = 5000) => until(what, () => pred(chunks.join('')), ms),
    waitClosed: (ms = 5000) => until('the server to close the connection', () => closed, ms),
  };
}

function rawConnect(opts: { port: number; localAddress?: string; host?: string }): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: opts.host ?? ADDR, port: opts.port, localAddress: opts.localAddress ?? ADDR }, () => resolve(s));
    s.on('error', reject); // after the connection, a late error only ends it
  });
}

/** Up to `<proceed/>` by hand; returns the raw socket ready for its ClientHello. */
async function rawToProceed(port: number, localAddress = ADDR): Promise<net.Socket> {
  const raw = await rawConnect({ port, localAddress });
  const rx = collect(raw);
  raw.write(FMA_STREAM_START);
  await rx.waitFor('features', (t) => t.includes('</stream:features>'));
  raw.write(FMA_STARTTLS);
  await rx.waitFor('proceed', (t) => t.includes('<proceed'));
  raw.removeAllListeners('data');
  return raw;
}

async function roundTrip(c: XmppTestClient, xml: string): Promise<string> {
  c.send(xml);
  return c.next(5000);
}

let stub: Stub;
const me = { uid: process.getuid!(), user: userName(process.getuid!()) };

before(async () => {
  tlsPair = await ensureCertificate(tmp, 'xmpp-test', ADDR);
  stub = await startStub();
});
after(async () => {
  await stub.server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Handshake

test('the fault manager client: probe connection, then its exact byte sequence', async () => {
  const probe = await rawConnect({ port: stub.server.port });
  probe.end();
  await new Promise((r) => probe.once('close', r));

  const raw = await rawConnect({ port: stub.server.port });
  const plain = collect(raw);
  raw.write(FMA_STREAM_START);
  await plain.waitFor('pre-TLS features', (t) => t.includes('</stream:features>'));
  assert.match(
    plain.text(),
    new RegExp(
      `^<\\?xml version='1\\.0'\\?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx\\.jabber\\.org/streams' id='[0-9a-f]{16}' from='${ADDR.replace(/\./g, '\\.')}' version='1\\.0'>` +
        `<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>$`,
    ),
  );
  plain.chunks.length = 0;
  raw.write(FMA_STARTTLS);
  await plain.waitFor('proceed', (t) => t.endsWith('/>'));
  assert.equal(plain.text(), "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  raw.removeAllListeners('data');

  const secure = tls.connect({ socket: raw, rejectUnauthorized: false });
  const rx = collect(secure);
  await new Promise((r) => secure.once('secureConnect', r));
  assert.ok(['TLSv1.2', 'TLSv1.3'].includes(secure.getProtocol() ?? ''), `TLS version ${secure.getProtocol()}`);
  secure.write(FMA_STREAM_START);
  await rx.waitFor('post-TLS features', (t) => t.includes('<stream:features/>'));
  assert.match(rx.text(), /^<\?xml version='1\.0'\?><stream:stream xmlns='jabber:client' [^>]* version='1\.0'><stream:features\/>$/);
  rx.chunks.length = 0;
  secure.write(FMA_REG_DOMAIN_EVENTS);
  await rx.waitFor('the response', (t) => t.endsWith('</LDM_interface>'));
  // The client parses each read on its own: the response must come as one record, alone, under 1 KB.
  assert.deepEqual(rx.chunks, [echo(me.user, true, FMA_REG_DOMAIN_EVENTS)]);
  assert.ok(Buffer.byteLength(rx.chunks[0]) < 1024);
  assert.equal(stub.received.at(-1)!.xml, FMA_REG_DOMAIN_EVENTS);
  secure.destroy();
});

test('a generic client with a namespaced header, iq bind/session and presence', async () => {
  const c = await connectXmpp({ host: ADDR, port: stub.server.port, mode: 'generic' });
  try {
    c.send("<iq type='set' id='bind_1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>t</resource></bind></iq>");
    assert.match(await c.next(), /^<iq type='result' id='bind_1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>[^<]+<\/jid><\/bind><\/iq>$/);
    c.send("<iq type='set' id='sess_1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq><presence/>");
    assert.equal(await c.next(), "<iq type='result' id='sess_1'/>");
    const doc = '<LDM_interface version="1.0"><cmd><action>list-domain</action><data version="3.0"/></cmd></LDM_interface>';
    assert.equal(await roundTrip(c, doc), echo(me.user, true, doc));
  } finally {
    c.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Framing

test('documents arrive exactly as sent, in order, one at a time', async () => {
  const c = await connectXmpp({ host: ADDR, port: stub.server.port });
  try {
    const d1 = '<LDM_interface version="1.1"><cmd><action>a</action><data version="3.0"/></cmd></LDM_interface>';
    const d2 = "<LDM_interface version='1.1'>\n  <!-- a comment --><cmd><action>b &amp; c</action><![CDATA[<raw>]]></cmd>\r\n</LDM_interface>";
    // Two documents in one TCP packet (one TLS record), with whitespace between.
    c.send(`${d1}  \n${d2}`);
    assert.equal(await c.next(), echo(me.user, true, d1));
    assert.equal(await c.next(), echo(me.user, true, d2));

    // One document split over many records, cut inside tags, attributes and multi-byte characters.
    const d3 = '<LDM_interface version="1.1"><cmd><action>é日本語🎉</action><data version="3.0"><Envelope><Content xsi:type="ovf:VirtualSystem_Type" id="ldg1"/></Envelope></data></cmd></LDM_interface>';
    const bytes = Buffer.from(d3);
    for (let i = 0; i < bytes.length; i += 5) {
      c.socket.write(bytes.subarray(i, i + 5));
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(await c.next(), echo(me.user, true, d3));

    // Slow handlers: answers still come in request order, and never two documents at once.
    stub.maxInFlight = 0;
    const slow = Array.from({ length: 10 }, (_, n) => `<LDM_interface version="1.1"><slow/><n>${n}</n></LDM_interface>`);
    c.send(slow.join(''));
    for (const d of slow) assert.equal(await c.next(), echo(me.user, true, d));
    assert.equal(stub.maxInFlight, 1);
  } finally {
    c.close();
  }
});

test('each document sent is one TLS record with nothing else in it', async () => {
  const c = await connectXmpp({ host: ADDR, port: stub.server.port });
  try {
    const records: string[] = [];
    c.socket.on('data', (d: Buffer) => records.push(d.toString()));
    const doc = '<LDM_interface version="1.1"><three/></LDM_interface>';
    c.send(doc);
    for (let i = 0; i < 4; i++) await c.next();
    // Four sends in a row from one handler call: four records, each exactly one document.
    assert.deepEqual(records, [1, 2, 3].map((n) => `<LDM_event version='1.1'><n>${n}</n></LDM_event>`).concat(echo(me.user, true, doc)));
  } finally {
    c.close();
  }
});

test('the stream ends cleanly from either side; a failing handler does not end it', async () => {
  const c = await connectXmpp({ host: ADDR, port: stub.server.port });
  const before = stub.closedSessions;
  c.send('<LDM_interface version="1.1"><throw/></LDM_interface>');
  const doc = '<LDM_interface version="1.1"/>';
  assert.equal(await roundTrip(c, doc), echo(me.user, true, doc));
  const records: string[] = [];
  c.socket.on('data', (d: Buffer) => records.push(d.toString()));
  c.socket.write('</stream:stream>');
  await c.closed;
  assert.deepEqual(records, ['</stream:stream>']);
  await until('the session close listener', () => stub.closedSessions === before + 1);

  const d = await connectXmpp({ host: ADDR, port: stub.server.port });
  const rx: string[] = [];
  d.socket.on('data', (b: Buffer) => rx.push(b.toString()));
  d.send('<LDM_interface version="1.1"><bye/></LDM_interface>');
  await d.closed;
  assert.deepEqual(rx, ['</stream:stream>']);
});

// ---------------------------------------------------------------------------------------------
// Identity

test('a local client is the OS user owning its socket', async () => {
  const c = await connectXmpp({ host: ADDR, port: stub.server.port });
  try {
    const doc = '<LDM_interface version="1.1"><who/></LDM_interface>';
    assert.equal(await roundTrip(c, doc), echo(me.user, true, doc));
    const s = stub.received.at(-1)!.session;
    assert.equal(s.local, true);
    assert.equal(s.uid, me.uid);
    assert.equal(s.user, os.userInfo().username);
    assert.equal(s.peer.address, ADDR);
  } finally {
    c.close();
  }
  // localUid on its own: the client end of a loopback pair belongs to this process's uid.
  const srv = net.createServer(() => undefined);
  await new Promise<void>((r) => srv.listen(0, ADDR, r));
  const port = (srv.address() as net.AddressInfo).port;
  const sock = await rawConnect({ port, localAddress: other(7) });
  try {
    assert.equal(localUid({ address: other(7), port: sock.localPort! }, port), me.uid);
    assert.equal(localUid({ address: other(7), port: sock.localPort! }, port, ADDR), me.uid);
    assert.equal(localUid({ address: other(7), port: sock.localPort! }, port, other(8)), null);
    assert.equal(localUid({ address: other(7), port: sock.localPort! }, port === 1 ? 2 : port - 1), null);
  } finally {
    sock.destroy();
    srv.close();
  }
});

test('a local client running as another user is that user', { skip: process.getuid!() !== 0 && 'needs root to run a client as nobody' }, async () => {
  const helper = path.join(path.dirname(fileURLToPath(import.meta.url)), 'helpers', 'xmpp-client.js');
  const script = `import { connectXmpp } from ${JSON.stringify(helper)};
    const c = await connectXmpp({ host: ${JSON.stringify(ADDR)}, port: ${stub.server.port} });
    c.send('<LDM_interface version="1.1"/>'); process.stdout.write(await c.next()); c.close();`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 65534, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise((r) => child.on('close', r));
  assert.equal(code, 0, err);
  assert.equal(out, echo(userName(65534), true, '<LDM_interface version="1.1"/>'));
  assert.equal(stub.received.at(-1)!.session.uid, 65534);
});

test('a remote client authenticates with SASL PLAIN and is its SASL user', async () => {
  const c = await connectXmpp({ host: ADDR, port: stub.server.port, mode: 'generic', user: 'bob', password: 'right horse battery', localAddress: other(1) });
  try {
    const doc = '<LDM_interface version="1.1"><remote/></LDM_interface>';
    assert.equal(await roundTrip(c, doc), echo('bob', false, doc));
    const s = stub.received.at(-1)!.session;
    assert.equal(s.uid, null);
    assert.equal(s.peer.address, other(1));
  } finally {
    c.close();
  }
});

test('wrong passwords are refused slowly, without holding up other sessions', async () => {
  const local = await connectXmpp({ host: ADDR, port: stub.server.port });
  try {
    for (const [attempt, minMs] of [
      [1, 900],
      [2, 1900],
    ]) {
      const t0 = Date.now();
      let answeredAt = 0;
      const refused = connectXmpp({ host: ADDR, port: stub.server.port, mode: 'generic', user: 'bob', password: `wrong ${attempt}`, localAddress: other(2) }).then(
        () => assert.fail('a wrong password was accepted'),
        (e: Error) => {
          answeredAt = Date.now();
          return e;
        },
      );
      // Meanwhile the other session is served at once.
      await sleep(100);
      for (let i = 0; i < 5; i++) {
        const t = Date.now();
        const doc = `<LDM_interface version="1.1"><during n="${i}"/></LDM_interface>`;
        assert.equal(await roundTrip(local, doc), echo(me.user, true, doc));
        assert.ok(Date.now() - t < 300, 'a round trip on another session is not delayed');
      }
      assert.equal(answeredAt, 0, 'the other session was served before the refusal');
      const e = await refused;
      assert.match(e.message, /<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized\/><\/failure>/);
      assert.ok(answeredAt - t0 >= minMs, `failure ${attempt} answered after ${answeredAt - t0} ms (want >= ${minMs})`);
    }
  } finally {
    local.close();
  }
});

test('a remote client that skips SASL gets <failure/> and is disconnected', async () => {
  // The fault manager's client, connecting from elsewhere, sends its request right after the features.
  const c = await connectXmpp({ host: ADDR, port: stub.server.port, mode: 'fma', localAddress: other(3) });
  const n = stub.received.length;
  c.send(FMA_REG_DOMAIN_EVENTS);
  assert.equal(await c.next(), "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>");
  await c.closed;
  assert.equal(stub.received.length, n);
});

// ---------------------------------------------------------------------------------------------
// Refusals

test('nothing but the stream header and STARTTLS is accepted before TLS', async () => {
  const cases: [string, string, RegExp][] = [
    ['a document before STARTTLS', FMA_STREAM_START + FMA_REG_DOMAIN_EVENTS, /<stream:error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'\/><\/stream:error><\/stream:stream>$/],
    ['SASL before STARTTLS', `${FMA_STREAM_START}<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGJvYgB4</auth>`, /<stream:error><policy-violation [^>]*\/><\/stream:error><\/stream:stream>$/],
    ['a document instead of a stream', FMA_REG_DOMAIN_EVENTS, /<stream:error><bad-format [^>]*\/><\/stream:error><\/stream:stream>$/],
    ['a ClientHello before <proceed/>', `${FMA_STREAM_START}${FMA_STARTTLS}\x16\x03\x01\x02\x00\x01`, /<stream:error><policy-violation [^>]*\/><\/stream:error><\/stream:stream>$/],
  ];
  const n = stub.received.length;
  for (const [what, bytes, reply] of cases) {
    const raw = await rawConnect({ port: stub.server.port });
    const rx = collect(raw);
    raw.write(bytes);
    await rx.waitClosed();
    assert.match(rx.text(), reply, what);
    assert.doesNotMatch(rx.text(), /<proceed/, what);
  }
  assert.equal(stub.received.length, n, 'no document reached the dispatcher');
});

test('hostile documents end their own session only', async () => {
  const bystander = await connectXmpp({ host: ADDR, port: stub.server.port });
  const laughs =
    '<!DOCTYPE lolz [<!ENTITY lol "lol">' +
    Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i ? i : ''};`.repeat(10)}">`).join('') +
    ']><LDM_interface version="1.1">&lol9;</LDM_interface>';
  const cases: [string, string | Buffer, string][] = [
    ['billion laughs', laughs, 'restricted-xml'],
    ['an entity declaration', '<LDM_interface version="1.1"><!ENTITY x "y"></LDM_interface>', 'restricted-xml'],
    ['an undefined entity', '<LDM_interface version="1.1">&lol9;</LDM_interface>', 'xml-not-well-formed'],
    ['10000-deep nesting', `<LDM_interface version="1.1">${'<a>'.repeat(10000)}${'</a>'.repeat(10000)}</LDM_interface>`, 'policy-violation'],
    ['a 2 MiB document', `<LDM_interface version="1.1"><cmd>${'x'.repeat(2 * 1024 * 1024)}</cmd></LDM_interface>`, 'policy-violation'],
    ['binary junk', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256)), 'xml-not-well-formed'],
    ['mismatched tags', '<LDM_interface version="1.1"><cmd></LDM_interface>', 'xml-not-well-formed'],
    ['text between documents', 'hello <LDM_interface version="1.1"/>', 'xml-not-well-formed'],
  ];
  const n = stub.received.length;
  for (const [what, payload, condition] of cases) {
    const c = await connectXmpp({ host: ADDR, port: stub.server.port });
    c.socket.write(payload);
    const reply = await c.next();
    assert.equal(reply, `<stream:error><${condition} xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>`, what);
    await c.closed;
    const doc = `<LDM_interface version="1.1"><after what="${what}"/></LDM_interface>`;
    assert.equal(await roundTrip(bystander, doc), echo(me.user, true, doc), `the other session still works after ${what}`);
  }
  assert.equal(stub.received.filter((r) => !r.xml.includes('<after ')).length, n, 'no hostile document reached the dispatcher');
  bystander.close();
});

test('junk, resets and half-finished TLS handshakes do not disturb a working session', async () => {
  const s = await startStub({ handshakeTimeoutMs: 1000 });
  const port = s.server.port;
  const working = await connectXmpp({ host: ADDR, port });
  // A real ClientHello, captured from Node's own TLS client.
  const hello = await new Promise<Buffer>((resolve) => {
    const catcher = net.createServer((c) => c.once('data', (d) => (resolve(d), c.destroy(), catcher.close())));
    catcher.listen(0, ADDR, () => {
      const t = tls.connect({ host: ADDR, port: (catcher.address() as net.AddressInfo).port, rejectUnauthorized: false });
      t.on('error', () => undefined);
    });
  });
  const victims: Promise<unknown>[] = [];
  const check = async (i: number) => {
    const doc = `<LDM_interface version="1.1"><still n="${i}"/></LDM_interface>`;
    assert.equal(await roundTrip(working, doc), echo(me.user, true, doc));
  };
  const t0 = Date.now();
  for (let i = 0; i < 10; i++) {
    // Binary junk before anything.
    victims.push(rawConnect({ port }).then((r) => (r.on('error', () => undefined), r.write(Buffer.from([0x16, 3, 1, 0xff, 0, 0x80, i])), collect(r).waitClosed())));
    // Half a ClientHello, then silence: the handshake timeout ends it.
    victims.push(rawToProceed(port).then((r) => (r.write(hello.subarray(0, hello.length >> 1)), collect(r).waitClosed())));
    // Junk where the ClientHello should be.
    victims.push(rawToProceed(port).then((r) => (r.write('GET / HTTP/1.0\r\n\r\n'), collect(r).waitClosed())));
    // A whole ClientHello, then a reset in the middle of the handshake.
    victims.push(rawToProceed(port).then((r) => (r.write(hello), setTimeout(() => r.resetAndDestroy(), 5))));
    // Connect and reset at once.
    victims.push(rawConnect({ port }).then((r) => r.resetAndDestroy()));
    // TLS done, then the client vanishes mid-document.
    victims.push(
      connectXmpp({ host: ADDR, port }).then((c) => {
        c.socket.write('<LDM_interface version="1.1"><cmd>');
        c.socket.destroy();
      }),
    );
    await check(i);
  }
  await Promise.all(victims);
  assert.ok(Date.now() - t0 < 8000, 'the half-finished handshakes were cut off by the handshake timeout');
  await check(99);
  await until('the victims to be forgotten', () => s.server.sessionCount() === 1);
  working.close();
  await until('all sessions to end', () => s.server.sessionCount() === 0);
  await s.server.close();
});

// ---------------------------------------------------------------------------------------------
// Many sessions

test('300 sessions connect, are answered and close', async () => {
  const t0 = Date.now();
  const baseline = stub.server.sessionCount();
  for (let batch = 0; batch < 3; batch++) {
    const clients = await Promise.all(Array.from({ length: 100 }, () => connectXmpp({ host: ADDR, port: stub.server.port })));
    assert.ok(stub.server.sessionCount() >= 100);
    await Promise.all(
      clients.map(async (c, i) => {
        const doc = `<LDM_interface version="1.1"><many b="${batch}" i="${i}"/></LDM_interface>`;
        assert.equal(await roundTrip(c, doc), echo(me.user, true, doc));
        c.close();
        await c.closed;
      }),
    );
  }
  await until('every session to be gone', () => stub.server.sessionCount() <= baseline);
  assert.ok(Date.now() - t0 < 60_000);
});

test('beyond maxSessions a connection is refused with resource-constraint', async () => {
  const s = await startStub({ maxSessions: 3 });
  const port = s.server.port;
  const clients = await Promise.all([1, 2, 3].map(() => connectXmpp({ host: ADDR, port })));
  const raw = await rawConnect({ port });
  const rx = collect(raw);
  await rx.waitClosed();
  assert.match(rx.text(), /<stream:error><resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-streams'\/><\/stream:error><\/stream:stream>$/);
  clients[0].close();
  await clients[0].closed;
  await until('a free slot', () => s.server.sessionCount() === 2);
  const again = await connectXmpp({ host: ADDR, port });
  const doc = '<LDM_interface version="1.1"/>';
  assert.equal(await roundTrip(again, doc), echo(me.user, true, doc));
  for (const c of [again, clients[1], clients[2]]) c.close();
  await s.server.close();
  assert.equal(s.server.sessionCount(), 0);
});

// ---------------------------------------------------------------------------------------------
// Certificate

test('the host certificate is made once: RSA 2048, CN host name, SAN host address, key 0600', async () => {
  const dir = path.join(tmp, 'cert-host');
  const first = await ensureCertificate(dir, 'myhost', '127.0.0.42');
  const key = path.join(dir, 'tls', 'key.pem');
  const cert = path.join(dir, 'tls', 'cert.pem');
  assert.equal(fs.statSync(key).mode & 0o777, 0o600);
  assert.equal(fs.statSync(cert).mode & 0o777, 0o644);
  const x = new X509Certificate(first.cert);
  assert.match(x.subject, /CN=myhost/);
  assert.match(x.subjectAltName ?? '', /IP Address:127\.0\.0\.42/);
  assert.equal(x.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
  const years = (Date.parse(x.validTo) - Date.parse(x.validFrom)) / (365.25 * 86400_000);
  assert.ok(years > 9.9 && years < 10.1, `valid for ${years} years`);
  const second = await ensureCertificate(dir, 'myhost', '127.0.0.42');
  assert.deepEqual(second, first);
  fs.writeFileSync(cert, 'garbage');
  const third = await ensureCertificate(dir, 'myhost', '127.0.0.42');
  assert.notEqual(third.key, first.key, 'a damaged pair is replaced');
  assert.equal(fs.readFileSync(cert, 'utf8'), third.cert);
});

// ---------------------------------------------------------------------------------------------
// User store

test('passwords are stored as scrypt hashes in a 0600 file, and checked', async () => {
  const home = fs.mkdtempSync(path.join(tmp, 'users-'));
  await setPassword(home, 'alice', 'correct horse');
  await setPassword(home, 'carol', 'other secret');
  const text = fs.readFileSync(passwdFile(home), 'utf8');
  assert.match(text, /^alice:scrypt\$16384\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=\ncarol:scrypt\$16384\$8\$1\$[^$]+\$[^$\n]+\n$/);
  assert.ok(!text.includes('correct horse') && !text.includes(Buffer.from('correct horse').toString('base64')));
  assert.equal(fs.statSync(passwdFile(home)).mode & 0o777, 0o600);
  assert.equal(await verifyPassword(home, 'alice', 'correct horse'), true);
  assert.equal(await verifyPassword(home, 'alice', 'correct horsE'), false);
  assert.equal(await verifyPassword(home, 'alice', 'other secret'), false);
  assert.equal(await verifyPassword(home, 'nobody-here', 'correct horse'), false);
  assert.equal(await verifyPassword(path.join(home, 'missing'), 'alice', 'correct horse'), false);

  // Same salt never reused: the same password hashes differently for two users / two settings.
  await setPassword(home, 'carol', 'correct horse');
  const lines = fs.readFileSync(passwdFile(home), 'utf8').trim().split('\n');
  assert.equal(lines.length, 2);
  assert.notEqual(lines[0].split(':')[1], lines[1].split(':')[1]);
  assert.equal(await verifyPassword(home, 'carol', 'other secret'), false);
  assert.equal(await verifyPassword(home, 'carol', 'correct horse'), true);

  // Unknown users cost the same scrypt work as known ones (medians, against noise from other tests).
  const time = async (user: string) => {
    const runs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = process.hrtime.bigint();
      await verifyPassword(home, user, 'guess');
      runs.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    return runs.sort((a, b) => a - b)[2];
  };
  const known = await time('alice');
  const unknown = await time('zed');
  assert.ok(known > 5, `a check takes real work (${known} ms)`);
  assert.ok(unknown > known * 0.5, `unknown user ${unknown} ms vs known ${known} ms`);

  assert.deepEqual(listUsers(home), ['alice', 'carol']);
  assert.equal(removeUser(home, 'alice'), true);
  assert.equal(removeUser(home, 'alice'), false);
  assert.deepEqual(listUsers(home), ['carol']);
  assert.equal(await verifyPassword(home, 'alice', 'correct horse'), false);

  for (const bad of ['', 'a:b', 'two words', '-x', '9lives', 'x'.repeat(33), 'a\nb']) await assert.rejects(setPassword(home, bad, 'pw'), /invalid user name/, JSON.stringify(bad));
  await assert.rejects(setPassword(home, 'dave', ''), /empty password/);
  await assert.rejects(setPassword(home, 'dave', 'a\0b'), /NUL/);
});

test('ldoms user add|passwd|remove|list', async () => {
  const home = fs.mkdtempSync(path.join(tmp, 'cli-'));
  let out = '';
  let err = '';
  let prompts: string[] = [];
  let answers: string[] = [];
  const io = {
    out: (t: string) => void (out += t),
    err: (t: string) => void (err += t),
    readPassword: async (p: string) => (prompts.push(p), answers.shift() ?? ''),
  };
  const run = async (...argv: string[]) => {
    out = '';
    err = '';
    return userCommand(argv, io, home);
  };
  const pwFile = path.join(home, 'pw');
  fs.writeFileSync(pwFile, 'from a file\nsecond line ignored\n', { mode: 0o600 });

  assert.equal(await run('add', 'reader', '--password-file', pwFile), 0, err);
  assert.match(out, /user reader added/);
  assert.equal(await verifyPassword(home, 'reader', 'from a file'), true);
  assert.equal(await run('add', 'reader', '--password-file', pwFile), 1);
  assert.match(err, /user reader already exists/);

  answers = ['typed secret', 'typed secret'];
  prompts = [];
  assert.equal(await run('passwd', 'reader'), 0, err);
  assert.deepEqual(prompts, ['Password: ', 'Re-enter password: ']);
  assert.equal(await verifyPassword(home, 'reader', 'typed secret'), true);
  assert.equal(await verifyPassword(home, 'reader', 'from a file'), false);

  answers = ['one', 'two'];
  assert.equal(await run('add', 'writer'), 1);
  assert.match(err, /passwords do not match/);
  answers = ['', ''];
  assert.equal(await run('add', 'writer'), 1);
  assert.match(err, /empty password/);

  fs.chmodSync(pwFile, 0o640);
  assert.equal(await run('add', 'writer', '--password-file', pwFile), 1);
  assert.match(err, /readable by group or others/);
  fs.chmodSync(pwFile, 0o604);
  assert.equal(await run('passwd', 'reader', '--password-file', pwFile), 1);
  assert.match(err, /readable by group or others/);
  assert.equal(await verifyPassword(home, 'reader', 'typed secret'), true, 'a refused change changes nothing');
  const empty = path.join(home, 'empty');
  fs.writeFileSync(empty, '\n', { mode: 0o600 });
  assert.equal(await run('add', 'writer', '--password-file', empty), 1);
  assert.match(err, /empty password/);
  assert.equal(await run('add', 'writer', '--password-file', path.join(home, 'absent')), 1);
  assert.match(err, /cannot read password file/);
  assert.equal(await run('add', 'bad:name', '--password-file', pwFile), 1);
  assert.match(err, /invalid user name: bad:name/);
  assert.equal(await run('passwd', 'ghost', '--password-file', empty), 1);
  assert.match(err, /user ghost does not exist/);

  answers = ['w', 'w'];
  assert.equal(await run('add', 'writer'), 0, err);
  assert.equal(await run('list'), 0);
  assert.equal(out, 'reader\nwriter\n');
  assert.ok(!fs.readFileSync(passwdFile(home), 'utf8').includes('typed secret'));

  assert.equal(await run('remove', 'reader'), 0);
  assert.equal(await run('remove', 'reader'), 1);
  assert.match(err, /does not exist/);
  assert.equal(await run('list'), 0);
  assert.equal(out, 'writer\n');
  assert.equal(await run('frobnicate'), 1);
  assert.match(err, /Usage:/);
  assert.equal(await run('remove', 'writer', '--password-file', pwFile), 1);
});
