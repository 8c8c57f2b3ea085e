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
  p50: number | null;
  p99: number | null;
  p99Unit: string | null;
  baseline: string | null;
  ratio: number | null;
  /** Ratios to the `also` rows that have figures. */
  others: { server: string; ratio: number }[];
  budget: string | null;
  /** true = holds, false = fails, null = no budget on this row. */
  holds: boolean | null;
  reps: number[];
  notes?: string;
}

function verdict(
  b: Budget | undefined,
  value: number,
  ratioTo: (server: string | undefined) => number | null,
): boolean | null {
  if (!b) return null;
  if (b.kind === 'ratio-min') {
    const ratio = ratioTo(b.of);
    return ratio === null ? null : ratio >= b.value;
  }
  if (b.kind === 'min') return value >= b.value;
  return value <= b.value;
}

export function summarize(mode: ResultRow['mode'], raw: RawRow[]): ResultRow[] {
  const medians = new Map<string, number>();
  for (const r of raw) medians.set(`${r.case}\0${r.server}`, median(r.reps));
  return raw.map((r) => {
    const m = median(r.reps);
    const ratioTo = (server: string | undefined): number | null => {
      const base = server !== undefined ? medians.get(`${r.case}\0${server}`) : undefined;
      return base !== undefined && base > 0 && Number.isFinite(m) ? m / base : null;
    };
    const ratio = ratioTo(r.baseline);
    const others = (r.also ?? []).flatMap((server) => {
      const x = ratioTo(server);
      return x === null ? [] : [{ server, ratio: x }];
    });
    return {
      mode,
      group: r.group,
      case: r.case,
      server: r.server,
      unit: r.unit,
      median: m,
      p50: r.p50 ?? null,
      p99: r.p99 ?? null,
      p99Unit: r.p99Unit ?? null,
      baseline: r.baseline ?? null,
      ratio,
      others,
      budget: r.budget?.text ?? null,
      holds: verdict(r.budget, m, (s) => ratioTo(s ?? r.baseline)),
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

function verdictText(r: ResultRow): string {
  if (r.budget === null) return '';
  if (r.holds === null) return `not judged: no reference figures (${r.budget})`;
  return `${r.holds ? 'ok' : 'FAIL'} (${r.budget})`;
}

function cell(r: ResultRow): string[] {
  const ratios = [
    ...(r.ratio === null ? [] : [{ server: r.baseline!, ratio: r.ratio }]),
    ...r.others,
  ];
  return [
    `${r.group}`,
    r.case,
    r.server,
    formatValue(r.median, r.unit),
    r.p50 === null ? '' : `${r.p50.toFixed(1)} ${r.p99Unit}`,
    r.p99 === null ? '' : `${r.p99.toFixed(1)} ${r.p99Unit}`,
    ratios.map((x) => `${x.ratio.toFixed(2)} × ${x.server}`).join(', '),
    verdictText(r),
    r.notes ?? '',
  ];
}

const HEAD = ['#', 'case', 'server', 'median', 'p50', 'p99', 'ratio', 'budget', 'notes'];

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
