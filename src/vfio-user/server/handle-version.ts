/**
 * VERSION negotiation, the server side.
 *
 * Rules (docs/protocol.md §2, §4.4): major must be 0; we answer minor = min(client minor, 0) — we
 * implement no 0.x extension (no twin socket, no migration), and QEMU rejects a minor above
 * its own 0. The reply never exceeds the request's size (QEMU receives it into its request
 * buffer), so the JSON is shrunk to the essential keys when the request is small; `pgsizes` is
 * never 0; no twin_socket; `write_multiple: true` because REGION_WRITE_MULTI is implemented.
 * Any fault in the client's VERSION is EINVAL and the connection is dropped afterwards.
 * "VERSION twice" is EINVAL but the session continues. negotiateVersion only computes the
 * result; the session applies it (its peer and state) — it is the one owner of that state.
 */
import { ProtocolError } from '../protocol/errors.js';
import type { Frame } from '../protocol/header.js';
import {
  MAX_DATA_XFER,
  PROTOCOL_MAJOR,
  PROTOCOL_MINOR,
  type ServerLimits,
} from '../protocol/limits.js';
import {
  type Capabilities,
  capabilitiesJson,
  decodeVersion,
  encodeVersionReply,
  parseCapabilities,
} from '../protocol/version.js';
import type { PeerCaps } from './context.js';

/** Spec default for a client that does not say (max_msg_fds 1, max_data_xfer_size 1 MiB). */
const CLIENT_DEFAULT_MAX_FDS = 1;

/**
 * The reply JSONs we could send, most complete first; the session uses the first that fits.
 * Keys are dropped least important first, and only when a client's default for the missing
 * key is no more permissive than our limit: write_multiple (false), max_dma_maps (65535),
 * max_data_xfer_size (1 MiB), pgsizes (4096), max_msg_fds (QEMU assumes 8, the spec 1).
 */
export function versionReplyCandidates(limits: ServerLimits): (string | null)[] {
  const caps: Capabilities = {
    maxMsgFds: limits.maxMsgFds,
    maxDataXferSize: limits.maxDataXfer,
    pgsizes: limits.pgsizes,
    maxDmaMaps: limits.maxDmaMaps,
    writeMultiple: true,
  };
  const droppable: [keyof Capabilities, boolean][] = [
    ['writeMultiple', true],
    ['maxDmaMaps', limits.maxDmaMaps >= 65535],
    ['maxDataXferSize', limits.maxDataXfer >= MAX_DATA_XFER],
    ['pgsizes', limits.pgsizes === 4096],
    ['maxMsgFds', limits.maxMsgFds >= 8],
  ];
  const out: (string | null)[] = [capabilitiesJson(caps)];
  for (const [key, ok] of droppable) {
    if (!ok) continue;
    delete caps[key];
    out.push(capabilitiesJson(caps));
  }
  return out;
}

/** What a valid VERSION settles: the client as we now know it, and our reply. */
export interface Negotiated {
  peer: PeerCaps;
  reply: Uint8Array;
  /** Capability keys the client sent that we do not know (ignored), if any. */
  unknownKeys: string[] | undefined;
}

/**
 * Negotiate with the client's (first) VERSION: the result, or a ProtocolError (EINVAL) for
 * any fault in it (a protocol-level rejection, not a device error) — after which the session drops the connection.
 */
export function negotiateVersion(frame: Frame, limits: ServerLimits): Negotiated {
  const msg = decodeVersion(frame.payload);
  if (msg.major !== PROTOCOL_MAJOR)
    throw new ProtocolError(
      'E_VERSION',
      `unsupported protocol major ${msg.major} (we speak ${PROTOCOL_MAJOR})`,
    );
  const caps = parseCapabilities(msg.json);
  const minor = Math.min(msg.minor, PROTOCOL_MINOR);
  const peer: PeerCaps = {
    major: PROTOCOL_MAJOR,
    minor,
    maxMsgFds: caps.maxMsgFds ?? CLIENT_DEFAULT_MAX_FDS,
    maxDataXferSize: caps.maxDataXferSize ?? MAX_DATA_XFER,
    raw: caps,
  };
  return { peer, reply: versionReply(frame, limits, minor), unknownKeys: caps.unknownKeys };
}

/** The most complete reply that is no larger than the request. */
function versionReply(frame: Frame, limits: ServerLimits, minor: number): Uint8Array {
  const { msgId, size: limit } = frame.header;
  for (const json of versionReplyCandidates(limits)) {
    const bytes = encodeVersionReply(msgId, PROTOCOL_MAJOR, minor, json);
    if (bytes.length <= limit) return bytes;
  }
  // Nothing fits (only a client whose own JSON is shorter than ours): the bare 20-byte reply,
  // never larger than the request, which had at least 4 payload bytes.
  return encodeVersionReply(msgId, PROTOCOL_MAJOR, minor, null);
}
