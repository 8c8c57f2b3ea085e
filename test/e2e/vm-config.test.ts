/**
 * vm-config over real sockets: it reads what each served GPU is (as inspect does) and the
 * config follows; a socket nobody serves is a clear error, not a stack trace.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/cli/log.js';
import { startServer } from '../../src/cli/serve.js';
import { runVmConfig } from '../../src/cli/vm-config/index.js';
import { runCliAsync } from '../lifecycle/helpers.js';

/** The vm-config options both socket-reading cases use. */
const X86_TCG_JSON = {
  arch: 'x86_64',
  accel: 'tcg',
  format: 'json',
  memory: 2 ** 32,
  cpus: 2,
  timeoutMs: 5000,
} as const;
const bin = join(import.meta.dirname, '../../../bin/nvgrace-user');

/** Serve GPUs from this process in a fresh socket dir for the length of `fn`. */
async function withServed(
  opts: { profile: 'gh200' | 'gb300'; gpus: number },
  fn: (server: Awaited<ReturnType<typeof startServer>>, dir: string) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nvgrace-vmc-'));
  const server = await startServer(
    { ...opts, kernel: '6.19', socketDir: dir },
    createLogger('silent'),
    () => {},
  );
  try {
    await fn(server, dir);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('vm-config reads each served GPU over its socket', () => {
  it('two gb300 served by one process: both sockets, in order, with 1T root-port windows', async () => {
    await withServed({ profile: 'gb300', gpus: 2 }, async (server) => {
      const sockets = server.gpus.gpus.map((g) => g.socketPath!);
      const r = await runVmConfig(sockets, X86_TCG_JSON);
      const { args } = JSON.parse(r.text) as { args: string[] };
      const paths = args.filter((a) => a.startsWith('{')).map((a) => JSON.parse(a).socket.path);
      assert.deepEqual(paths, sockets);
      assert.equal(args.filter((a) => a.endsWith('pref64-reserve=1T')).length, 2);
      // The inspect connection has gone: each GPU takes its VMM next.
      for (const g of server.gpus.gpus) await g.endpoint.idle();
    });
  });

  it('a socket given relative to the working directory is named absolutely in the config', async () => {
    await withServed({ profile: 'gh200', gpus: 1 }, async (_server, dir) => {
      const r = await runCliAsync(['vm-config', '--format', 'json', 'gpu0.sock'], { cwd: dir });
      assert.equal(r.code, 0, r.stderr);
      const { args } = JSON.parse(r.stdout) as { args: string[] };
      const paths = args.filter((a) => a.startsWith('{')).map((a) => JSON.parse(a).socket.path);
      assert.deepEqual(paths, [join(dir, 'gpu0.sock')]);
    });
  });

  it('the band a server reports picks x-msg-timeout: none on 6.14 (no gate), 31 s + 5 s on 6.19', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nvgrace-vmc-'));
    const timeouts: (number | undefined)[] = [];
    try {
      for (const kernel of ['6.14', '6.19'] as const) {
        const socketPath = join(dir, `gpu-${kernel}.sock`);
        const server = await startServer(
          { profile: 'gb300', kernel, socketPath },
          createLogger('silent'),
          () => {},
        );
        try {
          const r = await runVmConfig([socketPath], X86_TCG_JSON);
          const { args } = JSON.parse(r.text) as { args: string[] };
          const dev = args.filter((a) => a.startsWith('{')).map((a) => JSON.parse(a))[0];
          timeouts.push(dev['x-msg-timeout']);
        } finally {
          await server.stop();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.deepEqual(timeouts, [undefined, 36_000]);
  });

  it('a socket nobody serves exits 2 with E_CONNECT naming it', () => {
    const r = spawnSync(process.execPath, [bin, 'vm-config', '/tmp/nvgrace-nobody.sock'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /E_CONNECT: cannot connect to \/tmp\/nvgrace-nobody\.sock/);
    assert.equal(r.stdout, '');
  });
});
