/**
 * CardFaults: the hardware faults a control client injects into one card, as plain state the
 * card's config, BAR0 and memory paths consult.
 *
 * Rules:
 * - `any` is the one field the hot paths read: true while at least one fault is active, so a
 *   healthy card pays a single well-predicted branch per access.
 * - What each fault does is decided by the card (grace-card.ts) and the driver model that
 *   reads it (src/vfio, src/nvgrace); this file only holds and validates the state. The
 *   sources each fault follows are listed in docs/control-plane.md.
 * - Clearing restores normal behaviour and never touches device memory.
 * - Bad parameters are a caller's mistake: RangeError with a message naming the field.
 */

export const FAULT_KINDS = [
  'link-down',
  'hbm-untrained',
  'reset-stall',
  'fall-off-bus',
  'poison',
  'aer',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export function isFaultKind(s: unknown): s is FaultKind {
  return typeof s === 'string' && (FAULT_KINDS as readonly string[]).includes(s);
}

/** A poisoned range of device memory (offsets into the whole coherent memory). */
export interface PoisonRange {
  offset: number;
  length: number;
}

/** One active fault as the control plane reports it. */
export type ActiveFault =
  | { kind: 'link-down' }
  | { kind: 'hbm-untrained' }
  | { kind: 'reset-stall'; ms: number }
  | { kind: 'fall-off-bus' }
  | { kind: 'poison'; offset: number; length: number };

/** The longest reset stall accepted (a day): longer is a typo, not a test. */
export const MAX_RESET_STALL_MS = 86_400_000;
/** Poisoned ranges kept at once (each is a separate range check on trapped accesses). */
export const MAX_POISON_RANGES = 64;

export class CardFaults {
  /** True while any fault below is active (the hot paths' only check). */
  any = false;
  /** Surprise removal: config and BAR accesses read all-ones, writes are dropped. */
  offBus = false;
  /** C2C link status (BAR0 0x1498) no longer reads 0xFF. */
  linkDown = false;
  /** HBM training status (BAR0 0x200BC) no longer reads 0xFF. */
  hbmUntrained = false;
  /** Each reset from now on lasts this long (ms), or null for the card's own duration. */
  resetStallMs: number | null = null;
  private readonly poisoned: PoisonRange[] = [];

  constructor(private readonly memSize: number) {}

  setOffBus(on: boolean): void {
    this.offBus = on;
    this.update();
  }

  setLinkDown(on: boolean): void {
    this.linkDown = on;
    this.update();
  }

  setHbmUntrained(on: boolean): void {
    this.hbmUntrained = on;
    this.update();
  }

  setResetStall(ms: number): void {
    if (!Number.isSafeInteger(ms) || ms < 0 || ms > MAX_RESET_STALL_MS) {
      throw new RangeError(`ms must be an integer 0..${MAX_RESET_STALL_MS}`);
    }
    this.resetStallMs = ms;
    this.update();
  }

  addPoison(offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset >= this.memSize) {
      throw new RangeError(
        `offset must be an integer inside the 0x${this.memSize.toString(16)} bytes of device memory`,
      );
    }
    if (!Number.isSafeInteger(length) || length <= 0 || length > this.memSize - offset) {
      throw new RangeError(
        'length must be a positive integer that keeps the range inside device memory',
      );
    }
    if (this.poisoned.length >= MAX_POISON_RANGES) {
      throw new RangeError(`at most ${MAX_POISON_RANGES} poisoned ranges at once`);
    }
    this.poisoned.push({ offset, length });
    this.update();
  }

  /** True when [offset, offset + length) overlaps a poisoned range. */
  isPoisoned(offset: number, length: number): boolean {
    for (const p of this.poisoned) {
      if (p.offset < offset + length && offset < p.offset + p.length) return true;
    }
    return false;
  }

  /** The faults in force, in a stable order. */
  list(): ActiveFault[] {
    const out: ActiveFault[] = [];
    if (this.linkDown) out.push({ kind: 'link-down' });
    if (this.hbmUntrained) out.push({ kind: 'hbm-untrained' });
    if (this.resetStallMs !== null) out.push({ kind: 'reset-stall', ms: this.resetStallMs });
    if (this.offBus) out.push({ kind: 'fall-off-bus' });
    for (const p of this.poisoned) out.push({ kind: 'poison', offset: p.offset, length: p.length });
    return out;
  }

  /** Back to a healthy card; returns what was active. */
  clear(): ActiveFault[] {
    const was = this.list();
    this.offBus = false;
    this.linkDown = false;
    this.hbmUntrained = false;
    this.resetStallMs = null;
    this.poisoned.length = 0;
    this.update();
    return was;
  }

  private update(): void {
    this.any =
      this.offBus ||
      this.linkDown ||
      this.hbmUntrained ||
      this.resetStallMs !== null ||
      this.poisoned.length > 0;
  }
}
