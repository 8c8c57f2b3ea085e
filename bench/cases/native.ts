/**
 * Cases 1–4 through the native client (bench/native/client.c), so the client is never the
 * bottleneck: 4-byte config and BAR0 register reads, BAR4 small reads, posted writes, and
 * 1 MiB REGION_READ/WRITE, each against our server, the C floor (the machine's round trip),
 * libvfio-user's gpio-pci-idio-16 sample when NVGRACE_BENCH_LVU names one, and for the
 * register cases the Node floor too (what Node and our transport cost by themselves). One client process per case holds a connection to every
 * target and interleaves their windows.
 *
 * Rules: each target is asked for the equivalent region — libvfio-user's sample has a config
 * space (region 7) and one 256-byte BAR2 register block, so its "BAR register" is BAR2
 * offset 0 and it has no region large enough for the 1 MiB or BAR4 cases (rows say so).
 * Budgets (issue 10): 4-byte config and BAR0 reads ≥ 0.9 × libvfio-user pinned, ≥ 1.0 ×
 * unpinned — there with `serve --poll-us`, as the issue allows: unpinned, every round trip
 * is a wake-up of a sleeping process on the other CPU, and only a polling server avoids it;
 * so unpinned runs add our server with --poll-us POLL_US beside the default and judge that
 * row, for the posted writes too (each batch meets a sleeping server). Posted writes and
 * 1 MiB transfers ≥ 1.0 × libvfio-user.
 */
import { runClient } from '../lib/native-client.js';
import { lvuProgram, spawnTarget, type Target } from '../lib/targets.js';
import type { Budget, CaseContext, RawRow } from '../lib/types.js';
import { POLL_US } from './poll.js';

export const LVU = 'libvfio-user';
export const C_FLOOR = 'C floor';
const NODE_FLOOR = 'floor';
/** Accesses up to this many bytes are "small messages" (register-sized). */
const SMALL = 8;
/** Posted writes per flushing read. */
const BATCH = 256;

type Who = 'ours' | 'poll' | 'cfloor' | 'floor' | 'lvu';
/** Where each target is accessed: [region, offset]; a target left out has no equivalent. */
type Where = Partial<Record<Who, [number, number]>>;

interface Variant {
  group: number;
  case: string;
  unit: string;
  op: 'read' | 'write' | 'posted';
  count: number;
  prefill?: boolean;
  where: Where;
  /** Budget against libvfio-user, by mode. */
  lvuBudget?: { pinned: number; unpinned: number };
  /** Said in the libvfio-user row when the sample has no equivalent. */
  lvuMissing?: string;
  /** What limits our figure, from the profile (docs/performance.md), said in our row. */
  limit: string;
}

const CONFIG = 7;
const BAR0 = 0;
const BAR2 = 2;
const BAR4 = 4;
const NO_BAR4 = 'gpio-pci-idio-16 has no memory BAR (its only BAR is 256 bytes of registers)';

/** What limits a small register round trip (from the profile, docs/performance.md). */
const NODE_REQUEST_LIMIT =
  'limit: user space, ~9k instructions per request (V8 entry, JIT code, builtins) vs ~2k in libvfio-user; same 3 syscalls and kernel time (docs/performance.md)';

const VARIANTS: Variant[] = [
  {
    group: 1,
    case: 'config read 4 B',
    unit: 'round trips/s',
    op: 'read',
    count: 4,
    where: { ours: [CONFIG, 0], cfloor: [CONFIG, 0], floor: [CONFIG, 0], lvu: [CONFIG, 0] },
    lvuBudget: { pinned: 0.9, unpinned: 1.0 },
    limit: NODE_REQUEST_LIMIT,
  },
  {
    group: 2,
    case: 'BAR0 register read 4 B (libvfio-user: BAR2)',
    unit: 'reads/s',
    op: 'read',
    count: 4,
    where: { ours: [BAR0, 0], cfloor: [BAR0, 0], floor: [BAR0, 0], lvu: [BAR2, 0] },
    lvuBudget: { pinned: 0.9, unpinned: 1.0 },
    limit: NODE_REQUEST_LIMIT,
  },
  {
    group: 2,
    case: 'BAR4 read 4 B (written page)',
    unit: 'reads/s',
    op: 'read',
    count: 4,
    prefill: true,
    where: { ours: [BAR4, 0x1000], cfloor: [BAR4, 0x1000] },
    lvuMissing: NO_BAR4,
    limit: 'limit: as config reads, plus a memcpy from the mapped memfd',
  },
  {
    group: 2,
    case: 'BAR4 read 4 B (never written)',
    unit: 'reads/s',
    op: 'read',
    count: 4,
    where: { ours: [BAR4, 0x4000_0000], cfloor: [BAR4, 0x2000] },
    lvuMissing: NO_BAR4,
    limit:
      'limit: as config reads, plus one pread (a hole read through the mapping would allocate it)',
  },
  {
    group: 3,
    case: `posted register write 4 B (+1 read per ${BATCH})`,
    unit: 'writes/s',
    op: 'posted',
    count: 4,
    where: { ours: [BAR0, 0x100], cfloor: [BAR0, 0x100], floor: [BAR0, 0x100], lvu: [BAR2, 0] },
    lvuBudget: { pinned: 1.0, unpinned: 1.0 },
    limit: 'limit: per-message JS (no reply, many messages per read)',
  },
  {
    group: 4,
    case: 'BAR4 write 1 MiB',
    unit: 'writes/s',
    op: 'write',
    count: 1 << 20,
    where: { ours: [BAR4, 0], cfloor: [BAR4, 0] },
    lvuBudget: { pinned: 1.0, unpinned: 1.0 },
    lvuMissing: NO_BAR4,
    limit:
      'limit: one copy out of the socket into the reader store, one into device memory (the C floor drops the data)',
  },
  {
    group: 4,
    case: 'BAR4 read 1 MiB',
    unit: 'reads/s',
    op: 'read',
    count: 1 << 20,
    where: { ours: [BAR4, 0], cfloor: [BAR4, 0] },
    lvuBudget: { pinned: 1.0, unpinned: 1.0 },
    lvuMissing: NO_BAR4,
    limit: 'limit: one copy, device memory into the socket (reply sent in place)',
  },
];

