// Discovery and MAC-collision detection on 239.129.9.27:64535: the multicast_msg_t layout against
// hand-built datagrams, and three responders on different 127.0.0.x addresses finding each other,
// reporting collisions and shrugging off garbage. Multicast on lo must work (ensureLoopbackMulticast);
// if it cannot be made to, the suite fails with the reason rather than skipping.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import {
  checkMacCollision,
  decodeMessage,
  discoverManagers,
  DiscoveryResponder,
  encodeDiscoveryProbe,
  encodeDiscoveryResponse,
  encodeMacLookup,
  encodeMessage,
  ensureLoopbackMulticast,
  LDMD_DISC_RESP,
  LDMD_DISC_SEND,
  MESSAGE_SIZE,
  RESPONSE_MSG,
  SEND_MSG,
  type ManagerInfo,
} from '../src/xml/discovery.js';
import { discoverCommand } from '../src/xml/discovery-cli.js';

const HEADER = (type: number) => Buffer.from(`00000001` + `0587e4c4` + `0000000${type}` + `00000000`, 'hex');

/** A datagram as a C sender builds it: a zeroed 312-byte struct with fields at their offsets. */
function handBuilt(type: number, fill: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(312);
  HEADER(type).copy(b, 0);
  fill(b);
  return b;
}

