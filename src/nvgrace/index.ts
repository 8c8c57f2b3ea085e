/**
 * src/nvgrace: the nvgrace-gpu VFIO variant driver. createNvgraceDevice is its probe: the
 * readiness wait, the ACPI check (fallback to the plain core), Hopper/Blackwell detection
 * and the memory layout.
 *
 * Rules (docs/driver-rules.md §1.1, §7): 6.9 has no wait; 6.14 waits but ignores a timeout; ≥6.19
 * fails probe with ETIME. ≥7.2 (nvgrace_gpu_probe_check_device_ready): a card with the CXL
 * Device DVSEC is waited on through it (ETIME, or ENODEV when it reads all-ones) and BAR0 is
 * not touched; a card without it takes the BAR0 wait. The wait comes before the ACPI check,
 * for the core fallback too. No ACPI memory (or size 0) → the plain core named
 * "nvgrace-gpu-vfio-pci-core". Layout errors (EOVERFLOW/EINVAL) fail probe.
 */
import type { Card } from '../hw/card.js';
import type { Clock } from '../hw/clock.js';
import { findDvsec } from '../pci/walk.js';
import { fail } from '../vfio/errors.js';
import { VfioPciDevice } from '../vfio/pci-device.js';
import { BANDS, type KernelBand } from './kernel-bands.js';
import { computeLayout } from './layout.js';
import { type ReviewPolicies, UPSTREAM_POLICIES } from './policies.js';
import { findCxlDvsec, waitReady, waitReadyCxl } from './readiness.js';
import { NvgraceDevice } from './variant.js';

export * from './fake-bar.js';
export * from './gate-wait.js';
export * from './kernel-bands.js';
export * from './layout.js';
export { validateMmap } from './mmap.js';
export * from './policies.js';
export { cardReady, findCxlDvsec, testReadyCxl, waitReady, waitReadyCxl } from './readiness.js';
export { NvgraceDevice } from './variant.js';
export * from './vendor-region.js';

export const NV_VENDOR_ID = 0x10de;
export const NV_DVSEC_ID_MIG = 3;
export const NV_DVSEC_MIG_REG = 0xa;
export const VARIANT_NAME = 'nvgrace-gpu-vfio-pci';
export const CORE_NAME = 'nvgrace-gpu-vfio-pci-core';

const hex4 = (n: number): string => n.toString(16).padStart(4, '0');

/** DVSEC ID 3 bit 0 (MIG_SUPPORTED_WITH_CACHED_RESMEM); false when the DVSEC is absent. */
export function readDvsecMigBit(card: Card): boolean {
  const read = (o: number, s: 1 | 2 | 4): number => card.cfgRead(o, s);
  const at = findDvsec(read, NV_VENDOR_ID, NV_DVSEC_ID_MIG, card.cfgSize);
  if (at === null) return false;
  return (card.cfgRead(at + NV_DVSEC_MIG_REG, 2) & 0x1) !== 0;
}

export interface CreateNvgraceOptions {
  card: Card;
  kernel: KernelBand;
  clock: Clock;
  /** The review's alternatives (default upstream); they apply to the variant only. */
  policies?: Partial<ReviewPolicies>;
}

/**
 * What probe binds: the variant, or the plain core when the driver falls back. Both are
 * VfioDevices; the concrete type also offers the model-only calls (read, ioeventfd).
 */
export type BoundDevice = NvgraceDevice | VfioPciDevice;

export async function createNvgraceDevice(opts: CreateNvgraceOptions): Promise<BoundDevice> {
  const { card, kernel, clock } = opts;
  const band = BANDS[kernel];
  if (!band) fail('EINVAL', `unknown kernel band ${String(kernel)}`);
  const cxlDvsec = band.cxlReadiness ? findCxlDvsec(card) : null;
  if (cxlDvsec !== null) {
    const r = await waitReadyCxl(card, clock, cxlDvsec);
    if (r === 'ETIME') fail('ETIME', 'GPU memory not active within the CXL DVSEC timeout at probe');
    if (r === 'ENODEV') fail('ENODEV', 'CXL DVSEC reads all-ones at probe');
  } else if (band.probeWait) {
    const ok = await waitReady(card, clock);
    if (!ok && band.probeTimeoutFatal) fail('ETIME', 'GPU not ready within 30 s at probe');
  }
  const id = `${hex4(card.vendorId)}:${hex4(card.deviceId)}`;
  const acpi = card.acpi;
  if (!acpi || acpi.memSize === 0) {
    return new VfioPciDevice(card, { name: `${CORE_NAME} ${id}` });
  }
  const layout = computeLayout({
    memlength: acpi.memSize,
    band: kernel,
    dvsecMigBit: readDvsecMigBit(card),
  });
  const core = new VfioPciDevice(card);
  const policies = { ...UPSTREAM_POLICIES, ...opts.policies };
  return new NvgraceDevice(core, layout, kernel, `${VARIANT_NAME} ${id}`, { policies, cxlDvsec });
}
