/**
 * The endpoint owns the order of a client's messages: a message behind one the device makes
 * wait is handled, and answered, only after it (through a fake connection, no socket).
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
import type { Connection, Listener } from '../../src/vfio-user/transport/types.js';
import { FakeDevice, FakeHost } from './fake-device.js';
import { asFrame, qemuVersion } from './helpers.js';

/** A connection that records what the endpoint sends and lets the test deliver chunks. */
class FakeConnection implements Connection {
  readonly sent: Uint8Array[] = [];
  closed = false;
  readonly pendingBytes = 0;
  readonly pendingFds = 0;
  private data: ((chunk: Buffer, fds: number[], transient: boolean) => void) | null = null;
  private closers: ((error?: Error) => void)[] = [];

  onData(handler: (chunk: Buffer, fds: number[], transient: boolean) => void): void {
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
