/**
 * The probe's progress line names what the band's probe really waits on and its limit:
 * the BAR0 C2C-link / HBM-training poll (nvgrace_gpu_wait_device_ready(), 30 s), or on 7.2
 * a part's CXL Device DVSEC (nvgrace_gpu_wait_device_ready_cxl(): 1 s + Memory_Active_Timeout).
 * Real clock: each case waits about 1.5 s for the card.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildDevice } from '../../src/cli/build-device.js';

async function progressOf(opts: Parameters<typeof buildDevice>[0]): Promise<string[]> {
  const lines: string[] = [];
  const built = await buildDevice({ ...opts, onProbeWait: (m) => lines.push(m) });
  built.close();
  return lines;
}

describe('probe progress', () => {
  it('a BAR0-polled part reports the C2C link / HBM training wait out of 30 s', async () => {
    const lines = await progressOf({ profile: 'gh200', kernel: '6.19', readyDelayMs: 1500 });
    assert.ok(lines.length >= 1, 'at least one progress line while the card is not ready');
    assert.match(lines[0]!, /^waiting for C2C link \/ HBM training, \d+ s of 30 s$/);
  });

  it('a CXL DVSEC part on 7.2 reports the DVSEC wait out of 1 s + its Memory_Active_Timeout', async () => {
    const lines = await progressOf({
      profile: 'blackwell-next',
      kernel: '7.2',
      readyDelayMs: 1500,
      cxlTimeoutS: 4,
    });
    assert.ok(lines.length >= 1, 'at least one progress line while the card is not ready');
    for (const l of lines) assert.match(l, /^waiting for CXL DVSEC memory active, \d+ s of 5 s$/);
  });

  it('the same part on 6.19 keeps the BAR0 wait', async () => {
    const lines = await progressOf({
      profile: 'blackwell-next',
      kernel: '6.19',
      readyDelayMs: 1500,
    });
    assert.ok(lines.length >= 1);
    assert.match(lines[0]!, /C2C link \/ HBM training, \d+ s of 30 s$/);
  });
});
