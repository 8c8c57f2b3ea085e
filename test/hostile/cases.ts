/**
 * The table of named malformed and hostile inputs, each with the answer the protocol requires.
 * The running-server suite sends every case over a real socket and then checks that the server
 * serves the next valid request; the count of cases reported is the length of this table.
 *
 * A case is one or more messages (raw bytes plus fds); only the LAST message's answer is
 * checked (earlier ones set the stage and must succeed). Expectations:
 * - error: one header-only error reply for the last message, errno non-zero (and equal to
 *   `errno` when given), the connection stays up;
 * - ok: a success reply for the last message (a tolerated oddity, e.g. argsz larger than needed);
 * - silent: no reply at all (No_reply commands, replies sent by the client);
 * - disconnect: at most an error reply for the last message, then the server closes;
 * - incomplete: the bytes never form a whole message: no reply; the client then hangs up.
 */

import { native } from '../../src/native/addon.js';
import {
  Command,
  DmaMapFlags,
  DmaUnmapFlags,
  Errno,
  encodeDeviceGetInfo,
  encodeDmaMap,
  encodeDmaUnmap,
  encodeGetIrqInfo,
  encodeGetRegionInfo,
  encodeHeader,
  encodeRegionRead,
  encodeRegionWrite,
  encodeRegionWriteMulti,
  encodeVersionPayload,
  HeaderFlags,
  IrqSetFlags,
  MAX_DATA_XFER,
  MAX_MSG_FDS,
  MAX_MSG_SIZE,
  PciIrq,
  PciRegion,
} from '../../src/vfio-user/protocol/index.js';

export type Expect =
  | { kind: 'error'; errno?: number }
  | { kind: 'ok' }
  | { kind: 'silent' }
  | { kind: 'disconnect' }
  | { kind: 'incomplete' };

export interface Wire {
  bytes: Uint8Array;
  fds?: number[];
}

/** Makes fds for a case; the runner closes them all after the case (the kernel sent dups). */
export class FdMaker {
  readonly made: number[] = [];
  eventfd(): number {
    const fd = native().eventfdCreate(0, false);
    this.made.push(fd);
    return fd;
  }
  memfd(size = 1 << 16): number {
    const n = native();
    const fd = n.memfdCreate('hostile');
    n.ftruncateFd(fd, size);
    this.made.push(fd);
    return fd;
  }
  eventfds(k: number): number[] {
    return Array.from({ length: k }, () => this.eventfd());
  }
  closeAll(): void {
    for (const fd of this.made.splice(0)) native().closeFd(fd);
  }
}

export interface MalformedCase {
  name: string;
  /** Run on a fresh connection that has not negotiated VERSION. */
  beforeVersion?: boolean;
  /** Messages to send; the last one carries msg id `id` and is the one judged. */
  send(id: number, fds: FdMaker): Wire[];
  expect: Expect;
}

const { EINVAL, ENOENT, EEXIST } = Errno;

/** A message with an arbitrary header (size defaults to the true length). */
export function raw(
  id: number,
  command: number,
  payload: Uint8Array,
  opts: { flags?: number; size?: number; error?: number } = {},
): Uint8Array {
  const out = new Uint8Array(16 + payload.length);
  encodeHeader(
    {
      msgId: id,
      command,
      size: opts.size ?? out.length,
      flags: opts.flags ?? 0,
      error: opts.error ?? 0,
    },
    out,
  );
  out.set(payload, 16);
  return out;
}

/** Little-endian payload from (size, value) pairs. */
export function le(...fields: [4 | 8 | 2 | 1, number | bigint][]): Uint8Array {
  const len = fields.reduce((n, [s]) => n + s, 0);
  const out = new Uint8Array(len);
  const v = new DataView(out.buffer);
  let o = 0;
  for (const [s, x] of fields) {
    if (s === 8) v.setBigUint64(o, BigInt(x), true);
    else if (s === 4) v.setUint32(o, Number(x) >>> 0, true);
    else if (s === 2) v.setUint16(o, Number(x), true);
    else v.setUint8(o, Number(x));
    o += s;
  }
  return out;
}

const version = (id: number, json: string | null, major = 0) =>
  raw(id, Command.VERSION, encodeVersionPayload(major, 0, json));
const versionBytes = (id: number, body: Uint8Array) =>
  raw(id, Command.VERSION, new Uint8Array([0, 0, 0, 0, ...body]));
const utf8 = (s: string) => new TextEncoder().encode(s);

