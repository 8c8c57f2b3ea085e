/**
 * Case 4: bulk REGION_WRITE / REGION_READ of BAR4 at 64 KiB and 1 MiB (the largest transfer
 * the protocol allows), sequential, against the real server and the floor. Offsets cycle over
 * a 64 MiB window that the writes fill first, so reads hit written memory, not file holes.
 * Budget: 1 MiB reads and writes ≥ 1.5 GB/s (GB = 10^9 bytes).
 */
import type { VfioUserClient } from '../../src/vfio-user/client/client.js';
import { withFloorAndServer } from '../lib/pair.js';
import type { Budget, CaseContext, RawRow } from '../lib/types.js';
import { interleaved, type Op } from '../lib/window.js';

const SPAN = 64 * 2 ** 20;
const BAR4 = 4;

function op(c: VfioUserClient, kind: 'read' | 'write', size: number): Op {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * 131 + 7) & 0xff;
  let offset = 0;
  return () => {
    const at = offset;
    offset = (offset + size) % SPAN;
    return kind === 'read' ? c.regionRead(BAR4, at, size) : c.regionWrite(BAR4, at, data);
  };
}

export async function runBulk(ctx: CaseContext): Promise<RawRow[]> {
  return withFloorAndServer(ctx, async (sides) => {
    const rows: RawRow[] = [];
    for (const kind of ['write', 'read'] as const) {
      for (const size of [64 * 1024, 1 << 20]) {
        const label = size >= 1 << 20 ? `${size / 2 ** 20} MiB` : `${size / 1024} KiB`;
        const budget: Budget | undefined =
          size === 1 << 20 ? { kind: 'min', value: 1.5, text: '≥ 1.5 GB/s' } : undefined;
        const ops = sides.map(({ name, client: c }) => ({ name, op: op(c, kind, size) }));
        const res = await interleaved(ops, ctx.spec.reps, ctx.spec.windowMs, size / 1e9);
        for (const [name, r] of res) {
          rows.push({
            group: 4,
            case: `BAR4 ${kind} ${label}`,
            server: name,
            unit: 'GB/s',
            reps: r.reps,
            p99: r.latency.percentile(99),
            p99Unit: 'µs',
            ...(name !== 'floor' ? { baseline: 'floor' } : {}),
            ...(name !== 'floor' && budget ? { budget } : {}),
          });
        }
      }
    }
    return rows;
  });
}
