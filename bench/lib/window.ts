/**
 * Timed repetitions, interleaved between targets: every repetition runs one window per target
 * in turn (floor, server, floor, server, …), so slow drift of the machine (frequency, noisy
 * neighbours) hits both alike and the ratio stays fair. One untimed warm-up window each first.
 */
import { Samples } from './stats.js';

/** One operation; resolves when it completed (a round trip, a batch, …). */
export type Op = () => Promise<unknown>;

export interface WindowResult {
  /** Per repetition: operations × `perOp` / seconds. */
  reps: number[];
  /** Per-operation latency in µs, every operation of every timed repetition. */
  latency: Samples;
}

/** Run `op` back to back for `ms`; return operations per second and record latencies. */
export async function timeWindow(op: Op, ms: number, latency: Samples | null): Promise<number> {
  let n = 0;
  const t0 = performance.now();
  const end = t0 + ms;
  let t = t0;
  while (t < end) {
    await op();
    const t2 = performance.now();
    latency?.push((t2 - t) * 1000);
    t = t2;
    n++;
  }
  return n / ((t - t0) / 1000);
}

/**
 * For each named op (one per target), `reps` interleaved windows of `ms`. Results are
 * operations/s multiplied by `scale` (e.g. bytes per op / 1e9 for GB/s).
 */
export async function interleaved(
  ops: { name: string; op: Op }[],
  reps: number,
  ms: number,
  scale = 1,
): Promise<Map<string, WindowResult>> {
  const out = new Map<string, WindowResult>();
  for (const { name, op } of ops) {
    await timeWindow(op, Math.max(50, ms / 2), null);
    out.set(name, { reps: [], latency: new Samples() });
  }
  for (let r = 0; r < reps; r++) {
    for (const { name, op } of ops) {
      const res = out.get(name)!;
      res.reps.push((await timeWindow(op, ms, res.latency)) * scale);
    }
  }
  return out;
}
