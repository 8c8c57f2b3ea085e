/**
 * mmap() validation of the fake BARs (docs/driver-rules.md §5), as a pure function.
 *
 * Rules: `pgoff` is the page offset inside the region; the length is what mmap() maps (page-
 * rounded). end = pgoff·PAGE_SIZE + length; overflow of u64 → EOVERFLOW; end > memlength →
 * EINVAL (so a non-page-aligned last partial page is never mappable); length 0 → EINVAL.
 */
import { fail } from '../vfio/errors.js';
import type { NvgraceLayout } from './layout.js';

const U64 = 1n << 64n;

export function validateMmap(
  layout: NvgraceLayout,
  index: number,
  pgoff: number,
  length: number,
  pageSize: number,
): { offset: number; length: number } {
  const region =
    index === layout.usemem.index
      ? layout.usemem
      : layout.resmem && index === layout.resmem.index
        ? layout.resmem
        : null;
  if (!region) fail('EINVAL', `region ${index} is not a fake BAR`);
  if (!Number.isSafeInteger(pageSize) || pageSize <= 0 || (pageSize & (pageSize - 1)) !== 0) {
    fail('EINVAL', `bad page size ${pageSize}`);
  }
  if (!Number.isSafeInteger(pgoff) || pgoff < 0 || !Number.isSafeInteger(length) || length <= 0) {
    fail('EINVAL', `bad mmap range pgoff ${pgoff} length ${length}`);
  }
  const len = ((BigInt(length) + BigInt(pageSize) - 1n) / BigInt(pageSize)) * BigInt(pageSize);
  const start = BigInt(pgoff) * BigInt(pageSize);
  const end = start + len;
  if (start >= U64 || end >= U64) fail('EOVERFLOW', 'mmap range overflows');
  if (end > BigInt(region.memlength)) {
    fail(
      'EINVAL',
      `mmap end 0x${end.toString(16)} beyond memlength 0x${region.memlength.toString(16)}`,
    );
  }
  return { offset: Number(start), length: Number(len) };
}
