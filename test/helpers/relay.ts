// A TCP relay standing for the network between two hosts: it listens on its own loopback address
// and forwards to the target, and `cut()` severs every connection through it at once and refuses
// new ones — the link between the hosts going down mid-stream.

import net from 'node:net';

export class Relay {
  private server: net.Server | null = null;
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private down = false;
  /** Bytes forwarded from the client side (the source) to the target. */
  forwarded = 0;

  constructor(
    readonly address: string,
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((client) => {
        if (this.down) return void client.destroy();
        // From the relay's own address: the target sees a remote peer, as it would across a network.
        const upstream = net.connect({ host: this.target.host, port: this.target.port, localAddress: this.address });
        const pair: [net.Socket, net.Socket] = [client, upstream];
        this.pairs.add(pair);
        const end = () => {
          client.destroy();
          upstream.destroy();
          this.pairs.delete(pair);
        };
        client.on('error', end).on('close', end);
        upstream.on('error', end).on('close', end);
        client.on('data', (b) => {
          this.forwarded += b.length;
          if (!upstream.write(b)) client.pause();
        });
        upstream.on('drain', () => client.resume());
        upstream.on('data', (b) => {
          if (!client.write(b)) upstream.pause();
        });
        client.on('drain', () => upstream.resume());
      });
      server.once('error', reject);
      server.listen({ host: this.address, port: this.port }, () => {
        this.server = server;
        resolve();
      });
    });
  }

  /** The link goes down: every connection through it is reset, new ones are refused. */
  cut(): void {
    this.down = true;
    for (const [a, b] of this.pairs) {
      a.resetAndDestroy();
      b.resetAndDestroy();
    }
    this.pairs.clear();
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