describe('multicast_msg_t wire format', () => {
  test('sizeof(multicast_msg_t) is 312 and the header is big-endian version, magic, type, resv', () => {
    assert.equal(MESSAGE_SIZE, 312);
    const probe = encodeDiscoveryProbe();
    assert.equal(probe.length, 312);
    assert.equal(probe.subarray(0, 16).toString('hex'), '00000001' + '0587e4c4' + '00000002' + '00000000');
    assert.ok(probe.subarray(16).every((b) => b === 0));
    assert.deepEqual(decodeMessage(probe), { msgType: LDMD_DISC_SEND });
  });

  test('ldmd_discovery_t: version at 16, hostname at 48, ip_address at 304, port_no at 308', () => {
    const wire = handBuilt(3, (b) => {
      b.write('2.0', 16, 'latin1');
      b.write('sparc-t5-host', 16 + 32, 'latin1');
      Buffer.from([127, 0, 0, 2]).copy(b, 16 + 32 + 256);
      Buffer.from('00001952', 'hex').copy(b, 16 + 32 + 256 + 4);
    });
    const discovery = { version: '2.0', hostName: 'sparc-t5-host', address: '127.0.0.2', port: 6482 };
    assert.ok(encodeDiscoveryResponse(discovery).equals(wire));
    assert.ok(encodeMessage({ msgType: LDMD_DISC_RESP, discovery }).equals(wire));
    assert.deepEqual(decodeMessage(wire), { msgType: LDMD_DISC_RESP, discovery });
  });

  test('mac_lookup_t: uint64 mac_addr at 16 (48 bits, big-endian), source_ip[16] at 24', () => {
    const wire = handBuilt(0, (b) => {
      Buffer.from('000000144ffc0a01', 'hex').copy(b, 16);
      b.write('127.0.0.3', 24, 'latin1');
    });
    const lookup = { mac: '00:14:4f:fc:0a:01', sourceIp: '127.0.0.3' };
    assert.ok(encodeMacLookup(SEND_MSG, lookup).equals(wire));
    assert.deepEqual(decodeMessage(wire), { msgType: SEND_MSG, lookup });
    // Any-case input encodes the same value; the decoded form is lower case.
    assert.ok(encodeMacLookup(SEND_MSG, { mac: '00:14:4F:FC:A:1', sourceIp: '127.0.0.3' }).equals(wire));

    const resp = handBuilt(1, (b) => {
      Buffer.from('0000ffffffffffff', 'hex').copy(b, 16);
      b.write('255.255.255.255', 24, 'latin1'); // 15 characters + NUL fill the field exactly
    });
    const full = { mac: 'ff:ff:ff:ff:ff:ff', sourceIp: '255.255.255.255' };
    assert.ok(encodeMacLookup(RESPONSE_MSG, full).equals(resp));
    assert.deepEqual(decodeMessage(resp), { msgType: RESPONSE_MSG, lookup: full });
  });

  test('strings are cut to leave the terminating NUL; a field without NUL is read to its end', () => {
    const long = encodeDiscoveryResponse({ version: 'v'.repeat(40), hostName: 'h'.repeat(300), address: '10.1.2.3', port: -1 });
    assert.equal(long.subarray(16, 48).toString('latin1'), 'v'.repeat(31) + '\0');
    assert.equal(long.subarray(48, 304).toString('latin1'), 'h'.repeat(255) + '\0');
    assert.equal(long.subarray(304, 312).toString('hex'), '0a010203' + 'ffffffff');
    const hostile = Buffer.from(long);
    hostile.fill(0x41, 16, 304); // no NUL in version or hostname
    const d = decodeMessage(hostile);
    assert.ok(d && d.msgType === LDMD_DISC_RESP);
    assert.equal(d.discovery.version, 'A'.repeat(32));
    assert.equal(d.discovery.hostName, 'A'.repeat(256));
    assert.equal(d.discovery.port, -1);
    // A multi-byte character is not split.
    const utf = encodeDiscoveryResponse({ version: 'x'.repeat(30) + 'é', hostName: 'h', address: '1.2.3.4', port: 1 });
    assert.equal(utf.subarray(16, 48).toString('latin1'), 'x'.repeat(30) + '\0\0');
  });

  test('decode rejects wrong version, wrong magic, unknown types and short datagrams', () => {
    const resp = encodeDiscoveryResponse({ version: '2.0', hostName: 'h', address: '127.0.0.2', port: 6482 });
    const lookup = encodeMacLookup(SEND_MSG, { mac: '00:14:4f:f8:00:01', sourceIp: '127.0.0.2' });
    const patched = (b: Buffer, off: number, v: number) => {
      const c = Buffer.from(b);
      c.writeUInt32BE(v, off);
      return c;
    };
    assert.equal(decodeMessage(patched(resp, 0, 2)), null, 'version 2');
    assert.equal(decodeMessage(patched(resp, 0, 0x01000000)), null, 'little-endian version');
    assert.equal(decodeMessage(patched(resp, 4, 92792005)), null, 'magic');
    assert.equal(decodeMessage(patched(resp, 4, 0xc4e48705)), null, 'little-endian magic');
    assert.equal(decodeMessage(patched(resp, 8, 4)), null, 'type 4');
    assert.equal(decodeMessage(patched(resp, 8, 0x03000000)), null, 'little-endian type');
    assert.equal(decodeMessage(Buffer.alloc(0)), null);
    assert.equal(decodeMessage(HEADER(2).subarray(0, 15)), null, 'header cut short');
    assert.equal(decodeMessage(resp.subarray(0, 311)), null, 'discovery response cut short');
    assert.equal(decodeMessage(lookup.subarray(0, 39)), null, 'MAC lookup cut short');
    // What the types need is enough: the probe's payload is unused, a lookup is 40 bytes.
    assert.deepEqual(decodeMessage(HEADER(2)), { msgType: LDMD_DISC_SEND });
    assert.deepEqual(decodeMessage(lookup.subarray(0, 40)), { msgType: SEND_MSG, lookup: { mac: '00:14:4f:f8:00:01', sourceIp: '127.0.0.2' } });
    // A mac_addr wider than 48 bits is not a MAC.
    const wide = Buffer.from(lookup);
    wide.writeUInt8(1, 17);
    assert.equal(decodeMessage(wide), null);
    // A non-zero resv is tolerated; trailing bytes are ignored.
    assert.deepEqual(decodeMessage(patched(resp, 12, 7)), decodeMessage(resp));
    assert.deepEqual(decodeMessage(Buffer.concat([resp, Buffer.alloc(100, 0xff)])), decodeMessage(resp));
  });

  test('decode never throws on junk', () => {
    for (let i = 0; i < 5000; i++) {
      const junk = randomBytes(i % 400);
      // Half of them with a valid header, so the payload readers see junk too.
      if (i % 2 && junk.length >= 12) HEADER(i % 5).copy(junk, 0, 0, 12);
      const msg = decodeMessage(junk);
      if (msg) assert.ok([0, 1, 2, 3].includes(msg.msgType));
    }
  });

  test('encode refuses what cannot be represented', () => {
    assert.throws(() => encodeMacLookup(SEND_MSG, { mac: '00:14:4f:fc:00', sourceIp: '127.0.0.1' }), /MAC/);
    assert.throws(() => encodeDiscoveryResponse({ version: '2.0', hostName: 'h', address: 'host1', port: 6482 }), /IPv4/);
  });
});

