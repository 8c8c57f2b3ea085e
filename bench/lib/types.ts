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
  /** Compare floor against floor (harness check while the server does not build). */
  floorOnly: boolean;
}

export interface CaseContext {
  spec: CaseSpec;
  /** The real server's target spec, or the floor when `floorOnly`. */
  server: import('./targets.js').TargetSpec;
  floor: import('./targets.js').TargetSpec;
}
