/**
 * Lifecycle helpers: the real CLI server as a child process (`bin/nvgrace-user serve`) in a
 * fresh temp dir, its open fds and resident set read from /proc, and clients that retry while
 * the server still holds the previous one.
 *
 * Rules: every wait is bounded (hang guards, not speed assertions); `stop()` ends only the
 * child it started (by pid) and removes the temp dir.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { native } from '../../src/native/addon.js';
import { VfioUserClient } from '../../src/vfio-user/client/client.js';
import { connectUnix, probeSocketPath } from '../../src/vfio-user/transport/index.js';
import { waitQuiet } from '../support/proc.js';

export const BIN = fileURLToPath(new URL('../../../bin/nvgrace-user', import.meta.url));
export const closeFd = (fd: number) => native().closeFd(fd);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildServer {
  child: ChildProcess;
  pid: number;
  socketPath: string;
  dir: string;
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
  /** Null while running. */
  exit: Exit | null;
  kill(signal: NodeJS.Signals): void;
}

/** A temp dir for one test file; remove it with rmSync when done. */
export function tempDir(prefix = 'nvgrace-life-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface RunOptions {
  /** Run under this open-file limit (soft = hard; `ulimit -n` in a shell that execs node). */
  nofile?: number;
}

/** Run the CLI with `args` (no waiting for anything). */
export function runCli(args: string[], opts: RunOptions = {}): ChildServer {
  const child =
    opts.nofile === undefined
      ? spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(
          'sh',
          ['-c', `ulimit -n ${opts.nofile} && exec "$0" "$@"`, process.execPath, BIN, ...args],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const s: ChildServer = {
    child,
    pid: child.pid!,
    socketPath: '',
    dir: '',
    stdout: () => out,
    stderr: () => err,
    exit: null,
    exited: new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        s.exit = { code, signal };
        resolve(s.exit);
      });
    }),
    kill(signal) {
      if (s.exit === null) child.kill(signal);
    },
  };
  return s;
}

/**
 * Run the CLI to its end without blocking this process (a server in this process must keep
 * answering meanwhile), collecting its output.
 */
export function runCliAsync(
  args: string[],
  opts: { cwd?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  return new Promise((r) => child.on('exit', (code) => r({ code, stdout, stderr })));
}

/** Start `serve` on `<dir>/gpu.sock` and wait until it listens. */
export async function startChildServer(
  dir: string,
  extra: string[] = [],
  name = 'gpu.sock',
  opts: RunOptions = {},
): Promise<ChildServer> {
  const socketPath = join(dir, name);
  const s = runCli(['serve', '--socket-path', socketPath, '--log-level', 'silent', ...extra], opts);
  s.socketPath = socketPath;
  s.dir = dir;
  const end = Date.now() + 15000;
  while (probeSocketPath(socketPath) !== 'live') {
    if (s.exit) throw new Error(`server exited early (${JSON.stringify(s.exit)}): ${s.stderr()}`);
    if (Date.now() > end) {
      s.kill('SIGKILL');
      throw new Error(`server did not listen in time: ${s.stderr()}`);
    }
    await sleep(20);
  }
  return s;
}

/** Stop a child server (SIGTERM, then SIGKILL if it lingers) and wait for it. */
export async function stopChildServer(s: ChildServer): Promise<Exit> {
  if (s.exit) return s.exit;
  s.kill('SIGTERM');
  const t = setTimeout(() => s.kill('SIGKILL'), 10000);
  const e = await s.exited;
  clearTimeout(t);
  return e;
}

export { cpuTicks, fdCount, rss } from '../support/proc.js';

/** Wait until the process has used no CPU for `quietMs` (bounded by `maxMs`). */
export async function untilQuiet(pid: number, quietMs = 300, maxMs = 15000): Promise<void> {
  if (!(await waitQuiet(pid, quietMs, maxMs))) throw new Error(`process ${pid} never went quiet`);
}

/** Wait until `cond()` holds (bounded). */
export async function until(cond: () => boolean, what: string, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * A VfioUserClient that has negotiated VERSION, retrying while the server still holds the
 * previous client (it refuses a second one by closing at once).
 */
export async function attachClient(path: string, attempts = 300): Promise<VfioUserClient> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      const c = new VfioUserClient(await connectUnix(path), { closeFd, timeoutMs: 5000 });
      try {
        await c.version();
        return c;
      } catch (e) {
        c.close();
        last = e;
      }
    } catch (e) {
      last = e;
    }
    await sleep(10);
  }
  throw new Error(`could not attach to ${path}: ${(last as Error)?.message}`);
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * One child server for the tests of the enclosing describe: started (in a fresh temp dir) before
 * the first, stopped and its dir removed after the last. Returns a getter, valid inside tests.
 */
export function sharedChildServer(): () => ChildServer {
  let dir: string | undefined;
  let s: ChildServer | undefined;
  before(async () => {
    dir = tempDir();
    s = await startChildServer(dir);
  });
  after(async () => {
    if (s) await stopChildServer(s);
    if (dir) cleanup(dir);
  });
  return () => {
    if (!s) throw new Error('sharedChildServer() is used only inside its tests');
    return s;
  };
}
