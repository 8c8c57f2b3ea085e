/**
 * The driver's GPU readiness polls: the BAR0 one (nvgrace_gpu_wait_device_ready, ≤ 7.1, and
 * parts without the CXL DVSEC on ≥ 7.2) and the CXL Device DVSEC one (≥ 7.2).
 *
 * Rules:
 * - BAR0 (docs/driver-rules.md §7): ready = C2C link and HBM training both report 0xFF. Check
 *   immediately; then sleep 1000 ms and check again while no more than 30 000 ms have passed
 *   since the start (so the last check is at 30 s).
 * - CXL (nvgrace_gpu_test_device_ready_cxl / nvgrace_gpu_wait_device_ready_cxl, 7.2): read
 *   Range 1 Size Low; all-ones → ENODEV (the device is gone); MEM_INFO_VALID and MEM_ACTIVE
 *   both set → ready. The wait starts with a 1 s deadline for MEM_INFO_VALID; the first
 *   check that sees it moves the deadline to that moment + Memory_Active_Timeout (decoded from
 *   the same read). Each round: test, maybe move the deadline, fail ETIME once past it, sleep
 *   1000 ms. No BAR0 access on this path.
 * - Time comes only from the injected clock.
 */
import type { Card } from '../hw/card.js';
import type { Clock } from '../hw/clock.js';
import {
  cxlMemActiveTimeoutField,
  cxlMemActiveTimeoutMs,
  cxlRangeSizeLow,
  PCI_DVSEC_CXL_DEVICE,
  PCI_DVSEC_CXL_MEM_ACTIVE,
  PCI_DVSEC_CXL_MEM_INFO_VALID,
  PCI_VENDOR_ID_CXL,
} from '../pci/cxl-dvsec.js';
import { findDvsec } from '../pci/walk.js';
import { CXL_INFO_VALID_TIMEOUT_MS, READY_POLL_MS, READY_TIMEOUT_MS } from './kernel-bands.js';

export function cardReady(card: Card): boolean {
  const r = card.readiness();
  return r.c2cLinkReady && r.hbmTrainingDone;
}

/** Resolve true when the card became ready within the timeout, false on timeout. */
export async function waitReady(card: Card, clock: Clock): Promise<boolean> {
  const start = clock.now();
  do {
    if (cardReady(card)) return true;
    await clock.sleep(READY_POLL_MS);
  } while (clock.now() - start <= READY_TIMEOUT_MS);
  return false;
}

/** Offset of the CXL Device DVSEC (pci_find_dvsec_capability(PCI_VENDOR_ID_CXL, 0)), or null. */
export function findCxlDvsec(card: Card): number | null {
  const read = (o: number, s: 1 | 2 | 4): number => card.cfgRead(o, s);
  return findDvsec(read, PCI_VENDOR_ID_CXL, PCI_DVSEC_CXL_DEVICE, card.cfgSize);
}

export type CxlTest = { result: 'ready' | 'not-ready' | 'gone'; status: number };

/** nvgrace_gpu_test_device_ready_cxl(): one read of Range 1 Size Low. */
export function testReadyCxl(card: Card, dvsec: number): CxlTest {
  const status = card.cfgRead(dvsec + cxlRangeSizeLow(0), 4) >>> 0;
  if (status === 0xffffffff) return { result: 'gone', status };
  const both = PCI_DVSEC_CXL_MEM_INFO_VALID | PCI_DVSEC_CXL_MEM_ACTIVE;
  return { result: (status & both) === both ? 'ready' : 'not-ready', status };
}

/** nvgrace_gpu_wait_device_ready_cxl(): 'ready', or the errno the driver returns. */
export async function waitReadyCxl(
  card: Card,
  clock: Clock,
  dvsec: number,
): Promise<'ready' | 'ETIME' | 'ENODEV'> {
  let deadline = clock.now() + CXL_INFO_VALID_TIMEOUT_MS;
  let activePhase = false;
  for (;;) {
    const t = testReadyCxl(card, dvsec);
    if (t.result === 'ready') return 'ready';
    if (t.result === 'gone') return 'ENODEV';
    if (!activePhase && (t.status & PCI_DVSEC_CXL_MEM_INFO_VALID) !== 0) {
      deadline = clock.now() + cxlMemActiveTimeoutMs(cxlMemActiveTimeoutField(t.status));
      activePhase = true;
    }
    if (clock.now() > deadline) return 'ETIME';
    await clock.sleep(READY_POLL_MS);
  }
}
