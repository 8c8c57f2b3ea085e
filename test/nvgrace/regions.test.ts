// The fake BARs' rules: docs/driver-rules.md §3 (region info), §4 (read/write), §7 (readiness).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCard, ManualClock } from '../../src/hw/index.js';
import { createNvgraceDevice } from '../../src/nvgrace/index.js';
import { Errno } from '../../src/uapi/errno.js';
import { VfioError } from '../../src/vfio/errors.js';
import { CFG, GiB, le32, rig, variant } from './helpers.js';

const errno = (n: number) => (e: unknown) => e instanceof VfioError && e.errno === n;

describe('fake BAR region info (§3)', () => {
  it('usemem: offset 4<<40, size bar_size, flags 0xF, sparse-mmap area {0, memlength}', async () => {
    const { dev } = await rig({ memSize: 96e9 });
    const ri = dev.regionInfo(4, 64);
    assert.equal(ri.offset, 4n << 40n);
    assert.equal(ri.size, BigInt(128 * GiB));
    assert.equal(ri.flags, 0xf);
    assert.equal(ri.capOffset, 32);
    assert.equal(ri.argsz, 64);
    const want = new Uint8Array(32);
    const dv = new DataView(want.buffer);
    dv.setUint16(0, 1, true);
    dv.setUint16(2, 1, true);
    dv.setUint32(8, 1, true);
    dv.setBigUint64(24, BigInt(0x16_0000_0000), true);
    assert.deepEqual(ri.caps, want);
  });

  it('resmem area is the real, non-page-aligned length', async () => {
    const { dev } = await rig({ memSize: 96e9 });
    const ri = dev.regionInfo(2, 64);
    assert.equal(ri.offset, 2n << 40n);
    assert.equal(ri.size, BigInt(2 * GiB));
    assert.equal(new DataView(ri.caps.buffer).getBigUint64(24, true), 0x5a0b_c000n);
  });

  it('argsz 32..63: argsz 64, cap_offset 0, no caps, CAPS still in flags', async () => {
    const { dev } = await rig();
    for (const argsz of [32, 40, 63]) {
      const ri = dev.regionInfo(4, argsz);
      assert.equal(ri.argsz, 64);
      assert.equal(ri.capOffset, 0);
      assert.equal(ri.caps.length, 0);
      assert.equal(ri.flags, 0xf);
    }
  });

  it('argsz below 32 is EINVAL', async () => {
    const { dev } = await rig();
    assert.throws(() => dev.regionInfo(4, 31), errno(Errno.EINVAL));
  });

  it('Blackwell index 2 is the core BAR1 (no MMAP, no caps)', async () => {
    const { dev, card } = await rig({ profile: 'gb200' });
    const ri = dev.regionInfo(2, 64);
    assert.equal(ri.flags, 0x3);
    assert.equal(ri.size, BigInt(card.bars[2]?.size ?? 0));
    assert.equal(dev.mapping(2), null);
  });

  it('mapping: usemem at backing offset 0, resmem at usemem.memlength', async () => {
    const { dev, card } = await rig({ memSize: 96e9 });
    assert.deepEqual(dev.mapping(4), {
      fd: card.memory.fd ?? null,
      offset: 0,
      areas: [{ offset: 0, size: 0x16_0000_0000 }],
    });
    assert.deepEqual(dev.mapping(2), {
      fd: card.memory.fd ?? null,
      offset: 0x16_0000_0000,
      areas: [{ offset: 0, size: 0x5a0b_c000 }],
    });
    assert.equal(dev.mapping(0), null);
  });
});

describe('fake BAR read/write (§4)', () => {
  it('reads device memory at the region offset (resmem after usemem)', async () => {
    const { dev, card } = await rig();
    card.memory.write(95 * GiB + 8, new Uint8Array([1, 2, 3]));
    assert.deepEqual([...(await dev.read(2, 8, 3))], [1, 2, 3]);
    await dev.write(4, 100, new Uint8Array([9, 9]));
    const back = new Uint8Array(2);
    card.memory.readInto(100, back);
    assert.deepEqual([...back], [9, 9]);
  });

  it('a read past device memory but inside the BAR returns 0xFF', async () => {
    const { dev } = await rig();
    const use = 95 * GiB;
    const b = await dev.read(4, use - 2, 6);
    assert.deepEqual([...b], [0, 0, 0xff, 0xff, 0xff, 0xff]);
  });

  it('count is clipped at bar_size; offset at/after bar_size is EINVAL', async () => {
    const { dev } = await rig();
    const bar = 128 * GiB;
    assert.equal((await dev.read(4, bar - 4, 16)).length, 4);
    assert.equal(await dev.write(4, bar - 4, new Uint8Array(16)), 4);
    assert.throws(() => dev.read(4, bar, 1), errno(Errno.EINVAL));
    assert.throws(() => dev.write(2, GiB, new Uint8Array(1)), errno(Errno.EINVAL));
  });

  it('writes past memlength are dropped but counted', async () => {
    const { dev, card } = await rig({ memSize: 96e9 });
    const resLen = 0x5a0b_c000;
    assert.equal(await dev.write(2, resLen - 1, new Uint8Array([7, 7, 7])), 3);
    const back = new Uint8Array(1);
    card.memory.readInto(0x16_0000_0000 + resLen - 1, back);
    assert.equal(back[0], 7);
  });

  it('count 0 returns nothing', async () => {
    const { dev } = await rig();
    assert.equal((await dev.read(4, 0, 0)).length, 0);
    assert.equal(await dev.write(4, 0, new Uint8Array(0)), 0);
  });

  it('IOEVENTFD is ENOTTY on every region', async () => {
    const { dev } = await rig();
    for (const i of [0, 2, 4, 7]) assert.throws(() => dev.ioeventfd(i, 0, 4), errno(Errno.ENOTTY));
  });
});

