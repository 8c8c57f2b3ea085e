/**
 * `nvgrace-user trace-export IN OUT`: read an access trace (JSON lines), write it in the
 * Chrome trace-event format (src/control/chrome-trace.ts) for Perfetto's viewer.
 *
 * Rules: a missing or unreadable input is a CliError (exit 2); lines that are not trace
 * records are skipped and counted.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseTraceLines, toChromeTrace } from '../control/chrome-trace.js';
import { CliError } from './errors.js';

export function runTraceExport(
  input: string,
  output: string,
): { records: number; events: number; skipped: number } {
  let text: string;
  try {
    text = readFileSync(input, 'utf8');
  } catch (e) {
    throw new CliError('E_TRACE_READ', `cannot read ${input}: ${(e as Error).message}`);
  }
  const { records, skipped } = parseTraceLines(text);
  const trace = toChromeTrace(records);
  try {
    writeFileSync(output, JSON.stringify(trace));
  } catch (e) {
    throw new CliError('E_TRACE_WRITE', `cannot write ${output}: ${(e as Error).message}`);
  }
  return { records: records.length, events: trace.traceEvents.length, skipped };
}
