/**
 * Case 9: poll mode (`serve --poll-us N`) against the default, side by side through the
 * native client: 4-byte config reads per second, the server's CPU time per request, and the
 * server's CPU while its client stays connected but sends nothing (poll mode must cost
 * nothing once N µs have passed without a request).
 *
 * Rules: CPU comes from /proc/<pid>/stat (user + system ticks, 10 ms each), so per-request
 * CPU is over the whole run (warm-up included) and idle CPU over a 1 s window that starts
 * 100 ms after the last request.
 */
import { cpuTicks } from '../../test/support/proc.js';
import { runClient } from '../lib/native-client.js';
import { spawnTarget, type Target } from '../lib/targets.js';
import type { CaseContext, RawRow } from '../lib/types.js';

export const POLL_US = 50;
const TICK_US = 10_000;
const IDLE_MS = 1000;

export async function runPoll(ctx: CaseContext): Promise<RawRow[]> {
  const sides = [
    { name: 'nvgrace-user', args: [] as string[] },
    { name: `nvgrace-user --poll-us ${POLL_US}`, args: ['--poll-us', String(POLL_US)] },
  ];
  const targets: Target[] = [];
  try {
    for (const s of sides)
      targets.push(
        spawnTarget({
          name: s.name,
          kind: 'server',
          args: [...(ctx.server.args ?? []), ...s.args],
        }),
      );
    const pids = targets.map((t) => t.proc.pid!);
    let before: number[];
    let idle: Promise<number[]> | null = null;
    const args = [
      ...['--op', 'read', '--count', '4', '--reps', String(ctx.spec.reps)],
      ...['--window-ms', String(ctx.spec.windowMs), '--linger-ms', String(IDLE_MS + 300)],
      ...targets.map((t, i) => `${sides[i]!.name}=${t.socketPath},7,0`),
    ];
    // CPU is counted from before the client starts: attach adds a little to both sides alike.
    let after: number[] = [];
    before = pids.map(cpuTicks);
    const res = await runClient(args, () => {
      after = pids.map(cpuTicks);
      idle = new Promise((resolve) =>
        setTimeout(() => {
          const a = pids.map(cpuTicks);
          setTimeout(() => resolve(pids.map((p, i) => cpuTicks(p) - a[i]!)), IDLE_MS);
        }, 100),
      );
    });
    const idleTicks = await (idle ?? Promise.resolve(pids.map(() => Number.NaN)));
    const rows: RawRow[] = [];
    const base = sides[0]!.name;
    for (const [i, t] of res.targets.entries()) {
      const polled = i > 0;
      rows.push({
        group: 9,
        case: 'config read 4 B, poll mode vs default',
        server: t.name,
        unit: 'round trips/s',
        reps: t.reps,
        p50: t.p50,
        p99: t.p99,
        p99Unit: 'µs',
        ...(polled ? { baseline: base } : {}),
      });
      rows.push({
        group: 9,
        case: 'server CPU per request (whole run)',
        server: t.name,
        unit: 'µs',
        reps: [(((after[i] ?? 0) - (before[i] ?? 0)) * TICK_US) / t.allOps],
        ...(polled ? { baseline: base } : {}),
      });
      rows.push({
        group: 9,
        case: `server CPU, client connected and idle (${IDLE_MS} ms)`,
        server: t.name,
        unit: '% of a CPU',
        reps: [((idleTicks[i] ?? Number.NaN) * TICK_US * 100) / (IDLE_MS * 1000)],
        budget: { kind: 'max', value: 1, text: '≤ 1 % (nothing after N µs)' },
      });
    }
    return rows;
  } finally {
    await Promise.all(targets.map((t) => t.stop()));
  }
}
