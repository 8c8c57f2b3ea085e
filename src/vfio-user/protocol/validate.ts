/**
 * Each client→server command decoded once and validated on what was decoded (modelled on
 * libvfio-user's per-command checks): a RequestSpec's decode() turns the payload into the
 * command's fields — a structurally short or inconsistent payload is a ProtocolError (EINVAL)
 * — and its validate() checks those fields, the payload's size and the fds' count, returning
 * null or the errno and a message naming the exact failure (argsz below minimum, count vs
 * data length, u64 overflow, unknown flag bits, fds where none belong / missing / too many).
 * The server hands the same decoded fields to the command's handler, so nothing reads the
 * wire bytes twice. Semantic checks that need the device (region index in range, IRQ counts)
 * are left to the server.
 *
 * Rules: validate() never reads payload bytes, only the decoded fields and the frame's sizes.
 * VERSION is decoded by the negotiation itself (its only reader); its spec checks the size
 * and fds only.
 */
import { Errno } from '../../uapi/errno.js';
import { DeviceFeatureFlags, DmaMapFlags, DmaUnmapFlags, IrqSetFlags } from '../../uapi/vfio.js';
import { Command, Sizes } from './constants.js';
import { decodeDeviceFeature, decodeMigDataRead, decodeMigDataWriteRequest } from './control.js';
import { type DmaMapRequest, type DmaUnmapRequest, decodeDmaMap, decodeDmaUnmap } from './dma.js';
import { ProtocolError } from './errors.js';
import type { Frame } from './header.js';
import {
  decodeDeviceGetInfo,
  decodeGetIrqInfo,
  decodeGetRegionInfo,
  decodeGetRegionIoFds,
} from './info.js';
import { decodeSetIrqs, type SetIrqsWire } from './irqs.js';
import {
  decodeRegionAccess,
  decodeRegionWriteMulti,
  type RegionAccess,
  type WriteMultiEntry,
} from './region-io.js';

export interface Invalid {
  errno: number;
  message: string;
}

export interface ValidationLimits {
  maxDataXfer: number;
  maxMsgFds: number;
}

/** How one command is decoded and validated. */
export interface RequestSpec<T> {
  /** The command's fields, decoded once; a ProtocolError (EINVAL) for a malformed payload. */
  decode(payload: Uint8Array): T;
  /** Checks on the decoded fields, the payload size and the fd count; never reads bytes. */
  validate(req: T, frame: Frame, limits: ValidationLimits): Invalid | null;
}

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

function overflows(a: bigint, b: bigint): boolean {
  return a + b > U64_MAX + 1n;
}

function spec<T>(
  decode: (payload: Uint8Array) => T,
  validate: (req: T, frame: Frame, limits: ValidationLimits) => Invalid | null,
): RequestSpec<T> {
  return { decode, validate };
}

const noPayload = (): null => null;

const version = spec(
  (payload) => payload,
  (_p, f) => minPayload(f, Sizes.VERSION_MIN, 'VERSION') ?? noFds(f, 'VERSION'),
);

const dmaMap = spec<DmaMapRequest>(decodeDmaMap, (req, f) => {
  const w = 'DMA_MAP';
  const e = argszAtLeast(req.argsz, Sizes.DMA_MAP, w);
  if (e) return e;
  const unknown = req.flags & ~(DmaMapFlags.READ | DmaMapFlags.WRITE);
  if (unknown) return invalid(`DMA_MAP has unknown flag bits 0x${unknown.toString(16)}`);
  if (f.fds.length > 1) return invalid(`DMA_MAP carries ${f.fds.length} fds, at most 1 allowed`);
  const { offset, address, size } = req;
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
});

