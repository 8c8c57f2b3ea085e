import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCard, LAYOUT, ManualClock } from '../../src/hw/index.js';
import {
  createNvgraceDevice,
  findCxlDvsec,
  type KernelBand,
  NvgraceDevice,
} from '../../src/nvgrace/index.js';
import {
  cxlMemActiveTimeoutMs,
  cxlRangeSizeHigh,
  cxlRangeSizeLow,
  PCI_DVSEC_CXL_MEM_ACTIVE,
  PCI_DVSEC_CXL_MEM_INFO_VALID,
} from '../../src/pci/cxl-dvsec.js';
import { Errno } from '../../src/uapi/errno.js';
import { VfioError } from '../../src/vfio/errors.js';

const GiB = 2 ** 30;

/** Let every pending promise chain run (no time passes). */
async function flush(): Promise<void> {
  for (let i = 0; i < 50; i++) await Promise.resolve();
}
const isErrno = (n: number) => (e: unknown) => e instanceof VfioError && e.errno === n;

/** Probe on a ManualClock; returns the settled outcome and the time it settled. */
async function probe(
  opts: {
    profile?: 'blackwell-next' | 'gb200';
    kernel?: KernelBand;
    readyDelayMs?: number;
    cxlInfoValidDelayMs?: number;
    timeoutField?: number;
    hook?: Parameters<ReturnType<typeof createCard>['setReadinessHook']>[0];
  },
  runMs = 400_000,
) {
  const clock = new ManualClock();
  const card = createCard({
    profile: opts.profile ?? 'blackwell-next',
    clock,
    readyDelayMs: opts.readyDelayMs ?? 0,
    cxlInfoValidDelayMs: opts.cxlInfoValidDelayMs ?? 0,
    ...(opts.timeoutField !== undefined ? { cxlMemActiveTimeoutField: opts.timeoutField } : {}),
  });
  if (opts.hook) card.setReadinessHook(opts.hook);
  let settledAt = -1;
  const p = createNvgraceDevice({ card, kernel: opts.kernel ?? '7.2', clock }).then(
    (d) => {
      settledAt = clock.now();
      return { dev: d, err: null as unknown };
    },
    (err: unknown) => {
      settledAt = clock.now();
      return { dev: null, err };
    },
  );
  for (let t = 0; t < runMs; t += 500) {
    await flush();
    if (settledAt >= 0) break;
    await clock.advance(500);
  }
  const r = await p;
  return { ...r, settledAt, clock, card };
}

describe('CXL Device DVSEC on the blackwell-next profile (CXL r4.0 section 8.1.3)', () => {
  it('pci_find_dvsec_capability(PCI_VENDOR_ID_CXL, PCI_DVSEC_CXL_DEVICE) finds it; other profiles have none', () => {
    const clock = new ManualClock();
    assert.equal(findCxlDvsec(createCard({ profile: 'blackwell-next', clock })), LAYOUT.cxlDvsec);
    for (const profile of ['gh200', 'gb200', 'gb300'] as const) {
      assert.equal(findCxlDvsec(createCard({ profile, clock })), null);
    }
  });

  it('Range 1 Size High/Low carry the memory size; the status bits follow readiness', async () => {
    const clock = new ManualClock();
    const card = createCard({
      profile: 'blackwell-next',
      clock,
      readyDelayMs: 5000,
      memSize: 100 * GiB,
    });
    const at = LAYOUT.cxlDvsec;
    assert.equal(card.cfgRead(at + cxlRangeSizeHigh(0), 4), Math.floor((100 * GiB) / 2 ** 32));
    const low = () => card.cfgRead(at + cxlRangeSizeLow(0), 4);
    assert.equal(low() & PCI_DVSEC_CXL_MEM_INFO_VALID, PCI_DVSEC_CXL_MEM_INFO_VALID);
    assert.equal(low() & PCI_DVSEC_CXL_MEM_ACTIVE, 0);
    assert.equal((low() >>> 13) & 7, 0b010, 'Memory_Active_Timeout field of the profile');
    await clock.advance(5000);
    assert.equal(low() & PCI_DVSEC_CXL_MEM_ACTIVE, PCI_DVSEC_CXL_MEM_ACTIVE);
  });
});

