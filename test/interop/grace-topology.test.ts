/**
 * Grace topologies on real guests, checked as a new user would: `serve --gpus N
 * --socket-dir DIR`, then `vm-config --format json DIR/gpu*.sock` plus only kernel, initrd
 * and console options, on QEMU >= 10.1 under TCG:
 * - x86_64: q35, two GPUs, Debian 6.1 amd64 kernel;
 * - aarch64: virt, one GPU (Debian's arm64 6.1 kernel accepts 16 NUMA nodes: 1 + 8 fit,
 *   1 + 16 do not), acpi=force, UEFI from $AARCH64_FIRMWARE.
 * The guest must list every GPU with the profile's BAR sizes, write and read back device
 * memory through each GPU's BAR4, show 8 Generic Initiator nodes per GPU, and have SRAT GI
 * entries naming each GPU's own PCI function.
 *
 * Skips, saying why, unless the peers are there: NVGRACE_QEMU / NVGRACE_QEMU_AARCH64,
 * GUEST_KERNEL / GUEST_KERNEL_ARM64, BUSYBOX_AMD64 / BUSYBOX_ARM64, AARCH64_FIRMWARE, and
 * cpio on PATH (see docs/topologies.md for how to get them).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildDevice } from '../../src/cli/build-device.js';
import { GI_NODES_PER_GPU } from '../../src/cli/vm-config/topology.js';
import { runCaptured } from '../support/qemu.js';
import { buildInitramfs, parseGuestReport } from './grace-guest.js';
import { namesFunction, sratGenericInitiators } from './srat.js';

const bin = join(import.meta.dirname, '../../../bin/nvgrace-user');

function need(vars: string[], qemuVar: string): string | false {
  for (const v of vars) {
    const p = process.env[v];
    if (!p) return `set ${v} (. the interop peers' env.sh; see docs/topologies.md)`;
    if (!existsSync(p)) return `${v}=${p} does not exist`;
  }
  if (spawnSync('sh', ['-c', 'command -v cpio']).status !== 0) return 'cpio not installed';
  const qemu = process.env[qemuVar]!;
  const version = execFileSync(qemu, ['--version'], { encoding: 'utf8' });
  const m = /version (\d+)\.(\d+)/.exec(version);
  if (!m || Number(m[1]) * 100 + Number(m[2]) < 1001) return `${qemu} is older than QEMU 10.1`;
  const devices = execFileSync(qemu, ['-device', 'help'], { encoding: 'utf8' });
  if (!devices.includes('vfio-user-pci')) return `${qemu} lacks vfio-user-pci`;
  return false;
}

/** `serve` as a child process; resolves once its banner is out. */
async function serveChild(args: string[]): Promise<{ child: ChildProcess; banner: string }> {
  const child = spawn(process.execPath, [bin, 'serve', '--log-level', 'warn', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let banner = '';
  let err = '';
  child.stderr!.on('data', (d) => {
    err += d;
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      banner += d;
      if (banner.includes('nvgrace-user vm-config')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
  return { child, banner };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.on('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function vmConfig(args: string[]): { binary: string; args: string[] } {
  const out = execFileSync(process.execPath, [bin, 'vm-config', '--format', 'json', ...args], {
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

async function profileBars(profile: 'gh200'): Promise<Map<number, number>> {
  const built = await buildDevice({ profile, kernel: '6.19' });
  built.close();
  return new Map(built.summary.bars.map((b) => [b.index, b.size]));
}

/** Boot the config and check what the guest sees, GPU by GPU. */
async function bootAndCheck(o: {
  gpus: number;
  arch: 'x86_64' | 'aarch64';
  qemu: string;
  extra: (initrd: string) => string[];
  busybox: string;
}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nvgrace-topo-'));
  const initrd = buildInitramfs(o.busybox);
  const { child } = await serveChild(['--gpus', String(o.gpus), '--socket-dir', dir]);
  try {
    const sockets = Array.from({ length: o.gpus }, (_, i) => join(dir, `gpu${i}.sock`));
    const cfg = vmConfig(['--arch', o.arch, '--accel', 'tcg', '--memory', '2G', ...sockets]);
    assert.equal(cfg.binary, `qemu-system-${o.arch}`);
    const out = (await runCaptured([o.qemu, ...cfg.args, ...o.extra(initrd.path)], 600_000)).out;
    const r = parseGuestReport(out);
    assert.ok(r.done, `guest finished:\n${out.slice(-4000)}`);
    const bars = await profileBars('gh200');
    assert.equal(r.gpus.length, o.gpus, `every GPU listed:\n${out.slice(-3000)}`);
    const sratEntries = sratGenericInitiators(r.srat!);
    for (const [i, g] of r.gpus.entries()) {
      assert.equal(g.device, '0x2342', g.bdf);
      assert.match(g.bdf, /\.0$/, 'function 0');
      assert.match(g.bdf, /:00\.0$/, 'device 0');
      assert.deepEqual(g.bars, bars, `${g.bdf} BAR sizes`);
      assert.equal(g.read?.toLowerCase(), g.wrote, `${g.bdf} BAR4 write/read back`);
      // SRAT: this GPU's GI nodes (in guest order = vm-config order) name this function.
      // QEMU emits the entries in no particular order.
      const nodes = sratEntries
        .filter((e) => namesFunction(e, g.bdf))
        .map((e) => e.node)
        .sort((a, b) => a - b);
      const first = 1 + i * GI_NODES_PER_GPU;
      assert.deepEqual(
        nodes,
        Array.from({ length: GI_NODES_PER_GPU }, (_, k) => first + k),
        `${g.bdf}'s GI nodes in SRAT`,
      );
    }
    assert.equal(sratEntries.length, o.gpus * GI_NODES_PER_GPU);
    assert.equal(r.giNodes, `1-${o.gpus * GI_NODES_PER_GPU}`, 'has_generic_initiator');
  } finally {
    await stopChild(child);
    initrd.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

const x86Skip = need(['NVGRACE_QEMU', 'GUEST_KERNEL', 'BUSYBOX_AMD64'], 'NVGRACE_QEMU');
describe('x86_64 q35 guest: serve --gpus 2 + vm-config --arch x86_64 --format json', {
  skip: x86Skip,
}, () => {
  it('a Debian 6.1 guest sees both GPUs, their memory and 8 GI nodes each bound in SRAT', async () => {
    await bootAndCheck({
      gpus: 2,
      arch: 'x86_64',
      qemu: process.env.NVGRACE_QEMU!,
      busybox: process.env.BUSYBOX_AMD64!,
      extra: (initrd) => [
        '-kernel',
        process.env.GUEST_KERNEL!,
        '-initrd',
        initrd,
        '-append',
        'console=ttyS0 panic=-1 iomem=relaxed',
        '-nographic',
        '-no-reboot',
      ],
    });
  });
});

const armSkip = need(
  ['NVGRACE_QEMU_AARCH64', 'GUEST_KERNEL_ARM64', 'BUSYBOX_ARM64', 'AARCH64_FIRMWARE'],
  'NVGRACE_QEMU_AARCH64',
);
describe('aarch64 virt guest: serve --gpus 1 + vm-config --format json (the default arch)', {
  skip: armSkip,
}, () => {
  it('a Debian arm64 6.1 guest (acpi=force, UEFI) sees the GPU, its memory and 8 GI nodes in SRAT', async () => {
    await bootAndCheck({
      gpus: 1,
      arch: 'aarch64',
      qemu: process.env.NVGRACE_QEMU_AARCH64!,
      busybox: process.env.BUSYBOX_ARM64!,
      extra: (initrd) => [
        '-bios',
        process.env.AARCH64_FIRMWARE!,
        '-kernel',
        process.env.GUEST_KERNEL_ARM64!,
        '-initrd',
        initrd,
        '-append',
        'console=ttyAMA0 acpi=force panic=-1 iomem=relaxed',
        '-nographic',
        '-no-reboot',
      ],
    });
  });
});

/** Start QEMU on the config with -S and quit from its monitor: 0 once the machine is built. */
function qemuAccepts(qemu: string, args: string[]): { ok: boolean; err: string } {
  const r = spawnSync(
    qemu,
    [...args, '-S', '-display', 'none', '-serial', 'none', '-monitor', 'stdio'],
    { input: 'quit\n', encoding: 'utf8', timeout: 60_000 },
  );
  return { ok: r.status === 0, err: `${r.stderr}` };
}

const parseSkip =
  need(['NVGRACE_QEMU', 'NVGRACE_QEMU_AARCH64'], 'NVGRACE_QEMU') ||
  need(['NVGRACE_QEMU_AARCH64'], 'NVGRACE_QEMU_AARCH64');
describe('QEMU builds the machine of every vm-config: both arches, 1, 2 and 4 × gh200 and gb300', {
  skip: parseSkip,
}, () => {
  it('qemu-system-{aarch64,x86_64} -S accepts each --format json config and connects every GPU', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nvgrace-topo-'));
    const servers = await Promise.all(
      (['gh200', 'gb300'] as const).map((p) =>
        serveChild(['--profile', p, '--gpus', '4', '--socket-dir', join(dir, p)]),
      ),
    );
    try {
      for (const arch of ['aarch64', 'x86_64'] as const)
        for (const p of ['gh200', 'gb300'])
          for (const n of [1, 2, 4]) {
            const sockets = Array.from({ length: n }, (_, i) => join(dir, p, `gpu${i}.sock`));
            const cfg = vmConfig(['--arch', arch, '--accel', 'tcg', ...sockets]);
            const qemu = process.env[arch === 'aarch64' ? 'NVGRACE_QEMU_AARCH64' : 'NVGRACE_QEMU']!;
            const r = qemuAccepts(qemu, cfg.args);
            assert.ok(r.ok, `${arch} ${n} × ${p}: ${r.err}`);
          }
    } finally {
      await Promise.all(servers.map((s) => stopChild(s.child)));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
