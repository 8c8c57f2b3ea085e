/**
 * The control plane against a real VMM: QEMU ≥ 10.1 (`vfio-user-pci`, TCG, no guest — the
 * firmware's PCI enumeration is traffic enough) attaches to `serve --control-socket`, and
 * the control client sees what QEMU does and makes QEMU react:
 * attach, INTx enabled, QEMU's own VFIO_DEVICE_RESET, an uncorrectable AER error reaching
 * QEMU's ERR handler, no REQ channel (vfio-user-pci registers none), disconnect_client
 * seen by QEMU as EOF; the trace begins with QEMU's VERSION.
 *
 * Skips unless QEMU is present: $NVGRACE_QEMU or /opt/qemu/bin/qemu-system-x86_64 (≥ 10.1).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { qemuCommand } from '../../src/cli/qemu-cmdline.js';
import { parseTraceLines } from '../../src/control/chrome-trace.js';
import { serveWithControl } from '../control/helpers.js';
import { until } from '../e2e/helpers.js';
import { findQemu } from '../support/qemu.js';

const GiB = 2 ** 30;

const qemu = findQemu();
const skip = typeof qemu === 'string' ? false : qemu.skip;

describe('control plane with QEMU attached', () => {
  it('events follow QEMU; AER reaches its ERR handler; disconnect_client is EOF to it', {
    skip,
    timeout: 120_000,
  }, async () => {
    const s = await serveWithControl({ kernel: '6.19' });
    let child: ReturnType<typeof spawn> | null = null;
    try {
      const ctl = await s.control();
      const trace = join(s.dir, 'qemu.jsonl');
      await ctl.client.call('trace_start', { file: trace });
      const cmd = qemuCommand({
        socketPath: s.socketPath,
        barSizes: [16 << 20, GiB, 128 * GiB],
        guestMemory: GiB,
      });
      let out = '';
      child = spawn(
        qemu as string,
        [
          ...cmd.argv.slice(1),
          '-nodefaults',
          '-accel',
          'tcg',
          '-display',
          'none',
          '-serial',
          'none',
          '-monitor',
          'none',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child.stdout?.on('data', (d) => {
        out += d;
      });
      child.stderr?.on('data', (d) => {
        out += d;
      });
      await ctl.next('client-attached', 0, 30_000);
      const intx = await ctl.next('irq-mode', 0, 30_000);
      assert.equal(intx.mode, 'intx');
      await until(
        () => ctl.events.some((e) => e.type === 'device-reset' && e.cause === 'vmm'),
        "QEMU's VFIO_DEVICE_RESET",
        30_000,
      );
      const st = (await ctl.client.call('get_status')) as {
        attached: boolean;
        counters: { messages: number };
      };
      assert.equal(st.attached, true);
      assert.ok(st.counters.messages > 10);

      const aer = (await ctl.client.call('inject_fault', {
        kind: 'aer',
        severity: 'uncorrectable',
      })) as { signalled: boolean };
      assert.equal(aer.signalled, true, 'QEMU registered an ERR eventfd');
      await until(
        () => out.includes('vfio_err_notifier_handler'),
        "QEMU's ERR handler ran",
        10_000,
      );

      const req = (await ctl.client.call('request_release')) as { signalled: boolean };
      assert.equal(req.signalled, false, 'vfio-user-pci registers no REQ eventfd');

      const from = ctl.events.length;
      assert.deepEqual(await ctl.client.call('disconnect_client'), { disconnected: true });
      await ctl.next('client-detached', from);
      await until(() => /EOF|disconnect/i.test(out), 'QEMU noticed the hang-up', 10_000);

      await ctl.client.call('trace_stop');
      const { records } = parseTraceLines(readFileSync(trace, 'utf8'));
      const first = records.find((r) => r.type === 'msg');
      assert.equal(first && first.type === 'msg' ? first.cmd : null, 'VERSION');
    } finally {
      child?.kill('SIGKILL');
      await s.stop();
    }
  });
});