describe('cxl_mem_active_timeout_ms() (7.2 drivers/vfio/pci/nvgrace-gpu/main.c)', () => {
  it('decodes 000b..100b to 1/4/16/64/256 s and clamps the reserved codes to 256 s', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].map(cxlMemActiveTimeoutMs),
      [1000, 4000, 16000, 64000, 256000, 256000, 256000, 256000],
    );
  });
});

describe('nvgrace_gpu_probe_check_device_ready() on band 7.2', () => {
  it('a ready part probes at once', async () => {
    const r = await probe({});
    assert.ok(r.dev instanceof NvgraceDevice);
    assert.equal(r.settledAt, 0);
    assert.equal((r.dev as NvgraceDevice).cxlDvsec, LAYOUT.cxlDvsec);
  });

  it('waits on MEM_ACTIVE within Memory_Active_Timeout (16 s): ready at 10 s probes at the 10 s poll', async () => {
    const r = await probe({ readyDelayMs: 10_000 });
    assert.ok(r.dev);
    assert.equal(r.settledAt, 10_000);
  });

  it('fails ETIME when MEM_ACTIVE is not set within the timeout the register encodes', async () => {
    const r = await probe({ readyDelayMs: 60_000 });
    assert.ok(isErrno(Errno.ETIME)(r.err), String(r.err));
    // MEM_INFO_VALID seen at t=0 → deadline 16 s; the check at 17 s is past it.
    assert.equal(r.settledAt, 17_000);
  });

  for (const [field, ms] of [
    [0, 1000],
    [1, 4000],
    [3, 64_000],
    [4, 256_000],
  ] as const) {
    it(`Memory_Active_Timeout ${field.toString(2).padStart(3, '0')}b: ready just inside ${ms} ms probes, never ready fails ETIME at the first poll past it`, async () => {
      const ok = await probe({ timeoutField: field, readyDelayMs: ms });
      assert.ok(ok.dev, String(ok.err));
      assert.equal(ok.settledAt, ms);
      const late = await probe({ timeoutField: field, readyDelayMs: 10 ** 9 });
      assert.ok(isErrno(Errno.ETIME)(late.err), String(late.err));
      assert.equal(late.settledAt, ms + 1000);
    });
  }

  it('fails ETIME when MEM_INFO_VALID is not seen within 1 s (two-phase wait, phase one)', async () => {
    const r = await probe({ cxlInfoValidDelayMs: 5000, readyDelayMs: 5000 });
    assert.ok(isErrno(Errno.ETIME)(r.err), String(r.err));
    assert.equal(r.settledAt, 2000);
  });

  it('MEM_INFO_VALID late but within the first second starts the active phase from that poll', async () => {
    // Valid at 1 s (seen by the 1 s poll) → deadline 1 s + 16 s; active at 16.5 s → seen at 17 s.
    const r = await probe({ cxlInfoValidDelayMs: 1000, readyDelayMs: 16_500 });
    assert.ok(r.dev, String(r.err));
    assert.equal(r.settledAt, 17_000);
  });

  it('does not poll BAR0: a part whose BAR0 never reports ready still probes through the DVSEC', async () => {
    const r = await probe({
      hook: (s) => ({ ...s, c2cLinkReady: false, hbmTrainingDone: false }),
    });
    assert.ok(r.dev, String(r.err));
    assert.equal(r.settledAt, 0);
  });

  it('the hbm-untrained fault holds MEM_ACTIVE back on a CXL part: probe fails ETIME after 1 s + 16 s', async () => {
    const clock = new ManualClock();
    const card = createCard({ profile: 'blackwell-next', clock });
    card.faults.setHbmUntrained(true);
    let settled = -1;
    const p = createNvgraceDevice({ card, kernel: '7.2', clock }).then(
      () => null,
      (e: unknown) => {
        settled = clock.now();
        return e;
      },
    );
    for (let t = 0; t < 30_000 && settled < 0; t += 1000) {
      await flush();
      if (settled < 0) await clock.advance(1000);
    }
    assert.ok(isErrno(Errno.ETIME)(await p));
    assert.equal(settled, 17_000);
  });

  it('a DVSEC status reading all-ones fails probe with ENODEV (nvgrace_gpu_test_device_ready_cxl)', async () => {
    const clock = new ManualClock();
    const card = createCard({ profile: 'blackwell-next', clock });
    const real = card.cfgRead.bind(card);
    card.cfgRead = (o, s) => (o === LAYOUT.cxlDvsec + cxlRangeSizeLow(0) ? 0xffffffff : real(o, s));
    await assert.rejects(
      createNvgraceDevice({ card, kernel: '7.2', clock }),
      isErrno(Errno.ENODEV),
    );
  });

  it('a part without the DVSEC keeps the 6.19 BAR0 wait (30 s, ETIME)', async () => {
    const r = await probe({ profile: 'gb200', readyDelayMs: 10 ** 9 });
    assert.ok(isErrno(Errno.ETIME)(r.err), String(r.err));
    assert.equal(r.settledAt, 31_000);
  });

  it('bands before 7.2 ignore the DVSEC and poll BAR0', async () => {
    const r = await probe({
      kernel: '6.19',
      hook: (s) => ({ ...s, c2cLinkReady: false, hbmTrainingDone: false }),
    });
    assert.ok(isErrno(Errno.ETIME)(r.err), String(r.err));
    assert.equal(r.settledAt, 31_000);
  });
});

