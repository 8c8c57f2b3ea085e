/**
 * What the QEMU interop tests share: finding a QEMU new enough for vfio-user-pci (or a visible
 * skip reason when there is none, as in CI), and running a guest to its end with its output
 * captured under a hard timeout (a hung guest is SIGKILLed, never left to hang the suite).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/** $NVGRACE_QEMU (or /opt/qemu's x86_64 build) if it is QEMU >= 10.1, else why the test skips. */
export function findQemu(): string | { skip: string } {
  const path = process.env.NVGRACE_QEMU ?? '/opt/qemu/bin/qemu-system-x86_64';
  if (!existsSync(path)) return { skip: `no QEMU at ${path} (set NVGRACE_QEMU to run)` };
  const m = /version (\d+)\.(\d+)/.exec(execFileSync(path, ['--version'], { encoding: 'utf8' }));
  if (!m || Number(m[1]) * 100 + Number(m[2]) < 1001)
    return { skip: `QEMU at ${path} is older than 10.1` };
  return path;
}

/** Runs argv to its exit (SIGKILLed after timeoutMs); stdout and stderr together, in order. */
export function runCaptured(
  argv: string[],
  timeoutMs: number,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}
