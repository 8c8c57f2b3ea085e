/**
 * The processes a benchmark talks to: the real server (`bin/nvgrace-user serve`), the Node
 * floor (`dist/bench/floor.js`), the C floor (build/Release/nvgrace-bench-floor) and
 * libvfio-user's gpio-pci-idio-16 sample (when NVGRACE_BENCH_LVU names one), each spawned as a
 * separate process on its own socket, plus the client side of a connection to one of them.
 *
 * Rules: a child inherits the driver's CPU affinity (the runner pins the driver with taskset,
 * so a pinned run has every process on the same CPU); a target that dies before answering is
 * an error carrying its stderr; every spawned target is killed when the driver exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { native } from '../../src/native/addon.js';
import { VfioUserClient } from '../../src/vfio-user/client/client.js';
import { connectUnix } from '../../src/vfio-user/transport/unix-socket.js';

/** The package root (holds package.json), from dist/bench/lib/. */
export const ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
})();

export interface TargetSpec {
  /** 'nvgrace-user' or 'floor' (or a variant name such as 'nvgrace-user 512GiB'). */
  name: string;
  kind: 'server' | 'floor' | 'stack' | 'cfloor' | 'lvu';
  /** Extra server flags, e.g. ['--mem-size', '512GiB']. */
  args?: string[];
}

export interface Target {
  spec: TargetSpec;
  proc: ChildProcess;
  socketPath: string;
  /** Milliseconds from spawn() to the spawn call returning (for start-up timing). */
  spawnedAt: number;
  stderr(): string;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

let tmp: string | null = null;
let counter = 0;
function socketPath(): string {
  if (!tmp) {
    tmp = mkdtempSync(join(tmpdir(), 'nvgrace-bench-'));
    const dir = tmp;
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return join(tmp, `s${counter++}.sock`);
}

/** A program built from bench/native/ by `npm ci` (binding.gyp), or a clear error. */
export function nativeProgram(name: 'nvgrace-bench-client' | 'nvgrace-bench-floor'): string {
  const path = join(ROOT, 'build', 'Release', name);
  if (!existsSync(path)) throw new Error(`${path} is missing: run npm ci (or npm run install)`);
  return path;
}

/** The libvfio-user sample to compare with (NVGRACE_BENCH_LVU), or null when not set. */
export function lvuProgram(): string | null {
  const p = process.env.NVGRACE_BENCH_LVU;
  return p && p.length > 0 ? p : null;
}

/** The full argv (program first) that starts a target listening on `path`. */
export function commandFor(spec: TargetSpec, path: string): string[] {
  if (spec.kind === 'cfloor') return [nativeProgram('nvgrace-bench-floor'), path];
  if (spec.kind === 'lvu') {
    const lvu = lvuProgram();
    if (!lvu) throw new Error('NVGRACE_BENCH_LVU is not set');
    return [lvu, path];
  }
  // BENCH_TARGET_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the Node targets.
  const node = [
    process.execPath,
    ...(process.env.BENCH_TARGET_NODE_ARGS ?? '').split(' ').filter(Boolean),
  ];
  if (spec.kind === 'floor')
    return [...node, join(ROOT, 'dist', 'bench', 'floor.js'), '--socket-path', path];
  if (spec.kind === 'stack')
    return [...node, join(ROOT, 'dist', 'bench', 'stack-server.js'), '--socket-path', path];
  return [
    ...node,
    join(ROOT, 'bin', 'nvgrace-user'),
    'serve',
    '--socket-path',
    path,
    '--log-level',
    'silent',
    ...(spec.args ?? []),
  ];
}

export function spawnTarget(spec: TargetSpec): Target {
  const path = socketPath();
  const spawnedAt = performance.now();
  const argv = commandFor(spec, path);
  const proc = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(proc);
  return watchTarget(spec, proc, path, spawnedAt, () => live.delete(proc));
}

/**
 * A Target over a server process already spawned (stderr piped): keeps the first 8 KiB of its
 * stderr; stop() is SIGTERM, SIGKILL after 3 s, then waits for the exit (and calls onStopped).
 */
export function watchTarget(
  spec: TargetSpec,
  proc: ChildProcess,
  path: string,
  spawnedAt: number,
  onStopped?: () => void,
): Target {
  let err = '';
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (s: string) => {
    if (err.length < 8192) err += s;
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return {
    spec,
    proc,
    socketPath: path,
    spawnedAt,
    stderr: () => err,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
      onStopped?.();
    },
  };
}

/** Connect (retrying every millisecond until the socket accepts) and negotiate VERSION. */
export async function connectClient(t: Target, timeoutMs = 10000): Promise<VfioUserClient> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (t.proc.exitCode !== null || t.proc.signalCode !== null) {
      throw new Error(`${t.spec.name} exited before accepting:\n${t.stderr()}`);
    }
    try {
      const conn = await connectUnix(t.socketPath);
      const client = new VfioUserClient(conn, {
        closeFd: (fd) => native().closeFd(fd),
        timeoutMs: 30000,
      });
      await client.version();
      return client;
    } catch (e) {
      if (performance.now() > deadline) {
        throw new Error(
          `${t.spec.name}: no connection in ${timeoutMs} ms (${(e as Error).message})`,
        );
      }
      await new Promise((r) => setTimeout(r, 1));
    }
  }
}

/** Fields of /proc/<pid>/status in bytes (VmRSS, RssAnon, RssFile, RssShmem, VmHWM). */
export function procMemory(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  for (const key of ['VmRSS', 'RssAnon', 'RssFile', 'RssShmem', 'VmHWM']) {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    if (m) out[key] = Number(m[1]) * 1024;
  }
  return out;
}

/**
 * Bytes actually allocated (st_blocks × 512) of every memfd the process holds open: the
 * device memory lives there, shared, and is not part of the server's RSS until it maps it.
 */
export function memfdAllocated(pid: number): { name: string; size: number; allocated: number }[] {
  const out: { name: string; size: number; allocated: number }[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let link: string;
    try {
      link = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    if (!link.startsWith('/memfd:')) continue;
    const st = statSync(`/proc/${pid}/fd/${fd}`);
    out.push({ name: link, size: st.size, allocated: st.blocks * 512 });
  }
  return out;
}