describe('nvgrace_gpu_read_mem/write_mem on band 7.2 with the CXL DVSEC (post-reset)', () => {
  async function resetRig(readyDelayMs: number) {
    const clock = new ManualClock();
    const card = createCard({ profile: 'blackwell-next', clock, readyDelayMs: 0 });
    const dev = await createNvgraceDevice({ card, kernel: '7.2', clock });
    await dev.open();
    // From now on a reset takes readyDelayMs to come back.
    (card as unknown as { readyDelayMs: number }).readyDelayMs = readyDelayMs;
    return { clock, card, dev };
  }

  it('after a reset the next read waits on the DVSEC, then is served', async () => {
    const { clock, dev } = await resetRig(3000);
    await dev.reset();
    let done = false;
    const p = Promise.resolve(dev.readInto(4, 0, new Uint8Array(8))).then((n) => {
      done = true;
      return n;
    });
    await clock.advance(2000);
    assert.equal(done, false);
    await clock.advance(1000);
    assert.equal(await p, 8);
    assert.equal((dev as NvgraceDevice).readinessCheckPending, false);
  });

  it('with MSE clear the wait comes first, then EIO (the lockless wait precedes the MSE check)', async () => {
    const { clock, dev } = await resetRig(3000);
    await dev.reset();
    await dev.write(7, 4, new Uint8Array([0, 0]));
    let settled = -1;
    const p = Promise.resolve()
      .then(() => dev.readInto(4, 0, new Uint8Array(8)))
      .then(
        () => null,
        (e: unknown) => {
          settled = clock.now();
          return e;
        },
      );
    await clock.advance(2000);
    await flush();
    assert.equal(settled, -1, 'still waiting for MEM_ACTIVE');
    await clock.advance(1000);
    await flush();
    assert.equal(settled, 3000);
    assert.ok(isErrno(Errno.EIO)(await p));
  });

  it('MSE clear with the card already ready: EIO at once, as on 6.19', async () => {
    const { dev } = await resetRig(0);
    await dev.reset();
    await dev.write(7, 4, new Uint8Array([0, 0]));
    assert.throws(() => dev.readInto(4, 0, new Uint8Array(8)), isErrno(Errno.EIO));
  });
});
