/**
 * The topology of a Grace VM attaching N served GPUs, as a plain model: nodes, buses, the
 * 64-bit MMIO window and the address bits that reach it. Pure: GPU facts and options in,
 * model out; the QEMU argv and every output format are derived from it, nothing else.
 *
 * Rules (each mirrors how Kata, KubeVirt and libvirt set up a Grace VM):
 * - node 0 holds every vCPU and all guest RAM; then each GPU gets GI_NODES_PER_GPU CPU-less,
 *   memory-less nodes (GPU g: nodes 1 + 8g … 8 + 8g), bound to it by SRAT Generic Initiator
 *   entries: the nvgrace-gpu guest driver reads them;
 * - each GPU sits at function 0 of device 0 on the secondary bus of its own PCIe root port
 *   (the guest driver requires 0.0); the root port reserves a prefetchable 64-bit window
 *   (pref64-reserve) that holds all the GPU's BARs, naturally aligned;
 * - aarch64: the root ports sit behind one pxb-pcie tied to node 0 (Kata: one expander bus
 *   per CPU node); x86_64: they sit on pcie.0;
 * - the machine's 64-bit window holds every root port's window and is a power of two;
 *   the CPU's physical address bits reach its end.
 */

import type { KernelBand } from '../../nvgrace/kernel-bands.js';
import { vfioUserMsgTimeoutMs } from '../msg-timeout.js';
import { pow2up, q35PhysBits } from '../qemu-cmdline.js';

export type Arch = 'aarch64' | 'x86_64';
export type Accel = 'kvm' | 'tcg';
export const ARCHES: readonly Arch[] = ['aarch64', 'x86_64'];
export const ACCELS: readonly Accel[] = ['kvm', 'tcg'];

/** Eight NUMA nodes per GPU, as on GH200/GB200 hosts (one per MIG-capable memory partition). */
export const GI_NODES_PER_GPU = 8;
/**
 * Nodes a common guest kernel accepts: Debian's arm64 6.1 kernel has CONFIG_NODES_SHIFT=4
 * (MAX_NUMNODES 16), so one GPU (1 + 8 nodes) fits and two (1 + 16) do not.
 */
export const COMMON_GUEST_MAX_NODES = 16;

const GiB = 2 ** 30;
/** virt's default high MMIO window (hw/arm/virt.c: 512 GiB); never shrink it. */
const VIRT_MIN_HIGHMEM_MMIO = 512 * GiB;
/** The pxb-pcie's bus number: well above pcie.0's few buses, leaving 127 for its ports. */
export const PXB_BUS_NR = 128;

/** What a socket serves, as `inspect` learns it. */
export interface GpuFacts {
  socketPath: string;
  vendorId: number;
  deviceId: number;
  /** Sizes in bytes of every memory BAR, as firmware sizes them. */
  barSizes: number[];
  /** Memory_Active_Timeout (ms) of its CXL Device DVSEC; null: it has none. */
  cxlMemActiveTimeoutMs: number | null;
  /** The kernel band the server reports (its emulator identity block); null/absent: unknown. */
  band?: KernelBand | null;
}

export interface VmOptions {
  arch: Arch;
  accel: Accel;
  /** Guest RAM in bytes. */
  memory: number;
  cpus: number;
}

export interface GpuPlacement {
  index: number;
  /** QEMU device id of the GPU (pci-dev= of its generic initiators). */
  id: string;
  socketPath: string;
  vendorId: number;
  deviceId: number;
  rootPort: { id: string; bus: string; chassis: number };
  /** Bytes the root port reserves for the GPU's BARs (pref64-reserve). */
  window: number;
  /** The GPU's Generic Initiator nodes and their object ids. */
  initiators: { id: string; node: number }[];
  /** vfio-user-pci's x-msg-timeout in ms (msg-timeout.ts); undefined: QEMU's default. */
  msgTimeoutMs: number | undefined;
}

export interface Topology extends VmOptions {
  /** Node 0: every vCPU and all RAM. */
  cpuNode: number;
  /** Every node, CPU+memory node first. */
  nodeCount: number;
  /** The pxb-pcie the root ports sit behind (aarch64), or null (on pcie.0). */
  expander: { id: string; busNr: number; numaNode: number } | null;
  gpus: GpuPlacement[];
  /** The machine's 64-bit MMIO window in bytes (a power of two). */
  mmioWindow: number;
  /** Physical address bits the guest CPU needs to reach the end of the window. */
  physBits: number;
  warnings: string[];
}

