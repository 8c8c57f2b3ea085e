import { type CreateCardOptions, createCard, ManualClock } from '../../src/hw/index.js';
import type { BoundDevice, KernelBand, ReviewPolicies } from '../../src/nvgrace/index.js';
import { createNvgraceDevice, NvgraceDevice } from '../../src/nvgrace/index.js';

export const GiB = 2 ** 30;
export const CFG = 7;

export interface Rig {
  clock: ManualClock;
  card: ReturnType<typeof createCard>;
  dev: BoundDevice;
}

/** A probed and opened device on a ManualClock (ready at once unless told otherwise). */
export async function rig(
  opts: Partial<CreateCardOptions> & {
    kernel?: KernelBand;
    policies?: Partial<ReviewPolicies>;
  } = {},
): Promise<Rig> {
  const clock = new ManualClock();
  const card = createCard({ profile: 'gh200', ...opts, clock });
  const dev = await createNvgraceDevice({
    card,
    kernel: opts.kernel ?? '6.19',
    clock,
    ...(opts.policies ? { policies: opts.policies } : {}),
  });
  await dev.open();
  return { clock, card, dev };
}

export function variant(dev: BoundDevice): NvgraceDevice {
  if (!(dev instanceof NvgraceDevice)) throw new Error('not the variant');
  return dev;
}

export function u32(b: Uint8Array, at = 0): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at, true);
}

export function le32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
}

export async function cfgRead32(dev: BoundDevice, at: number): Promise<number> {
  return u32(await dev.read(CFG, at, 4));
}
