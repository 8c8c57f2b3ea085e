/**
 * The x-msg-timeout both printed QEMU lines carry (src/cli/msg-timeout.ts): QEMU's default
 * kept where the gate never waits, otherwise the gate's bound plus the default; a JSON
 * number inside the vfio-user-pci object; and vm-config's one fact from the socket, the CXL
 * DVSEC's Memory_Active_Timeout, read back from a served config space.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  msgTimeoutProperty,
  QEMU_MSG_TIMEOUT_DEFAULT_MS,
  vfioUserMsgTimeoutMs,
} from '../../src/cli/msg-timeout.js';
import { qemuCommand } from '../../src/cli/qemu-cmdline.js';
import { cxlTimeoutFromConfig } from '../../src/cli/vm-config/gather.js';
import { createCard, ManualClock } from '../../src/hw/index.js';
import { createNvgraceDevice } from '../../src/nvgrace/index.js';
import { PciRegion } from '../../src/uapi/vfio.js';

const GiB = 2 ** 30;

describe('vfioUserMsgTimeoutMs', () => {
  it('keeps QEMU’s default (undefined) when nothing waits: no gate, 6.14, a card ready at once', () => {
    assert.equal(vfioUserMsgTimeoutMs(null), undefined);
    const none = { cxlMemActiveTimeoutMs: null, readyAfterResetMs: null };
    assert.equal(vfioUserMsgTimeoutMs({ band: '6.14', ...none }), undefined);
    assert.equal(
      vfioUserMsgTimeoutMs({ band: '6.19', cxlMemActiveTimeoutMs: null, readyAfterResetMs: 0 }),
      undefined,
    );
  });

  it('adds QEMU’s 5000 ms default to the gate’s bound when the gate can wait', () => {
    assert.equal(QEMU_MSG_TIMEOUT_DEFAULT_MS, 5000);
    const at = (band: '6.19' | '7.2' | null, cxl: number | null, ready: number | null) =>
      vfioUserMsgTimeoutMs({ band, cxlMemActiveTimeoutMs: cxl, readyAfterResetMs: ready });
    assert.equal(at('6.19', null, 2_500), 8_000);
    assert.equal(at('6.19', null, null), 36_000);
    assert.equal(at('7.2', 256_000, null), 264_000);
    assert.equal(at(null, null, null), 36_000);
  });

  it('msgTimeoutProperty is the JSON property with a number, or nothing', () => {
    assert.deepEqual(msgTimeoutProperty(undefined), {});
    assert.deepEqual(msgTimeoutProperty(36_000), { 'x-msg-timeout': 36_000 });
  });
});

describe('qemuCommand puts x-msg-timeout into the vfio-user-pci JSON', () => {
  const device = (argv: string[]) =>
    argv
      .filter((a) => a.startsWith('{'))
      .map((a) => JSON.parse(a))
      .find((d) => d.driver === 'vfio-user-pci');
  it('as a JSON number when given', () => {
    const { argv } = qemuCommand({ socketPath: '/s', barSizes: [GiB], msgTimeoutMs: 36_000 });
    assert.equal(device(argv)['x-msg-timeout'], 36_000);
  });
  it('not at all when QEMU’s default covers every reply', () => {
    const { argv } = qemuCommand({ socketPath: '/s', barSizes: [GiB] });
    assert.ok(!('x-msg-timeout' in device(argv)));
  });
});

describe('cxlTimeoutFromConfig reads the served CXL DVSEC as vm-config sees it', () => {
  async function servedConfig(profile: 'gh200' | 'blackwell-next', field?: number) {
    const clock = new ManualClock();
    const card = createCard({
      profile,
      clock,
      ...(field !== undefined ? { cxlMemActiveTimeoutField: field } : {}),
    });
    const dev = await createNvgraceDevice({ card, kernel: '7.2', clock });
    await dev.open();
    return [...(await dev.read(PciRegion.CONFIG, 0, 4096))];
  }
  it('blackwell-next: the profile’s 16 s, or the 256 s --cxl-timeout chose', async () => {
    assert.equal(cxlTimeoutFromConfig(await servedConfig('blackwell-next')), 16_000);
    assert.equal(cxlTimeoutFromConfig(await servedConfig('blackwell-next', 4)), 256_000);
  });
  it('gh200 has no CXL Device DVSEC: null', async () => {
    assert.equal(cxlTimeoutFromConfig(await servedConfig('gh200')), null);
  });
  it('a short or empty config space: null, no throw', () => {
    assert.equal(cxlTimeoutFromConfig([]), null);
    assert.equal(cxlTimeoutFromConfig(new Array(256).fill(0xff)), null);
  });
});
