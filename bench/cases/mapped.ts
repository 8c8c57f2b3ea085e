/**
 * Case 5: the mapped path. The client takes BAR4's fd from GET_REGION_INFO, maps its first
 * sparse-mmap area (MAP_SHARED, as a VMM does) and copies 1 GiB into and out of it, next to a
 * plain in-process memcpy (Uint8Array.set) of the same size between two ordinary buffers.
 * Steady state (pages already present) is the budgeted figure; the first copy into the mapping
 * (every page faulted in and allocated in the shared file) is reported beside the first copy
 * into a fresh buffer. Budget: mapped copy ≥ 0.8 × memcpy.
 */
import { mapFd } from '../../src/host/mapped.js';
import { native } from '../../src/native/addon.js';
import type { VfioUserClient } from '../../src/vfio-user/client/client.js';
import {
  decodeSparseMmapCap,
  RegionCapId,
  RegionInfoFlags,
  walkCaps,
} from '../../src/vfio-user/protocol/index.js';
import { enableMemorySpace } from '../lib/device.js';
import { connectClient, spawnTarget } from '../lib/targets.js';
import { type Budget, type CaseContext, heavyReps, type RawRow } from '../lib/types.js';

const SIZE = 2 ** 30;
const GB = SIZE / 1e9;
const BUDGET: Budget = { kind: 'ratio-min', value: 0.8, text: '≥ 0.8 × memcpy' };

/** The fd offset and length of BAR4's first mappable area. */
async function bar4Area(c: VfioUserClient) {
  const info = await c.regionInfo(4);
  if (info.fd === null || !(info.flags & RegionInfoFlags.MMAP)) {
    if (info.fd !== null) native().closeFd(info.fd);
    throw new Error('BAR4 is not mappable (no fd or no MMAP flag in GET_REGION_INFO)');
  }
  let offset = 0n;
  let size = info.size;
  if (info.flags & RegionInfoFlags.CAPS) {
    const full = new Uint8Array(32 + info.caps.length);
    full.set(info.caps, 32);
    for (const cap of walkCaps(full, info.capOffset)) {
      if (cap.id !== RegionCapId.SPARSE_MMAP) continue;
      const area = decodeSparseMmapCap(cap.bytes)[0];
      if (area) ({ offset, size } = area);
    }
  }
  return { fd: info.fd, fdOffset: info.offset + offset, size };
}

function timed(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return GB / ((performance.now() - t0) / 1000);
}

export async function runMapped(ctx: CaseContext): Promise<RawRow[]> {
  if (ctx.spec.against !== 'server') return []; // the floor has no regions to map
  const target = spawnTarget(ctx.server);
  try {
    const c = await connectClient(target);
    await enableMemorySpace(c);
    const area = await bar4Area(c);
    const reps = heavyReps(ctx.spec);
    // First touch uses a fresh GiB of the BAR per repetition (GiB 1..reps), steady state GiB 0.
    if (area.size < BigInt(SIZE * (reps + 1)))
      throw new Error(`BAR4 area is only ${area.size} bytes`);
    const src = Buffer.alloc(SIZE, 0x5a);
    const dst = Buffer.alloc(SIZE);
    const firstMapped: number[] = [];
    const firstMemcpy: number[] = [];
    for (let r = 1; r <= reps; r++) {
      const m = mapFd(area.fd, area.fdOffset + BigInt(r * SIZE), SIZE, true);
      firstMapped.push(timed(() => m.buffer.set(src)));
      m.unmap();
      const fresh = Buffer.allocUnsafeSlow(SIZE);
      firstMemcpy.push(timed(() => fresh.set(src)));
    }
    const map = mapFd(area.fd, area.fdOffset, SIZE, true);
    native().closeFd(area.fd); // the mapping keeps the memory; the fd is no longer needed
    const mem = map.buffer;
    mem.set(src);
    // The server sees what was written through the mapping (same shared file).
    const probe = await c.regionRead(4, 0, 4);
    if (probe[0] !== 0x5a) throw new Error('write through the mapping not visible via REGION_READ');

    const memcpy: number[] = [];
    const mwrite: number[] = [];
    const mread: number[] = [];
    timed(() => dst.set(src)); // warm-up: dst's pages are present from Buffer.alloc already
    for (let r = 0; r < reps; r++) {
      memcpy.push(timed(() => dst.set(src)));
      mwrite.push(timed(() => mem.set(src)));
      mread.push(timed(() => dst.set(mem)));
    }
    map.unmap();
    c.close();
    const row = (name: string, server: string, reps: number[], extra: Partial<RawRow> = {}) =>
      ({ group: 5, case: name, server, unit: 'GB/s', reps, ...extra }) as RawRow;
    return [
      row('copy 1 GiB (steady state)', 'memcpy', memcpy),
      row('copy 1 GiB (steady state)', 'mapped write', mwrite, {
        baseline: 'memcpy',
        budget: BUDGET,
      }),
      row('copy 1 GiB (steady state)', 'mapped read', mread, {
        baseline: 'memcpy',
        budget: BUDGET,
      }),
      row('copy 1 GiB (first touch)', 'memcpy', firstMemcpy, {
        notes: 'into a fresh buffer: page faults included',
      }),
      row('copy 1 GiB (first touch)', 'mapped write', firstMapped, {
        baseline: 'memcpy',
        notes: 'faults allocate the shared file pages',
      }),
    ];
  } finally {
    await target.stop();
  }
}
