/**
 * longestGateWaitMs: the bound QEMU's x-msg-timeout is derived from. Pinned two ways: by the
 * table of the rules, and by measuring, on a ManualClock, the longest the model's gate really
 * holds a fake-BAR read (BAR0 poll, CXL poll, a card with a fixed ready time) — the bound
 * must be reached exactly, never exceeded.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type KernelBand, longestGateWaitMs } from '../../src/nvgrace/index.js';
import { cxlMemActiveTimeoutMs } from '../../src/pci/cxl-dvsec.js';
import { type Rig, rig } from './helpers.js';

/** Reset, then one gated read of BAR4; how long (ms of the clock) until it settles. */
async function heldMs(r: Rig, before?: (resetAt: number) => void): Promise<number> {
  await r.dev.reset();
  const start = r.clock.now();
  before?.(start);
  let settled = -1;
  Promise.resolve(r.dev.read(4, 0, 4)).then(
    () => {
      settled = r.clock.now();
    },
    () => {
      settled = r.clock.now();
    },
  );
  for (let i = 0; i < 10 && settled < 0; i++) await Promise.resolve();
  while (settled < 0) {
    if (r.clock.now() - start > 400_000) throw new Error('gate never settled');
    await r.clock.advance(250);
  }
  return settled - start;
}

const facts = (
  band: KernelBand | null,
  cxl: number | null = null,
  ready: number | null = null,
) => ({ band, cxlMemActiveTimeoutMs: cxl, readyAfterResetMs: ready });

describe('longestGateWaitMs: the longest the post-reset gate holds one access', () => {
  it('6.9 and 6.14 have no gate: 0 whatever the card does', () => {
    for (const band of ['6.9', '6.14'] as const) {
      assert.equal(longestGateWaitMs(facts(band)), 0);
      assert.equal(longestGateWaitMs(facts(band, 256_000)), 0);
    }
  });

  it('BAR0 poll (6.19; 7.2 without the CXL DVSEC; a CXL part below 7.2): 30 s + one poll', () => {
    assert.equal(longestGateWaitMs(facts('6.19')), 31_000);
    assert.equal(longestGateWaitMs(facts('7.2')), 31_000);
    assert.equal(longestGateWaitMs(facts('6.19', 256_000)), 31_000);
  });

  it('CXL poll (7.2 with the DVSEC): 1 s + one poll + Memory_Active_Timeout + one poll', () => {
    assert.equal(longestGateWaitMs(facts('7.2', 1_000)), 4_000);
    assert.equal(longestGateWaitMs(facts('7.2', 16_000)), 19_000);
    assert.equal(longestGateWaitMs(facts('7.2', 256_000)), 259_000);
  });

  it('an unknown band is the worst band for the part', () => {
    assert.equal(longestGateWaitMs(facts(null)), 31_000);
    assert.equal(longestGateWaitMs(facts(null, 1_000)), 31_000);
    assert.equal(longestGateWaitMs(facts(null, 256_000)), 259_000);
  });

  it('a fixed ready time: 0 when ready at once, else rounded up to a poll, capped by the poll', () => {
    assert.equal(longestGateWaitMs(facts('6.19', null, 0)), 0);
    assert.equal(longestGateWaitMs(facts('6.19', null, 2_500)), 3_000);
    assert.equal(longestGateWaitMs(facts('6.19', null, 3_000)), 3_000);
    assert.equal(longestGateWaitMs(facts('6.19', null, 100_000)), 31_000);
    assert.equal(longestGateWaitMs(facts('7.2', 1_000, 100_000)), 4_000);
  });
});

describe('the model never holds a gated read longer than longestGateWaitMs, and does reach it', () => {
  it('6.19, link down across the reset: ETIME after exactly the BAR0 bound', async () => {
    const r = await rig({ kernel: '6.19' });
    r.card.faults.setLinkDown(true);
    assert.equal(await heldMs(r), longestGateWaitMs(facts('6.19')));
  });

  it('7.2 blackwell-next at 256 s: MEM_INFO_VALID just before the second check, never active', async () => {
    const r = await rig({ kernel: '7.2', profile: 'blackwell-next', cxlMemActiveTimeoutField: 4 });
    const held = await heldMs(r, (resetAt) =>
      r.card.setReadinessHook((s) => ({
        ...s,
        memInfoValid: r.clock.now() >= resetAt + 1_500,
        memActive: false,
      })),
    );
    assert.equal(held, longestGateWaitMs(facts('7.2', cxlMemActiveTimeoutMs(4))));
  });

  it('6.19 with a 2.5 s reset: the read goes through at the poll after it', async () => {
    const r = await rig({ kernel: '6.19', resetDurationMs: 2_500 });
    assert.equal(await heldMs(r), longestGateWaitMs(facts('6.19', null, 2_500)));
  });

  it('6.19 with a card ready at once after a reset: the read is not held', async () => {
    const r = await rig({ kernel: '6.19' });
    assert.equal(await heldMs(r), 0);
  });
});
