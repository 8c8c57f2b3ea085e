import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeLayout, pow2up } from '../../src/nvgrace/layout.js';
import { Errno } from '../../src/uapi/errno.js';
import { VfioError } from '../../src/vfio/errors.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

// docs/driver-rules.md §1.3: memlength → usemem, usemem bar, resmem offset, resmem, resmem bar.
const HOPPER: [string, number, number, number, number, number, number][] = [
  ['96 GiB', 0x18_0000_0000, 0x17_c000_0000, 128 * GiB, 0x17_c000_0000, 0x4000_0000, GiB],
  ['96 GB', 96e9, 0x16_0000_0000, 128 * GiB, 0x16_0000_0000, 0x5a0b_c000, 2 * GiB],
  ['95.3 GiB', 0x17_d333_0000, 0x17_8000_0000, 128 * GiB, 0x17_8000_0000, 0x5333_0000, 2 * GiB],
  ['120 GB', 0x1b_f08e_b000, 0x1b_a000_0000, 128 * GiB, 0x1b_a000_0000, 0x508e_b000, 2 * GiB],
  ['144 GiB', 0x24_0000_0000, 0x23_c000_0000, 256 * GiB, 0x23_c000_0000, GiB, GiB],
  ['144 GB', 0x21_8711_a000, 0x21_4000_0000, 256 * GiB, 0x21_4000_0000, 0x4711_a000, 2 * GiB],
  ['480 GB', 0x6f_c23a_c000, 0x6f_8000_0000, 512 * GiB, 0x6f_8000_0000, 0x423a_c000, 2 * GiB],
  ['480 GiB', 0x78_0000_0000, 479 * GiB, 512 * GiB, 0x77_c000_0000, GiB, GiB],
];

describe('Hopper layout (§1.3 worked examples)', () => {
  for (const [name, mem, use, useBar, resOff, res, resBar] of HOPPER) {
    for (const band of ['6.9', '6.14', '6.19'] as const) {
      it(`${name} on ${band}: usemem 0x${use.toString(16)}, resmem 0x${res.toString(16)}`, () => {
        const l = computeLayout({ memlength: mem, band, dvsecMigBit: false });
        assert.equal(l.blackwell, false);
        assert.deepEqual(l.usemem, { index: 4, devOffset: 0, memlength: use, barSize: useBar });
        assert.deepEqual(l.resmem, {
          index: 2,
          devOffset: resOff,
          memlength: res,
          barSize: resBar,
        });
      });
    }
  }

  it('65 GiB + 100 MiB: usemem bar 64 GiB on 6.9, 128 GiB on >=6.14 (sized before rounding)', () => {
    const mem = 0x10_4640_0000;
    assert.equal(mem, 65 * GiB + 100 * MiB);
    const old = computeLayout({ memlength: mem, band: '6.9', dvsecMigBit: false });
    const neu = computeLayout({ memlength: mem, band: '6.14', dvsecMigBit: false });
    for (const l of [old, neu]) {
      assert.equal(l.usemem.memlength, 64 * GiB);
      assert.deepEqual(l.resmem, {
        index: 2,
        devOffset: 0x10_0000_0000,
        memlength: 0x4640_0000,
        barSize: 2 * GiB,
      });
    }
    assert.equal(old.usemem.barSize, 64 * GiB);
    assert.equal(neu.usemem.barSize, 128 * GiB);
  });

  it('the DVSEC bit is ignored on 6.9 (every device is Hopper)', () => {
    const l = computeLayout({ memlength: 192 * GiB, band: '6.9', dvsecMigBit: true });
    assert.equal(l.blackwell, false);
    assert.notEqual(l.resmem, null);
  });

  it('memory below 1 GiB fails with EOVERFLOW', () => {
    assert.throws(
      () => computeLayout({ memlength: GiB - 1, band: '6.19', dvsecMigBit: false }),
      (e: unknown) => e instanceof VfioError && e.errno === Errno.EOVERFLOW,
    );
  });

  it('memory below 1.5 GiB leaves no usemem: EINVAL', () => {
    assert.throws(
      () => computeLayout({ memlength: 1.5 * GiB - 1, band: '6.19', dvsecMigBit: false }),
      (e: unknown) => e instanceof VfioError && e.errno === Errno.EINVAL,
    );
    const ok = computeLayout({ memlength: 1.5 * GiB, band: '6.19', dvsecMigBit: false });
    assert.equal(ok.usemem.memlength, 512 * MiB);
    assert.equal(ok.resmem?.memlength, GiB);
  });
});

describe('Blackwell layout (>=6.14, DVSEC ID 3 bit 0 set)', () => {
  const cases: [string, number, number][] = [
    ['192 GiB', 0x30_0000_0000, 256 * GiB],
    ['186 GB', 0x2b_4e76_c400, 256 * GiB],
    ['288 GiB', 0x48_0000_0000, 512 * GiB],
    ['279 GB', 279e9, 512 * GiB],
  ];
  for (const [name, mem, bar] of cases) {
    for (const band of ['6.14', '6.19'] as const) {
      it(`${name} on ${band}: whole memory as usemem, bar 0x${bar.toString(16)}, no resmem`, () => {
        const l = computeLayout({ memlength: mem, band, dvsecMigBit: true });
        assert.equal(l.blackwell, true);
        assert.deepEqual(l.usemem, { index: 4, devOffset: 0, memlength: mem, barSize: bar });
        assert.equal(l.resmem, null);
      });
    }
  }
});

describe('pow2up', () => {
  it('rounds up to a power of two and keeps powers of two', () => {
    assert.equal(pow2up(1), 1);
    assert.equal(pow2up(3), 4);
    assert.equal(pow2up(GiB), GiB);
    assert.equal(pow2up(GiB + 1), 2 * GiB);
    assert.equal(pow2up(0x2b_4e76_c400), 256 * GiB);
  });
});
