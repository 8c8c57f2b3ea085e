import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { profileTitle } from '../../src/cli/banner.js';
import { summarizeBars } from '../../src/cli/build-device.js';
import { NVGRACE_DEVMEM_SUBTYPE, NVIDIA_VENDOR_REGION_TYPE } from '../../src/cli/region-labels.js';
import { createCard, ManualClock, PROFILE_NAMES, PROFILES } from '../../src/hw/index.js';
import {
  createNvgraceDevice,
  EXPOSURE_LAYOUTS,
  KERNEL_BANDS,
  NvgraceDevice,
  VENDOR_REGION_SUBTYPE,
  VENDOR_REGION_TYPE,
} from '../../src/nvgrace/index.js';

const ACPI = { present: undefined, absent: null, zero: 0 } as const;

describe('banner/inspect labels come from what is served (region-labels.ts)', () => {
  it('the label module knows the vendor-region identity the device serves', () => {
    assert.equal(NVIDIA_VENDOR_REGION_TYPE, VENDOR_REGION_TYPE);
    assert.equal(NVGRACE_DEVMEM_SUBTYPE, VENDOR_REGION_SUBTYPE);
  });

  for (const profile of PROFILE_NAMES) {
    for (const kernel of KERNEL_BANDS) {
      for (const [acpi, acpiMemSize] of Object.entries(ACPI)) {
        for (const layout of EXPOSURE_LAYOUTS) {
          it(`${profile} × ${kernel} × acpi ${acpi} × ${layout}: each label matches the device's layout`, async () => {
            const clock = new ManualClock();
            const card = createCard({ profile, clock, acpiMemSize });
            const dev = await createNvgraceDevice({ card, kernel, clock, policies: { layout } });
            const bars = summarizeBars(dev);
            const kind = (i: number) => bars.find((b) => b.index === i)?.kind;
            const served = bars.reduce((n, b) => n + (b.memory ?? 0), 0);
            assert.equal(kind(0), 'registers (BAR0)');
            if (!(dev instanceof NvgraceDevice)) {
              // Plain-core fallback: the card's own BARs, no device memory.
              assert.equal(kind(2), 'real BAR1 aperture');
              assert.equal(kind(4), 'real BAR (regions 4/5)');
              assert.equal(served, 0);
              return;
            }
            const l = dev.layout;
            const total = l.usemem.memlength + (l.resmem?.memlength ?? 0);
            assert.equal(served, total, 'the memory the labels count is what the layout serves');
            if (layout === 'vendor-region') {
              assert.equal(kind(4), undefined);
              assert.equal(kind(2), l.resmem ? undefined : 'real BAR1 aperture');
              assert.match(kind(9) ?? '', l.resmem ? /usemem" \+ "resmem/ : /usemem", vendor/);
              return;
            }
            assert.equal(kind(4), 'device memory "usemem" (cacheable)');
            // 6.9 gives every part the Hopper layout; later bands only parts with the MIG bug.
            assert.equal(
              kind(2),
              l.resmem ? 'device memory "resmem" (uncached)' : 'real BAR1 aperture',
            );
            assert.equal(l.resmem !== null, kernel === '6.9' || PROFILES[profile].migHwBug);
          });
        }
      }
    }
  }

  it('--mem-size changes the served memory the headline reports', async () => {
    const clock = new ManualClock();
    const memSize = 144 * 2 ** 30;
    const card = createCard({ profile: 'gh200', clock, memSize });
    const dev = await createNvgraceDevice({ card, kernel: '6.19', clock });
    const served = summarizeBars(dev).reduce((n, b) => n + (b.memory ?? 0), 0);
    assert.equal(served, memSize);
  });

  it('profile titles lose their memory size (the headline states the served size instead)', () => {
    for (const name of PROFILE_NAMES) {
      assert.doesNotMatch(profileTitle(PROFILES[name].description), /\d\s*[GT]iB/, name);
    }
  });
});
