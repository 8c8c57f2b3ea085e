/**
 * Case "multi-gpu": `serve --profile gb300 --gpus 4 --socket-dir DIR` beside `--gpus 1`.
 * Four 512 GiB GPUs must start as fast and as small as one: each GPU's memory is its own
 * sparse memfd, nothing is allocated per byte at start-up.
 * - time from spawn() until the LAST GPU's socket accepts, VERSION is negotiated and
 *   DEVICE_GET_INFO is answered (so every GPU before it is up too);
 * - VmRSS and RssAnon right after that, and the bytes allocated in all memfds.
 * Budgets: ≤ 300 ms to that reply and VmRSS ≤ 100 MiB (the one-GPU start-up budgets), memfds
 * allocated ≤ 1 MiB; the 1-GPU row is the baseline, so the ratio column shows the cost of 3 more.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectClient, memfdAllocated, procMemory, ROOT, watchTarget } from '../lib/targets.js';
import { type CaseContext, heavyReps, type RawRow } from '../lib/types.js';

const MIB = 2 ** 20;

interface Sample {
  ms: number;
  rss: number;
  anon: number;
  allocated: number;
}

async function once(gpus: number, serverArgs: string[]): Promise<Sample> {
  const dir = mkdtempSync(join(tmpdir(), 'nvgrace-bench-gpus-'));
  const spawnedAt = performance.now();
  const proc = spawn(
    process.execPath,
    [
      join(ROOT, 'bin', 'nvgrace-user'),
      'serve',
      '--profile',
      'gb300',
      '--gpus',
      String(gpus),
      '--socket-dir',
      dir,
      '--log-level',
      'silent',
      ...serverArgs,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const t = watchTarget(
    { name: `${gpus} × gb300`, kind: 'server' },
    proc,
    join(dir, `gpu${gpus - 1}.sock`),
    spawnedAt,
  );
  try {
    const c = await connectClient(t);
    await c.deviceInfo();
    const ms = performance.now() - spawnedAt;
    const m = procMemory(proc.pid!);
    const allocated = memfdAllocated(proc.pid!).reduce((n, f) => n + f.allocated, 0);
    c.close();
    return { ms, rss: m.VmRSS ?? Number.NaN, anon: m.RssAnon ?? Number.NaN, allocated };
  } finally {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runMultiGpu(ctx: CaseContext): Promise<RawRow[]> {
  if (ctx.spec.against !== 'server') return [];
  const counts = [1, 4];
  const samples = new Map<number, Sample[]>(counts.map((n) => [n, []]));
  // Interleave the two configurations, one start each per repetition.
  for (let r = 0; r < heavyReps(ctx.spec); r++)
    for (const n of counts) samples.get(n)!.push(await once(n, ctx.spec.serverArgs ?? []));
  const rows: RawRow[] = [];
  for (const n of counts) {
    const s = samples.get(n)!;
    const name = `${ctx.server.name} ${n} × gb300`;
    const baseline = n === 1 ? {} : { baseline: `${ctx.server.name} 1 × gb300` };
    rows.push({
      group: 6,
      case: 'multi-GPU start-up: spawn → last GPU GET_INFO',
      server: name,
      unit: 'ms',
      reps: s.map((x) => x.ms),
      ...baseline,
      budget: { kind: 'max', value: 300, text: '≤ 300 ms' },
    });
    rows.push({
      group: 6,
      case: 'multi-GPU VmRSS after attach',
      server: name,
      unit: 'MiB',
      reps: s.map((x) => x.rss / MIB),
      ...baseline,
      budget: { kind: 'max', value: 100, text: '≤ 100 MiB' },
      notes: `RssAnon median ${median(s.map((x) => x.anon / MIB)).toFixed(1)} MiB`,
    });
    rows.push({
      group: 6,
      case: 'multi-GPU memfds allocated at start',
      server: name,
      unit: 'MiB',
      reps: s.map((x) => x.allocated / MIB),
      budget: { kind: 'max', value: 1, text: '≤ 1 MiB (sparse)' },
      notes: `${n} memfd(s) of 288 GiB each`,
    });
  }
  return rows;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}
