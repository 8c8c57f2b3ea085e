/**
 * The pieces of the control plane below the socket: the bounded line splitter, the card's
 * fault state (validation, the one `any` flag, clearing) and a unit's readiness watch
 * (reached, or timed out while a fault holds the registers).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createLogger } from '../../src/cli/log.js';
import { startServer } from '../../src/cli/serve.js';
import { GpuUnit } from '../../src/control/gpu-unit.js';
import { LineSplitter } from '../../src/control/lines.js';
import { CardFaults } from '../../src/hw/faults.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('LineSplitter', () => {
  it('splits on newlines across chunks and drops a trailing CR', () => {
    const l = new LineSplitter(100);
    assert.deepEqual(l.push(enc('ab')), []);
    assert.deepEqual(l.push(enc('c\r\nd\n')), [
      { kind: 'line', text: 'abc' },
      { kind: 'line', text: 'd' },
    ]);
    assert.equal(l.buffered, 0);
  });

  it('an overlong line is one overflow, never buffered past the bound, and splitting resumes after it', () => {
    const l = new LineSplitter(8);
    assert.deepEqual(l.push(enc('0123456789')), []);
    assert.ok(l.buffered <= 8);
    assert.deepEqual(l.push(enc('more\nok\n')), [
      { kind: 'overflow', bytes: 14 },
      { kind: 'line', text: 'ok' },
    ]);
  });

  it('any chunking of a stream gives the same lines (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ maxLength: 12 }).filter((s) => !s.includes('\n') && !s.endsWith('\r')),
          { maxLength: 10 },
        ),
        fc.array(fc.nat(40), { maxLength: 8 }),
        (lines, cuts) => {
          const bytes = enc(lines.map((x) => `${x}\n`).join(''));
          const l = new LineSplitter(64);
          const got: string[] = [];
          let at = 0;
          for (const c of [
            ...cuts.map((x) => Math.min(x, bytes.length)).sort((a, b) => a - b),
            bytes.length,
          ]) {
            for (const e of l.push(bytes.subarray(at, Math.max(at, c))))
              if (e.kind === 'line') got.push(e.text);
            at = Math.max(at, c);
          }
          assert.deepEqual(got, lines);
        },
      ),
    );
  });
});

describe('CardFaults', () => {
  it('any is true exactly while a fault is active; clear lists what was active', () => {
    const f = new CardFaults(1 << 20);
    assert.equal(f.any, false);
    f.setLinkDown(true);
    f.setResetStall(50);
    f.addPoison(4096, 4096);
    assert.equal(f.any, true);
    assert.deepEqual(f.clear(), [
      { kind: 'link-down' },
      { kind: 'reset-stall', ms: 50 },
      { kind: 'poison', offset: 4096, length: 4096 },
    ]);
    assert.equal(f.any, false);
  });

  it('poison ranges overlap-check and are validated against device memory', () => {
    const f = new CardFaults(1 << 20);
    f.addPoison(0x1000, 0x100);
    assert.equal(f.isPoisoned(0xfff, 1), false);
    assert.equal(f.isPoisoned(0xfff, 2), true);
    assert.equal(f.isPoisoned(0x1100, 4), false);
    assert.throws(() => f.addPoison(1 << 20, 1), RangeError);
    assert.throws(() => f.addPoison(0, 0), RangeError);
    assert.throws(() => f.addPoison((1 << 20) - 1, 2), RangeError);
    assert.throws(() => f.setResetStall(-1), RangeError);
  });
});

describe('GpuUnit readiness watch', () => {
  it('a readiness fault held past the timeout gives readiness-timed-out; a clean reset readiness-reached', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nvgrace-unit-'));
    const server = await startServer(
      { profile: 'gh200', kernel: '6.14', socketPath: join(dir, 'g.sock') },
      createLogger('silent'),
      () => {},
    );
    try {
      const g = server.gpus.at(0);
      // A second unit over the same GPU with a short timeout (the served one keeps 30 s).
      await server.units[0]!.close();
      const unit = new GpuUnit({
        index: 0,
        device: g.device,
        core: g.core,
        card: g.card,
        endpoint: g.endpoint,
        profile: 'gh200',
        kernel: '6.14',
        memSize: g.summary.memSize,
        readyTimeoutMs: 200,
      });
      const events: { type: string; afterMs?: number }[] = [];
      unit.onEvent((e) => events.push(e));
      unit.injectFault({ kind: 'link-down' });
      unit.hostReset();
      const deadline = Date.now() + 3000;
      while (!events.some((e) => e.type.startsWith('readiness-')) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const timedOut = events.find((e) => e.type === 'readiness-timed-out');
      assert.ok(timedOut, JSON.stringify(events));
      assert.ok((timedOut.afterMs ?? 0) >= 200);
      unit.clearFaults();
      events.length = 0;
      unit.hostReset();
      while (!events.some((e) => e.type.startsWith('readiness-')) && Date.now() < deadline + 3000) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(
        events.some((e) => e.type === 'readiness-reached'),
        JSON.stringify(events),
      );
      await unit.close();
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
