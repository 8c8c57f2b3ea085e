/**
 * Cases 1–3: small register accesses, one request outstanding at a time, against the real
 * server and the floor over the same transport.
 * 1. 4-byte config-space reads (region 7).
 * 2. 4- and 8-byte reads of BAR0 (BOOT_0) and of BAR4 (device memory): of a page written
 *    before (what a guest reads back; served from the server's mapping) and of a page never
 *    written (a hole; served by pread, which does not allocate it).
 * 3. posted (No_reply) 4-byte writes to BAR0 and BAR4, each batch flushed by one read.
 * Budget (cases 1–2): the server's round trips/s ≥ 0.9 × the floor's.
 */
import type { VfioUserClient } from '../../src/vfio-user/client/client.js';
import { CONFIG, u32le } from '../lib/device.js';
import { withFloorAndServer } from '../lib/pair.js';
import type { Budget, CaseContext, RawRow } from '../lib/types.js';
import { interleaved, type Op } from '../lib/window.js';

const SMALL_BUDGET: Budget = { kind: 'ratio-min', value: 0.9, text: '≥ 0.9 × floor' };
/** BAR4 offset of the page the read cases read back after writing it. */
const WRITTEN_AT = 0x1000;
/** Posted writes per flushing read. */
const BATCH = 256;

interface Variant {
  group: number;
  case: string;
  unit: string;
  /** Operations each `op` stands for (a batch of posted writes counts BATCH). */
  perOp: number;
  budget?: Budget;
  op: (c: VfioUserClient) => Op;
}

const read = (region: number, offset: number, count: number) => (c: VfioUserClient) => () =>
  c.regionRead(region, offset, count);

function postedBatch(region: number, offset: number) {
  return (c: VfioUserClient) => {
    const data = u32le(0x5a5a5a5a);
    return () => {
      for (let i = 0; i < BATCH; i++) c.regionWritePosted(region, offset + 4 * (i & 63), data);
      return c.regionRead(region, offset, 4);
    };
  };
}

const VARIANTS: Variant[] = [
  {
    group: 1,
    case: 'config read 4 B',
    unit: 'round trips/s',
    perOp: 1,
    budget: SMALL_BUDGET,
    op: read(CONFIG, 0, 4),
  },
  {
    group: 2,
    case: 'BAR0 read 4 B (BOOT_0)',
    unit: 'reads/s',
    perOp: 1,
    budget: SMALL_BUDGET,
    op: read(0, 0, 4),
  },
  {
    group: 2,
    case: 'BAR0 read 8 B',
    unit: 'reads/s',
    perOp: 1,
    budget: SMALL_BUDGET,
    op: read(0, 0, 8),
  },
  {
    group: 2,
    case: 'BAR4 read 4 B',
    unit: 'reads/s',
    perOp: 1,
    budget: SMALL_BUDGET,
    op: read(4, WRITTEN_AT, 4),
  },
  {
    group: 2,
    case: 'BAR4 read 8 B',
    unit: 'reads/s',
    perOp: 1,
    budget: SMALL_BUDGET,
    op: read(4, WRITTEN_AT, 8),
  },
  {
    group: 2,
    case: 'BAR4 read 4 B (never written)',
    unit: 'reads/s',
    perOp: 1,
    budget: SMALL_BUDGET,
    op: read(4, 0x10_0000, 4),
  },
  {
    group: 3,
    case: `BAR0 posted write 4 B (+1 read per ${BATCH})`,
    unit: 'writes/s',
    perOp: BATCH,
    op: postedBatch(0, 0x100),
  },
  {
    group: 3,
    case: `BAR4 posted write 4 B (+1 read per ${BATCH})`,
    unit: 'writes/s',
    perOp: BATCH,
    op: postedBatch(4, 0x2000),
  },
];

export async function runSmallIo(ctx: CaseContext): Promise<RawRow[]> {
  return withFloorAndServer(ctx, async (sides) => {
    const rows: RawRow[] = [];
    for (const { client } of sides)
      await client.regionWrite(4, WRITTEN_AT, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    for (const v of VARIANTS) {
      const ops = sides.map(({ name, client: c }) => ({ name, op: v.op(c) }));
      const res = await interleaved(ops, ctx.spec.reps, ctx.spec.windowMs, v.perOp);
      for (const [name, r] of res) {
        rows.push({
          group: v.group,
          case: v.case,
          server: name,
          unit: v.unit,
          reps: r.reps,
          p99: r.latency.percentile(99) / v.perOp,
          p99Unit: v.perOp > 1 ? 'µs/write' : 'µs',
          ...(name !== 'floor' ? { baseline: 'floor' } : {}),
          ...(name !== 'floor' && v.budget ? { budget: v.budget } : {}),
        });
      }
    }
    return rows;
  });
}
