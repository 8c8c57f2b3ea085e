/**
 * Kernel version bands of the nvgrace-gpu driver as data: which user-visible behaviours a
 * band has (docs/driver-rules.md §1, §7, §9).
 *
 * Rules: '6.9' = 6.9–6.13, '6.14' = 6.14–6.18, '6.19' = 6.19 and later (up to 7.1).
 */
export type KernelBand = '6.9' | '6.14' | '6.19';

export const KERNEL_BANDS: readonly KernelBand[] = ['6.9', '6.14', '6.19'];

export interface BandBehaviour {
  /** DVSEC ID 3 bit 0 decides Hopper vs Blackwell (else every device is Hopper). */
  dvsecDetection: boolean;
  /** usemem bar_size from memlength − 1 GiB before the 512 MiB round-down. */
  barSizeBeforeRounding: boolean;
  /** Probe waits for C2C/HBM readiness. */
  probeWait: boolean;
  /** A probe readiness timeout fails probe with ETIME (else it is ignored: the 6.14 bug). */
  probeTimeoutFatal: boolean;
  /** After a reset the next fake-BAR access waits for readiness (EIO if MSE clear). */
  postResetGate: boolean;
}

export const BANDS: Readonly<Record<KernelBand, BandBehaviour>> = {
  '6.9': {
    dvsecDetection: false,
    barSizeBeforeRounding: false,
    probeWait: false,
    probeTimeoutFatal: false,
    postResetGate: false,
  },
  '6.14': {
    dvsecDetection: true,
    barSizeBeforeRounding: true,
    probeWait: true,
    probeTimeoutFatal: false,
    postResetGate: false,
  },
  '6.19': {
    dvsecDetection: true,
    barSizeBeforeRounding: true,
    probeWait: true,
    probeTimeoutFatal: true,
    postResetGate: true,
  },
};

export function isKernelBand(s: string): s is KernelBand {
  return (KERNEL_BANDS as readonly string[]).includes(s);
}

/** Readiness polling (§7): check now, then every 1000 ms, give up after 30 000 ms. */
export const READY_POLL_MS = 1000;
export const READY_TIMEOUT_MS = 30_000;
