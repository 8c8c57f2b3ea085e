/**
 * Case 6: start-up and resident memory.
 * - time from spawn() of the server process until its socket accepts, VERSION is negotiated
 *   and DEVICE_GET_INFO is answered (the floor, which answers GET_INFO from constants, is the
 *   reference: Node's own start plus the transport);
 * - the server's VmRSS (/proc/<pid>/status) right after that, for the default gh200 and for
 *   `--mem-size 512GiB`;
 * - then 1 GiB written to BAR4 through REGION_WRITE (1 MiB each): the server's RSS growth, and
 *   the bytes allocated in its memfd (st_blocks × 512 of /proc/<pid>/fd/N). Written device
 *   memory lives in the shared file; the server reaches written pages through a mapping, so
 *   they count in its VmRSS (RssShmem) too — the same pages the VMM maps, not a copy — while
 *   its private memory (RssAnon) stays flat.
 * Budgets: ≤ 300 ms to the first GET_INFO reply; RSS ≤ 100 MiB for any device size; RSS growth
 * ≤ what was written + 64 MiB (never the BAR size), of which private memory ≤ 64 MiB.
 */
import { enableMemorySpace } from '../lib/device.js';
import type { TargetSpec } from '../lib/targets.js';
import { connectClient, memfdAllocated, procMemory, spawnTarget } from '../lib/targets.js';
import { type CaseContext, heavyReps, type RawRow } from '../lib/types.js';

const MIB = 2 ** 20;
const WRITTEN = 2 ** 30;
/** Private memory the server may add while 1 GiB goes through it (buffers, heap growth). */
const PRIVATE_MAX = 64 * MIB;

interface Sample {
  ms: number;
  rss: number;
  rssAfter: number;
  anon: number;
  anonAfter: number;
  allocated: number;
}

async function once(spec: TargetSpec, write: boolean): Promise<Sample> {
  const t = spawnTarget(spec);
  try {
    const c = await connectClient(t);
    await c.deviceInfo();
    const ms = performance.now() - t.spawnedAt;
    const pid = t.proc.pid!;
    const before = procMemory(pid);
    const rss = before.VmRSS ?? Number.NaN;
    const anon = before.RssAnon ?? Number.NaN;
    let rssAfter = Number.NaN;
    let anonAfter = Number.NaN;
    let allocated = Number.NaN;
    if (write) {
      await enableMemorySpace(c);
      const chunk = new Uint8Array(MIB).fill(0xa5);
      for (let off = 0; off < WRITTEN; off += MIB) await c.regionWrite(4, off, chunk);
      const after = procMemory(pid);
      rssAfter = after.VmRSS ?? Number.NaN;
      anonAfter = after.RssAnon ?? Number.NaN;
      allocated = memfdAllocated(pid).reduce((n, m) => n + m.allocated, 0);
    }
    c.close();
    return { ms, rss, rssAfter, anon, anonAfter, allocated };
  } finally {
    await t.stop();
  }
}

export async function runStartup(ctx: CaseContext): Promise<RawRow[]> {
  const configs: { name: string; spec: TargetSpec; write: boolean }[] = [
    { name: 'floor', spec: ctx.floor, write: false },
    { name: `${ctx.server.name} gh200`, spec: ctx.server, write: ctx.spec.against === 'server' },
    {
      name: `${ctx.server.name} 512GiB`,
      spec: { ...ctx.server, args: [...(ctx.server.args ?? []), '--mem-size', '512GiB'] },
      write: ctx.spec.against === 'server',
    },
  ];
  const samples = new Map<string, Sample[]>(configs.map((c) => [c.name, []]));
  // Interleave the configurations, one start each per repetition.
  for (let r = 0; r < heavyReps(ctx.spec); r++) {
    for (const cfg of configs) samples.get(cfg.name)!.push(await once(cfg.spec, cfg.write));
  }
  const rows: RawRow[] = [];
  for (const cfg of configs) {
    const s = samples.get(cfg.name)!;
    const isServer = cfg.name !== 'floor';
    rows.push({
      group: 6,
      case: 'start-up: spawn → GET_INFO reply',
      server: cfg.name,
      unit: 'ms',
      reps: s.map((x) => x.ms),
      ...(isServer
        ? { baseline: 'floor', budget: { kind: 'max', value: 300, text: '≤ 300 ms' } }
        : {}),
    });
    rows.push({
      group: 6,
      case: 'VmRSS after attach',
      server: cfg.name,
      unit: 'MiB',
      reps: s.map((x) => x.rss / MIB),
      ...(isServer
        ? { baseline: 'floor', budget: { kind: 'max', value: 100, text: '≤ 100 MiB' } }
        : {}),
    });
    if (!cfg.write) continue;
    rows.push({
      group: 6,
      case: 'VmRSS growth after writing 1 GiB',
      server: cfg.name,
      unit: 'MiB',
      reps: s.map((x) => (x.rssAfter - x.rss) / MIB),
      budget: {
        kind: 'max',
        value: WRITTEN / MIB + PRIVATE_MAX / MIB,
        text: '≤ written + 64 MiB',
      },
      notes: 'written with REGION_WRITE; includes the written pages the server maps (RssShmem)',
    });
    rows.push({
      group: 6,
      case: 'RssAnon growth after writing 1 GiB',
      server: cfg.name,
      unit: 'MiB',
      reps: s.map((x) => (x.anonAfter - x.anon) / MIB),
      budget: { kind: 'max', value: PRIVATE_MAX / MIB, text: '≤ 64 MiB, whatever was written' },
      notes: "the server's private memory (heap, buffers) must not grow with the data",
    });
    rows.push({
      group: 6,
      case: 'memfd allocated after writing 1 GiB',
      server: cfg.name,
      unit: 'MiB',
      reps: s.map((x) => x.allocated / MIB),
      budget: { kind: 'max', value: WRITTEN / MIB + 16, text: '≈ written, not BAR size' },
      notes: 'st_blocks × 512 of the memfd behind /proc/<pid>/fd',
    });
  }
  return rows;
}
