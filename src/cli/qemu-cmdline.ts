/**
 * The QEMU command line that attaches a served device: what `serve` prints so a user can
 * copy it. Pure: sizes in, argv out.
 *
 * Rules (docs/protocol.md §4.1, §4.5): guest RAM is a shared memfd so DMA maps
 * carry fds; the device is `vfio-user-pci` in JSON form behind a PCIe root port; the 64-bit
 * MMIO window and the CPU's physical address bits are enlarged together, because QEMU
 * refuses a window the address bits cannot reach and firmware cannot place the BARs in a
 * window that is too small; `x-msg-timeout` covers the longest reply the server can hold
 * (msg-timeout.ts), when it is set.
 */
import { msgTimeoutProperty } from './msg-timeout.js';

export interface QemuPlan {
  socketPath: string;
  /** Sizes of every memory BAR of the device, in bytes. */
  barSizes: number[];
  /** Guest RAM in bytes (default 4 GiB). */
  guestMemory?: number;
  /** vfio-user-pci's x-msg-timeout in ms (msg-timeout.ts); undefined: QEMU's default. */
  msgTimeoutMs?: number | undefined;
}

export interface QemuCommand {
  argv: string[];
  physBits: number;
  hole64: number;
}

const GiB = 2 ** 30;

export function pow2up(x: number): number {
  let p = 1;
  while (p < x) p *= 2;
  return p;
}

export function qemuSize(bytes: number): string {
  if (bytes % 2 ** 40 === 0) return `${bytes / 2 ** 40}T`;
  if (bytes % GiB === 0) return `${bytes / GiB}G`;
  return `${Math.ceil(bytes / 2 ** 20)}M`;
}

/**
 * Physical address bits a q35 guest needs for `memory` of RAM and a 64-bit window of
 * `window` bytes (at least 40). The window follows RAM above 4 GiB from the next GiB; on
 * AMD-vendor CPUs (TCG's `max` on an AMD host, or an AMD host under KVM) hw/i386/pc.c
 * pc_memory_init() moves RAM above 4 GiB to 1 TiB when the layout would reach the
 * HyperTransport hole below 1 TiB, and QEMU refuses a phys-bits that stops short of the
 * end. q35 keeps 2 GiB below 4 GiB once RAM reaches 2.75 GiB (pc_q35_init()).
 */
export function q35PhysBits(memory: number, window: number): number {
  const below = memory >= 0xb0000000 ? 2 * GiB : memory;
  const above = memory - below;
  const end = (start: number) => Math.ceil((start + above) / GiB) * GiB + window;
  const amdHtStart = 1024 * GiB - 12 * GiB;
  const top = above > 0 && end(4 * GiB) >= amdHtStart ? end(1024 * GiB) : end(4 * GiB);
  return Math.max(40, Math.ceil(Math.log2(top)));
}

export function qemuCommand(plan: QemuPlan): QemuCommand {
  const ram = plan.guestMemory ?? 4 * GiB;
  const total = plan.barSizes.reduce((a, b) => a + b, 0);
  // Twice the power-of-two span leaves room to align the largest BAR naturally.
  const hole64 = Math.max(32 * GiB, pow2up(total) * 2);
  const physBits = q35PhysBits(ram, hole64);
  const device = JSON.stringify({
    driver: 'vfio-user-pci',
    id: 'gpu0',
    bus: 'rp0',
    socket: { path: plan.socketPath, type: 'unix' },
    ...msgTimeoutProperty(plan.msgTimeoutMs),
  });
  const rootPort = JSON.stringify({
    driver: 'pcie-root-port',
    id: 'rp0',
    bus: 'pcie.0',
    chassis: 1,
  });
  const argv = [
    'qemu-system-x86_64',
    '-machine',
    'q35,memory-backend=mem',
    '-cpu',
    `max,phys-bits=${physBits}`,
    '-m',
    qemuSize(ram),
    '-object',
    `memory-backend-memfd,id=mem,size=${qemuSize(ram)},share=on`,
    '-global',
    `q35-pcihost.pci-hole64-size=${qemuSize(hole64)}`,
    '-device',
    rootPort,
    '-device',
    device,
  ];
  return { argv, physBits, hole64 };
}

/** Quote an argv for a POSIX shell, one option per line for readability. */
export function shellJoin(argv: string[]): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`);
  const parts: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    if (a.startsWith('-') && next !== undefined && !next.startsWith('-')) {
      parts.push(`${quote(a)} ${quote(next)}`);
      i++;
    } else parts.push(quote(a));
  }
  return parts.join(' \\\n  ');
}