const setIrqs = (
  id: number,
  flags: number,
  index: number,
  start: number,
  count: number,
  extra = 0,
  argsz = 20 + extra,
) =>
  raw(
    id,
    Command.DEVICE_SET_IRQS,
    le(
      [4, argsz],
      [4, flags],
      [4, index],
      [4, start],
      [4, count],
      ...Array.from({ length: extra }, () => [1, 1] as [1, number]),
    ),
  );
const EVT_TRIG = IrqSetFlags.DATA_EVENTFD | IrqSetFlags.ACTION_TRIGGER;
const NONE_TRIG = IrqSetFlags.DATA_NONE | IrqSetFlags.ACTION_TRIGGER;
const RW = DmaMapFlags.READ | DmaMapFlags.WRITE;
const BAR4 = PciRegion.BAR4;
const CFG = PciRegion.CONFIG;
/** Past the end of any region of the served device (BAR4 is at most 1 TiB here). */
const FAR = 1n << 50n;

const e = (errno?: number): Expect =>
  errno === undefined ? { kind: 'error' } : { kind: 'error', errno };
const one = (w: Uint8Array, fds?: number[]): Wire[] => [fds ? { bytes: w, fds } : { bytes: w }];

export const CASES: MalformedCase[] = [
  // ---- framing ----
  {
    name: 'header size 0 (below the header)',
    send: (id) => one(raw(id, 4, le([4, 16], [4, 0], [4, 0], [4, 0]), { size: 0 })),
    expect: { kind: 'disconnect' },
  },
  {
    name: 'header size 15 (below the header)',
    send: (id) => one(raw(id, 4, new Uint8Array(0), { size: 15 })),
    expect: { kind: 'disconnect' },
  },
  {
    name: 'header size one above the message cap',
    send: (id) => one(raw(id, 10, new Uint8Array(0), { size: MAX_MSG_SIZE + 1 })),
    expect: { kind: 'disconnect' },
  },
  {
    name: 'huge declared size (4 GiB) with no body following',
    send: (id) => one(raw(id, 10, new Uint8Array(0), { size: 0xffffffff })),
    expect: { kind: 'disconnect' },
  },
  {
    name: 'maximal declared size with no body following',
    send: (id) => one(raw(id, 10, new Uint8Array(0), { size: MAX_MSG_SIZE })),
    expect: { kind: 'incomplete' },
  },
  {
    name: 'truncated header (8 of 16 bytes)',
    send: (id) => one(encodeDeviceGetInfo(id).subarray(0, 8)),
    expect: { kind: 'incomplete' },
  },
  {
    name: 'truncated body (30 of 32 bytes)',
    send: (id) => one(encodeDeviceGetInfo(id).subarray(0, 30)),
    expect: { kind: 'incomplete' },
  },
  {
    name: 'truncated REGION_WRITE body (half of 64 KiB)',
    send: (id) =>
      one(encodeRegionWrite(id, BAR4, 0, new Uint8Array(65536)).subarray(0, 32 + 32768)),
    expect: { kind: 'incomplete' },
  },
  {
    name: 'message type 2 (neither command nor reply)',
    send: (id) => one(raw(id, 4, le([4, 16], [4, 0], [4, 0], [4, 0]), { flags: 2 })),
    expect: e(EINVAL),
  },
  {
    name: 'message type 15',
    send: (id) => one(raw(id, 4, le([4, 16], [4, 0], [4, 0], [4, 0]), { flags: 0xf })),
    expect: e(EINVAL),
  },
  {
    name: 'reserved header flag bits set (0xffffffc0)',
    send: (id) => one(raw(id, 4, le([4, 16], [4, 0], [4, 0], [4, 0]), { flags: 0xffffffc0 })),
    expect: { kind: 'ok' },
  },
  {
    name: 'header-only DEVICE_GET_INFO (size 16)',
    send: (id) => one(raw(id, Command.DEVICE_GET_INFO, new Uint8Array(0))),
    expect: e(EINVAL),
  },
  // ---- commands and directions ----
  {
    name: 'unknown command 0',
    send: (id) => one(raw(id, 0, new Uint8Array(8))),
    expect: e(EINVAL),
  },
  {
    name: 'removed command 14 (DIRTY_PAGES)',
    send: (id) => one(raw(id, 14, new Uint8Array(8))),
    expect: e(EINVAL),
  },
  {
    name: 'unknown command 19',
    send: (id) => one(raw(id, 19, new Uint8Array(8))),
    expect: e(EINVAL),
  },
  {
    name: 'unknown command 0xffff',
    send: (id) => one(raw(id, 0xffff, new Uint8Array(0))),
    expect: e(EINVAL),
  },
  {
    name: 'DMA_READ sent by the client',
    send: (id) => one(raw(id, Command.DMA_READ, le([8, 0], [8, 8]))),
    expect: e(EINVAL),
  },
  {
    name: 'DMA_WRITE sent by the client',
    send: (id) => one(raw(id, Command.DMA_WRITE, le([8, 0], [8, 1], [1, 0]))),
    expect: e(EINVAL),
  },
  {
    name: 'reply sent by the client',
    send: (id) =>
      one(
        raw(id, Command.DEVICE_GET_INFO, le([4, 16], [4, 3], [4, 9], [4, 5]), {
          flags: HeaderFlags.TYPE_REPLY,
        }),
      ),
    expect: { kind: 'silent' },
  },
  {
    name: 'error reply sent by the client',
    send: (id) =>
      one(
        raw(id, Command.REGION_READ, new Uint8Array(0), {
          flags: HeaderFlags.TYPE_REPLY | HeaderFlags.ERROR,
          error: 5,
        }),
      ),
    expect: { kind: 'silent' },
  },
  {
    name: 'reply sent by the client with an fd',
    send: (id, f) =>
      one(
        raw(id, Command.DEVICE_GET_REGION_INFO, new Uint8Array(32), {
          flags: HeaderFlags.TYPE_REPLY,
        }),
        [f.memfd()],
      ),
    expect: { kind: 'silent' },
  },
  {
    name: 'No_reply unknown command',
    send: (id) => one(raw(id, 99, new Uint8Array(4), { flags: HeaderFlags.NO_REPLY })),
    expect: { kind: 'silent' },
  },
  {
    name: 'No_reply REGION_WRITE with count/data mismatch',
    send: (id) =>
      one(
        raw(id, Command.REGION_WRITE, le([8, 0], [4, BAR4], [4, 8], [4, 0]), {
          flags: HeaderFlags.NO_REPLY,
        }),
      ),
    expect: { kind: 'silent' },
  },
  {
    name: 'No_reply REGION_WRITE out of range',
    send: (id) => one(encodeRegionWrite(id, BAR4, FAR, new Uint8Array(4), true)),
    expect: { kind: 'silent' },
  },
  // ---- VERSION ----
  {
    name: 'a command before VERSION',
    beforeVersion: true,
    send: (id) => one(encodeDeviceGetInfo(id)),
    expect: e(EINVAL),
  },
  { name: 'VERSION twice', send: (id) => one(version(id, '{}')), expect: e(EINVAL) },
  {
    name: 'VERSION with fds attached',
    beforeVersion: true,
    send: (id, f) => one(version(id, '{}'), [f.eventfd()]),
    expect: e(EINVAL),
  },
  {
    name: 'VERSION payload of 2 bytes',
    beforeVersion: true,
    send: (id) => one(raw(id, Command.VERSION, new Uint8Array(2))),
    expect: e(EINVAL),
  },
  {
    name: 'VERSION major 1',
    beforeVersion: true,
    send: (id) => one(version(id, null, 1)),
    expect: { kind: 'disconnect' },
  },
  {
    name: 'VERSION JSON not NUL-terminated',
    beforeVersion: true,
    send: (id) => one(versionBytes(id, utf8('{}'))),
    expect: { kind: 'disconnect' },
  },
  {
    name: 'VERSION JSON with a NUL inside',
    beforeVersion: true,
    send: (id) => one(versionBytes(id, new Uint8Array([0x7b, 0, 0x7d, 0]))),
    expect: { kind: 'disconnect' },
  },
  {
    name: 'VERSION JSON not UTF-8',
    beforeVersion: true,
    send: (id) => one(versionBytes(id, new Uint8Array([0xff, 0xfe, 0]))),
    expect: { kind: 'disconnect' },
  },
  {
    name: 'VERSION JSON that does not parse',
    beforeVersion: true,
    send: (id) => one(version(id, '{"capabilities":')),
    expect: { kind: 'disconnect' },
  },
  {
    name: 'VERSION JSON is an array',
    beforeVersion: true,
    send: (id) => one(version(id, '[1,2]')),
    expect: { kind: 'disconnect' },
  },
  {
    name: 'VERSION JSON is a number',
    beforeVersion: true,
    send: (id) => one(version(id, '42')),
    expect: { kind: 'disconnect' },
  },
  {
    name: 'VERSION JSON is null',
    beforeVersion: true,
    send: (id) => one(version(id, 'null')),
    expect: { kind: 'disconnect' },
  },
  {
    name: 'VERSION capabilities is a string',
    beforeVersion: true,
    send: (id) => one(version(id, '{"capabilities":"x"}')),
    expect: { kind: 'disconnect' },
  },
  {
    name: 'VERSION max_msg_fds negative',
    beforeVersion: true,
    send: (id) => one(version(id, '{"capabilities":{"max_msg_fds":-1}}')),
    expect: { kind: 'disconnect' },
  },
  {
    name: 'VERSION max_msg_fds above 1024',
    beforeVersion: true,
    send: (id) => one(version(id, '{"capabilities":{"max_msg_fds":100000}}')),
    expect: { kind: 'disconnect' },
  },
  {
    name: 'VERSION max_data_xfer_size 0',
    beforeVersion: true,
    send: (id) => one(version(id, '{"capabilities":{"max_data_xfer_size":0}}')),
    expect: { kind: 'disconnect' },
  },
  {
    name: 'VERSION pgsizes not a multiple of 4096',
    beforeVersion: true,
    send: (id) => one(version(id, '{"capabilities":{"pgsizes":4097}}')),
    expect: { kind: 'disconnect' },
  },
  {
    name: 'VERSION write_multiple not a boolean',
    beforeVersion: true,
    send: (id) => one(version(id, '{"capabilities":{"write_multiple":1}}')),
    expect: { kind: 'disconnect' },
  },
  {
    name: 'VERSION migration not an object',
    beforeVersion: true,
    send: (id) => one(version(id, '{"capabilities":{"migration":3}}')),
    expect: { kind: 'disconnect' },
  },
  {
    name: 'VERSION unknown capability keys are tolerated',
    beforeVersion: true,
    send: (id) => one(version(id, '{"capabilities":{"frobnicate":true},"x":1}')),
    expect: { kind: 'ok' },
  },
  // ---- DMA_MAP / DMA_UNMAP ----
  {
    name: 'DMA_MAP payload of 31 bytes',
    send: (id) => one(raw(id, Command.DMA_MAP, new Uint8Array(31))),
    expect: e(EINVAL),
  },
  {
    name: 'DMA_MAP argsz 31',
    send: (id) =>
      one(encodeDmaMap(id, { flags: RW, address: 0x10000000n, size: 4096n, argsz: 31 })),
    expect: e(EINVAL),
  },
  {
    name: 'DMA_MAP argsz larger than needed',
    send: (id) =>
      one(encodeDmaMap(id, { flags: RW, address: 0x20000000n, size: 4096n, argsz: 4096 })),
    expect: { kind: 'ok' },
  },
  {
    name: 'DMA_MAP unknown flag bit 2',
    send: (id) => one(encodeDmaMap(id, { flags: 4 | RW, address: 0x30000000n, size: 4096n })),
    expect: e(EINVAL),
  },
  {
    name: 'DMA_MAP reserved flag bit 31',
    send: (id) =>
      one(encodeDmaMap(id, { flags: 0x80000000 | RW, address: 0x30000000n, size: 4096n })),
    expect: e(EINVAL),
  },
  {
    name: 'DMA_MAP size 0',
    send: (id) => one(encodeDmaMap(id, { flags: RW, address: 0x30000000n, size: 0n })),
    expect: e(EINVAL),
  },
  {
    name: 'DMA_MAP address + size overflows u64',
    send: (id) => one(encodeDmaMap(id, { flags: RW, address: 0xfffffffffffff000n, size: 0x2000n })),
    expect: e(EINVAL),
  },
  {
    name: 'DMA_MAP offset + size overflows u64 (with fd)',
    send: (id, f) =>
      one(
        encodeDmaMap(id, {
          flags: RW,
          offset: 0xffffffffffffff00n,
          address: 0x30000000n,
          size: 4096n,
        }),
        [f.memfd()],
      ),
    expect: e(EINVAL),
  },
  {
    name: 'DMA_MAP with 2 fds',
    send: (id, f) =>
      one(encodeDmaMap(id, { flags: RW, address: 0x30000000n, size: 4096n }), [
        f.memfd(),
        f.memfd(),
      ]),
    expect: e(EINVAL),
  },
  {
    name: 'DMA_MAP without fd but with an offset',
    send: (id) =>
      one(encodeDmaMap(id, { flags: RW, offset: 4096n, address: 0x30000000n, size: 4096n })),
    expect: e(EINVAL),
  },
  {
    name: 'DMA_MAP with an fd shorter than the window',
    send: (id, f) =>
      one(encodeDmaMap(id, { flags: RW, address: 0x40000000n, size: 1n << 24n }), [f.memfd(4096)]),
    expect: e(EINVAL),
  },
  {
    name: 'DMA_MAP with an fd and a window above 2^53 bytes',
    send: (id, f) =>
      one(encodeDmaMap(id, { flags: RW, address: 1n << 60n, size: 1n << 56n }), [f.memfd()]),
    expect: e(),
  },
  {
    name: 'DMA_MAP overlapping an existing window',
    send: (id) => [
      {
        bytes: encodeDmaMap((id + 1) & 0xffff, { flags: RW, address: 0x50000000n, size: 0x10000n }),
      },
      { bytes: encodeDmaMap(id, { flags: RW, address: 0x50008000n, size: 0x10000n }) },
    ],
    expect: e(EEXIST),
  },
  {
    name: 'DMA_UNMAP payload of 23 bytes',
    send: (id) => one(raw(id, Command.DMA_UNMAP, new Uint8Array(23))),
    expect: e(EINVAL),
  },
  {
    name: 'DMA_UNMAP argsz 8',
    send: (id) => one(encodeDmaUnmap(id, { address: 0x50000000n, size: 0x10000n, argsz: 8 })),
    expect: e(EINVAL),
  },
  {
    name: 'DMA_UNMAP unknown flag bit 2',
    send: (id) => one(encodeDmaUnmap(id, { flags: 4, address: 0n, size: 0n })),
    expect: e(EINVAL),
  },
  {
    name: 'DMA_UNMAP ALL with an address',
    send: (id) => one(encodeDmaUnmap(id, { flags: DmaUnmapFlags.ALL, address: 4096n, size: 0n })),
    expect: e(EINVAL),
  },
  {
    name: 'DMA_UNMAP ALL with GET_DIRTY_BITMAP',
    send: (id) =>
      one(raw(id, Command.DMA_UNMAP, le([4, 40], [4, 3], [8, 0], [8, 0], [8, 4096], [8, 8]))),
    expect: e(EINVAL),
  },
  {
    name: 'DMA_UNMAP of a window never mapped',
    send: (id) => one(encodeDmaUnmap(id, { address: 0x7000000000n, size: 0x1000n })),
    expect: e(ENOENT),
  },
  {
    name: 'DMA_UNMAP address + size overflows u64',
    send: (id) => one(encodeDmaUnmap(id, { address: 0xffffffffffffff00n, size: 0x1000n })),
    expect: e(EINVAL),
  },
  {
    name: 'DMA_UNMAP with an fd attached',
    send: (id, f) => one(encodeDmaUnmap(id, { address: 0x50000000n, size: 0x10000n }), [f.memfd()]),
    expect: e(EINVAL),
  },
  // ---- info queries ----
  {
    name: 'DEVICE_GET_INFO payload of 8 bytes',
    send: (id) => one(raw(id, Command.DEVICE_GET_INFO, new Uint8Array(8))),
    expect: e(EINVAL),
  },
  {
    name: 'DEVICE_GET_INFO argsz 8',
    send: (id) => one(encodeDeviceGetInfo(id, 8)),
    expect: e(EINVAL),
  },
  {
    name: 'DEVICE_GET_INFO argsz larger than needed',
    send: (id) => one(encodeDeviceGetInfo(id, 4096)),
    expect: { kind: 'ok' },
  },
  {
    name: 'DEVICE_GET_INFO with an fd attached',
    send: (id, f) => one(encodeDeviceGetInfo(id), [f.eventfd()]),
    expect: e(EINVAL),
  },
  {
    name: 'DEVICE_GET_INFO with 20 fds attached',
    send: (id, f) => one(encodeDeviceGetInfo(id), f.eventfds(20)),
    expect: e(EINVAL),
  },
  {
    name: 'GET_REGION_INFO index 9 (past the regions)',
    send: (id) => one(encodeGetRegionInfo(id, 9, 32)),
    expect: e(EINVAL),
  },
  {
    name: 'GET_REGION_INFO index 0xffffffff',
    send: (id) => one(encodeGetRegionInfo(id, 0xffffffff, 32)),
    expect: e(EINVAL),
  },
  {
    name: 'GET_REGION_INFO argsz 16',
    send: (id) => one(encodeGetRegionInfo(id, 0, 16)),
    expect: e(EINVAL),
  },
  {
    name: 'GET_REGION_INFO payload of 24 bytes',
    send: (id) =>
      one(raw(id, Command.DEVICE_GET_REGION_INFO, le([4, 32], [4, 0], [4, 0], [4, 0], [8, 0]))),
    expect: e(EINVAL),
  },
  {
    name: 'GET_REGION_INFO argsz larger than needed',
    send: (id) => one(encodeGetRegionInfo(id, BAR4, 1 << 20)),
    expect: { kind: 'ok' },
  },
  {
    name: 'GET_REGION_INFO with an fd attached',
    send: (id, f) => one(encodeGetRegionInfo(id, 0, 32), [f.memfd()]),
    expect: e(EINVAL),
  },
  {
    name: 'GET_REGION_IO_FDS flags non-zero',
    send: (id) =>
      one(raw(id, Command.DEVICE_GET_REGION_IO_FDS, le([4, 16], [4, 1], [4, 0], [4, 0]))),
    expect: e(EINVAL),
  },
  {
    name: 'GET_REGION_IO_FDS count non-zero',
    send: (id) =>
      one(raw(id, Command.DEVICE_GET_REGION_IO_FDS, le([4, 16], [4, 0], [4, 0], [4, 3]))),
    expect: e(EINVAL),
  },
  {
    name: 'GET_REGION_IO_FDS index 200',
    send: (id) =>
      one(raw(id, Command.DEVICE_GET_REGION_IO_FDS, le([4, 16], [4, 0], [4, 200], [4, 0]))),
    expect: e(EINVAL),
  },
  {
    name: 'GET_IRQ_INFO index 5 (past the IRQ types)',
    send: (id) => one(encodeGetIrqInfo(id, 5)),
    expect: e(EINVAL),
  },
  {
    name: 'GET_IRQ_INFO index 0xffffffff',
    send: (id) => one(encodeGetIrqInfo(id, 0xffffffff)),
    expect: e(EINVAL),
  },
  {
    name: 'GET_IRQ_INFO argsz 4',
    send: (id) => one(raw(id, Command.DEVICE_GET_IRQ_INFO, le([4, 4], [4, 0], [4, 0], [4, 0]))),
    expect: e(EINVAL),
  },
  // ---- SET_IRQS ----
  {
    name: 'SET_IRQS payload of 19 bytes',
    send: (id) => one(raw(id, Command.DEVICE_SET_IRQS, new Uint8Array(19))),
    expect: e(EINVAL),
  },
  {
    name: 'SET_IRQS argsz 12',
    send: (id) => one(setIrqs(id, NONE_TRIG, PciIrq.MSIX, 0, 0, 0, 12)),
    expect: e(EINVAL),
  },
  {
    name: 'SET_IRQS two data types (NONE|BOOL)',
    send: (id) => one(setIrqs(id, 3 | IrqSetFlags.ACTION_TRIGGER, PciIrq.INTX, 0, 1)),
    expect: e(EINVAL),
  },
  {
    name: 'SET_IRQS no data type',
    send: (id) => one(setIrqs(id, IrqSetFlags.ACTION_TRIGGER, PciIrq.INTX, 0, 1)),
    expect: e(EINVAL),
  },
  {
    name: 'SET_IRQS no action',
    send: (id) => one(setIrqs(id, IrqSetFlags.DATA_NONE, PciIrq.INTX, 0, 1)),
    expect: e(EINVAL),
  },
  {
    name: 'SET_IRQS two actions (MASK|TRIGGER)',
    send: (id) =>
      one(
        setIrqs(
          id,
          IrqSetFlags.DATA_NONE | IrqSetFlags.ACTION_MASK | IrqSetFlags.ACTION_TRIGGER,
          PciIrq.INTX,
          0,
          1,
        ),
      ),
    expect: e(EINVAL),
  },
  {
    name: 'SET_IRQS reserved flag bit 6',
    send: (id) => one(setIrqs(id, NONE_TRIG | 0x40, PciIrq.INTX, 0, 1)),
    expect: e(EINVAL),
  },
  {
    name: 'SET_IRQS index 5',
    send: (id) => one(setIrqs(id, NONE_TRIG, 5, 0, 1)),
    expect: e(EINVAL),
  },
  {
    name: 'SET_IRQS index 0xffffffff',
    send: (id) => one(setIrqs(id, NONE_TRIG, 0xffffffff, 0, 1)),
    expect: e(EINVAL),
  },
  {
    name: 'SET_IRQS start + count overflows u32',
    send: (id) => one(setIrqs(id, NONE_TRIG, PciIrq.MSIX, 0xffffffff, 2)),
    expect: e(EINVAL),
  },
  {
    name: 'SET_IRQS start + count beyond the vectors',
    send: (id) => one(setIrqs(id, NONE_TRIG, PciIrq.MSIX, 4000, 1)),
    expect: e(EINVAL),
  },
  {
    name: 'SET_IRQS count 0 with start 1',
    send: (id) => one(setIrqs(id, NONE_TRIG, PciIrq.MSIX, 1, 0)),
    expect: e(EINVAL),
  },
  {
    name: 'SET_IRQS count 0 with EVENTFD|TRIGGER',
    send: (id) => one(setIrqs(id, EVT_TRIG, PciIrq.MSIX, 0, 0)),
    expect: e(EINVAL),
  },
  {
    name: 'SET_IRQS DATA_BOOL with fewer data bytes than count',
    send: (id) =>
      one(setIrqs(id, IrqSetFlags.DATA_BOOL | IrqSetFlags.ACTION_TRIGGER, PciIrq.MSIX, 0, 4, 2)),
    expect: e(EINVAL),
  },
  {
    name: 'SET_IRQS DATA_NONE with data bytes',
    send: (id) => one(setIrqs(id, NONE_TRIG, PciIrq.INTX, 0, 1, 4)),
    expect: e(EINVAL),
  },
  {
    name: 'SET_IRQS EVENTFD with 2 fds for count 3',
    send: (id, f) => one(setIrqs(id, EVT_TRIG, PciIrq.MSIX, 0, 3), f.eventfds(2)),
    expect: e(EINVAL),
  },
  {
    name: 'SET_IRQS DATA_NONE with an fd attached',
    send: (id, f) => one(setIrqs(id, NONE_TRIG, PciIrq.INTX, 0, 1), [f.eventfd()]),
    expect: e(EINVAL),
  },
  {
    name: `SET_IRQS with ${MAX_MSG_FDS + 1} fds (more than max_msg_fds)`,
    send: (id, f) =>
      one(setIrqs(id, EVT_TRIG, PciIrq.MSIX, 0, MAX_MSG_FDS + 1), f.eventfds(MAX_MSG_FDS + 1)),
    expect: e(EINVAL),
  },
  {
    name: 'SET_IRQS EVENTFD|TRIGGER with a memfd instead of an eventfd',
    send: (id, f) => one(setIrqs(id, EVT_TRIG, PciIrq.INTX, 0, 1), [f.memfd()]),
    expect: e(EINVAL),
  },
  {
    name: 'SET_IRQS ERR with the MASK action',
    send: (id) =>
      one(setIrqs(id, IrqSetFlags.DATA_NONE | IrqSetFlags.ACTION_MASK, PciIrq.ERR, 0, 1)),
    expect: e(),
  },
  {
    name: 'SET_IRQS MSI-X unmask (not maskable)',
    send: (id) =>
      one(setIrqs(id, IrqSetFlags.DATA_NONE | IrqSetFlags.ACTION_UNMASK, PciIrq.MSIX, 0, 1)),
    expect: e(),
  },
  // ---- region access ----
  {
    name: 'REGION_READ region 9',
    send: (id) => one(encodeRegionRead(id, 9, 0, 4)),
    expect: e(EINVAL),
  },
  {
    name: 'REGION_READ region 0xffffffff',
    send: (id) => one(encodeRegionRead(id, 0xffffffff, 0, 4)),
    expect: e(EINVAL),
  },
  {
    name: 'REGION_READ offset + count overflows u64',
    send: (id) => one(encodeRegionRead(id, BAR4, 0xfffffffffffffffen, 4)),
    expect: e(EINVAL),
  },
  {
    name: 'REGION_READ offset beyond every region',
    send: (id) => one(encodeRegionRead(id, BAR4, FAR, 4)),
    expect: e(),
  },
  {
    name: 'REGION_READ config at 0x2000 (past 4 KiB)',
    send: (id) => one(encodeRegionRead(id, CFG, 0x2000, 4)),
    expect: e(),
  },
  {
    name: `REGION_READ count ${MAX_DATA_XFER + 1} (above max_data_xfer_size)`,
    send: (id) => one(encodeRegionRead(id, BAR4, 0, MAX_DATA_XFER + 1)),
    expect: e(EINVAL),
  },
  {
    name: 'REGION_READ payload of 20 bytes',
    send: (id) => one(raw(id, Command.REGION_READ, le([8, 0], [4, BAR4], [4, 4], [4, 0]))),
    expect: e(EINVAL),
  },
  {
    name: 'REGION_READ with an fd attached',
    send: (id, f) => one(encodeRegionRead(id, CFG, 0, 4), [f.eventfd()]),
    expect: e(EINVAL),
  },
  {
    name: 'REGION_WRITE count larger than its data',
    send: (id) => one(raw(id, Command.REGION_WRITE, le([8, 0], [4, BAR4], [4, 8], [4, 0]))),
    expect: e(EINVAL),
  },
  {
    name: 'REGION_WRITE count smaller than its data',
    send: (id) => one(raw(id, Command.REGION_WRITE, le([8, 0], [4, BAR4], [4, 2], [4, 0]))),
    expect: e(EINVAL),
  },
  {
    name: 'REGION_WRITE payload of 12 bytes',
    send: (id) => one(raw(id, Command.REGION_WRITE, le([8, 0], [4, BAR4]))),
    expect: e(EINVAL),
  },
  {
    name: 'REGION_WRITE region 9',
    send: (id) => one(encodeRegionWrite(id, 9, 0, new Uint8Array(4))),
    expect: e(EINVAL),
  },
  {
    name: 'REGION_WRITE beyond every region',
    send: (id) => one(encodeRegionWrite(id, BAR4, FAR, new Uint8Array(4))),
    expect: e(),
  },
  {
    name: `REGION_WRITE count ${MAX_DATA_XFER + 1} without its data`,
    send: (id) => one(raw(id, Command.REGION_WRITE, le([8, 0], [4, BAR4], [4, MAX_DATA_XFER + 1]))),
    expect: e(EINVAL),
  },
  {
    name: 'REGION_WRITE with an fd attached',
    send: (id, f) => one(encodeRegionWrite(id, BAR4, 0, new Uint8Array(4)), [f.memfd()]),
    expect: e(EINVAL),
  },
  {
    name: 'REGION_WRITE_MULTI wr_cnt larger than its entries',
    send: (id) =>
      one(raw(id, Command.REGION_WRITE_MULTI, le([8, 2], [8, 0], [4, BAR4], [4, 4], [8, 0]))),
    expect: e(EINVAL),
  },
  {
    name: 'REGION_WRITE_MULTI wr_cnt 2^64-1',
    send: (id) => one(raw(id, Command.REGION_WRITE_MULTI, le([8, 0xffffffffffffffffn]))),
    expect: e(EINVAL),
  },
  {
    name: 'REGION_WRITE_MULTI entry count 9 (above 8)',
    send: (id) =>
      one(raw(id, Command.REGION_WRITE_MULTI, le([8, 1], [8, 0], [4, BAR4], [4, 9], [8, 0]))),
    expect: e(EINVAL),
  },
  {
    name: 'REGION_WRITE_MULTI entry in region 12',
    send: (id) =>
      one(encodeRegionWriteMulti(id, [{ region: 12, offset: 0n, data: new Uint8Array(4) }], false)),
    expect: e(EINVAL),
  },
  // ---- control ----
  {
    name: 'DEVICE_RESET with a payload',
    send: (id) => one(raw(id, Command.DEVICE_RESET, new Uint8Array(4))),
    expect: e(EINVAL),
  },
  {
    name: 'DEVICE_RESET with an fd attached',
    send: (id, f) => one(raw(id, Command.DEVICE_RESET, new Uint8Array(0)), [f.eventfd()]),
    expect: e(EINVAL),
  },
  {
    name: 'DEVICE_FEATURE with reserved flag bits',
    send: (id) => one(raw(id, Command.DEVICE_FEATURE, le([4, 16], [4, 0x80000001], [8, 0]))),
    expect: e(EINVAL),
  },
  {
    name: 'DEVICE_FEATURE migration GET (unsupported)',
    send: (id) => one(raw(id, Command.DEVICE_FEATURE, le([4, 16], [4, 0x10001], [8, 0]))),
    expect: e(EINVAL),
  },
  {
    name: 'DEVICE_FEATURE payload of 4 bytes',
    send: (id) => one(raw(id, Command.DEVICE_FEATURE, le([4, 16]))),
    expect: e(EINVAL),
  },
  {
    name: 'MIG_DATA_READ without migration',
    send: (id) => one(raw(id, Command.MIG_DATA_READ, le([4, 72], [4, 64]))),
    expect: e(EINVAL),
  },
  {
    name: 'MIG_DATA_READ size above max_data_xfer_size',
    send: (id) => one(raw(id, Command.MIG_DATA_READ, le([4, 0xffffffff], [4, 0xfffffff0]))),
    expect: e(EINVAL),
  },
  {
    name: 'MIG_DATA_WRITE size/data mismatch',
    send: (id) => one(raw(id, Command.MIG_DATA_WRITE, le([4, 16], [4, 64], [8, 0]))),
    expect: e(EINVAL),
  },
];

/** Every case has a distinct name (so the count is honest). */
export function distinctCaseCount(): number {
  return new Set(CASES.map((c) => c.name)).size;
}
