/**
 * Interop with a real VMM: QEMU ≥ 10.1 (`vfio-user-pci`) boots a Debian 6.1 guest against
 * `serve`, using the QEMU command line the banner prints (root port, memfd RAM, 64-bit
 * window), and the guest checks what it sees: ids, BAR sizes, device memory written and read
 * back through the BARs (mapped fd and trapped paths), 0xFF past the real memory.
 *
 * Skips cleanly unless the peer is present: QEMU from $NVGRACE_QEMU or
 * /opt/qemu/bin/qemu-system-x86_64 (version ≥ 10.1) and a guest (vmlinuz +
 * initramfs.cpio.gz, built by test/interop/build-guest.sh) in $NVGRACE_GUEST_DIR or
 * /opt/nvgrace-guest. TCG only; a boot takes ~10 s.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { qemuCommand } from '../../src/cli/qemu-cmdline.js';
import { serve } from '../e2e/helpers.js';
import { runCaptured } from '../support/qemu.js';

const GiB = 2 ** 30;

function findQemu(): { path: string } | { skip: string } {
  const path = process.env.NVGRACE_QEMU ?? '/opt/qemu/bin/qemu-system-x86_64';
  if (!existsSync(path)) return { skip: `no QEMU at ${path} (set NVGRACE_QEMU)` };
  const out = execFileSync(path, ['--version'], { encoding: 'utf8' });
  const m = /version (\d+)\.(\d+)/.exec(out);
  if (!m || Number(m[1]) * 100 + Number(m[2]) < 1001)
    return { skip: `QEMU at ${path} is older than 10.1` };
  const help = execFileSync(path, ['-device', 'help'], { encoding: 'utf8' });
  if (!help.includes('vfio-user-pci')) return { skip: `QEMU at ${path} lacks vfio-user-pci` };
  return { path };
}

function findGuest(): { dir: string } | { skip: string } {
  const dir = process.env.NVGRACE_GUEST_DIR ?? '/opt/nvgrace-guest';
  for (const f of ['vmlinuz', 'initramfs.cpio.gz']) {
    if (!existsSync(join(dir, f)))
      return {
        skip: `no guest ${f} in ${dir} (set NVGRACE_GUEST_DIR; see test/interop/build-guest.sh)`,
      };
  }
  return { dir };
}

function results(out: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const m of out.matchAll(/NVG-RESULT (\S+?)=(\S*)/g)) map.set(m[1]!, m[2]!);
  return map;
}

const qemu = findQemu();
const guest = findGuest();
const skip = 'skip' in qemu ? qemu.skip : 'skip' in guest ? guest.skip : false;

// The skip sits on the test, not the suite: node's summary counts only skipped tests.
describe('QEMU vfio-user-pci boots a Linux guest against serve', () => {
  it('the guest sees 10de:2342 with BAR2 1 GiB and BAR4 128 GiB and uses its memory', {
    skip,
  }, async () => {
    const s = await serve({ profile: 'gh200' });
    try {
      const cmd = qemuCommand({
        socketPath: s.socketPath,
        barSizes: [16 << 20, GiB, 128 * GiB],
        guestMemory: GiB,
      });
      const g = guest as { dir: string };
      const argv = [
        (qemu as { path: string }).path,
        ...cmd.argv.slice(1),
        '-nodefaults',
        '-machine',
        'sata=off',
        '-accel',
        'tcg',
        '-nographic',
        '-serial',
        'mon:stdio',
        '-no-reboot',
        '-kernel',
        join(g.dir, 'vmlinuz'),
        '-initrd',
        join(g.dir, 'initramfs.cpio.gz'),
        '-append',
        `console=ttyS0 panic=-1 quiet iomem=relaxed nvg.memsize4=0x${(95 * GiB).toString(16)}`,
      ];
      const { code, out } = await runCaptured(argv, 240_000);
      const r = results(out);
      assert.ok(out.includes('NVG-DONE'), `guest finished:\n${out.slice(-3000)}`);
      assert.equal(code, 0);
      assert.equal(r.get('vendor'), '0x10de');
      assert.equal(r.get('device'), '0x2342');
      assert.match(r.get('res2') ?? '', /size=0x40000000\b/);
      assert.match(r.get('res4') ?? '', /size=0x2000000000\b/);
      assert.equal(r.get('bar0_0x0'), '0x180000a1', 'BOOT_0 through a trapped BAR0 read');
      assert.equal(r.get('bar0_0x1498'), '0x000000ff', 'C2C link ready');
      for (const bar of ['bar4', 'bar2']) {
        assert.equal(r.get(`${bar}_rw32`), 'PASS', `${bar} 32-bit write/read`);
        assert.equal(r.get(`${bar}_rw64`), 'PASS', `${bar} 64-bit write/read`);
      }
      assert.equal(r.get('bar4_past_mem_ok'), 'PASS', 'BAR4 past the real memory reads all-ones');
    } finally {
      await s.stop();
    }
  });
});
