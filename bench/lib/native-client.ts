/**
 * Running the native benchmark client (bench/native/client.c) from a case: its argv in, its
 * one JSON line out. `onResult` sees the result as soon as it is printed — before the client
 * exits, which matters with --linger-ms (the client then stays connected, idle).
 */
import { spawn } from 'node:child_process';
import { nativeProgram } from './targets.js';

export interface ClientTarget {
  name: string;
  reps: number[];
  p50: number;
  p99: number;
  /** Timed operations, and all operations including the warm-up. */
  ops: number;
  allOps: number;
}

export interface ClientResult {
  targets: ClientTarget[];
}

export function runClient(
  args: string[],
  onResult?: (r: ClientResult) => void,
): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(nativeProgram('nvgrace-bench-client'), args, {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let result: ClientResult | null = null;
    p.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      if (!result && out.includes('\n')) {
        try {
          result = JSON.parse(out.slice(0, out.indexOf('\n'))) as ClientResult;
          onResult?.(result);
        } catch {
          // Reported at exit.
        }
      }
    });
    p.stderr.setEncoding('utf8').on('data', (s: string) => {
      err += s;
    });
    p.on('error', reject);
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`native client failed (exit ${code}): ${err}`));
      if (!result) return reject(new Error(`native client printed no JSON result:\n${out}`));
      resolve(result);
    });
  });
}
