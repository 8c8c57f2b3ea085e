/**
 * The access trace over real sockets: a scripted attach traced through trace_start matches
 * the messages sent, in order, with region, offset, size, value and errno; `serve --trace`
 * records from start-up; traces stream to the control connection without a file; the
 * Chrome export turns the records into slices and instants.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseTraceLines, toChromeTrace } from '../../src/control/chrome-trace.js';
import type { AccessRecord, MessageRecord, TraceRecord } from '../../src/control/trace-record.js';
import { C2C_LINK_STATUS } from '../../src/hw/bar0.js';
import { Errno } from '../../src/uapi/errno.js';
import { le32, until } from '../e2e/helpers.js';
import { type ControlServed, serveWithControl } from './helpers.js';

const CONFIG = 7;

function readTrace(path: string): TraceRecord[] {
  const { records, skipped } = parseTraceLines(readFileSync(path, 'utf8'));
  assert.equal(skipped, 0);
  return records;
}

describe('access trace', () => {
  let s: ControlServed;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nvgrace-trace-'));
    s = await serveWithControl({ kernel: '6.14', traceFile: join(dir, 'boot.jsonl') });
  });
  after(async () => {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serve --trace records from start-up: the first attach is in the boot trace', async () => {
    const c = await s.attach();
    await c.deviceInfo();
    c.close();
    await s.server.endpoint.idle();
    const ctl = await s.control();
    // trace_start replaces the start-up trace; what came before stays in its file.
    await ctl.client.call('trace_stop');
    const recs = readTrace(join(dir, 'boot.jsonl'));
    assert.deepEqual(
      recs.filter((r) => r.type === 'msg').map((r) => (r as MessageRecord).cmd),
      ['VERSION', 'DEVICE_GET_INFO'],
    );
  });

  it('a scripted attach traced with trace_start matches the messages sent, with values and errnos', async () => {
    const ctl = await s.control();
    const file = join(dir, 'attach.jsonl');
    await ctl.client.call('trace_start', { file });
    const c = await s.attach();
    await c.deviceInfo();
    await c.regionInfo(CONFIG);
    await c.regionRead(CONFIG, 0, 4);
    await c.regionWrite(0, 0x100, le32(0xdeadbeef));
    await c.regionRead(0, C2C_LINK_STATUS, 4);
    await assert.rejects(c.regionRead(4, 2 ** 40, 4));
    c.close();
    await s.server.endpoint.idle();
    const stopped = (await ctl.client.call('trace_stop')) as { written: number; dropped: number };
    assert.equal(stopped.dropped, 0);
    const recs = readTrace(file);
    const msgs = recs.filter((r): r is MessageRecord => r.type === 'msg');
    assert.deepEqual(
      msgs.map((m) => m.cmd),
      [
        'VERSION',
        'DEVICE_GET_INFO',
        'DEVICE_GET_REGION_INFO',
        'REGION_READ',
        'REGION_WRITE',
        'REGION_READ',
        'REGION_READ',
      ],
    );
    assert.deepEqual(
      msgs.map((m) => m.errno),
      [0, 0, 0, 0, 0, 0, Errno.EINVAL],
    );
    const acc = recs.filter((r): r is AccessRecord => r.type === 'access');
    assert.deepEqual(
      acc.map((a) => [a.cmd, a.region, a.offset, a.size, a.value, a.errno]),
      [
        ['REGION_READ', CONFIG, 0, 4, '0x234210de', 0],
        ['REGION_WRITE', 0, 0x100, 4, '0xdeadbeef', 0],
        ['REGION_READ', 0, C2C_LINK_STATUS, 4, '0x000000ff', 0],
        ['REGION_READ', 4, 2 ** 40, 4, undefined, Errno.EINVAL],
      ],
    );
    const events = recs
      .filter((r) => r.type === 'event')
      .map((r) => (r as { event: string }).event);
    for (const e of [
      'trace-started',
      'client-attached',
      'device-reset',
      'client-detached',
      'trace-stopped',
    ]) {
      assert.ok(events.includes(e), `${e} in the trace`);
    }
    // Every record names its GPU and time moves forward.
    assert.ok(recs.every((r) => r.gpu === 0));
    for (let i = 1; i < recs.length; i++) assert.ok(recs[i]!.t >= recs[i - 1]!.t - 1);
  });

  it('trace_start without a file streams records to that control connection; a filter keeps only what it names', async () => {
    const ctl = await s.control();
    const got: TraceRecord[] = [];
    ctl.client.onNotification((n) => {
      if (n.method === 'trace') got.push(n.params as TraceRecord);
    });
    await ctl.client.call('trace_start', {
      filter: { commands: ['REGION_READ'], regions: [CONFIG] },
    });
    const c = await s.attach();
    await c.regionRead(CONFIG, 8, 4);
    await c.regionRead(0, 0, 4);
    await until(() => got.some((r) => r.type === 'access'), 'a streamed access record');
    c.close();
    await s.server.endpoint.idle();
    await ctl.client.call('trace_stop');
    const traced = got.filter((r) => r.type !== 'event') as (MessageRecord | AccessRecord)[];
    assert.ok(traced.length >= 2);
    assert.ok(traced.every((r) => r.cmd === 'REGION_READ'));
    assert.ok(
      traced
        .filter((r): r is AccessRecord => r.type === 'access')
        .every((a) => a.region === CONFIG),
    );
  });

  it('bad trace params are -32602', async () => {
    const ctl = await s.control();
    await assert.rejects(
      ctl.client.call('trace_start', { filter: { commands: 'x' } }),
      (e: { code?: number }) => e.code === -32602,
    );
    await assert.rejects(
      ctl.client.call('trace_start', { file: 7 }),
      (e: { code?: number }) => e.code === -32602,
    );
  });
});

describe('Chrome trace export', () => {
  it('messages become slices, resets and readiness waits spans, other events instants, one process per GPU', () => {
    const recs: TraceRecord[] = [
      { t: 1000, type: 'event', gpu: 0, event: 'device-reset', cause: 'host', durationMs: 300 },
      { t: 1300.5, type: 'msg', gpu: 0, cmd: 'REGION_READ', id: 3, size: 32, errno: 0, durMs: 290 },
      {
        t: 1300.5,
        type: 'access',
        gpu: 0,
        cmd: 'REGION_READ',
        id: 3,
        region: 4,
        offset: 16,
        size: 4,
        value: '0x1',
        errno: 0,
      },
      { t: 1301, type: 'event', gpu: 0, event: 'readiness-reached', afterMs: 301 },
      { t: 1302, type: 'event', gpu: 1, event: 'irq-raised', index: 2, vector: 0, signalled: true },
    ];
    const { traceEvents } = toChromeTrace(recs);
    const byName = (n: string) => traceEvents.find((e) => e.name === n)!;
    assert.deepEqual(
      [byName('reset (host)').ph, byName('reset (host)').ts, byName('reset (host)').dur],
      ['X', 0, 300_000],
    );
    const read = byName('REGION_READ');
    assert.deepEqual([read.ph, read.dur, read.ts + read.dur!], ['X', 290_000, 300_500]);
    const wait = byName('readiness wait');
    assert.deepEqual([wait.ph, wait.ts, wait.dur], ['X', 0, 301_000]);
    assert.equal(byName('REGION_READ region 4').ph, 'i');
    assert.equal(byName('irq-raised').pid, 1);
    const procs = traceEvents.filter((e) => e.name === 'process_name').map((e) => e.args?.name);
    assert.deepEqual(procs.sort(), ['GPU 0', 'GPU 1']);
  });

  it('lines that are not trace records are skipped and counted', () => {
    const { records, skipped } = parseTraceLines(
      '{"t":1,"type":"msg","gpu":0,"cmd":"VERSION","id":0,"size":16,"errno":0}\nnot json\n{"x":1}\n\n',
    );
    assert.equal(records.length, 1);
    assert.equal(skipped, 2);
  });
});
