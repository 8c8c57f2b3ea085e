/**
 * From raw rows to the result table: median over repetitions, ratio to the baseline row of the
 * same case and mode, budget verdict; plus the text table printed by `npm run bench`.
 */
import { median } from './stats.js';
import type { Budget, RawRow } from './types.js';

export interface ResultRow {
  mode: 'pinned' | 'unpinned';
  group: number;
  case: string;
  server: string;
  unit: string;
  median: number;
  p99: number | null;
  p99Unit: string | null;
  baseline: string | null;
  ratio: number | null;
  budget: string | null;
  /** true = holds, false = fails, null = no budget on this row. */
  holds: boolean | null;
  reps: number[];
  notes?: string;
}

function verdict(b: Budget | undefined, value: number, ratio: number | null): boolean | null {
  if (!b) return null;
  if (b.kind === 'ratio-min') return ratio !== null && ratio >= b.value;
  if (b.kind === 'min') return value >= b.value;
  return value <= b.value;
}

export function summarize(mode: ResultRow['mode'], raw: RawRow[]): ResultRow[] {
  const medians = new Map<string, number>();
  for (const r of raw) medians.set(`${r.case}\0${r.server}`, median(r.reps));
  return raw.map((r) => {
    const m = median(r.reps);
    const base = r.baseline !== undefined ? medians.get(`${r.case}\0${r.baseline}`) : undefined;
    const ratio = base !== undefined && base > 0 ? m / base : null;
    return {
      mode,
      group: r.group,
      case: r.case,
      server: r.server,
      unit: r.unit,
      median: m,
      p99: r.p99 ?? null,
      p99Unit: r.p99Unit ?? null,
      baseline: r.baseline ?? null,
      ratio,
      budget: r.budget?.text ?? null,
      holds: verdict(r.budget, m, ratio),
      reps: r.reps,
      ...(r.notes ? { notes: r.notes } : {}),
    };
  });
}

export function formatValue(v: number, unit: string): string {
  if (!Number.isFinite(v)) return '—';
  if (unit.endsWith('/s') && unit !== 'GB/s')
    return `${Math.round(v).toLocaleString('en-US')} ${unit}`;
  if (unit === 'GB/s') return `${v.toFixed(2)} GB/s`;
  return `${v.toFixed(1)} ${unit}`;
}

function cell(r: ResultRow): string[] {
  return [
    `${r.group}`,
    r.case,
    r.server,
    formatValue(r.median, r.unit),
    r.p99 === null ? '' : `${r.p99.toFixed(1)} ${r.p99Unit}`,
    r.ratio === null ? '' : `${r.ratio.toFixed(2)} × ${r.baseline}`,
    r.budget === null ? '' : `${r.holds ? 'ok' : 'FAIL'} (${r.budget})`,
  ];
}

const HEAD = ['#', 'case', 'server', 'median', 'p99', 'ratio', 'budget'];

/** A plain-text table (monospace), one per mode. */
export function formatTable(rows: ResultRow[]): string {
  const cells = [HEAD, ...rows.map(cell)];
  const widths = HEAD.map((_, i) => Math.max(...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c
      .map((s, i) => s.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [
    line(HEAD),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.slice(1).map(line),
  ].join('\n');
}

/** The same table as GitHub markdown. */
export function formatMarkdown(rows: ResultRow[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const out = [`| ${HEAD.join(' | ')} |`, `|${HEAD.map(() => '---').join('|')}|`];
  for (const r of rows) out.push(`| ${cell(r).map(esc).join(' | ')} |`);
  return out.join('\n');
}
