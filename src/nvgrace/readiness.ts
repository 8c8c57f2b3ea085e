/**
 * The driver's GPU readiness poll (nvgrace_gpu_wait_device_ready, docs/driver-rules.md §7).
 *
 * Rules: ready = C2C link and HBM training both report 0xFF. Check immediately; then sleep
 * 1000 ms and check again while no more than 30 000 ms have passed since the start (so the
 * last check is at 30 s); time comes only from the injected clock.
 */
import type { Card } from '../hw/card.js';
import type { Clock } from '../hw/clock.js';
import { READY_POLL_MS, READY_TIMEOUT_MS } from './kernel-bands.js';

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
