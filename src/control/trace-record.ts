/**
 * Access-trace records: what one vfio-user message and each region access in it look like in
 * the trace (one JSON object per line), and the filter a trace_start may give.
 *
 * Rules: a record is built only while tracing is on (the endpoint's `tracer` is null
 * otherwise). Times are ms since the epoch with µs precision. `value` (little-endian, hex) is
 * given for accesses of at most 8 bytes that succeeded (read: the data returned; write: the
 * data sent). Mapped accesses never reach the server and so are never traced.
 */
import { Command, commandName, HeaderFlags } from '../vfio-user/protocol/constants.js';
import type { ReadEvent } from '../vfio-user/protocol/frame-reader.js';
import { decodeHeader, type Frame } from '../vfio-user/protocol/header.js';
import { ACCESS_HEAD, decodeRegionWriteMulti } from '../vfio-user/protocol/region-io.js';
import type { MessageTracer } from '../vfio-user/server/endpoint.js';
import type { Reply } from '../vfio-user/server/host.js';

export interface MessageRecord {
  t: number;
  type: 'msg';
  gpu: number;
  cmd: string;
  id: number;
  size: number;
  errno: number;
  /** Set when the reply waited (a readiness gate): ms from receipt to reply. */
  durMs?: number;
  noReply?: boolean;
  framing?: string;
}

export interface AccessRecord {
  t: number;
  type: 'access';
  gpu: number;
  cmd: string;
  id: number;
  region: number;
  offset: number;
  size: number;
  value?: string;
  errno: number;
}

export interface EventRecord {
  t: number;
  type: 'event';
  gpu: number;
  event: string;
  [k: string]: unknown;
}

export type TraceRecord = MessageRecord | AccessRecord | EventRecord;

/** trace_start's filter: only these commands and/or regions (events always pass). */
export interface TraceFilter {
  commands?: string[];
  regions?: number[];
}

const REGION_HEAD = 16; // struct vfio_user_region_access: offset u64, region u32, count u32

function hexValue(b: Uint8Array): string {
  let s = '';
  for (let i = b.length - 1; i >= 0; i--) s += b[i]!.toString(16).padStart(2, '0');
  return `0x${s}`;
}

function replyErrno(reply: Reply | null): number {
  if (!reply || reply.bytes.length < 16) return 0;
  const h = decodeHeader(reply.bytes);
  return h.flags & HeaderFlags.ERROR ? h.error : 0;
}

function u64(b: Uint8Array, at: number): number {
  return Number(new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(at, true));
}

function u32(b: Uint8Array, at: number): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at, true);
}

/** Builds records for one GPU's endpoint and hands them to `sink`. */
export class TraceRecorder implements MessageTracer {
  constructor(
    readonly gpu: number,
    private readonly sink: (r: TraceRecord) => void,
    private readonly filter: TraceFilter | null,
  ) {}

  private passes(cmd: string, region: number | null): boolean {
    const f = this.filter;
    if (!f) return true;
    if (f.commands && !f.commands.includes(cmd)) return false;
    if (f.regions && (region === null || !f.regions.includes(region))) return false;
    return true;
  }

  record(ev: ReadEvent, reply: Reply | null, startMs?: number): void {
    const t = performance.timeOrigin + performance.now();
    if (ev.kind === 'error') {
      const h = ev.header;
      const cmd = h ? commandName(h.command) : 'FRAMING';
      if (!this.passes(cmd, null)) return;
      this.sink({
        t,
        type: 'msg',
        gpu: this.gpu,
        cmd,
        id: h?.msgId ?? -1,
        size: h?.size ?? 0,
        errno: ev.error.errno,
        framing: ev.error.message,
      });
      return;
    }
    const h = ev.header;
    const cmd = commandName(h.command);
    const errno = replyErrno(reply);
    const regionOf = this.regionOf(ev);
    if (this.passes(cmd, regionOf)) {
      const m: MessageRecord = {
        t,
        type: 'msg',
        gpu: this.gpu,
        cmd,
        id: h.msgId,
        size: h.size,
        errno,
      };
      if (startMs !== undefined) m.durMs = t - startMs;
      if (h.flags & HeaderFlags.NO_REPLY) m.noReply = true;
      this.sink(m);
    }
    this.accesses(ev, cmd, reply, errno, t);
  }

  private regionOf(f: Frame): number | null {
    const c = f.header.command;
    if (
      (c === Command.REGION_READ || c === Command.REGION_WRITE) &&
      f.payload.length >= REGION_HEAD
    ) {
      return u32(f.payload, 8);
    }
    return null;
  }

  private accesses(f: Frame, cmd: string, reply: Reply | null, errno: number, t: number): void {
    const c = f.header.command;
    const p = f.payload;
    if ((c === Command.REGION_READ || c === Command.REGION_WRITE) && p.length >= REGION_HEAD) {
      const region = u32(p, 8);
      if (!this.passes(cmd, region)) return;
      const size = u32(p, 12);
      const a: AccessRecord = {
        t,
        type: 'access',
        gpu: this.gpu,
        cmd,
        id: f.header.msgId,
        region,
        offset: u64(p, 0),
        size,
        errno,
      };
      if (errno === 0 && size > 0 && size <= 8) {
        if (c === Command.REGION_WRITE && p.length >= REGION_HEAD + size) {
          a.value = hexValue(p.subarray(REGION_HEAD, REGION_HEAD + size));
        } else if (c === Command.REGION_READ && reply && reply.bytes.length >= ACCESS_HEAD + size) {
          a.value = hexValue(reply.bytes.subarray(ACCESS_HEAD, ACCESS_HEAD + size));
        }
      }
      this.sink(a);
      return;
    }
    if (c === Command.REGION_WRITE_MULTI) {
      let entries: ReturnType<typeof decodeRegionWriteMulti>;
      try {
        entries = decodeRegionWriteMulti(p);
      } catch {
        return; // malformed: the message record carries the errno
      }
      for (const e of entries) {
        if (!this.passes(cmd, e.region)) continue;
        const a: AccessRecord = {
          t,
          type: 'access',
          gpu: this.gpu,
          cmd,
          id: f.header.msgId,
          region: e.region,
          offset: Number(e.offset),
          size: e.data.length,
          errno,
        };
        if (errno === 0 && e.data.length > 0 && e.data.length <= 8) a.value = hexValue(e.data);
        this.sink(a);
      }
    }
  }
}
