import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gatherInspect } from '../../src/cli/inspect-gather.js';
import { closeFd, serve } from './helpers.js';

const CONFIG = 7;

describe('review alternatives over a real socket', () => {
  it('--mse honour: a BAR4 REGION_READ with MSE clear gets EIO (band 6.14); ignore serves it', async () => {
    for (const mse of ['honour', 'ignore'] as const) {
      const s = await serve({ kernel: '6.14', mse, memSize: 2 ** 32 });
      try {
        const c = await s.attach();
        await c.regionWrite(CONFIG, 4, new Uint8Array([0, 0]));
        if (mse === 'honour') {
          await assert.rejects(c.regionRead(4, 0, 4), /errno 5\b/);
          const ri = await c.regionInfo(4);
          assert.equal(ri.fd, null, 'no fd while decode is off');
          assert.equal(ri.flags & 0x4, 0, 'no MMAP while decode is off');
        } else {
          assert.equal((await c.regionRead(4, 0, 4)).length, 4);
        }
      } finally {
        await s.stop();
      }
    }
  });

  it('--layout vendor-region: inspect sees regions 2/4 empty, region 9 typed, and the ACPI needs', async () => {
    const s = await serve({ layout: 'vendor-region', memSize: 2 ** 33 });
    try {
      assert.match(s.banner, /region 9: 8 GiB mmap-only, device memory "usemem" \+ "resmem"/);
      const c = await s.connect();
      const r = await gatherInspect(c, closeFd);
      assert.equal(r.device.numRegions, 10);
      assert.equal(r.regions[2]?.size, '0x0');
      assert.equal(r.regions[4]?.size, '0x0');
      assert.equal(r.bars.find((b) => b.bar === 4)?.sizedBytes, '0x0');
      const v = r.regions[9];
      assert.ok(v);
      assert.deepEqual(v.type, { type: '0x800010de', subtype: 2 });
      assert.equal(v.mmap, true);
      assert.equal(v.readable, false);
      assert.equal(v.fdPassed, true);
      assert.equal(v.sparseAreas.length, 2);
      assert.deepEqual(r.acpi, {
        region: 9,
        gpuMemSize: '0x200000000',
        gpuMemBasePa: 'guest physical address where the VMM maps the region',
        resmem: { offset: '0x1c0000000', size: '0x40000000' },
      });
    } finally {
      await s.stop();
    }
  });
});