export function planTopology(facts: readonly GpuFacts[], opts: VmOptions): Topology {
  if (facts.length === 0) throw new RangeError('vm-config needs at least one GPU socket');
  if (!Number.isSafeInteger(opts.cpus) || opts.cpus < 1)
    throw new RangeError('--cpus must be at least 1');
  if (opts.memory < GiB || opts.memory % 2 ** 20 !== 0)
    throw new RangeError('--memory must be at least 1 GiB and a whole number of MiB');
  const aarch64 = opts.arch === 'aarch64';
  const expander = aarch64 ? { id: 'pxb0', busNr: PXB_BUS_NR, numaNode: 0 } : null;
  const gpus = facts.map((f, g): GpuPlacement => {
    if (f.barSizes.length === 0) throw new RangeError(`${f.socketPath} serves no memory BAR`);
    const total = f.barSizes.reduce((a, b) => a + b, 0);
    return {
      index: g,
      id: `gpu${g}`,
      socketPath: f.socketPath,
      vendorId: f.vendorId,
      deviceId: f.deviceId,
      rootPort: { id: `rp${g}`, bus: expander?.id ?? 'pcie.0', chassis: g + 1 },
      // BARs are powers of two aligned to their size: the next power of two holds them all.
      window: pow2up(total),
      initiators: Array.from({ length: GI_NODES_PER_GPU }, (_, k) => ({
        id: `gi${g * GI_NODES_PER_GPU + k}`,
        node: 1 + g * GI_NODES_PER_GPU + k,
      })),
      // The band comes from the server's identity block when it has one; the socket never
      // shows the card's ready delay, so the poll's own bound is taken.
      msgTimeoutMs: vfioUserMsgTimeoutMs({
        band: f.band ?? null,
        cxlMemActiveTimeoutMs: f.cxlMemActiveTimeoutMs,
        readyAfterResetMs: null,
      }),
    };
  });
  const windows = pow2up(gpus.reduce((a, g) => a + g.window, 0));
  let mmioWindow: number;
  let physBits: number;
  if (aarch64) {
    // hw/arm/virt.c virt_set_high_memmap(): the high MMIO region is aligned to its own size
    // and placed above RAM and the high GIC/ECAM regions (from 256 GiB), so it ends at twice
    // its size once it is at least 512 GiB and RAM ends below it.
    // Twice the span, as on q35: with two 256 GiB root-port windows in exactly 512 GiB,
    // edk2 placed the first GPU only (the second's BAR4 stayed unassigned in the guest).
    mmioWindow = Math.max(VIRT_MIN_HIGHMEM_MMIO, 2 * windows);
    const ramTop = GiB + opts.memory;
    physBits = Math.log2(Math.max(2 * mmioWindow, pow2up(ramTop + mmioWindow)));
  } else {
    // q35: twice the span leaves firmware room to align the largest window naturally.
    mmioWindow = Math.max(32 * GiB, 2 * windows);
    physBits = q35PhysBits(opts.memory, mmioWindow);
  }
  const nodeCount = 1 + gpus.length * GI_NODES_PER_GPU;
  const warnings: string[] = [];
  // x86_64 distribution kernels have NODES_SHIFT 10; arm64 ones (Debian) as low as 4.
  if (aarch64 && nodeCount > COMMON_GUEST_MAX_NODES)
    warnings.push(
      `this VM has ${nodeCount} NUMA nodes; guest kernels built with CONFIG_NODES_SHIFT=4 (e.g. Debian's arm64 6.1) accept ${COMMON_GUEST_MAX_NODES} and drop the rest: use at most 1 GPU there, or a kernel with a larger NODES_SHIFT`,
    );
  if (physBits > 48)
    warnings.push(
      `the 64-bit MMIO window needs ${physBits} physical address bits; CPUs without 52-bit addressing stop at 48`,
    );
  return { ...opts, cpuNode: 0, nodeCount, expander, gpus, mmioWindow, physBits, warnings };
}
