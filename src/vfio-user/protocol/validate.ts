/**
 * One validation predicate per client→server command (modelled on libvfio-user): each looks
 * at the raw frame and returns null, or the errno and a message naming the exact failure
 * (payload below minimum, argsz below minimum, count vs data length, u64 overflow, unknown
 * flag bits, fds where none belong / missing / too many). Semantic checks that need the
 * device (region index in range, IRQ counts) are left to the server.
 */
import { Errno } from '../../uapi/errno.js';
import { DeviceFeatureFlags, DmaMapFlags, DmaUnmapFlags, IrqSetFlags } from '../../uapi/vfio.js';
import { Command, Sizes } from './constants.js';
import type { Frame } from './header.js';
import { viewOf } from './header.js';
import { getU32 } from './le.js';

export interface Invalid {
  errno: number;
  message: string;
}

export interface ValidationLimits {
  maxDataXfer: number;
  maxMsgFds: number;
}

export type Validator = (frame: Frame, limits: ValidationLimits) => Invalid | null;

const U64_MAX = (1n << 64n) - 1n;

function invalid(message: string, errno: number = Errno.EINVAL): Invalid {
  return { errno, message };
}

function minPayload(f: Frame, min: number, what: string): Invalid | null {
  return f.payload.length < min
    ? invalid(`${what} payload is ${f.payload.length} bytes, below the minimum of ${min}`)
    : null;
}

function exactPayload(f: Frame, n: number, what: string): Invalid | null {
  return f.payload.length !== n
    ? invalid(`${what} payload is ${f.payload.length} bytes, expected exactly ${n}`)
    : null;
}

function noFds(f: Frame, what: string): Invalid | null {
  return f.fds.length > 0 ? invalid(`${what} carries ${f.fds.length} fds where none belong`) : null;
}

function argszAtLeast(argsz: number, min: number, what: string): Invalid | null {
  return argsz < min ? invalid(`${what} argsz ${argsz} is below the minimum of ${min}`) : null;
}

function u32(f: Frame, at: number): number {
  return getU32(f.payload, at);
}
function u64(f: Frame, at: number): bigint {
  return viewOf(f.payload).getBigUint64(at, true);
}

function overflows(a: bigint, b: bigint): boolean {
  return a + b > U64_MAX + 1n;
}

const version: Validator = (f) =>
  minPayload(f, Sizes.VERSION_MIN, 'VERSION') ?? noFds(f, 'VERSION');

const dmaMap: Validator = (f) => {
  const w = 'DMA_MAP';
  const e = minPayload(f, Sizes.DMA_MAP, w) ?? argszAtLeast(u32(f, 0), Sizes.DMA_MAP, w);
  if (e) return e;
  const flags = u32(f, 4);
  const unknown = flags & ~(DmaMapFlags.READ | DmaMapFlags.WRITE);
  if (unknown) return invalid(`DMA_MAP has unknown flag bits 0x${unknown.toString(16)}`);
  if (f.fds.length > 1) return invalid(`DMA_MAP carries ${f.fds.length} fds, at most 1 allowed`);
  const offset = u64(f, 8);
  const address = u64(f, 16);
  const size = u64(f, 24);
  if (size === 0n) return invalid('DMA_MAP size is 0');
  if (overflows(address, size))
    return invalid(
      `DMA_MAP address 0x${address.toString(16)} + size 0x${size.toString(16)} overflows u64`,
    );
  if (f.fds.length === 1 && overflows(offset, size))
    return invalid('DMA_MAP offset + size overflows u64');
  if (f.fds.length === 0 && offset !== 0n)
    return invalid('DMA_MAP without fd has a non-zero offset');
  return null;
};

const dmaUnmap: Validator = (f) => {
  const w = 'DMA_UNMAP';
  const e = minPayload(f, Sizes.DMA_UNMAP, w) ?? noFds(f, w);
  if (e) return e;
  const argsz = u32(f, 0);
  const flags = u32(f, 4);
  const unknown = flags & ~(DmaUnmapFlags.ALL | DmaUnmapFlags.GET_DIRTY_BITMAP);
  if (unknown) return invalid(`DMA_UNMAP has unknown flag bits 0x${unknown.toString(16)}`);
  if (flags & DmaUnmapFlags.ALL && flags & DmaUnmapFlags.GET_DIRTY_BITMAP) {
    return invalid('DMA_UNMAP combines ALL with GET_DIRTY_BITMAP');
  }
  const address = u64(f, 8);
  const size = u64(f, 16);
  if (flags & DmaUnmapFlags.ALL) {
    if (address !== 0n || size !== 0n)
      return invalid('DMA_UNMAP with ALL must have address 0 and size 0');
  } else if (overflows(address, size)) {
    return invalid('DMA_UNMAP address + size overflows u64');
  }
  let need: number = Sizes.DMA_UNMAP;
  if (flags & DmaUnmapFlags.GET_DIRTY_BITMAP) {
    const b = minPayload(
      f,
      Sizes.DMA_UNMAP + Sizes.DMA_UNMAP_BITMAP,
      'DMA_UNMAP with GET_DIRTY_BITMAP',
    );
    if (b) return b;
    need += Sizes.DMA_UNMAP_BITMAP;
  }
  // argsz is the largest reply payload accepted; 0 means "header-only reply is fine" to us too.
  if (argsz !== 0 && argsz < need)
    return invalid(`DMA_UNMAP argsz ${argsz} is below the minimum of ${need}`);
  return null;
};

