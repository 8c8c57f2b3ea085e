/**
 * The physical card as the vfio-pci core sees it: the contract between src/hw and src/vfio.
 *
 * Rules: this is hardware, not policy. Config accesses here are raw (what the PCI bus
 * would see); the core does its own virtualization on top. Device-memory accesses follow
 * the card's decode state: all-ones on read and dropped writes while Memory Space is
 * disabled in the *physical* command register or while a reset is in progress.
 */
import type { Clock } from './clock.js';
import type { CardFaults } from './faults.js';
import type { MemoryBacking } from './memory.js';

/** A host BAR resource (what the kernel sees in pdev->resource[i]). */
export interface BarResource {
  /** BAR index 0..5 (a 64-bit BAR occupies index and index+1; the upper index has size 0). */
  index: number;
  /** Size in bytes; 0 = no resource at this index. */
  size: number;
  io: boolean;
  is64: boolean;
  prefetch: boolean;
}

/**
 * Readiness as the card reports it: the C2C link and HBM training through BAR0 (every part),
 * and the CXL Device DVSEC's Range 1 status bits (only parts that have that DVSEC).
 */
export interface ReadinessState {
  c2cLinkReady: boolean;
  hbmTrainingDone: boolean;
  /** CXL MEM_INFO_VALID: the memory size information is valid. */
  memInfoValid: boolean;
  /** CXL MEM_ACTIVE: the device memory is usable. */
  memActive: boolean;
}

/**
 * A hook that may hold readiness back (the control plane's readiness faults): it sees the
 * state the card's timing gives and returns the state to report. Called on every readiness
 * read, so it must be cheap and pure.
 */
export type ReadinessHook = (state: ReadinessState) => ReadinessState;

/** An interrupt the card raises; the vfio core routes it to the attached sink. */
export type CardInterrupt =
  | { kind: 'intx' }
  | { kind: 'msi'; vector: number }
  | { kind: 'msix'; vector: number };

export interface Card {
  readonly vendorId: number;
  readonly deviceId: number;
  /** Config-space size (4096: PCIe). */
  readonly cfgSize: number;
  /** Host BAR resources, index 0..5. */
  readonly bars: readonly BarResource[];
  /** Expansion ROM size in bytes (0 = none). */
  readonly romSize: number;
  /** ACPI _DSD `nvidia,gpu-mem-base-pa` / `nvidia,gpu-mem-size`, or null when absent. */
  readonly acpi: { memBasePa: bigint; memSize: number } | null;
  /** Device memory: the whole coherent memory, usemem first, then resmem. */
  readonly memory: MemoryBacking;
  readonly clock: Clock;

  /** Raw physical config-space read, 1/2/4 bytes, naturally aligned, little-endian value. */
  cfgRead(offset: number, size: 1 | 2 | 4): number;
  /** Raw physical config-space write (hardware write masks apply, e.g. BAR sizing). */
  cfgWrite(offset: number, size: 1 | 2 | 4, value: number): void;

  /** Read from a host BAR (BAR0 registers, Blackwell BAR1), honouring physical decode. */
  barRead(index: number, offset: number, target: Uint8Array): void;
  /** Write to a host BAR, honouring physical decode. */
  barWrite(index: number, offset: number, data: Uint8Array): void;
  /** Read the ROM image (bytes past the image read 0xFF). */
  romRead(offset: number, target: Uint8Array): void;

  /** Device memory as the C2C path sees it (all-ones/dropped while not decoding or in reset). */
  memRead(offset: number, target: Uint8Array): void;
  memWrite(offset: number, data: Uint8Array): void;
  /** Device memory in place (see MemoryBacking.view); null while not decoding or unavailable. */
  memView(offset: number, length: number): Uint8Array | null;

  /** Function-level reset of the card (FLR): registers to power-on values, readiness restarts. */
  reset(): void;
  /** True while a reset is in progress (memory reads all-ones, writes dropped). */
  readonly inReset: boolean;
  /** Current readiness as the BAR0 status registers show it. */
  readiness(): ReadinessState;

  /** Injected faults the card's paths consult (control plane). */
  readonly faults: CardFaults;
  /** Milliseconds until the readiness registers read 0xFF (0: now); null while a fault holds them. */
  readyInMs(): number | null;
  /** How long the last reset lasts (ms from its start). */
  readonly lastResetMs: number;
  /** Log a detected error in AER and Device Status; reports whether it is fatal. */
  recordAerError(kind: 'correctable' | 'uncorrectable'): { fatal: boolean };

  /** Install the handler that receives the card's interrupts (the vfio core's). */
  onInterrupt(handler: ((irq: CardInterrupt) => void) | null): void;
}
