/**
 * QEMU ≥ 10.1 takes the x-msg-timeout both printed command lines set: the banner's line
 * (word-split by a real shell, exactly as printed) and vm-config's argv each start QEMU
 * (TCG, paused with -S: realize has already attached the device) against a running server,
 * and QEMU's own `info qtree` shows the value on the vfio-user-pci device.
 *
 * Skips unless QEMU is present: $NVGRACE_QEMU or /opt/qemu/bin/qemu-system-x86_64 (≥ 10.1).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { runVmConfig } from '../../src/cli/vm-config/index.js';
import { serve, until } from '../e2e/helpers.js';
import { findQemu } from '../support/qemu.js';

const GiB = 2 ** 30;

const qemu = findQemu();
const skip = typeof qemu === 'string' ? false : qemu.skip;

/** The banner's QEMU line, word-split by sh as a user's paste would be. */
function bannerArgv(banner: string): string[] {
  const text = banner.slice(banner.indexOf('qemu-system-x86_64'));
  const r = spawnSync('sh', ['-c', `argv() { printf '%s\\0' "$@"; }\nargv ${text}`], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\0').slice(0, -1);
}

/** Start QEMU paused with a monitor on stdio; the x-msg-timeout `info qtree` reports. */
async function qtreeMsgTimeout(args: string[]): Promise<number> {
  const child = spawn(
    qemu as string,
    [...args, '-nodefaults', '-display', 'none', '-serial', 'none', '-S', '-monitor', 'stdio'],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  try {
    await until(() => out.includes('(qemu)') || child.exitCode !== null, 'the monitor', 60_000);
    assert.equal(child.exitCode, null, `QEMU exited: ${out}`);
    child.stdin.write('info qtree\n');
    await until(() => /x-msg-timeout = \d+/.test(out), 'info qtree', 30_000);
    child.stdin.write('quit\n');
    await exited;
    return Number(/x-msg-timeout = (\d+)/.exec(out)![1]);
  } finally {
    child.kill('SIGKILL');
  }
}

describe('QEMU takes the printed x-msg-timeout', () => {
  it('banner line (6.19, --reset-duration 2500: 8000 ms) and vm-config argv (36000 ms)', {
    skip,
    timeout: 180_000,
  }, async () => {
    const s = await serve({ kernel: '6.19', resetDurationMs: 2_500, memSize: 4 * GiB });
    try {
      const vm = await runVmConfig([s.socketPath], {
        arch: 'x86_64',
        accel: 'tcg',
        format: 'json',
        memory: GiB,
        cpus: 1,
        timeoutMs: 5000,
      });
      const argv = bannerArgv(s.banner);
      assert.ok(
        argv.includes(
          '{"driver":"vfio-user-pci","id":"gpu0","bus":"rp0","socket":{"path":"' +
            s.socketPath +
            '","type":"unix"},"x-msg-timeout":8000}',
        ),
      );
      assert.equal(await qtreeMsgTimeout([...argv.slice(1), '-accel', 'tcg']), 8000);
      await s.server.endpoint.idle();
      const { args } = JSON.parse(vm.text) as { args: string[] };
      assert.equal(await qtreeMsgTimeout(args), 36_000);
    } finally {
      await s.stop();
    }
  });
});
