/**
 * serve --gpus N --socket-dir DIR: N independent GPUs in one process. Each has its own
 * memory, its own one-client-at-a-time endpoint and its own reset: what one VMM does to its
 * GPU never shows on another.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gpuSocketPath } from '../../src/cli/gpu-set.js';
import { createLogger } from '../../src/cli/log.js';
import { type RunningServer, startServer } from '../../src/cli/serve.js';
import { VfioUserClient } from '../../src/vfio-user/client/client.js';
import { connectUnix, listenUnix } from '../../src/vfio-user/transport/index.js';
import { closeFd, le32, u32 } from './helpers.js';

const bin = join(import.meta.dirname, '../../../bin/nvgrace-user');

async function attach(path: string): Promise<VfioUserClient> {
  const c = new VfioUserClient(await connectUnix(path), { closeFd, timeoutMs: 5000 });
  await c.version();
  return c;
}

describe('serve --gpus 3 --socket-dir: independent GPUs in one process', () => {
  let dir: string;
  let server: RunningServer;
  let banner = '';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nvgrace-set-'));
    server = await startServer(
      {
        profile: 'gh200',
        kernel: '6.19',
        gpus: 3,
        socketDir: join(dir, 'gpus'),
      },
      createLogger('silent'),
      (s) => {
        banner += s;
      },
    );
  });
  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens on DIR/gpu0.sock … DIR/gpu2.sock and the banner lists every GPU', () => {
    assert.equal(server.gpus.size, 3);
    for (let i = 0; i < 3; i++) {
      const path = gpuSocketPath(join(dir, 'gpus'), i);
      assert.equal(server.gpus.at(i).socketPath, path);
      assert.ok(existsSync(path), path);
      assert.match(banner, new RegExp(`gpu${i}: ${path}, device memory 96 GiB`));
    }
    assert.match(banner, /serving 3 × GH200/);
    assert.match(banner, /nvgrace-user vm-config \S+gpu0\.sock \S+gpu1\.sock \S+gpu2\.sock/);
  });

  it('addressing a GPU outside 0..N-1 is a RangeError naming the range', () => {
    assert.throws(() => server.gpus.at(3), /no GPU 3: this server has GPUs 0\.\.2/);
    assert.throws(() => server.gpus.at(-1), RangeError);
  });

  it('each GPU takes its own client at once, and memory written on one is not on another', async () => {
    const paths = server.gpus.gpus.map((g) => g.socketPath!);
    const clients = await Promise.all(paths.map(attach));
    try {
      for (const [i, c] of clients.entries()) await c.regionWrite(4, 0x1000, le32(0xa0 + i));
      for (const [i, c] of clients.entries())
        assert.equal(u32(await c.regionRead(4, 0x1000, 4)), 0xa0 + i, `gpu${i} keeps its own`);
      for (const g of server.gpus.gpus) assert.equal(g.endpoint.served, 1);
    } finally {
      for (const c of clients) c.close();
      await Promise.all(server.gpus.gpus.map((g) => g.endpoint.idle()));
    }
  });

  it('a reset of one GPU and a client dying on another leave the third GPU serving', async () => {
    const [c0, c1, c2] = await Promise.all(server.gpus.gpus.map((g) => attach(g.socketPath!)));
    try {
      await c2!.regionWrite(4, 0x2000, le32(0x5eed));
      await c0!.reset();
      assert.equal(server.gpus.at(2).endpoint.attached, true);
      assert.equal(u32(await c2!.regionRead(4, 0x2000, 4)), 0x5eed);
      assert.equal(u32(await c0!.regionRead(4, 0x1000, 4)), 0xa0, 'gpu0 memory survives its reset');
      c1!.close();
      await server.gpus.at(1).endpoint.idle();
      assert.equal(server.gpus.at(2).endpoint.attached, true);
      assert.equal(u32(await c2!.regionRead(4, 0x2000, 4)), 0x5eed);
      // And GPU 1 takes its next client.
      const again = await attach(server.gpus.at(1).socketPath!);
      assert.equal(u32(await again.regionRead(4, 0x1000, 4)), 0xa1, 'gpu1 memory survives');
      again.close();
    } finally {
      for (const c of [c0, c1, c2]) c!.close();
      await Promise.all(server.gpus.gpus.map((g) => g.endpoint.idle()));
    }
  });
});

describe('serve --gpus start-up is all or nothing', () => {
  it('a GPU whose socket a live server holds fails the start and the GPUs before it are stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nvgrace-set-'));
    const holder = listenUnix(gpuSocketPath(dir, 1));
    try {
      await assert.rejects(
        startServer(
          { profile: 'gh200', kernel: '6.19', gpus: 2, socketDir: dir },
          createLogger('silent'),
          () => {},
        ),
      );
      assert.equal(existsSync(gpuSocketPath(dir, 0)), false, 'gpu0.sock removed again');
    } finally {
      holder.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('serve --gpus usage errors exit 2 with E_USAGE', () => {
  const run = (args: string[]) =>
    spawnSync(process.execPath, [bin, 'serve', ...args], { encoding: 'utf8', timeout: 30_000 });
  it('--gpus 2 with --socket-path is refused: one path cannot hold two GPUs', () => {
    const r = run(['--gpus', '2', '--socket-path', '/tmp/never-gpus.sock']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /E_USAGE: --gpus N with N > 1 needs --socket-dir/);
  });
  it('--gpus 0 is refused', () => {
    const r = run(['--gpus', '0', '--socket-dir', '/tmp/never-gpus']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /E_USAGE: --gpus must be 1\.\.64/);
  });
  it('--memory-file with --gpus 2 is refused: the file holds one GPU', () => {
    const r = run(['--gpus', '2', '--socket-dir', '/tmp/never-gpus', '--memory-file', '/tmp/x']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /E_USAGE: --memory-file holds one GPU/);
  });
});
