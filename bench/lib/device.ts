/**
 * What a guest driver does before touching the BARs, done through the vfio-user client:
 * set Memory Space Enable in the command register (kernel band 6.19 gates the fake BARs on
 * it, BAR0 needs it everywhere), and find the MSI-X capability.
 */
import type { VfioUserClient } from '../../src/vfio-user/client/client.js';

export const CONFIG = 7;
const PCI_COMMAND = 0x04;
const PCI_COMMAND_MEMORY = 0x2;
const PCI_CAPABILITY_LIST = 0x34;
const PCI_CAP_ID_MSIX = 0x11;

function u16(b: Uint8Array): number {
  return (b[0] ?? 0) | ((b[1] ?? 0) << 8);
}

export async function enableMemorySpace(c: VfioUserClient): Promise<void> {
  const cmd = u16(await c.regionRead(CONFIG, PCI_COMMAND, 2));
  const v = cmd | PCI_COMMAND_MEMORY;
  await c.regionWrite(CONFIG, PCI_COMMAND, new Uint8Array([v & 0xff, v >> 8]));
}

/** Config offset of the MSI-X capability, or null. */
export async function findMsix(c: VfioUserClient): Promise<number | null> {
  let pos = (await c.regionRead(CONFIG, PCI_CAPABILITY_LIST, 1))[0] ?? 0;
  for (let guard = 0; pos !== 0 && guard < 48; guard++) {
    const hdr = await c.regionRead(CONFIG, pos & 0xfc, 2);
    if (hdr[0] === PCI_CAP_ID_MSIX) return pos & 0xfc;
    pos = hdr[1] ?? 0;
  }
  return null;
}

export function u32le(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}
