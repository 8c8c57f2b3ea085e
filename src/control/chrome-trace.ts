/**
 * Access trace → Chrome trace-event format (the JSON Perfetto's viewer and chrome://tracing
 * open): one process per GPU, one track each for vfio-user messages, region accesses, the
 * device (resets, readiness waits) and interrupts/faults.
 *
 * Rules: pure (records in, an object out). Timestamps are µs relative to the first record.
 * A message is a slice ("X") lasting its durMs (at least 1 µs); a reset is a slice of its
 * durationMs; a readiness-reached event is a slice covering the wait (afterMs before it);
 * everything else is an instant ("i"). Unknown record types are skipped.
 */
import type { TraceRecord } from './trace-record.js';

export interface ChromeEvent {
  name: string;
  ph: 'X' | 'i' | 'M';
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  s?: 't' | 'p';
  cat?: string;
  args?: Record<string, unknown>;
}

export const TRACKS = { messages: 1, accesses: 2, device: 3, irq: 4 } as const;

const TRACK_NAMES: Record<number, string> = {
  1: 'vfio-user messages',
  2: 'region accesses',
  3: 'device (resets, readiness)',
  4: 'interrupts and faults',
};

export function toChromeTrace(records: readonly TraceRecord[]): { traceEvents: ChromeEvent[] } {
  const events: ChromeEvent[] = [];
  if (records.length === 0) return { traceEvents: events };
  // A loop, not Math.min(...): a boot's trace can hold millions of records.
  let t0 = Number.POSITIVE_INFINITY;
  for (const r of records) {
    const start = r.t - ((r as { durMs?: number }).durMs ?? 0);
    if (start < t0) t0 = start;
  }
  const us = (t: number) => Math.round((t - t0) * 1000);
  const gpus = new Set<number>();
  for (const r of records) {
    gpus.add(r.gpu);
    const pid = r.gpu;
    if (r.type === 'msg') {
      const dur = Math.max(1, Math.round((r.durMs ?? 0) * 1000));
      events.push({
        name: r.cmd,
        cat: 'msg',
        ph: 'X',
        ts: us(r.t) - (r.durMs ? dur : 0),
        dur,
        pid,
        tid: TRACKS.messages,
        args: { id: r.id, size: r.size, errno: r.errno },
      });
    } else if (r.type === 'access') {
      events.push({
        name: `${r.cmd} region ${r.region}`,
        cat: 'access',
        ph: 'i',
        s: 't',
        ts: us(r.t),
        pid,
        tid: TRACKS.accesses,
        args: {
          offset: `0x${r.offset.toString(16)}`,
          size: r.size,
          ...(r.value !== undefined ? { value: r.value } : {}),
          errno: r.errno,
        },
      });
    } else if (r.type === 'event') {
      const { t, type: _type, gpu: _gpu, event, ...args } = r;
      if (event === 'device-reset') {
        const dur = Math.max(1, Math.round(Number(args.durationMs ?? 0) * 1000));
        events.push({
          name: `reset (${String(args.cause)})`,
          cat: 'device',
          ph: 'X',
          ts: us(t),
          dur,
          pid,
          tid: TRACKS.device,
          args,
        });
      } else if (event === 'readiness-reached' || event === 'readiness-timed-out') {
        const dur = Math.max(1, Math.round(Number(args.afterMs ?? 0) * 1000));
        events.push({
          name: event === 'readiness-reached' ? 'readiness wait' : 'readiness wait (timed out)',
          cat: 'device',
          ph: 'X',
          ts: us(t) - dur,
          dur,
          pid,
          tid: TRACKS.device,
          args,
        });
      } else {
        const tid = event.startsWith('client-') ? TRACKS.device : TRACKS.irq;
        events.push({ name: event, cat: 'event', ph: 'i', s: 'p', ts: us(t), pid, tid, args });
      }
    }
  }
  for (const g of gpus) {
    events.push({
      name: 'process_name',
      ph: 'M',
      ts: 0,
      pid: g,
      tid: 0,
      args: { name: `GPU ${g}` },
    });
    for (const [tid, name] of Object.entries(TRACK_NAMES)) {
      events.push({
        name: 'thread_name',
        ph: 'M',
        ts: 0,
        pid: g,
        tid: Number(tid),
        args: { name },
      });
    }
  }
  return { traceEvents: events };
}

/** Parse JSON lines into records; lines that are not a trace record are counted, not fatal. */
export function parseTraceLines(text: string): { records: TraceRecord[]; skipped: number } {
  const records: TraceRecord[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const r = JSON.parse(line) as TraceRecord;
      if (
        r &&
        typeof r === 'object' &&
        typeof r.t === 'number' &&
        typeof r.gpu === 'number' &&
        (r.type === 'msg' || r.type === 'access' || r.type === 'event')
      ) {
        records.push(r);
      } else skipped++;
    } catch {
      skipped++;
    }
  }
  return { records, skipped };
}
