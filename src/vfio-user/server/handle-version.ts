/**
 * VERSION negotiation, the server side.
 *
 * Rules (docs/protocol.md §2, §4.4): major must be 0; we answer minor = min(client minor, 0) — we
 * implement no 0.x extension (no twin socket, no migration), and QEMU rejects a minor above
 * its own 0. The reply never exceeds the request's size (QEMU receives it into its request
 * buffer), so the JSON is shrunk to the essential keys when the request is small; `pgsizes` is
 * never 0; no twin_socket; `write_multiple: true` because REGION_WRITE_MULTI is implemented.
 * Any fault in the client's VERSION is EINVAL and the connection is dropped afterwards.
 * "VERSION twice" is EINVAL but the session continues.
 */
import { fail } from '../../vfio/errors.js';
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
import { type Handler, reply } from './context.js';

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

export const handleVersion: Handler = (ctx, frame) => {
  if (ctx.peer) fail('EINVAL', 'VERSION sent twice');
  const { msgId } = frame.header;
  let caps: Capabilities;
  let minor: number;
  try {
    const msg = decodeVersion(frame.payload);
    if (msg.major !== PROTOCOL_MAJOR)
      fail('EINVAL', `unsupported protocol major ${msg.major} (we speak ${PROTOCOL_MAJOR})`);
    caps = parseCapabilities(msg.json);
    minor = Math.min(msg.minor, PROTOCOL_MINOR);
  } catch (e) {
    ctx.requestClose(`bad VERSION: ${(e as Error).message}`);
    throw e;
  }
  if (caps.unknownKeys)
    ctx.log('debug', `VERSION: ignoring unknown capabilities ${caps.unknownKeys.join(', ')}`);
  ctx.peer = {
    major: PROTOCOL_MAJOR,
    minor,
    maxMsgFds: caps.maxMsgFds ?? CLIENT_DEFAULT_MAX_FDS,
    maxDataXferSize: caps.maxDataXferSize ?? MAX_DATA_XFER,
    raw: caps,
  };
  const limit = frame.header.size;
  for (const json of versionReplyCandidates(ctx.limits)) {
    const bytes = encodeVersionReply(msgId, PROTOCOL_MAJOR, minor, json);
    if (bytes.length <= limit) return reply(bytes);
  }
  // Nothing fits (only a client whose own JSON is shorter than ours): the bare 20-byte reply,
  // never larger than the request, which had at least 4 payload bytes.
  return reply(encodeVersionReply(msgId, PROTOCOL_MAJOR, minor, null));
};