const dmaUnmap = spec<DmaUnmapRequest>(decodeDmaUnmap, (req, f) => {
  const w = 'DMA_UNMAP';
  const e = noFds(f, w);
  if (e) return e;
  const { argsz, flags, address, size } = req;
  const unknown = flags & ~(DmaUnmapFlags.ALL | DmaUnmapFlags.GET_DIRTY_BITMAP);
  if (unknown) return invalid(`DMA_UNMAP has unknown flag bits 0x${unknown.toString(16)}`);
  if (flags & DmaUnmapFlags.ALL && flags & DmaUnmapFlags.GET_DIRTY_BITMAP) {
    return invalid('DMA_UNMAP combines ALL with GET_DIRTY_BITMAP');
  }
  if (flags & DmaUnmapFlags.ALL) {
    if (address !== 0n || size !== 0n)
      return invalid('DMA_UNMAP with ALL must have address 0 and size 0');
  } else if (overflows(address, size)) {
    return invalid('DMA_UNMAP address + size overflows u64');
  }
  // decode() has checked the bitmap struct is there when GET_DIRTY_BITMAP asks for it.
  const need: number = Sizes.DMA_UNMAP + (req.bitmap ? Sizes.DMA_UNMAP_BITMAP : 0);
  // argsz is the largest reply payload accepted; 0 means "header-only reply is fine" to us too.
  if (argsz !== 0 && argsz < need)
    return invalid(`DMA_UNMAP argsz ${argsz} is below the minimum of ${need}`);
  return null;
});

/** The four-u32 queries: argsz covers the struct, no fds. */
function quad<T extends { argsz: number }>(
  what: string,
  min: number,
  decode: (payload: Uint8Array) => T,
): RequestSpec<T> {
  return spec(decode, (req, f) => argszAtLeast(req.argsz, min, what) ?? noFds(f, what));
}

const regionIoFds = spec(decodeGetRegionIoFds, (req, f) => {
  const w = 'DEVICE_GET_REGION_IO_FDS';
  const e = argszAtLeast(req.argsz, Sizes.REGION_IO_FDS, w) ?? noFds(f, w);
  if (e) return e;
  if (req.flags !== 0) return invalid(`${w} flags 0x${req.flags.toString(16)} must be 0`);
  if (req.count !== 0) return invalid(`${w} count ${req.count} must be 0 in a request`);
  return null;
});

const setIrqs = spec<SetIrqsWire>(decodeSetIrqs, (req, f, limits) => {
  const w = 'DEVICE_SET_IRQS';
  const e = argszAtLeast(req.argsz, Sizes.SET_IRQS, w);
  if (e) return e;
  const { flags, start, count } = req;
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
  const extra = req.data.length;
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
});

function access(w: string, isWrite: boolean): RequestSpec<RegionAccess> {
  return spec(
    (payload) => decodeRegionAccess(payload, w),
    (req, f, limits) => {
      const e = (isWrite ? null : exactPayload(f, Sizes.REGION_ACCESS, w)) ?? noFds(f, w);
      if (e) return e;
      const { count } = req;
      if (count > limits.maxDataXfer)
        return invalid(`${w} count ${count} exceeds max_data_xfer_size ${limits.maxDataXfer}`);
      // offset + count (< 2^32) can only pass 2^64 for an offset above 2^53 (hugeOffset):
      // no BigInt arithmetic on any real access.
      if (req.hugeOffset !== undefined && overflows(req.hugeOffset, BigInt(count)))
        return invalid(
          `${w} offset 0x${req.hugeOffset.toString(16)} + count ${count} overflows u64`,
        );
      if (isWrite && req.data.length !== count) {
        return invalid(`${w} count ${count} but ${req.data.length} data bytes`);
      }
      return null;
    },
  );
}

const writeMulti = spec<WriteMultiEntry[]>(decodeRegionWriteMulti, (entries, f) => {
  const w = 'REGION_WRITE_MULTI';
  const e = noFds(f, w);
  if (e) return e;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    if (overflows(entry.offset, BigInt(entry.data.length)))
      return invalid(`${w} entry ${i} offset + count overflows u64`);
  }
  return null;
});

const deviceReset = spec(
  noPayload,
  (_r, f) => exactPayload(f, 0, 'DEVICE_RESET') ?? noFds(f, 'DEVICE_RESET'),
);

const deviceFeature = spec(decodeDeviceFeature, (req, f) => {
  const w = 'DEVICE_FEATURE';
  const e = noFds(f, w);
  if (e) return e;
  const known =
    DeviceFeatureFlags.MASK |
    DeviceFeatureFlags.GET |
    DeviceFeatureFlags.SET |
    DeviceFeatureFlags.PROBE;
  if (req.flags & ~known)
    return invalid(`${w} has unknown flag bits 0x${(req.flags & ~known).toString(16)}`);
  return null;
});

