/**
 * The endpoint owns the order of a client's messages: a message behind one the device makes
 * wait is handled, and answered, only after it; replies written in place keep that order
 * (through fake connections, no socket).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeHeader,
  decodeRegionReadReply,
  encodeDeviceGetInfo,
  encodeRegionRead,
} from '../../src/vfio-user/protocol/index.js';
import { ServerEndpoint } from '../../src/vfio-user/server/endpoint.js';
import {
  type Connection,
  type Listener,
  REPLY_SETTLED,
} from '../../src/vfio-user/transport/types.js';
import { FakeDevice, FakeHost } from './fake-device.js';
import { asFrame, qemuVersion } from './helpers.js';

/** A connection that records what the endpoint sends and lets the test deliver chunks. */
class FakeConnection implements Connection {
  readonly sent: Uint8Array[] = [];
  closed = false;
  readonly pendingBytes = 0;
  readonly pendingFds = 0;
  protected data: ((chunk: Buffer, fds: number[], transient: boolean) => unknown) | null = null;
  private closers: ((error?: Error) => void)[] = [];

  onData(handler: (chunk: Buffer, fds: number[], transient: boolean) => unknown): void {
    this.data = handler;
  }
  onClose(handler: (error?: Error) => void): void {
    this.closers.push(handler);
  }
  send(data: Uint8Array | readonly Uint8Array[]): void {
    const parts = data instanceof Uint8Array ? [data] : data;
    this.sent.push(Buffer.concat(parts.map((p) => Buffer.from(p))));
  }
  onDrain(): void {}
  pause(): void {}
  resume(): void {}
  peerGone(): boolean {
    return this.closed;
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.closers) c();
  }
  deliver(...messages: Uint8Array[]): void {
    this.data?.(Buffer.concat(messages.map((m) => Buffer.from(m))), [], false);
  }
  /** msg ids of the replies sent so far. */
  replyIds(): number[] {
    return this.sent.map((b) => decodeHeader(b).msgId);
  }
}

class FakeListener implements Listener {
  readonly path = undefined;
  private handler: ((conn: Connection) => void) | null = null;
  onConnection(handler: (conn: Connection) => void): void {
    this.handler = handler;
  }
  connect(conn: Connection): void {
    this.handler?.(conn);
  }
  close(): void {}
}

const tick = () => new Promise((r) => setImmediate(r));

describe('ServerEndpoint: message order', () => {
  it('messages stay in order when the device makes a read wait', async () => {
    const device = new FakeDevice();
    const listener = new FakeListener();
    const endpoint = new ServerEndpoint(listener, { device, host: new FakeHost() });
    const conn = new FakeConnection();
    listener.connect(conn);
    conn.deliver(qemuVersion(0));
    assert.deepEqual(conn.replyIds(), [0]);

    let release!: () => void;
    device.slowReads = new Promise<void>((r) => {
      release = r;
    });
    // One chunk: a read the device makes wait, then a query that could be answered at once.
    conn.deliver(encodeRegionRead(1, 0, 0, 4), encodeDeviceGetInfo(2));
    await tick();
    assert.deepEqual(conn.replyIds(), [0], 'nothing behind the waiting read is answered first');
    release();
    await tick();
    await tick();
    assert.deepEqual(conn.replyIds(), [0, 1, 2]);
    const read = asFrame({ bytes: conn.sent[1]!, fds: [] });
    assert.deepEqual([...decodeRegionReadReply(read).data], [0xab, 0xab, 0xab, 0xab]);

    device.slowReads = null;
    conn.deliver(encodeDeviceGetInfo(3));
    assert.deepEqual(conn.replyIds(), [0, 1, 2, 3], 'answered at once again once idle');
    await endpoint.stop();
  });
});

/** A transport with a reply area, as the native one: chunks are transient views. */
class AreaConnection extends FakeConnection {
  readonly replyArea = new Uint8Array(64 * 1024);
  retained = 0;
  /** Whether each delivery's handler reported REPLY_SETTLED. */
  readonly settled: boolean[] = [];
  retainChunk(): void {
    this.retained++;
  }
  override deliver(...messages: Uint8Array[]): void {
    const chunk = new Uint8Array(Buffer.concat(messages.map((m) => Buffer.from(m))));
    const retainedBefore = this.retained;
    const r = (this.data?.(chunk as Buffer, [], true) ?? 0) as number;
    const n = r & ~REPLY_SETTLED;
    this.settled.push((r & REPLY_SETTLED) !== 0);
    // What the addon would send: the area's replies, one message after another.
    for (let at = 0; at < n; ) {
      const size = decodeHeader(this.replyArea.subarray(at)).size;
      this.sent.push(Buffer.from(this.replyArea.subarray(at, at + size)));
      at += size;
    }
    // The transport reuses the memory at once, unless the handler kept the chunk.
    if (this.retained === retainedBefore) chunk.fill(0xee);
  }
}

describe('ServerEndpoint: replies in place', () => {
  async function attached(device = new FakeDevice()) {
    const listener = new FakeListener();
    const endpoint = new ServerEndpoint(listener, { device, host: new FakeHost() });
    const conn = new AreaConnection();
    listener.connect(conn);
    conn.deliver(qemuVersion(0));
    return { device, endpoint, conn };
  }

  it('answers reads in the reply area, in order, and only a read-only callback is settled', async () => {
    const { endpoint, conn } = await attached();
    conn.deliver(encodeRegionRead(1, 0, 0, 4), encodeRegionRead(2, 0, 4, 2));
    conn.deliver(encodeDeviceGetInfo(3));
    assert.deepEqual(conn.replyIds(), [0, 1, 2, 3]);
    const read = asFrame({ bytes: conn.sent[1]!, fds: [] });
    assert.deepEqual([...decodeRegionReadReply(read).data], [0xab, 0xab, 0xab, 0xab]);
    assert.equal(decodeRegionReadReply(asFrame({ bytes: conn.sent[2]!, fds: [] })).data.length, 2);
    assert.deepEqual(conn.settled, [false, true, false], 'VERSION and GET_INFO are not settled');
    assert.equal(conn.retained, 0, 'nothing outlived its callback');
    await endpoint.stop();
  });

  it('a read the device makes wait keeps its chunk and answers later, the rest behind it', async () => {
    const { device, endpoint, conn } = await attached();
    let release!: () => void;
    device.slowReads = new Promise<void>((r) => {
      release = r;
    });
    conn.deliver(encodeRegionRead(1, 0, 0, 4), encodeDeviceGetInfo(2));
    assert.equal(conn.retained, 1, 'the chunk is kept for the frames that wait');
    assert.deepEqual(conn.settled.at(-1), false);
    release();
    await tick();
    await tick();
    assert.deepEqual(conn.replyIds(), [0, 1, 2], 'the waiting read, then what came behind it');
    const info = decodeHeader(conn.sent[2]!);
    assert.equal(info.error, 0, 'the queued request was read from the kept chunk intact');
    device.slowReads = null;
    conn.deliver(encodeRegionRead(3, 0, 0, 4));
    assert.deepEqual(conn.replyIds(), [0, 1, 2, 3]);
    assert.deepEqual(conn.settled.at(-1), true, 'answered in place again once idle');
    await endpoint.stop();
  });
});
