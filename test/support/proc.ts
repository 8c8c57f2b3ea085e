/**
 * What /proc says about a process: open fds, resident set, CPU used, and a bounded wait for it
 * to go quiet. Shared by the fuzzer's leak checks and the lifecycle tests.
 */
import { readdirSync, readFileSync } from 'node:fs';

export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Resident set size in bytes. */
export function rss(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** CPU ticks (user + system) the process has used. */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

/**
 * Wait until the process has used no CPU for `quietMs`, at most `maxMs`; true if it went
 * quiet (callers decide whether a busy process is an error).
 */
export async function waitQuiet(pid: number, quietMs: number, maxMs: number): Promise<boolean> {
  const end = Date.now() + maxMs;
  let last = cpuTicks(pid);
  let since = Date.now();
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    const now = cpuTicks(pid);
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return true;
  }
  return false;
}
