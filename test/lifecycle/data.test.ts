/**
 * Device memory is never lost: what one client writes is there for the next; with
 * `--memory-file` it survives a server restart and a SIGKILL of the server; a DEVICE_RESET does
 * not scrub it; a memory file of the wrong size is refused (stable code, non-zero exit) and left
 * exactly as it was.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { VfioUserClient } from '../../src/vfio-user/client/client.js';
import {
  attachClient,
  type ChildServer,
  cleanup,
  runCli,
  startChildServer,
  stopChildServer,
  tempDir,
} from './helpers.js';

const BAR2 = 2;
const BAR4 = 4;
const MEM = ['--mem-size', '4GiB'];
const pattern = (n: number) => new Uint8Array(randomBytes(n));

async function writeAll(c: VfioUserClient, spots: [number, number, Uint8Array][]): Promise<void> {
  for (const [region, offset, data] of spots) {
    assert.equal(await c.regionWrite(region, offset, data), data.length);
  }
}

async function expectAll(c: VfioUserClient, spots: [number, number, Uint8Array][], when: string) {
  for (const [region, offset, data] of spots) {
    const got = await c.regionRead(region, offset, data.length);
    assert.deepEqual(
      new Uint8Array(got),
      data,
      `region ${region} @0x${offset.toString(16)} ${when}`,
    );
  }
}

function spots(): [number, number, Uint8Array][] {
  return [
    [BAR4, 0, pattern(4096)],
    [BAR4, 0x7654321, pattern(777)],
    [BAR4, 3 * 2 ** 30 - 65536, pattern(65536)],
    [BAR2, 0x1000, pattern(512)],
  ];
}

describe('device memory across clients and resets', () => {
  let dir: string;
  let s: ChildServer;
  before(async () => {
    dir = tempDir();
    s = await startChildServer(dir, MEM);
  });
  after(async () => {
    await stopChildServer(s);
    cleanup(dir);
  });

  it('memory written by one client is there for the next', async () => {
    const data = spots();
    const a = await attachClient(s.socketPath);
    await writeAll(a, data);
    a.close();
    const b = await attachClient(s.socketPath);
    await expectAll(b, data, 'for the next client');
    b.close();
  });

  it('DEVICE_RESET does not scrub device memory', async () => {
    const data = spots();
    const c = await attachClient(s.socketPath);
    await writeAll(c, data);
    await c.reset();
    await expectAll(c, data, 'after DEVICE_RESET');
    c.close();
  });
});

describe('--memory-file', () => {
  it('keeps device memory across a server restart and a SIGKILL of the server', async () => {
    const dir = tempDir();
    const file = join(dir, 'gpu.mem');
    const args = [...MEM, '--memory-file', file];
    try {
      const data = spots();
      let s = await startChildServer(dir, args);
      let c = await attachClient(s.socketPath);
      await writeAll(c, data);
      c.close();
      assert.deepEqual(await stopChildServer(s), { code: 0, signal: null });
      assert.equal(statSync(file).size, 4 * 2 ** 30);

      s = await startChildServer(dir, args);
      c = await attachClient(s.socketPath);
      await expectAll(c, data, 'after a restart');
      const more = spots();
      await writeAll(c, more);
      // Killed without any chance to flush or clean up (the stale socket stays behind).
      s.kill('SIGKILL');
      assert.equal((await s.exited).signal, 'SIGKILL');
      c.close();

      s = await startChildServer(dir, args);
      c = await attachClient(s.socketPath);
      await expectAll(c, more, 'after a SIGKILL of the server');
      c.close();
      await stopChildServer(s);
    } finally {
      cleanup(dir);
    }
  });

  it('a memory file of the wrong size is refused with E_MEMFILE_SIZE and left untouched', async () => {
    const dir = tempDir();
    const file = join(dir, 'gpu.mem');
    try {
      const content = pattern(12345);
      writeFileSync(file, content);
      const s = runCli([
        'serve',
        '--socket-path',
        join(dir, 'gpu.sock'),
        '--log-level',
        'silent',
        ...MEM,
        '--memory-file',
        file,
      ]);
      const exit = await s.exited;
      assert.notEqual(exit.code, 0);
      assert.equal(exit.code, 2);
      assert.match(s.stderr(), /E_MEMFILE_SIZE/);
      assert.match(s.stderr(), /12345/);
      assert.equal(statSync(file).size, 12345, 'the file was resized');
    } finally {
      cleanup(dir);
    }
  });
});