const migDataRead = spec(decodeMigDataRead, (req, f, limits) => {
  const w = 'MIG_DATA_READ';
  const e = exactPayload(f, Sizes.MIG_DATA, w) ?? noFds(f, w);
  if (e) return e;
  if (req.size > limits.maxDataXfer)
    return invalid(`${w} size ${req.size} exceeds max_data_xfer_size ${limits.maxDataXfer}`);
  return argszAtLeast(req.argsz, Sizes.MIG_DATA + req.size, w);
});

const migDataWrite = spec(decodeMigDataWriteRequest, (req, f, limits) => {
  const w = 'MIG_DATA_WRITE';
  const e = noFds(f, w);
  if (e) return e;
  if (req.size > limits.maxDataXfer)
    return invalid(`${w} size ${req.size} exceeds max_data_xfer_size ${limits.maxDataXfer}`);
  if (req.data.length !== req.size)
    return invalid(`${w} size ${req.size} but ${req.data.length} data bytes`);
  return null;
});

const serverToClient = (name: string): RequestSpec<null> =>
  spec(noPayload, () => invalid(`${name} is a server-to-client command; a client may not send it`));

/** The spec of each command a client may send, by name (typed for the server's dispatch). */
export const Requests = {
  VERSION: version,
  DMA_MAP: dmaMap,
  DMA_UNMAP: dmaUnmap,
  DEVICE_GET_INFO: quad('DEVICE_GET_INFO', Sizes.DEVICE_INFO, decodeDeviceGetInfo),
  DEVICE_GET_REGION_INFO: quad('DEVICE_GET_REGION_INFO', Sizes.REGION_INFO, decodeGetRegionInfo),
  DEVICE_GET_REGION_IO_FDS: regionIoFds,
  DEVICE_GET_IRQ_INFO: quad('DEVICE_GET_IRQ_INFO', Sizes.IRQ_INFO, decodeGetIrqInfo),
  DEVICE_SET_IRQS: setIrqs,
  REGION_READ: access('REGION_READ', false),
  REGION_WRITE: access('REGION_WRITE', true),
  DMA_READ: serverToClient('DMA_READ'),
  DMA_WRITE: serverToClient('DMA_WRITE'),
  DEVICE_RESET: deviceReset,
  REGION_WRITE_MULTI: writeMulti,
  DEVICE_FEATURE: deviceFeature,
  MIG_DATA_READ: migDataRead,
  MIG_DATA_WRITE: migDataWrite,
} as const;

/** The same specs by command number. */
export const REQUEST_SPECS: ReadonlyMap<number, RequestSpec<unknown>> = new Map(
  Object.entries(Requests).map(([name, s]) => [
    Command[name as keyof typeof Requests],
    s as RequestSpec<unknown>,
  ]),
);

/** A decoded, valid request, or why it is not one. */
export type Checked = { ok: true; req: unknown } | ({ ok: false } & Invalid);

/** Decode and validate a client→server command; unknown command numbers are EINVAL (as libvfio-user). */
export function checkRequest(frame: Frame, limits: ValidationLimits): Checked {
  const s = REQUEST_SPECS.get(frame.header.command);
  if (!s) return { ok: false, ...invalid(`unknown command ${frame.header.command}`) };
  let req: unknown;
  try {
    req = s.decode(frame.payload);
  } catch (e) {
    if (e instanceof ProtocolError) return { ok: false, errno: e.errno, message: e.message };
    throw e;
  }
  const bad = s.validate(req, frame, limits);
  return bad ? { ok: false, ...bad } : { ok: true, req };
}

/** checkRequest's verdict alone: null when valid. */
export function validateRequest(frame: Frame, limits: ValidationLimits): Invalid | null {
  const c = checkRequest(frame, limits);
  return c.ok ? null : { errno: c.errno, message: c.message };
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x; v; v &= v - 1) n++;
  return n;
}
