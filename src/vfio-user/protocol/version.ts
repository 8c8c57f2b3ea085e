/**
 * VERSION (command 1): major u16 @0, minor u16 @2, then optional UTF-8 JSON, NUL-terminated
 * (the NUL counted in the message size). Request and reply share the layout.
 *
 * Rules: the capability parser validates every known key's JSON type and range and names
 * exactly what is wrong; unknown keys are kept by name (a peer may warn about them).
 */
import { Errno } from '../../uapi/errno.js';
import { Command, Sizes } from './constants.js';
import { badPayload, ProtocolError } from './errors.js';
import { allocMessage, type Frame, viewOf } from './header.js';
import { expectReply } from './reply.js';

export interface Capabilities {
  maxMsgFds?: number;
  maxDataXferSize?: number;
  maxDmaMaps?: number;
  pgsizes?: number;
  writeMultiple?: boolean;
  twinSocket?: { supported: boolean; fdIndex?: number };
  migration?: { pgsize?: number; maxBitmapSize?: number };
  /** Names of keys inside "capabilities" this parser does not know. */
  unknownKeys?: string[];
}

export interface VersionMessage {
  major: number;
  minor: number;
  /** The JSON text without its NUL, or null when the payload has none. */
  json: string | null;
}

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder('utf-8', { fatal: true });

export function encodeVersionPayload(
  major: number,
  minor: number,
  json: string | null,
): Uint8Array {
  const text = json === null ? new Uint8Array(0) : ENCODER.encode(json);
  const out = new Uint8Array(Sizes.VERSION_MIN + (json === null ? 0 : text.length + 1));
  const v = viewOf(out);
  v.setUint16(0, major, true);
  v.setUint16(2, minor, true);
  out.set(text, 4); // trailing NUL is already 0
  return out;
}

/** Decode a VERSION payload (either direction); checks the NUL terminator and UTF-8. */
export function decodeVersion(payload: Uint8Array): VersionMessage {
  if (payload.length < Sizes.VERSION_MIN) {
    badPayload(`VERSION payload is ${payload.length} bytes, below the minimum of 4`);
  }
  const v = viewOf(payload);
  const major = v.getUint16(0, true);
  const minor = v.getUint16(2, true);
  if (payload.length === Sizes.VERSION_MIN) return { major, minor, json: null };
  if (payload[payload.length - 1] !== 0) badPayload('VERSION JSON is not NUL-terminated');
  const body = payload.subarray(4, payload.length - 1);
  if (body.includes(0)) badPayload('VERSION JSON contains a NUL before its end');
  let json: string;
  try {
    json = DECODER.decode(body);
  } catch {
    badPayload('VERSION JSON is not valid UTF-8');
  }
  return { major, minor, json };
}

