/**
 * Case 8: "tracing off costs ≤ 2 %". Our server with its control plane listening
 * (`--control-socket`, the access trace available but off) beside the same server without
 * one, through the native client, interleaved: 4-byte config reads and BAR0 register reads.
 *
 * Rules: the trace hook itself (endpoint.tracer, checked once per message) is in both; what
 * this measures is everything the control plane adds while no trace runs. Wall-clock on a
 * shared machine moves by more than 2 % between windows: read the ratio with the p50s. The
 * budget is judged pinned only: unpinned, each round trip is a cross-CPU wake-up whose cost
 * swings by far more than 2 % from window to window, for the same server.
 */
import { join } from 'node:path';
import { runClient } from '../lib/native-client.js';
import { spawnTarget, type Target } from '../lib/targets.js';
import type { CaseContext, RawRow } from '../lib/types.js';

const UNPINNED_NOTE = 'not judged unpinned: cross-CPU wake-ups swing by more than the 2 % budget';

export async function runTrace(ctx: CaseContext): Promise<RawRow[]> {
  const pinned = (ctx.spec.mode ?? 'pinned') === 'pinned';
  const plain = 'nvgrace-user';
  const traced = 'nvgrace-user --control-socket (trace off)';
  const targets: Target[] = [];
  try {
    const base = ctx.server.args ?? [];
    targets.push(spawnTarget({ name: plain, kind: 'server', args: base }));
    const first = targets[0]!;
    const control = join(first.socketPath, '..', `control-${process.pid}.sock`);
    targets.push(
      spawnTarget({ name: traced, kind: 'server', args: [...base, '--control-socket', control] }),
    );
    const rows: RawRow[] = [];
    for (const [label, region] of [
      ['config read 4 B', 7],
      ['BAR0 register read 4 B', 0],
    ] as const) {
      const res = await runClient([
        ...['--op', 'read', '--count', '4', '--reps', String(ctx.spec.reps)],
        ...['--window-ms', String(ctx.spec.windowMs)],
        `${plain}=${targets[0]!.socketPath},${region},0`,
        `${traced}=${targets[1]!.socketPath},${region},0`,
      ]);
      for (const t of res.targets) {
        const off = t.name === traced;
        rows.push({
          group: 8,
          case: `tracing off: ${label}`,
          server: t.name,
          unit: 'round trips/s',
          reps: t.reps,
          p50: t.p50,
          p99: t.p99,
          p99Unit: 'µs',
          ...(off
            ? {
                baseline: plain,
                ...(pinned
                  ? { budget: { kind: 'ratio-min', value: 0.98, text: '≥ 0.98 × without (≤ 2 %)' } }
                  : { notes: UNPINNED_NOTE }),
              }
            : {}),
        });
      }
    }
    return rows;
  } finally {
    await Promise.all(targets.map((t) => t.stop()));
  }
}
