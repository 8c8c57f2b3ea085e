/**
 * The x-msg-timeout of both printed QEMU lines, end to end: the banner's from the served
 * settings, vm-config's from what the socket shows (the CXL DVSEC; the band and the ready
 * delay are not visible there, so their worst). Both come from one function
 * (src/cli/msg-timeout.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runVmConfig } from '../../src/cli/vm-config/index.js';
import { serve } from './helpers.js';

const GiB = 2 ** 30;

/** x-msg-timeout of the vfio-user-pci JSON in a text, or undefined when it has none. */
function msgTimeout(text: string): number | undefined {
  const m = /'(\{"driver":"vfio-user-pci".*?\})'/.exec(text);
  assert.ok(m, `no vfio-user-pci device in:\n${text}`);
  return JSON.parse(m[1]!)['x-msg-timeout'];
}

async function vmConfigTimeout(socketPath: string): Promise<number | undefined> {
  const r = await runVmConfig([socketPath], {
    arch: 'x86_64',
    accel: 'tcg',
    format: 'shell',
    memory: 4 * GiB,
    cpus: 1,
    timeoutMs: 5000,
  });
  return msgTimeout(r.text);
}

describe('x-msg-timeout in the printed QEMU lines', () => {
  it('6.19 with a card ready at once: the banner keeps QEMU’s default; vm-config, not knowing the band, covers the 31 s gate', async () => {
    const s = await serve({ kernel: '6.19' });
    try {
      assert.equal(msgTimeout(s.banner), undefined);
      assert.equal(await vmConfigTimeout(s.socketPath), 36_000);
    } finally {
      await s.stop();
    }
  });

  it('6.19 --reset-duration 2500: the banner covers the poll after the reset (3 s) plus 5 s', async () => {
    const s = await serve({ kernel: '6.19', resetDurationMs: 2_500 });
    try {
      assert.equal(msgTimeout(s.banner), 8_000);
    } finally {
      await s.stop();
    }
  });

  it('6.19 with a control socket: faults can hold the card, so the whole gate is covered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nvgrace-msgt-'));
    const s = await serve({ kernel: '6.19', controlSocket: join(dir, 'ctl.sock') });
    try {
      assert.equal(msgTimeout(s.banner), 36_000);
    } finally {
      await s.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('6.14 has no gate: QEMU’s default even with a slow reset', async () => {
    const s = await serve({ kernel: '6.14', resetDurationMs: 60_000 });
    try {
      assert.equal(msgTimeout(s.banner), undefined);
    } finally {
      await s.stop();
    }
  });

  it('7.2 blackwell-next --cxl-timeout 256 --reset-duration 100000: the banner covers the 100 s, vm-config the whole CXL wait (1 s + 256 s + two polls), each plus 5 s', async () => {
    const s = await serve({
      profile: 'blackwell-next',
      kernel: '7.2',
      cxlTimeoutS: 256,
      resetDurationMs: 100_000,
      memSize: 4 * GiB,
    });
    try {
      assert.equal(msgTimeout(s.banner), 105_000);
      assert.equal(await vmConfigTimeout(s.socketPath), 264_000);
    } finally {
      await s.stop();
    }
  });
});
