/**
 * How long the ≥6.19 post-reset gate (variant.ts gate(), docs/driver-rules.md §7.2) can hold
 * one fake-BAR access, from what is known about the served device: a VMM must wait at least
 * this long for a reply (QEMU: `x-msg-timeout`). Pure.
 *
 * Rules (the polls of readiness.ts, in the injected clock's ms):
 * - no gate (6.9, 6.14, the plain-core fallback) → 0;
 * - BAR0 poll (nvgrace_gpu_wait_device_ready): the last check at READY_TIMEOUT_MS fails, one
 *   more sleep, then ETIME → READY_TIMEOUT_MS + READY_POLL_MS;
 * - CXL poll (nvgrace_gpu_wait_device_ready_cxl, 7.2 with the CXL Device DVSEC): MEM_INFO_VALID
 *   is seen at the latest by the first check past its 1 s deadline, the deadline then moves by
 *   Memory_Active_Timeout, and the first check past that fails →
 *   CXL_INFO_VALID_TIMEOUT_MS + READY_POLL_MS + timeout + READY_POLL_MS;
 * - a card whose ready time after a reset is fixed and known is seen ready at the first check
 *   at or after it, so no wait outlasts that time rounded up to a poll (0 when it is ready at
 *   once); the poll's own bound still applies;
 * - an unknown band counts as the worst band for this part.
 */
import {
  BANDS,
  CXL_INFO_VALID_TIMEOUT_MS,
  KERNEL_BANDS,
  type KernelBand,
  READY_POLL_MS,
  READY_TIMEOUT_MS,
} from './kernel-bands.js';

export interface GateWaitFacts {
  /** The kernel band served, or null when not known. */
  band: KernelBand | null;
  /** Memory_Active_Timeout (ms) the part's CXL Device DVSEC reports; null: no CXL DVSEC. */
  cxlMemActiveTimeoutMs: number | null;
  /**
   * When the card reads ready after a reset starts (reset duration + ready delay), in ms;
   * null when not known or when it can change while serving (control-plane faults).
   */
  readyAfterResetMs: number | null;
}

/** The longest the post-reset gate can hold one access, in ms (0: it never waits). */
export function longestGateWaitMs(f: GateWaitFacts): number {
  let worst = 0;
  for (const band of f.band === null ? KERNEL_BANDS : [f.band]) {
    const b = BANDS[band];
    if (!b.postResetGate) continue;
    const poll =
      b.cxlReadiness && f.cxlMemActiveTimeoutMs !== null
        ? CXL_INFO_VALID_TIMEOUT_MS + READY_POLL_MS + f.cxlMemActiveTimeoutMs + READY_POLL_MS
        : READY_TIMEOUT_MS + READY_POLL_MS;
    const ready =
      f.readyAfterResetMs === null
        ? poll
        : Math.ceil(f.readyAfterResetMs / READY_POLL_MS) * READY_POLL_MS;
    worst = Math.max(worst, Math.min(poll, ready));
  }
  return worst;
}