function capError(message: string): never {
  throw new ProtocolError('E_CAPABILITIES', message, Errno.EINVAL);
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function uint(
  obj: Record<string, unknown>,
  key: string,
  path: string,
  min: number,
  max: number,
): number | undefined {
  const x = obj[key];
  if (x === undefined) return undefined;
  if (typeof x !== 'number' || !Number.isSafeInteger(x))
    capError(`${path}${key} must be an integer, got ${JSON.stringify(x)}`);
  if (x < min || x > max) capError(`${path}${key} = ${x} is outside [${min}, ${max}]`);
  return x;
}

function bool(obj: Record<string, unknown>, key: string, path: string): boolean | undefined {
  const x = obj[key];
  if (x === undefined) return undefined;
  if (typeof x !== 'boolean') capError(`${path}${key} must be a boolean, got ${JSON.stringify(x)}`);
  return x;
}

const U32 = 0xffffffff;
const KNOWN = new Set([
  'max_msg_fds',
  'max_data_xfer_size',
  'max_dma_maps',
  'pgsizes',
  'write_multiple',
  'twin_socket',
  'migration',
]);

/** Limits the capability parser enforces (libvfio-user accepts max_msg_fds in [0, 1024]). */
export interface CapabilityLimits {
  maxMsgFds: number;
}

/** Parse and validate the VERSION JSON. Throws ProtocolError(E_CAPABILITIES) naming the fault. */
export function parseCapabilities(
  json: string | null,
  limits: CapabilityLimits = { maxMsgFds: 1024 },
): Capabilities {
  if (json === null) return {};
  let top: unknown;
  try {
    top = JSON.parse(json);
  } catch (e) {
    capError(`VERSION JSON does not parse: ${(e as Error).message}`);
  }
  if (!isObject(top)) capError('VERSION JSON is not an object');
  const c = top.capabilities;
  if (c === undefined) return {};
  if (!isObject(c)) capError('"capabilities" is not an object');
  const p = 'capabilities.';
  const caps: Capabilities = {};
  const maxMsgFds = uint(c, 'max_msg_fds', p, 0, limits.maxMsgFds);
  if (maxMsgFds !== undefined) caps.maxMsgFds = maxMsgFds;
  const xfer = uint(c, 'max_data_xfer_size', p, 1, U32);
  if (xfer !== undefined) caps.maxDataXferSize = xfer;
  const maps = uint(c, 'max_dma_maps', p, 0, U32);
  if (maps !== undefined) caps.maxDmaMaps = maps;
  const pgsizes = uint(c, 'pgsizes', p, 1, Number.MAX_SAFE_INTEGER);
  if (pgsizes !== undefined) {
    if (pgsizes % 4096 !== 0) capError(`capabilities.pgsizes = ${pgsizes} has bits below 4096 set`);
    caps.pgsizes = pgsizes;
  }
  const wm = bool(c, 'write_multiple', p);
  if (wm !== undefined) caps.writeMultiple = wm;
  if (c.twin_socket !== undefined) {
    const t = c.twin_socket;
    if (!isObject(t)) capError('capabilities.twin_socket is not an object');
    const tp = `${p}twin_socket.`;
    const twin: { supported: boolean; fdIndex?: number } = {
      supported: bool(t, 'supported', tp) ?? false,
    };
    const fdIndex = uint(t, 'fd_index', tp, 0, U32);
    if (fdIndex !== undefined) twin.fdIndex = fdIndex;
    caps.twinSocket = twin;
  }
  if (c.migration !== undefined) {
    const m = c.migration;
    if (!isObject(m)) capError('capabilities.migration is not an object');
    const mp = `${p}migration.`;
    const mig: { pgsize?: number; maxBitmapSize?: number } = {};
    const pg = uint(m, 'pgsize', mp, 1, Number.MAX_SAFE_INTEGER);
    if (pg !== undefined) {
      if (pg % 4096 !== 0)
        capError(`capabilities.migration.pgsize = ${pg} is not a multiple of 4096`);
      mig.pgsize = pg;
    }
    const bm = uint(m, 'max_bitmap_size', mp, 0, Number.MAX_SAFE_INTEGER);
    if (bm !== undefined) mig.maxBitmapSize = bm;
    caps.migration = mig;
  }
  const unknown = Object.keys(c).filter((k) => !KNOWN.has(k));
  if (unknown.length > 0) caps.unknownKeys = unknown;
  return caps;
}

/** Compact JSON for a capability set, keys in a fixed order, no whitespace. */
export function capabilitiesJson(caps: Capabilities): string {
  const c: Record<string, unknown> = {};
  if (caps.maxMsgFds !== undefined) c.max_msg_fds = caps.maxMsgFds;
  if (caps.maxDataXferSize !== undefined) c.max_data_xfer_size = caps.maxDataXferSize;
  if (caps.pgsizes !== undefined) c.pgsizes = caps.pgsizes;
  if (caps.maxDmaMaps !== undefined) c.max_dma_maps = caps.maxDmaMaps;
  if (caps.writeMultiple !== undefined) c.write_multiple = caps.writeMultiple;
  if (caps.twinSocket !== undefined) {
    const t: Record<string, unknown> = { supported: caps.twinSocket.supported };
    if (caps.twinSocket.fdIndex !== undefined) t.fd_index = caps.twinSocket.fdIndex;
    c.twin_socket = t;
  }
  if (caps.migration !== undefined) {
    const m: Record<string, unknown> = {};
    if (caps.migration.pgsize !== undefined) m.pgsize = caps.migration.pgsize;
    if (caps.migration.maxBitmapSize !== undefined)
      m.max_bitmap_size = caps.migration.maxBitmapSize;
    c.migration = m;
  }
  return JSON.stringify({ capabilities: c });
}

/** Client: the VERSION request (QEMU proposes 0.0). */
export function encodeVersion(
  msgId: number,
  major: number,
  minor: number,
  caps: Capabilities | null,
): Uint8Array {
  const payload = encodeVersionPayload(major, minor, caps === null ? null : capabilitiesJson(caps));
  const { bytes } = allocMessage(msgId, Command.VERSION, 0, payload.length);
  bytes.set(payload, 16);
  return bytes;
}

/** Server: the VERSION reply with raw JSON text (null = no JSON). */
export function encodeVersionReply(
  msgId: number,
  major: number,
  minor: number,
  json: string | null,
): Uint8Array {
  const payload = encodeVersionPayload(major, minor, json);
  const { bytes } = allocMessage(msgId, Command.VERSION, 1, payload.length);
  bytes.set(payload, 16);
  return bytes;
}

/** Client: decode the server's VERSION reply (throws RemoteError on an error reply). */
export function decodeVersionReply(frame: Frame): VersionMessage & { capabilities: Capabilities } {
  expectReply(frame, Command.VERSION);
  if (frame.fds.length > 0) badPayload('VERSION reply carries fds (twin socket not requested)');
  const msg = decodeVersion(frame.payload);
  return { ...msg, capabilities: parseCapabilities(msg.json) };
}