describe('readiness (§7)', () => {
  async function probe(kernel: '6.9' | '6.14' | '6.19', readyDelayMs: number) {
    const clock = new ManualClock();
    const card = createCard({ profile: 'gh200', clock, readyDelayMs });
    let settled: unknown = 'pending';
    const p = createNvgraceDevice({ card, kernel, clock }).then(
      (d) => {
        settled = d;
      },
      (e) => {
        settled = e;
      },
    );
    return {
      clock,
      card,
      p,
      get settled() {
        return settled;
      },
    };
  }

  it('6.19 probe fails with ETIME when the GPU never becomes ready', async () => {
    const r = await probe('6.19', Number.POSITIVE_INFINITY);
    await r.clock.advance(29_000);
    assert.equal(r.settled, 'pending');
    await r.clock.advance(3_000);
    await r.p;
    assert.ok(errno(Errno.ETIME)(r.settled));
  });

  it('6.14 probe ignores the timeout and binds the variant', async () => {
    const r = await probe('6.14', Number.POSITIVE_INFINITY);
    await r.clock.advance(32_000);
    await r.p;
    assert.match((r.settled as { name: string }).name, /^nvgrace-gpu-vfio-pci /);
  });

  it('6.9 probe does not wait', async () => {
    const r = await probe('6.9', Number.POSITIVE_INFINITY);
    await r.p;
    assert.match((r.settled as { name: string }).name, /^nvgrace-gpu-vfio-pci /);
  });

  it('6.19 probe succeeds once ready within 30 s', async () => {
    const r = await probe('6.19', 5_500);
    await r.clock.advance(6_000);
    await r.p;
    assert.match((r.settled as { name: string }).name, /^nvgrace-gpu-vfio-pci /);
  });

  it('without ACPI memory the plain core binds (nvgrace-gpu-vfio-pci-core, IOEVENTFD allowed)', async () => {
    const clock = new ManualClock();
    for (const acpiMemSize of [null, 0]) {
      const card = createCard({ profile: 'gh200', clock, acpiMemSize });
      const dev = await createNvgraceDevice({ card, kernel: '6.19', clock });
      assert.match(dev.name, /^nvgrace-gpu-vfio-pci-core /);
      dev.ioeventfd(0, 0, 4);
      dev.open();
      assert.equal(dev.regionInfo(4, 32).size, 32n * 2n ** 20n);
    }
  });

  it('6.19: after reset with MSE clear the next fake-BAR access is EIO', async () => {
    const { dev } = await rig({ kernel: '6.19' });
    await dev.write(CFG, 4, new Uint8Array([0, 0]));
    await dev.reset();
    assert.throws(() => dev.read(4, 0, 4), errno(Errno.EIO));
    // A write starting in the padding skips the gate.
    assert.equal(await dev.write(4, 95 * GiB, new Uint8Array(4)), 4);
    assert.equal(variant(dev).readinessCheckPending, true);
  });

  it('6.19: after reset with MSE set and the card ready the access is synchronous', async () => {
    const { dev } = await rig({ kernel: '6.19' });
    await dev.reset();
    const r = dev.read(4, 0, 4);
    assert.ok(r instanceof Uint8Array);
    assert.equal(variant(dev).readinessCheckPending, false);
  });

  it('6.19: a slow card makes the access wait, ETIME after 30 s', async () => {
    const { dev, clock } = await rig({ kernel: '6.19', readyDelayMs: 0 });
    const card = (dev as unknown as { card: { readyDelayMs: number } }).card;
    Object.defineProperty(card, 'readyDelayMs', { value: Number.POSITIVE_INFINITY });
    await dev.reset();
    const r = dev.read(4, 0, 4);
    assert.ok(r instanceof Promise);
    let err: unknown = null;
    const done = (r as Promise<Uint8Array>).catch((e) => {
      err = e;
    });
    await clock.advance(31_000);
    await done;
    assert.ok(errno(Errno.ETIME)(err));
    assert.equal(variant(dev).readinessCheckPending, true);
  });

  it('6.14: no post-reset gate (MSE clear still reads, hardware all-ones)', async () => {
    const { dev } = await rig({ kernel: '6.14' });
    await dev.write(CFG, 4, new Uint8Array([0, 0]));
    await dev.reset();
    assert.deepEqual([...(await dev.read(4, 0, 2))], [0xff, 0xff]);
    void le32;
  });
});
