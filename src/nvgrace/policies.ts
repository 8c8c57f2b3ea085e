/**
 * The alternatives the v15 review of vfio/nvgrace-gpu weighed, as switchable policies (see
 * docs/review-alternatives.md). The defaults are what Linux ships.
 *
 * Rules:
 * - mse 'ignore' (upstream): the fake BARs never look at the virtual Command.MSE bit (the
 *   hardware answers all-ones / drops writes while decode is off). 'honour' (v15): a trapped
 *   read or write of a fake BAR fails EIO while the virtual MSE is clear, and the fake BARs are
 *   offered without an fd (no MMAP) while it is clear. The ≥ 6.19 post-reset gate keeps its
 *   own MSE rule in both modes.
 * - layout 'bars' (upstream): usemem at index 4, Hopper's resmem at index 2, as fake BARs.
 *   'vendor-region' (the device-specific-region alternative): BARs 2 and 4 masked, the whole
 *   device memory one mmap-only region at VENDOR_REGION_INDEX with a type capability.
 */

export type MsePolicy = 'ignore' | 'honour';
export type ExposureLayout = 'bars' | 'vendor-region';

export const MSE_POLICIES: readonly MsePolicy[] = ['ignore', 'honour'];
export const EXPOSURE_LAYOUTS: readonly ExposureLayout[] = ['bars', 'vendor-region'];

export interface ReviewPolicies {
  mse: MsePolicy;
  layout: ExposureLayout;
}

export const UPSTREAM_POLICIES: Readonly<ReviewPolicies> = { mse: 'ignore', layout: 'bars' };

/**
 * The policies' code in the emulator identity block (src/hw/emu-identity.ts): bit 0 set = a
 * told value; bit 1 mse 'honour'; bit 2 layout 'vendor-region'.
 */
export function policyCode(p: ReviewPolicies): number {
  return 1 | (p.mse === 'honour' ? 2 : 0) | (p.layout === 'vendor-region' ? 4 : 0);
}

/** The policies a code names, or null when not told. */
export function policiesFromCode(code: number): ReviewPolicies | null {
  if ((code & 1) === 0) return null;
  return {
    mse: code & 2 ? 'honour' : 'ignore',
    layout: code & 4 ? 'vendor-region' : 'bars',
  };
}
