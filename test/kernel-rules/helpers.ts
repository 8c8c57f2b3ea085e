/**
 * Shared rigs for the kernel-rules suites: each suite pins, rule by rule, what one kernel
 * source file does, and names the function the rule comes from.
 *
 * Sources read (2026-12, via the code index): vfio_pci_intrs.c and vfio_pci_rdwr.c as of the
 * v6.8+ xarray/eventfd_signal(ctx) era through v7.0 (the ERR/REQ RCU rework keeps the same
 * errnos); vfio_pci_config.c (v6.x; vfio_msi_config_read/_write unchanged since v3.6);
 * vfio_main.c vfio_set_irqs_validate_and_prepare; nvgrace-gpu/main.c at v6.9 (701ab935859f),
 * v6.18 (407aa63018d1) and the v6.19 readiness series (v9, applied for v6.19).
 */
import { createCard, ManualClock } from '../../src/hw/index.js';
import type { IrqSink } from '../../src/vfio/device.js';
import { VfioError } from '../../src/vfio/errors.js';
import { VfioPciDevice } from '../../src/vfio/pci-device.js';

export { Errno } from '../../src/uapi/errno.js';

export const CFG = 7;

/** assert.throws predicate: a VfioError with this errno. */
export const errno = (n: number) => (e: unknown) => e instanceof VfioError && e.errno === n;

/** The plain core (vfio-pci / nvgrace-gpu-vfio-pci-core) over a card, opened. */
export function core(profile: 'gh200' | 'gb200' = 'gh200') {
  const clock = new ManualClock();
  const card = createCard({ profile, clock });
  const dev = new VfioPciDevice(card);
  dev.open();
  return { card, dev, clock };
}

/** An eventfd stand-in that counts signals and remembers being closed. */
export class Sink implements IrqSink {
  n = 0;
  closed = false;
  signal(): void {
    this.n++;
  }
  close(): void {
    this.closed = true;
  }
}

export const sinks = (n: number): Sink[] => Array.from({ length: n }, () => new Sink());

export function le(v: number, size = 4): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (v / 256 ** i) & 0xff;
  return b;
}

export function rd(b: Uint8Array): number {
  let x = 0;
  for (let i = b.length - 1; i >= 0; i--) x = x * 256 + (b[i] ?? 0);
  return x;
}
