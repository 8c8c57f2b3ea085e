/**
 * Interop with libvfio-user's sample client (`samples/client`): it negotiates VERSION,
 * expects EINVAL for a bogus region, requires 9 regions, then reads region infos and
 * asserts its own sample device's shape (an fd only on BAR1) — so against our device it
 * stops with that assertion at BAR2, after checking everything before it.
 *
 * Skips unless the client is present ($NVGRACE_LVU_CLIENT or /opt/libvfio-user/client).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { serve } from '../e2e/helpers.js';

const client = process.env.NVGRACE_LVU_CLIENT ?? '/opt/libvfio-user/client';
const skip = existsSync(client)
  ? false
  : `no libvfio-user sample client at ${client} (set NVGRACE_LVU_CLIENT to run)`;

// The skip sits on the test, not the suite: node's summary counts only skipped tests.
describe("libvfio-user's sample client against serve", () => {
  it('negotiates, gets EINVAL for a bogus region, and parses device info and the sparse-mmap region info with its fd', {
    skip,
  }, async () => {
    const s = await serve();
    try {
      // The server runs in this process: the client must run asynchronously.
      const r = await new Promise<{ status: number | null; out: string }>((resolve) => {
        const child = spawn('stdbuf', ['-o0', '-e0', client, s.socketPath], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
        });
        child.stderr.on('data', (d) => {
          out += d;
        });
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.on('exit', (status) => {
          clearTimeout(timer);
          resolve({ status, out });
        });
      });
      assert.match(r.out, /failed to read from region -559038737.*Invalid argument/);
      assert.match(r.out, /devinfo: flags 0x3, num_regions 9, num_irqs 5/);
      assert.match(r.out, /region_info\[0\] offset \S+ flags 0x3 size 16777216 cap_sz 0 #FDs 0/);
      // BAR2 (resmem, 1 GiB): mmap-able, one sparse area, one fd — which the sample client
      // then rejects, since its own sample device only has an fd on BAR1.
      assert.match(r.out, /region_info\[2\] offset \S+ flags 0xf size 1073741824 cap_sz 32 #FDs 1/);
      assert.match(r.out, /area 0 offset 0 size 1073741824/);
      assert.match(
        r.out,
        /Assertion .index == VFU_PCI_DEV_BAR1_REGION_IDX && nr_fds == 1. failed/,
        r.out,
      );
    } finally {
      await s.stop();
    }
  });
});