// Addresses no other test's host is likely to take (hosts are handed 127.0.0.2 upward), and host
// names unique to this run: another test process may run its own managers on this machine.
const RUN = `${process.pid}-${Date.now().toString(36)}`;
const HOSTS = [
  { address: '127.0.0.221', hostName: `disc-a-${RUN}`, version: '2.0' },
  { address: '127.0.0.222', hostName: `disc-b-${RUN}`, version: '1.3' },
  { address: '127.0.0.223', hostName: `disc-c-${RUN}`, version: '2.0' },
];
const randomMac = () => '00:14:4f:' + [0xfc | (randomBytes(1)[0] & 3), ...randomBytes(2)].map((b) => b.toString(16).padStart(2, '0')).join(':');

describe('responders on 127.0.0.221-223', () => {
  const macs = HOSTS.map(() => new Set<string>());
  const responders: DiscoveryResponder[] = [];
  const ours = (list: ManagerInfo[]) => list.filter((m) => m.hostName.endsWith(RUN));

  before(async () => {
    const changed = await ensureLoopbackMulticast();
    if (changed.length) console.log(`# ensureLoopbackMulticast changed the system: ${changed.join('; ')}`);
    for (const [i, h] of HOSTS.entries()) {
      const r = new DiscoveryResponder({ ...h, port: 6482, macsInUse: () => macs[i] });
      await r.start();
      responders.push(r);
    }
  });
  after(async () => {
    await Promise.all(responders.map((r) => r.close()));
  });

  test('discovery finds every manager with its version, host name, address and port', async () => {
    const expected = HOSTS.map((h) => ({ version: h.version, hostName: h.hostName, address: h.address, port: 6482 }));
    assert.deepEqual(ours(await discoverManagers({ timeoutMs: 400 })), expected);
    // From a host's own address too: the probe is not the responder's own packet.
    assert.deepEqual(ours(await discoverManagers({ address: HOSTS[1].address, timeoutMs: 400 })), expected);
  });

  test('replies are unicast to the asker, not sent to the group', async () => {
    const listener = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((r) => listener.bind(64535, '239.129.9.27', r));
    listener.addMembership('239.129.9.27', '127.0.0.1');
    const seen: Buffer[] = [];
    listener.on('message', (m) => seen.push(m));
    await discoverManagers({ timeoutMs: 300 });
    listener.close();
    assert.ok(seen.some((m) => decodeMessage(m)?.msgType === LDMD_DISC_SEND), 'the probe itself is on the group');
    const mine = seen.map(decodeMessage).filter((m) => m?.msgType === LDMD_DISC_RESP && m.discovery.hostName.endsWith(RUN));
    assert.deepEqual(mine, []);
  });

  test('a MAC used by one manager is reported to another; an unused one is not', async () => {
    const [used, unused, later] = [randomMac(), randomMac(), randomMac()];
    macs[0].add(used);
    assert.deepEqual(await checkMacCollision({ address: HOSTS[1].address, mac: used, timeoutMs: 400 }), { address: HOSTS[0].address });
    assert.deepEqual(await checkMacCollision({ address: HOSTS[2].address, mac: used.toUpperCase(), timeoutMs: 400 }), { address: HOSTS[0].address });
    assert.equal(await checkMacCollision({ address: HOSTS[1].address, mac: unused, timeoutMs: 400 }), null);
    // The manager asking is not a collision with itself.
    assert.equal(await checkMacCollision({ address: HOSTS[0].address, mac: used, timeoutMs: 400 }), null);
    // The set is read at each lookup, not at start.
    assert.equal(await checkMacCollision({ address: HOSTS[0].address, mac: later, timeoutMs: 300 }), null);
    macs[2].add(later);
    assert.deepEqual(await checkMacCollision({ address: HOSTS[0].address, mac: later, timeoutMs: 400 }), { address: HOSTS[2].address });
    await assert.rejects(checkMacCollision({ address: HOSTS[0].address, mac: 'nonsense' }), /invalid MAC address/);
  });

  test('a responder ignores lookups from its own address', async () => {
    const mac = randomMac();
    macs[0].add(mac);
    const ask = async (from: string, sourceIp: string) => {
      const s = dgram.createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, from, r));
      s.setMulticastInterface(from);
      const replies: string[] = [];
      s.on('message', (m, rinfo) => {
        const msg = decodeMessage(m);
        if (msg?.msgType === RESPONSE_MSG && msg.lookup.mac === mac) replies.push(`${rinfo.address} ${msg.lookup.sourceIp}`);
      });
      s.send(encodeMacLookup(SEND_MSG, { mac, sourceIp }), 64535, '239.129.9.27');
      await sleep(300);
      s.close();
      return replies;
    };
    assert.deepEqual(await ask(HOSTS[0].address, HOSTS[0].address), []);
    assert.deepEqual(await ask(HOSTS[0].address, '127.0.0.1'), [], 'sent from its address');
    assert.deepEqual(await ask('127.0.0.1', HOSTS[0].address), [], 'source_ip is its address');
    assert.deepEqual(await ask(HOSTS[1].address, HOSTS[1].address), [`${HOSTS[0].address} ${HOSTS[0].address}`]);
  });

  test('stray answers for another MAC, or naming the asker, are not collisions', async () => {
    // A rogue on the group answers every lookup with the wrong MAC, then with the asker's address.
    const rogue = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((r) => rogue.bind(64535, '239.129.9.27', r));
    rogue.addMembership('239.129.9.27', '127.0.0.226');
    const reply = dgram.createSocket('udp4');
    await new Promise<void>((r) => reply.bind(0, '127.0.0.226', r));
    const mac = randomMac();
    let answered = 0;
    rogue.on('message', (m, rinfo) => {
      const msg = decodeMessage(m);
      if (msg?.msgType !== SEND_MSG || msg.lookup.mac !== mac) return;
      answered++;
      reply.send(encodeMacLookup(RESPONSE_MSG, { mac: '00:14:4f:f8:00:01', sourceIp: '127.0.0.226' }), rinfo.port, rinfo.address);
      reply.send(encodeMacLookup(RESPONSE_MSG, { mac: msg.lookup.mac, sourceIp: rinfo.address }), rinfo.port, rinfo.address);
    });
    try {
      assert.equal(await checkMacCollision({ address: HOSTS[2].address, mac, timeoutMs: 300 }), null);
      assert.equal(answered, 1);
    } finally {
      rogue.close();
      reply.close();
    }
  });

  test('garbage, short, wrong-magic and stray response datagrams leave the responders serving', async () => {
    const before = responders.map((r) => ({ ...r.stats }));
    const junk = [
      Buffer.alloc(0),
      Buffer.from('hello'),
      randomBytes(312),
      randomBytes(1400),
      HEADER(2).subarray(0, 15),
      Buffer.concat([Buffer.from('000000010587e4c5', 'hex'), Buffer.alloc(304)]), // magic + 1
      Buffer.concat([Buffer.from('000000020587e4c4', 'hex'), Buffer.alloc(304)]), // version 2
      Buffer.concat([Buffer.from('01000000c4e48705', 'hex'), Buffer.alloc(304)]), // little-endian header
      encodeDiscoveryResponse({ version: '2.0', hostName: 'h', address: '127.0.0.9', port: 6482 }).subarray(0, 300),
      encodeMacLookup(SEND_MSG, { mac: '00:14:4f:fc:00:01', sourceIp: '127.0.0.9' }).subarray(0, 30),
    ];
    const stray = [
      encodeDiscoveryResponse({ version: '2.0', hostName: 'h', address: '127.0.0.9', port: 6482 }),
      encodeMacLookup(RESPONSE_MSG, { mac: '00:14:4f:fc:00:01', sourceIp: '127.0.0.9' }),
    ];
    const sender = dgram.createSocket('udp4');
    await new Promise<void>((r) => sender.bind(0, '127.0.0.224', r));
    sender.setMulticastInterface('127.0.0.224');
    for (const d of [...junk, ...stray]) await new Promise<void>((r, j) => sender.send(d, 64535, '239.129.9.27', (e) => (e ? j(e) : r())));
    // Wait until every responder has seen all of the junk (other processes may add more).
    for (let i = 0; i < 100 && responders.some((r, k) => r.stats.garbage - before[k].garbage < junk.length); i++) await sleep(20);
    sender.close();
    responders.forEach((r, k) => {
      assert.ok(r.stats.garbage - before[k].garbage >= junk.length, `responder ${k} saw the junk`);
      // Only probes were answered (another process may be probing too): not the stray responses.
      assert.equal(r.stats.answered - before[k].answered, r.stats.probes - before[k].probes, `responder ${k} answered only probes`);
    });
    assert.equal(ours(await discoverManagers({ timeoutMs: 400 })).length, 3);
  });

  test('a failing MAC table does not stop the responder', async () => {
    const logged: string[] = [];
    const broken = new DiscoveryResponder({
      address: '127.0.0.225', hostName: `disc-broken-${RUN}`, version: '2.0', port: 6482,
      macsInUse: () => { throw new Error('database gone'); },
      log: (s) => logged.push(s),
    });
    await broken.start();
    try {
      assert.equal(await checkMacCollision({ address: HOSTS[0].address, mac: randomMac(), timeoutMs: 300 }), null);
      assert.ok(logged.some((l) => /database gone/.test(l)));
      assert.ok(ours(await discoverManagers({ timeoutMs: 400 })).some((m) => m.address === '127.0.0.225'));
    } finally {
      await broken.close();
    }
  });

  test('ldoms discover and ldoms mac-check', async () => {
    const run = async (argv: string[]) => {
      let out = '';
      let err = '';
      const code = await discoverCommand(argv, (s) => (out += s), (s) => (err += s));
      return { code, out, err };
    };
    const table = await run(['discover', '--timeout', '400']);
    assert.equal(table.code, 0);
    const lines = table.out.split('\n');
    assert.match(lines[0], /^HOSTNAME\s+ADDRESS\s+PORT\s+VERSION$/);
    for (const h of HOSTS) assert.ok(lines.some((l) => l.split(/\s+/).join(' ') === `${h.hostName} ${h.address} 6482 ${h.version}`), h.hostName);

    const parseable = await run(['discover', '-p', '--timeout', '400', '--from', HOSTS[2].address]);
    assert.equal(parseable.code, 0);
    for (const h of HOSTS) assert.ok(parseable.out.includes(`MANAGER|hostname=${h.hostName}|address=${h.address}|port=6482|version=${h.version}\n`));

    const mac = randomMac();
    macs[1].add(mac);
    const inUse = await run(['mac-check', mac.toUpperCase(), '--from', HOSTS[0].address, '--timeout', '400']);
    assert.deepEqual(inUse, { code: 1, out: `MAC address ${mac} is already in use by the Logical Domains Manager at ${HOSTS[1].address}\n`, err: '' });
    const free = await run(['mac-check', randomMac(), '--timeout', '300']);
    assert.equal(free.code, 0);
    assert.match(free.out, /is not in use/);

    for (const bad of [['mac-check', '00:14:4f'], ['mac-check'], ['discover', '--timeout', 'soon'], ['discover', '-x'], ['nothing']]) {
      const r = await run(bad);
      assert.equal(r.code, 2, bad.join(' '));
      assert.match(r.err, /Usage:/);
    }
    const unbound = await run(['discover', '--from', '192.0.2.123', '--timeout', '100']);
    assert.equal(unbound.code, 2);
    assert.match(unbound.err, /cannot use address 192\.0\.2\.123/);
  });
});
