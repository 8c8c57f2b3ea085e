/**
 * Interop: QEMU's vfio-user-pci attaches a device served with --layout vendor-region (10
 * regions, the memory a device-specific region QEMU does not know) and the guest sees the GPU
 * with BAR0 only — QEMU sizes BARs from regions 0–5 and leaves an unknown region type alone.
 *
 * Skips cleanly unless the peers are present: $NVGRACE_QEMU (≥ 10.1 with vfio-user-pci),
 * $GUEST_KERNEL (an x86_64 Linux), $BUSYBOX_AMD64 (static busybox) and `cpio` on PATH. The
 * initramfs is generated in a temporary directory at run time. TCG only; ~15 s.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { qemuCommand } from '../../src/cli/qemu-cmdline.js';
import { serve } from '../e2e/helpers.js';
import { runCaptured } from '../support/qemu.js';

const GiB = 2 ** 30;

function peers(): { qemu: string; kernel: string; busybox: string } | { skip: string } {
  const qemu = process.env.NVGRACE_QEMU;
  const kernel = process.env.GUEST_KERNEL;
  const busybox = process.env.BUSYBOX_AMD64;
  if (!qemu || !existsSync(qemu)) return { skip: 'set NVGRACE_QEMU to run' };
  if (!kernel || !existsSync(kernel)) return { skip: 'set GUEST_KERNEL to run' };
  if (!busybox || !existsSync(busybox)) return { skip: 'set BUSYBOX_AMD64 to run' };
  try {
    execFileSync('cpio', ['--version'], { stdio: 'ignore' });
  } catch {
    return { skip: 'cpio is not installed' };
  }
  const help = execFileSync(qemu, ['-device', 'help'], { encoding: 'utf8' });
  if (!help.includes('vfio-user-pci')) return { skip: `QEMU at ${qemu} lacks vfio-user-pci` };
  return { qemu, kernel, busybox };
}

/** An initramfs whose init prints each NVIDIA function's resource lines and powers off. */
function initramfs(dir: string, busybox: string): string {
  const root = join(dir, 'root');
  for (const d of ['bin', 'proc', 'sys', 'dev']) mkdirSync(join(root, d), { recursive: true });
  copyFileSync(busybox, join(root, 'bin', 'busybox'));
  chmodSync(join(root, 'bin', 'busybox'), 0o755);
  writeFileSync(
    join(root, 'init'),
    [
      '#!/bin/busybox sh',
      '/bin/busybox --install -s /bin',
      'mount -t proc proc /proc; mount -t sysfs sys /sys',
      'for d in /sys/bus/pci/devices/*; do',
      '  [ "$(cat $d/vendor)" = 0x10de ] || continue',
      '  echo "NVG-DEV $(cat $d/device)"',
      '  i=0; while read a b f; do echo "NVG-RES $i $a $b"; i=$((i+1)); done < $d/resource',
      'done',
      'echo NVG-DONE',
      'poweroff -f',
      '',
    ].join('\n'),
  );
  chmodSync(join(root, 'init'), 0o755);
  const out = join(dir, 'initrd.cpio');
  execFileSync('sh', ['-c', `cd "${root}" && find . | cpio -o -H newc > "${out}" 2>/dev/null`]);
  return out;
}

const p = peers();

// The skip sits on the test, not the suite: node's summary counts only skipped tests.
describe('QEMU vfio-user-pci and --layout vendor-region', () => {
  it('attaches; the guest sees 10de:2342 with BAR0 16 MiB and no BAR2/BAR4', {
    skip: 'skip' in p ? p.skip : false,
  }, async () => {
    const { qemu, kernel, busybox } = p as { qemu: string; kernel: string; busybox: string };
    const dir = mkdtempSync(join(tmpdir(), 'nvgrace-vr-'));
    const s = await serve({ profile: 'gh200', layout: 'vendor-region', memSize: 8 * GiB });
    try {
      const cmd = qemuCommand({ socketPath: s.socketPath, barSizes: [16 << 20], guestMemory: GiB });
      const { out } = await runCaptured(
        [
          qemu,
          ...cmd.argv.slice(1),
          '-accel',
          'tcg',
          '-nographic',
          '-no-reboot',
          '-kernel',
          kernel,
          '-initrd',
          initramfs(dir, busybox),
          '-append',
          'console=ttyS0 panic=-1 quiet',
        ],
        180_000,
      );
      assert.ok(out.includes('NVG-DONE'), `guest finished:\n${out.slice(-3000)}`);
      assert.match(out, /NVG-DEV 0x2342/);
      const res = new Map<number, [bigint, bigint]>();
      for (const m of out.matchAll(/NVG-RES (\d+) (0x[0-9a-f]+) (0x[0-9a-f]+)/g)) {
        res.set(Number(m[1]), [BigInt(m[2]!), BigInt(m[3]!)]);
      }
      const size = (i: number) => {
        const r = res.get(i);
        return r && r[1] > r[0] ? r[1] - r[0] + 1n : 0n;
      };
      assert.equal(size(0), 16n << 20n, 'BAR0');
      assert.equal(size(2), 0n, 'BAR2 masked');
      assert.equal(size(4), 0n, 'BAR4 masked');
    } finally {
      await s.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