function quad(what: string, min: number): Validator {
  return (f) => minPayload(f, min, what) ?? argszAtLeast(u32(f, 0), min, what) ?? noFds(f, what);
}

const regionIoFds: Validator = (f) => {
  const w = 'DEVICE_GET_REGION_IO_FDS';
  const e = quad(w, Sizes.REGION_IO_FDS)(f, { maxDataXfer: 0, maxMsgFds: 0 });
  if (e) return e;
  if (u32(f, 4) !== 0) return invalid(`${w} flags 0x${u32(f, 4).toString(16)} must be 0`);
  if (u32(f, 12) !== 0) return invalid(`${w} count ${u32(f, 12)} must be 0 in a request`);
  return null;
};

const setIrqs: Validator = (f, limits) => {
  const w = 'DEVICE_SET_IRQS';
  const e = minPayload(f, Sizes.SET_IRQS, w) ?? argszAtLeast(u32(f, 0), Sizes.SET_IRQS, w);
  if (e) return e;
  const flags = u32(f, 4);
  const start = u32(f, 12);
  const count = u32(f, 16);
  const unknown = flags & ~(IrqSetFlags.DATA_TYPE_MASK | IrqSetFlags.ACTION_TYPE_MASK);
  if (unknown) return invalid(`${w} has unknown flag bits 0x${unknown.toString(16)}`);
  const data = flags & IrqSetFlags.DATA_TYPE_MASK;
  const action = flags & IrqSetFlags.ACTION_TYPE_MASK;
  if (popcount(data) !== 1)
    return invalid(`${w} flags 0x${flags.toString(16)} must name exactly one data type`);
  if (popcount(action) !== 1)
    return invalid(`${w} flags 0x${flags.toString(16)} must name exactly one action`);
  if (start + count > 0xffffffff)
    return invalid(`${w} start ${start} + count ${count} overflows u32`);
  if (count === 0 && start !== 0) return invalid(`${w} count 0 with start ${start} (must be 0)`);
  if (count === 0 && !(data === IrqSetFlags.DATA_NONE && action === IrqSetFlags.ACTION_TRIGGER)) {
    return invalid(`${w} count 0 is only valid with DATA_NONE|ACTION_TRIGGER`);
  }
  const extra = f.payload.length - Sizes.SET_IRQS;
  if (data === IrqSetFlags.DATA_BOOL) {
    if (extra !== count)
      return invalid(`${w} DATA_BOOL with count ${count} but ${extra} data bytes`);
  } else if (extra !== 0) {
    return invalid(`${w} carries ${extra} data bytes where its data type has none`);
  }
  if (data === IrqSetFlags.DATA_EVENTFD) {
    if (f.fds.length > limits.maxMsgFds)
      return invalid(`${w} carries ${f.fds.length} fds, more than ${limits.maxMsgFds}`);
    if (f.fds.length !== 0 && f.fds.length !== count) {
      return invalid(`${w} carries ${f.fds.length} fds for count ${count} (need 0 or ${count})`);
    }
  } else if (f.fds.length > 0) {
    return invalid(`${w} carries ${f.fds.length} fds but its data type is not EVENTFD`);
  }
  return null;
};

function access(f: Frame, limits: ValidationLimits, w: string, isWrite: boolean): Invalid | null {
  const e =
    (isWrite ? minPayload(f, Sizes.REGION_ACCESS, w) : exactPayload(f, Sizes.REGION_ACCESS, w)) ??
    noFds(f, w);
  if (e) return e;
  const count = getU32(f.payload, 12);
  if (count > limits.maxDataXfer)
    return invalid(`${w} count ${count} exceeds max_data_xfer_size ${limits.maxDataXfer}`);
  // offset + count (< 2^32) can only pass 2^64 when the offset's high word is all ones:
  // skip the BigInt arithmetic on every other (i.e. every real) access.
  if (getU32(f.payload, 4) === 0xffffffff) {
    const offset = u64(f, 0);
    if (overflows(offset, BigInt(count)))
      return invalid(`${w} offset 0x${offset.toString(16)} + count ${count} overflows u64`);
  }
  if (isWrite && f.payload.length - Sizes.REGION_ACCESS !== count) {
    return invalid(`${w} count ${count} but ${f.payload.length - Sizes.REGION_ACCESS} data bytes`);
  }
  return null;
}

