/**
 * What a benchmark case reports (raw rows, one per case × server) and the budgets the issue
 * sets. The runner turns raw rows into the table: median over repetitions, ratio to the
 * baseline row of the same case, budget verdict.
 */

export type Budget =
  /** median ≥ value × the baseline's median (baseline: 'floor' or 'memcpy'). */
  | { kind: 'ratio-min'; value: number; text: string }
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
  /** 99th percentile of the per-operation latency over all repetitions, if recorded. */
  p99?: number;
  p99Unit?: string;
  /** The `server` of the row in the same case this one is compared with. */
  baseline?: string;
  budget?: Budget;
  notes?: string;
}

export interface CaseSpec {
  /** 'small' | 'posted' | 'bulk' | 'mapped' | 'startup' | 'irq' */
  name: string;
  reps: number;
  /** Length of one timed repetition window, ms. */
  windowMs: number;
  /**
   * What plays "the server": the real one; the floor again (checks the harness alone); or
   * the real protocol stack over a stub device (bench/stack-server.ts, for profiling).
   */
  against: 'server' | 'floor' | 'stack';
}

export interface CaseContext {
  spec: CaseSpec;
  /** Who plays the server (see `against`). */
  server: import('./targets.js').TargetSpec;
  floor: import('./targets.js').TargetSpec;
}
