/**
 * What a benchmark case reports (raw rows, one per case × server) and the budgets the issue
 * sets. The runner turns raw rows into the table: median over repetitions, ratio to the
 * baseline row of the same case, budget verdict.
 */

export type Budget =
  /**
   * median ≥ value × the median of the row named `of` (default: the baseline, e.g. 'floor'
   * or 'memcpy'); not judged (null) when that row has no figures.
   */
  | { kind: 'ratio-min'; value: number; of?: string; text: string }
  /** median ≥ value (in the row's unit). */
  | { kind: 'min'; value: number; text: string }
  /** median ≤ value (in the row's unit). */
  | { kind: 'max'; value: number; text: string };

export interface RawRow {
  /** Issue case number (1..7). */
  group: number;
  /** What is measured, e.g. 'config read 4 B'. */
  case: string;
  /** Who answered: 'nvgrace-user', 'floor', 'memcpy', 'nvgrace-user 512GiB', … */
  server: string;
  unit: string;
  /** One value per repetition. */
  reps: number[];
  /** Median and 99th percentile of the per-operation latency over all repetitions. */
  p50?: number;
  p99?: number;
  p99Unit?: string;
  /** The `server` of the row in the same case this one is compared with. */
  baseline?: string;
  /** Further rows of the same case this one is also compared with (e.g. 'libvfio-user'). */
  also?: string[];
  budget?: Budget;
  notes?: string;
}

export interface CaseSpec {
  /** 'native' | 'trace' | 'poll' | 'mapped' | 'startup' | 'irq' */
  name: string;
  /** Which run this is (budgets may differ: pinned vs unpinned). */
  mode?: 'pinned' | 'unpinned';
  reps: number;
  /** Length of one timed repetition window, ms. */
  windowMs: number;
  /**
   * What plays "the server": the real one; the floor again (checks the harness alone); or
   * the real protocol stack over a stub device (bench/stack-server.ts, for profiling).
   */
  against: 'server' | 'floor' | 'stack';
  /** Extra `serve` flags for our server (e.g. ['--poll-us', '50']). */
  serverArgs?: string[];
}

export interface CaseContext {
  spec: CaseSpec;
  /** Who plays the server (see `against`). */
  server: import('./targets.js').TargetSpec;
  floor: import('./targets.js').TargetSpec;
}

/**
 * Repetitions for cases where each one moves a GiB (mapped copies, start-up writes): at most
 * 5, the minimum, so a full run stays under 6 minutes on 2 CPUs.
 */
export function heavyReps(spec: CaseSpec): number {
  return Math.min(spec.reps, 5);
}