export async function runNative(ctx: CaseContext): Promise<RawRow[]> {
  const lvu = lvuProgram();
  const mode = ctx.spec.mode ?? 'pinned';
  // Unpinned, the real server is also run polling (its unpinned budget allows --poll-us),
  // unless every target of ours already polls (bench --poll-us).
  const withPoll =
    mode === 'unpinned' && ctx.server.kind === 'server' && !ctx.server.args?.includes('--poll-us');
  const pollArgs = ['--poll-us', String(POLL_US)];
  const names: Record<Who, string> = {
    ours: ctx.server.name,
    poll: `${ctx.server.name} --poll-us ${POLL_US}`,
    cfloor: C_FLOOR,
    floor: NODE_FLOOR,
    lvu: LVU,
  };
  const kinds: Who[] = [
    'cfloor',
    'floor',
    'ours',
    ...(withPoll ? (['poll'] as const) : []),
    ...(lvu ? (['lvu'] as const) : []),
  ];
  const targets = new Map<Who, Target>();
  try {
    for (const who of kinds) {
      const spec =
        who === 'ours'
          ? ctx.server
          : who === 'poll'
            ? { ...ctx.server, name: names.poll, args: [...(ctx.server.args ?? []), ...pollArgs] }
            : {
                name: names[who],
                kind: who === 'lvu' ? 'lvu' : who === 'cfloor' ? 'cfloor' : 'floor',
              };
      targets.set(who, spawnTarget(spec as Parameters<typeof spawnTarget>[0]));
    }
    const rows: RawRow[] = [];
    for (const v of VARIANTS) {
      // Unpinned small messages are judged on the polling server, which runs only for them.
      const small = v.lvuBudget !== undefined && v.count <= SMALL;
      const present = kinds.filter((k) => (k === 'poll' ? small && v.where.ours : v.where[k]));
      const args = [
        '--op',
        v.op,
        '--count',
        String(v.count),
        '--batch',
        String(BATCH),
        '--reps',
        String(ctx.spec.reps),
        '--window-ms',
        String(ctx.spec.windowMs),
        ...(v.prefill ? ['--prefill'] : []),
        ...present.map((k) => {
          const [region, offset] = v.where[k === 'poll' ? 'ours' : k]!;
          return `${names[k]}=${targets.get(k)!.socketPath},${region},${offset}`;
        }),
      ];
      const res = await runClient(args);
      const perUnit = v.op === 'posted' ? 'µs/write' : 'µs';
      const judged = withPoll && small ? names.poll : names.ours;
      for (const t of res.targets) {
        const ours = t.name === names.ours || t.name === names.poll;
        const budget: Budget | undefined =
          t.name === judged && v.lvuBudget
            ? {
                kind: 'ratio-min',
                value: v.lvuBudget[mode],
                of: LVU,
                text: `≥ ${v.lvuBudget[mode].toFixed(1)} × ${LVU}${t.name === names.poll ? ' (with --poll-us)' : ''}`,
              }
            : undefined;
        rows.push({
          group: v.group,
          case: v.case,
          server: t.name,
          unit: v.unit,
          reps: t.reps,
          p50: t.p50,
          p99: t.p99,
          p99Unit: perUnit,
          ...(ours ? { baseline: C_FLOOR, also: [NODE_FLOOR, LVU], notes: v.limit } : {}),
          ...(budget ? { budget } : {}),
        });
      }
      if (!lvu || v.lvuMissing) {
        rows.push({
          group: v.group,
          case: v.case,
          server: LVU,
          unit: v.unit,
          reps: [],
          notes: v.lvuMissing ?? 'not run: set NVGRACE_BENCH_LVU to its gpio-pci-idio-16',
        });
      }
    }
    return rows;
  } finally {
    await Promise.all([...targets.values()].map((t) => t.stop()));
  }
}
