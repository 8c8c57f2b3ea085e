/**
 * Injected card faults as the driver model sees them, on a ManualClock: a readiness fault
 * held across a reset fails the ≥6.19 gate with ETIME after its 30 s (and clearing it in
 * time lets the access through); 6.14 has no gate; a reset stall delays the gated access;
 * poison fails trapped reads with EFAULT; off the bus config and memory read all-ones
 * while vfio-pci's virtualized fields keep their values.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Errno } from '../../src/uapi/errno.js';
import { VfioError } from '../../src/vfio/errors.js';
import { cfgRead32, GiB, le32, rig, u32 } from './helpers.js';

const { ETIME, EFAULT } = Errno;

function settle<T>(p: Promise<T> | T): {
  readonly state: 'pending' | 'done' | 'failed';
  readonly value: unknown;
} {
  const box = { state: 'pending' as 'pending' | 'done' | 'failed', value: undefined as unknown };
  Promise.resolve(p).then(
    (v) => {
      box.state = 'done';
      box.value = v;
    },
    (e) => {
      box.state = 'failed';
      box.value = e;
    },
  );
  return box;
}

describe('injected faults in the driver model', () => {
  it('≥6.19: link-down held across a reset fails the next fake-BAR read with ETIME after 30 s', async () => {
    const { dev, card, clock } = await rig({ kernel: '6.19' });
    card.faults.setLinkDown(true);
    await dev.reset();
    const r = settle(dev.read(4, 0, 4));
    await clock.advance(29_000);
    assert.equal(r.state, 'pending');
    await clock.advance(2_000);
    assert.equal(r.state, 'failed');
    assert.ok(r.value instanceof VfioError && r.value.errno === ETIME);
  });

  it('≥6.19: hbm-untrained cleared during the wait lets the gated read through at the next poll', async () => {
    const { dev, card, clock } = await rig({ kernel: '6.19' });
    await dev.write(4, 0x40, le32(0x5a5a5a5a));
    card.faults.setHbmUntrained(true);
    await dev.reset();
    const r = settle(dev.read(4, 0x40, 4));
    await clock.advance(5_000);
    assert.equal(r.state, 'pending');
    card.faults.clear();
    await clock.advance(1_000);
    assert.equal(r.state, 'done');
    assert.equal(u32(r.value as Uint8Array), 0x5a5a5a5a);
  });

  it('6.14: no post-reset gate — a readiness fault changes only the status registers', async () => {
    const { dev, card } = await rig({ kernel: '6.14' });
    card.faults.setLinkDown(true);
    await dev.reset();
    const r = dev.read(4, 0, 4);
    assert.ok(!(r instanceof Promise));
    assert.equal(u32(await dev.read(0, 0x1498, 4)), 0);
  });

  it('reset-stall: memory reads all-ones during the stall (6.14) and the gated read waits it out (6.19)', async () => {
    const a = await rig({ kernel: '6.14' });
    await a.dev.write(4, 0, le32(7));
    a.card.faults.setResetStall(2_000);
    await a.dev.reset();
    assert.equal(u32(await a.dev.read(4, 0, 4)), 0xffffffff);
    await a.clock.advance(2_000);
    assert.equal(u32(await a.dev.read(4, 0, 4)), 7);

    const b = await rig({ kernel: '6.19' });
    await b.dev.write(4, 0, le32(9));
    b.card.faults.setResetStall(2_500);
    await b.dev.reset();
    const r = settle(b.dev.read(4, 0, 4));
    await b.clock.advance(2_000);
    assert.equal(r.state, 'pending');
    await b.clock.advance(1_000);
    assert.equal(r.state, 'done');
    assert.equal(u32(r.value as Uint8Array), 9);
  });

  it('poison: trapped reads touching it fail EFAULT, writes succeed, data survives clearing', async () => {
    const { dev, card } = await rig({ kernel: '6.14' });
    await dev.write(4, GiB, le32(0x01020304));
    card.faults.addPoison(GiB, 64);
    assert.throws(
      () => dev.read(4, GiB, 4),
      (e: unknown) => e instanceof VfioError && e.errno === EFAULT,
    );
    assert.equal(await dev.write(4, GiB + 8, le32(1)), 4);
    assert.equal(dev.readView(4, GiB, 128 * 1024), null);
    card.faults.clear();
    assert.equal(u32(await dev.read(4, GiB, 4)), 0x01020304);
  });

  it('off the bus: class code and memory read all-ones, IDs and fake BARs keep vconfig values', async () => {
    const { dev, card } = await rig({ kernel: '6.14' });
    await dev.write(7, 0x20, le32(0xfffffff0));
    const bar4 = await cfgRead32(dev, 0x20);
    const ids = await cfgRead32(dev, 0);
    card.faults.setOffBus(true);
    assert.equal(await cfgRead32(dev, 8), 0xffffffff);
    assert.equal(await cfgRead32(dev, 0), ids);
    assert.equal(await cfgRead32(dev, 0x20), bar4);
    assert.equal(u32(await dev.read(4, 0, 4)), 0xffffffff);
    assert.equal(u32(await dev.read(0, 0, 4)), 0xffffffff);
    card.faults.clear();
    assert.notEqual(await cfgRead32(dev, 8), 0xffffffff);
  });
});
