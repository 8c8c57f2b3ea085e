/**
 * 1,000 connect / negotiate / disconnect cycles against the real server process: its open fd
 * count comes back to where it started and its resident set does not grow beyond noise.
 * Figures are printed (test diagnostics) so a slow creep is visible before it is a failure.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attachWithRetry } from '../support/raw-peer.js';
import { fdCount, rss, sharedChildServer, untilQuiet } from './helpers.js';

const CYCLES = 1000;
const MiB = 2 ** 20;
/** Generous: a leak of even 32 KiB per cycle would pass 31 MiB. */
const RSS_BOUND = 48 * MiB;

async function cycle(path: string): Promise<number> {
  const { peer, retries } = await attachWithRetry(path);
  peer.close();
  return retries;
}

describe(`${CYCLES} connect/negotiate/disconnect cycles`, () => {
  const server = sharedChildServer();

  it('leave the server with the same open fds and a bounded resident set', async (t) => {
    const s = server();
    // Warm up (JIT, allocator pools) before taking the baseline.
    for (let i = 0; i < 50; i++) await cycle(s.socketPath);
    // Measure only when the server is idle (the last hangup handled).
    await untilQuiet(s.pid, 200);
    const fd0 = fdCount(s.pid);
    const rss0 = rss(s.pid);
    const start = process.hrtime.bigint();
    let retries = 0;
    for (let i = 0; i < CYCLES; i++) retries += await cycle(s.socketPath);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    await untilQuiet(s.pid, 200);
    const fd1 = fdCount(s.pid);
    const rss1 = rss(s.pid);
    t.diagnostic(
      `${CYCLES} cycles in ${ms.toFixed(0)} ms (${retries} refused while the previous client detached); ` +
        `server fds ${fd0} → ${fd1}; RSS ${(rss0 / MiB).toFixed(1)} → ${(rss1 / MiB).toFixed(1)} MiB`,
    );
    assert.equal(fd1, fd0, 'server fd count grew');
    assert.ok(
      rss1 - rss0 < RSS_BOUND,
      `server RSS grew by ${((rss1 - rss0) / MiB).toFixed(1)} MiB`,
    );
    assert.equal(s.exit, null, 'server still running');
  });
});
