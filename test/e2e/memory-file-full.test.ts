/**
 * A full filesystem under --memory-file, over the wire: REGION_WRITE is answered ENOSPC
 * (the truth, not EIO), the session goes on, and the next client is served.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { serve } from './helpers.js';

test('REGION_WRITE to a --memory-file on a full filesystem is answered ENOSPC and the server goes on', async (t) => {
  const mnt = mkdtempSync(join(tmpdir(), 'nvgrace-e2e-full-'));
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]).status !== 0) {
    rmSync(mnt, { recursive: true, force: true });
    t.skip('needs permission to mount a small tmpfs (root)');
    return;
  }
  try {
    const s = await serve({ memoryFile: join(mnt, 'mem.bin'), memSize: 2 * 2 ** 30 });
    try {
      const c = await s.attach();
      const chunk = new Uint8Array(2 ** 20).fill(0xa5);
      let errno = 0;
      for (let i = 0; i < 8 && errno === 0; i++) {
        await c.regionWrite(4, i * 2 ** 20, chunk).catch((e: { errno?: number }) => {
          errno = e.errno ?? -1;
        });
      }
      assert.equal(errno, 28, 'ENOSPC');
      assert.equal((await c.deviceInfo()).numRegions, 9, 'the session goes on');
      c.close();
      await s.server.endpoint.idle();
      const next = await s.attach();
      assert.equal((await next.deviceInfo()).numIrqs, 5);
      next.close();
    } finally {
      await s.stop();
    }
  } finally {
    spawnSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  }
});
