/** Test helpers: run encoded messages through a FrameReader into a session, collect replies. */
import {
  Command,
  decodeHeader,
  encodeCommand,
  encodeVersionPayload,
  type Frame,
  FrameReader,
} from '../../src/vfio-user/protocol/index.js';
import type { Reply } from '../../src/vfio-user/server/host.js';
import { ServerSession, type SessionOptions } from '../../src/vfio-user/server/session.js';
import { FakeDevice, FakeHost } from './fake-device.js';

export interface Harness {
  device: FakeDevice;
  host: FakeHost;
  session: ServerSession;
  reader: FrameReader;
  logs: string[];
  /** Send one message (with fds) and return the reply (awaiting if needed). */
  send(bytes: Uint8Array, fds?: number[]): Promise<Reply | null>;
  /** Send and expect a synchronous result. */
  sendSync(bytes: Uint8Array, fds?: number[]): Reply | null;
}

export function harness(options: SessionOptions = {}): Harness {
  const device = new FakeDevice();
  const host = new FakeHost();
  const logs: string[] = [];
  const session = new ServerSession(device, host, {
    ...options,
    log: (l, m) => logs.push(`${l}: ${m}`),
  });
  const reader = new FrameReader();
  const one = (bytes: Uint8Array, fds: number[]) => {
    const evs = reader.push(bytes, fds);
    if (evs.length !== 1) throw new Error(`expected one event, got ${evs.length}`);
    return session.handle(evs[0]!);
  };
  return {
    device,
    host,
    session,
    reader,
    logs,
    send: async (bytes, fds = []) => one(bytes, fds),
    sendSync: (bytes, fds = []) => {
      const r = one(bytes, fds);
      if (r instanceof Promise) throw new Error('expected a synchronous reply');
      return r;
    },
  };
}

/** Parse reply bytes into a Frame (with the reply's fds). */
export function asFrame(r: Reply | null): Frame {
  if (!r) throw new Error('expected a reply, got none');
  return { header: decodeHeader(r.bytes), payload: r.bytes.subarray(16), fds: r.fds };
}

/** QEMU 10.1's VERSION JSON (docs/protocol.md §2). */
export const QEMU_JSON =
  '{"capabilities": {"migration": {"pgsize": 4096, "max_bitmap_size": 268435456}, "max_msg_fds": 16, ' +
  '"max_data_xfer_size": 1048576, "pgsizes": 4096, "max_dma_maps": 65535, "write_multiple": true}}';

export function qemuVersion(msgId = 0): Uint8Array {
  return encodeCommand(msgId, Command.VERSION, encodeVersionPayload(0, 0, QEMU_JSON));
}
