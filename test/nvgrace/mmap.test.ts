// mmap() of the fake BARs: docs/driver-rules.md §5.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeLayout } from '../../src/nvgrace/layout.js';
import { validateMmap } from '../../src/nvgrace/mmap.js';
import { Errno } from '../../src/uapi/errno.js';
import { VfioError } from '../../src/vfio/errors.js';

const errno = (n: number) => (e: unknown) => e instanceof VfioError && e.errno === n;
const hopper96GB = computeLayout({ memlength: 96e9, band: '6.19', dvsecMigBit: false });
const bw186GB = computeLayout({ memlength: 0x2b_4e76_c400, band: '6.19', dvsecMigBit: true });

describe('fake BAR mmap validation (§5)', () => {
  it('the whole usemem maps; one page more is EINVAL', () => {
    const use = hopper96GB.usemem.memlength;
    assert.deepEqual(validateMmap(hopper96GB, 4, 0, use, 4096), { offset: 0, length: use });
    assert.throws(() => validateMmap(hopper96GB, 4, 0, use + 1, 4096), errno(Errno.EINVAL));
  });

  it('the last partial page of a non-page-aligned memlength is not mappable (64 KiB pages)', () => {
    const mem = bw186GB.usemem.memlength; // 0x2b_4e76_c400
    const full = Math.floor(mem / 0x10000) * 0x10000;
    assert.deepEqual(validateMmap(bw186GB, 4, 0, full, 0x10000), { offset: 0, length: full });
    assert.throws(() => validateMmap(bw186GB, 4, full / 0x10000, 1, 0x10000), errno(Errno.EINVAL));
  });

  it('resmem maps from its own page 0; padding is never mappable', () => {
    const res = hopper96GB.resmem?.memlength ?? 0;
    assert.ok(validateMmap(hopper96GB, 2, 0, 4096, 4096));
    assert.throws(
      () => validateMmap(hopper96GB, 2, Math.ceil(res / 4096), 4096, 4096),
      errno(Errno.EINVAL),
    );
  });

  it('an overflowing range is EOVERFLOW; non-fake indexes are EINVAL', () => {
    assert.throws(
      () => validateMmap(hopper96GB, 4, Number.MAX_SAFE_INTEGER, 4096, 65536),
      errno(Errno.EOVERFLOW),
    );
    assert.throws(() => validateMmap(bw186GB, 2, 0, 4096, 4096), errno(Errno.EINVAL));
    assert.throws(() => validateMmap(hopper96GB, 0, 0, 4096, 4096), errno(Errno.EINVAL));
  });
});
