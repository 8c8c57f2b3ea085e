/**
 * Kernel version bands of the nvgrace-gpu driver as data: which user-visible behaviours a
 * band has (docs/driver-rules.md §1, §7, §9).
 *
 * Rules: '6.9' = 6.9–6.13, '6.14' = 6.14–6.18, '6.19' = 6.19–7.1, '7.2' = 7.2 and later
 * (commit "vfio/nvgrace-gpu: Add Blackwell-Next GPU readiness check via CXL DVSEC": a part
 * with the CXL Device DVSEC is waited on through it; parts without keep the 6.19 behaviour).
 */
export type KernelBand = '6.9' | '6.14' | '6.19' | '7.2';

export const KERNEL_BANDS: readonly KernelBand[] = ['6.9', '6.14', '6.19', '7.2'];

/** One line per band for help texts. */
export const KERNEL_BAND_HELP =
  '6.9 = 6.9–6.13, 6.14 = 6.14–6.18, 6.19 = 6.19–7.1, 7.2 = ≥7.2 (CXL DVSEC readiness)';

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
  /** A part with the CXL Device DVSEC is waited on through it, not through BAR0. */
  cxlReadiness: boolean;
}

export const BANDS: Readonly<Record<KernelBand, BandBehaviour>> = {
  '6.9': {
    dvsecDetection: false,
    barSizeBeforeRounding: false,
    probeWait: false,
    probeTimeoutFatal: false,
    postResetGate: false,
    cxlReadiness: false,
  },
  '6.14': {
    dvsecDetection: true,
    barSizeBeforeRounding: true,
    probeWait: true,
    probeTimeoutFatal: false,
    postResetGate: false,
    cxlReadiness: false,
  },
  '6.19': {
    dvsecDetection: true,
    barSizeBeforeRounding: true,
    probeWait: true,
    probeTimeoutFatal: true,
    postResetGate: true,
    cxlReadiness: false,
  },
  '7.2': {
    dvsecDetection: true,
    barSizeBeforeRounding: true,
    probeWait: true,
    probeTimeoutFatal: true,
    postResetGate: true,
    cxlReadiness: true,
  },
};

export function isKernelBand(s: string): s is KernelBand {
  return (KERNEL_BANDS as readonly string[]).includes(s);
}

/** Readiness polling (§7): check now, then every 1000 ms, give up after 30 000 ms. */
export const READY_POLL_MS = 1000;
export const READY_TIMEOUT_MS = 30_000;
/** nvgrace_gpu_wait_device_ready_cxl(): MEM_INFO_VALID must show within one poll quantum. */
export const CXL_INFO_VALID_TIMEOUT_MS = 1000;

/** The band's code in the emulator identity block (src/hw/emu-identity.ts): 1 + its index. */
export function bandCode(band: KernelBand): number {
  return KERNEL_BANDS.indexOf(band) + 1;
}

/** The band a code names, or null (0 = not told, or a code from a newer server). */
export function bandFromCode(code: number): KernelBand | null {
  return KERNEL_BANDS[code - 1] ?? null;
}
