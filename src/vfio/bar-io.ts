/**
 * read()/write() on the core's BAR and ROM regions (vfio_pci_bar_rw / vfio_pci_core_do_io_rw),
 * §8.4.
 *
 * Rules: no host resource → EINVAL; offset ≥ BAR length → EINVAL; the count is clipped to the
 * BAR end. Memory BARs (and the ROM) need the virtual Memory Space Enable (and D0): otherwise
 * EIO; I/O BARs do not. The MSI-X table range inside its BAR reads 0xFF and drops writes, and
 * needs no memory check. The ROM is read-only: a write → EINVAL.
 */
import type { BarResource, Card } from '../hw/card.js';
import { fail } from './errors.js';

/** [start, end) of the MSI-X table inside a BAR, or null. */
export interface TableRange {
  bar: number;
  start: number;
  end: number;
}

export interface BarIoContext {
  card: Card;
  memoryEnabled(): boolean;
  msixTable(): TableRange | null;
}

interface Segment {
  offset: number;
  length: number;
  table: boolean;
}

function checkBar(card: Card, index: number, offset: number): BarResource {
  const bar = card.bars[index];
  if (!bar || bar.size === 0) fail('EINVAL', `BAR ${index} is not implemented`);
  if (!Number.isSafeInteger(offset) || offset < 0 || offset >= bar.size) {
    fail(
      'EINVAL',
      `offset 0x${offset.toString(16)} is past BAR ${index} (0x${bar.size.toString(16)} bytes)`,
    );
  }
  return bar;
}

/** Split [offset, offset+length) at the MSI-X table boundaries. */
function segments(ctx: BarIoContext, index: number, offset: number, length: number): Segment[] {
  const t = ctx.msixTable();
  const end = offset + length;
  if (!t || t.bar !== index || t.end <= offset || t.start >= end) {
    return [{ offset, length, table: false }];
  }
  const out: Segment[] = [];
  const a = Math.max(offset, t.start);
  const b = Math.min(end, t.end);
  if (a > offset) out.push({ offset, length: a - offset, table: false });
  out.push({ offset: a, length: b - a, table: true });
  if (end > b) out.push({ offset: b, length: end - b, table: false });
  return out;
}

function checkMemory(ctx: BarIoContext, bar: BarResource, segs: Segment[], what: string): void {
  if (bar.io || ctx.memoryEnabled()) return;
  if (segs.some((s) => !s.table))
    fail('EIO', `${what}: memory space is disabled (Command.MSE clear or D3)`);
}

export function barRead(
  ctx: BarIoContext,
  index: number,
  offset: number,
  length: number,
): Uint8Array {
  const bar = checkBar(ctx.card, index, offset);
  const n = Math.min(length, bar.size - offset);
  const out = new Uint8Array(n);
  if (n === 0) return out;
  const segs = segments(ctx, index, offset, n);
  checkMemory(ctx, bar, segs, `BAR ${index} read`);
  for (const s of segs) {
    const view = out.subarray(s.offset - offset, s.offset - offset + s.length);
    if (s.table) view.fill(0xff);
    else ctx.card.barRead(index, s.offset, view);
  }
  return out;
}

export function barWrite(
  ctx: BarIoContext,
  index: number,
  offset: number,
  data: Uint8Array,
): number {
  const bar = checkBar(ctx.card, index, offset);
  const n = Math.min(data.length, bar.size - offset);
  if (n === 0) return 0;
  const segs = segments(ctx, index, offset, n);
  checkMemory(ctx, bar, segs, `BAR ${index} write`);
  for (const s of segs) {
    if (!s.table)
      ctx.card.barWrite(
        index,
        s.offset,
        data.subarray(s.offset - offset, s.offset - offset + s.length),
      );
  }
  return n;
}

export function romRead(ctx: BarIoContext, offset: number, length: number): Uint8Array {
  const size = ctx.card.romSize;
  if (size === 0) fail('EINVAL', 'the device has no ROM');
  if (!Number.isSafeInteger(offset) || offset < 0 || offset >= size) {
    fail('EINVAL', `offset 0x${offset.toString(16)} is past the 0x${size.toString(16)}-byte ROM`);
  }
  const n = Math.min(length, size - offset);
  const out = new Uint8Array(n);
  if (n === 0) return out;
  if (!ctx.memoryEnabled()) fail('EIO', 'ROM read: memory space is disabled');
  ctx.card.romRead(offset, out);
  return out;
}