const writeMulti: Validator = (f) => {
  const w = 'REGION_WRITE_MULTI';
  const e = minPayload(f, Sizes.WRITE_MULTI_HEADER, w) ?? noFds(f, w);
  if (e) return e;
  const n = u64(f, 0);
  const bytes = f.payload.length - Sizes.WRITE_MULTI_HEADER;
  if (BigInt(bytes) !== n * BigInt(Sizes.WRITE_MULTI_ENTRY)) {
    return invalid(`${w} wr_cnt ${n} does not match its ${bytes} entry bytes (24 per entry)`);
  }
  for (let i = 0; i < Number(n); i++) {
    const o = Sizes.WRITE_MULTI_HEADER + i * Sizes.WRITE_MULTI_ENTRY;
    const count = u32(f, o + 12);
    if (count > Sizes.WRITE_MULTI_DATA) return invalid(`${w} entry ${i} count ${count} exceeds 8`);
    if (overflows(u64(f, o), BigInt(count)))
      return invalid(`${w} entry ${i} offset + count overflows u64`);
  }
  return null;
};

const deviceFeature: Validator = (f) => {
  const w = 'DEVICE_FEATURE';
  const e = minPayload(f, Sizes.DEVICE_FEATURE, w) ?? noFds(f, w);
  if (e) return e;
  const flags = u32(f, 4);
  const known =
    DeviceFeatureFlags.MASK |
    DeviceFeatureFlags.GET |
    DeviceFeatureFlags.SET |
    DeviceFeatureFlags.PROBE;
  if (flags & ~known)
    return invalid(`${w} has unknown flag bits 0x${(flags & ~known).toString(16)}`);
  return null;
};

const migDataRead: Validator = (f, limits) => {
  const w = 'MIG_DATA_READ';
  const e = exactPayload(f, Sizes.MIG_DATA, w) ?? noFds(f, w);
  if (e) return e;
  const size = u32(f, 4);
  if (size > limits.maxDataXfer)
    return invalid(`${w} size ${size} exceeds max_data_xfer_size ${limits.maxDataXfer}`);
  return argszAtLeast(u32(f, 0), Sizes.MIG_DATA + size, w);
};

const migDataWrite: Validator = (f, limits) => {
  const w = 'MIG_DATA_WRITE';
  const e = minPayload(f, Sizes.MIG_DATA, w) ?? noFds(f, w);
  if (e) return e;
  const size = u32(f, 4);
  if (size > limits.maxDataXfer)
    return invalid(`${w} size ${size} exceeds max_data_xfer_size ${limits.maxDataXfer}`);
  if (f.payload.length - Sizes.MIG_DATA !== size)
    return invalid(`${w} size ${size} but ${f.payload.length - 8} data bytes`);
  return null;
};

const serverToClient =
  (name: string): Validator =>
  () =>
    invalid(`${name} is a server-to-client command; a client may not send it`);

/** Validators for commands a client may send, by command number. */
export const REQUEST_VALIDATORS: ReadonlyMap<number, Validator> = new Map<number, Validator>([
  [Command.VERSION, version],
  [Command.DMA_MAP, dmaMap],
  [Command.DMA_UNMAP, dmaUnmap],
  [Command.DEVICE_GET_INFO, quad('DEVICE_GET_INFO', Sizes.DEVICE_INFO)],
  [Command.DEVICE_GET_REGION_INFO, quad('DEVICE_GET_REGION_INFO', Sizes.REGION_INFO)],
  [Command.DEVICE_GET_REGION_IO_FDS, regionIoFds],
  [Command.DEVICE_GET_IRQ_INFO, quad('DEVICE_GET_IRQ_INFO', Sizes.IRQ_INFO)],
  [Command.DEVICE_SET_IRQS, setIrqs],
  [Command.REGION_READ, (f, l) => access(f, l, 'REGION_READ', false)],
  [Command.REGION_WRITE, (f, l) => access(f, l, 'REGION_WRITE', true)],
  [Command.DMA_READ, serverToClient('DMA_READ')],
  [Command.DMA_WRITE, serverToClient('DMA_WRITE')],
  [Command.DEVICE_RESET, (f) => exactPayload(f, 0, 'DEVICE_RESET') ?? noFds(f, 'DEVICE_RESET')],
  [Command.REGION_WRITE_MULTI, writeMulti],
  [Command.DEVICE_FEATURE, deviceFeature],
  [Command.MIG_DATA_READ, migDataRead],
  [Command.MIG_DATA_WRITE, migDataWrite],
]);

/** Validate a client→server command; unknown command numbers are EINVAL (as libvfio-user). */
export function validateRequest(frame: Frame, limits: ValidationLimits): Invalid | null {
  const v = REQUEST_VALIDATORS.get(frame.header.command);
  if (!v) return invalid(`unknown command ${frame.header.command}`);
  return v(frame, limits);
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x; v; v &= v - 1) n++;
  return n;
}
