/**
 * Interop with libvfio-user's sample client (`samples/client`): it negotiates VERSION,
 * expects EINVAL for a bogus region, requires 9 regions, reads every region's info, then
 * asserts the sample device's own ids (dead:beef) — so against our NVIDIA ids it stops
 * there with an assertion, which is the expected end: everything before it was accepted.
 *
 * Skips unless the client is present ($NVGRACE_LVU_CLIENT or /opt/libvfio-user/client).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { serve } from '../e2e/helpers.js';

const client = process.env.NVGRACE_LVU_CLIENT ?? '/opt/libvfio-user/client';
const skip = existsSync(client) ? false : `no libvfio-user sample client at ${client}`;

describe("libvfio-user's sample client against serve", { skip }, () => {
  it('negotiates, gets EINVAL for a bogus region and reads all 9 region infos', async () => {
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
      for (let i = 0; i < 9; i++)
        assert.match(r.out, new RegExp(`region_info\\[${i}\\]`), `region ${i} info`);
      assert.match(r.out, /Assertion .config_space\.id\.vid == 0xdead. failed/, r.out);
    } finally {
      await s.stop();
    }
  });
});
