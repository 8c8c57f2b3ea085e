/**
 * A function reset as pci_try_reset_function does it for vfio: save the physical config
 * state, quiesce the command register, reset the card (FLR), restore the saved state.
 *
 * Rules: what is restored follows pci_save_state/pci_restore_state for the registers this
 * card has: the header (BARs, ROM, cache line, latency, interrupt line, command last),
 * PCIe DevCtl/LnkCtl/DevCtl2/LnkCtl2, MSI address/data/mask/control, MSI-X control, AER
 * masks/severity/control, LTR. The FLR bit is never written back. The user's vconfig is not
 * touched here. Returns false when the card's reset failed (throws).
 */
import type { Card } from '../hw/card.js';
import type { AccessSize } from '../pci/config-space.js';
import {
  PCI_CACHE_LINE_SIZE,
  PCI_CAP_ID_EXP,
  PCI_CAP_ID_MSI,
  PCI_CAP_ID_MSIX,
  PCI_COMMAND,
  PCI_COMMAND_INTX_DISABLE,
  PCI_ERR_CAP,
  PCI_ERR_COR_MASK,
  PCI_ERR_UNCOR_MASK,
  PCI_ERR_UNCOR_SEVER,
  PCI_EXP_DEVCTL,
  PCI_EXP_DEVCTL_BCR_FLR,
  PCI_EXP_DEVCTL2,
  PCI_EXP_LNKCTL,
  PCI_EXP_LNKCTL2,
  PCI_EXT_CAP_ID_ERR,
  PCI_EXT_CAP_ID_LTR,
  PCI_INTERRUPT_LINE,
  PCI_LTR_MAX_SNOOP_LAT,
  PCI_MSI_FLAGS,
  PCI_MSIX_FLAGS,
  PCI_ROM_ADDRESS,
} from '../pci/constants.js';
import { findCap, findExtCap } from '../pci/walk.js';
import { stdCapLength } from './config/tables.js';

type Reg = { at: number; size: AccessSize; mask?: number };

function savedRegisters(card: Card): Reg[] {
  const read = (o: number, s: AccessSize) => card.cfgRead(o, s);
  const regs: Reg[] = [{ at: PCI_CACHE_LINE_SIZE, size: 2 }];
  for (let i = 0; i < 6; i++) regs.push({ at: 0x10 + 4 * i, size: 4 });
  regs.push({ at: PCI_ROM_ADDRESS, size: 4 }, { at: PCI_INTERRUPT_LINE, size: 1 });
  const exp = findCap(read, PCI_CAP_ID_EXP);
  if (exp !== null) {
    regs.push(
      { at: exp + PCI_EXP_DEVCTL, size: 2, mask: ~PCI_EXP_DEVCTL_BCR_FLR & 0xffff },
      { at: exp + PCI_EXP_LNKCTL, size: 2 },
      { at: exp + PCI_EXP_DEVCTL2, size: 2 },
      { at: exp + PCI_EXP_LNKCTL2, size: 2 },
    );
  }
  const msi = findCap(read, PCI_CAP_ID_MSI);
  if (msi !== null) {
    // Address/data/mask first (their layout depends on the flags), control last.
    const len = stdCapLength(PCI_CAP_ID_MSI, read, msi);
    for (let o = 4; o < len; o += 4) regs.push({ at: msi + o, size: len - o >= 4 ? 4 : 2 });
    regs.push({ at: msi + PCI_MSI_FLAGS, size: 2 });
  }
  const msix = findCap(read, PCI_CAP_ID_MSIX);
  if (msix !== null) regs.push({ at: msix + PCI_MSIX_FLAGS, size: 2 });
  if (card.cfgSize > 0x100) {
    const aer = findExtCap(read, PCI_EXT_CAP_ID_ERR, card.cfgSize);
    if (aer !== null) {
      for (const o of [PCI_ERR_UNCOR_MASK, PCI_ERR_UNCOR_SEVER, PCI_ERR_COR_MASK, PCI_ERR_CAP]) {
        regs.push({ at: aer + o, size: 4 });
      }
    }
    const ltr = findExtCap(read, PCI_EXT_CAP_ID_LTR, card.cfgSize);
    if (ltr !== null) regs.push({ at: ltr + PCI_LTR_MAX_SNOOP_LAT, size: 4 });
  }
  return regs.filter((r) => r.at + r.size <= card.cfgSize);
}

/** Reset the card's function, keeping its config state as the PCI core does. */
export function resetFunction(card: Card): boolean {
  const regs = savedRegisters(card);
  const saved = regs.map((r) => card.cfgRead(r.at, r.size));
  const command = card.cfgRead(PCI_COMMAND, 2);
  card.cfgWrite(PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
  try {
    card.reset();
  } catch {
    card.cfgWrite(PCI_COMMAND, 2, command);
    return false;
  }
  regs.forEach((r, i) => {
    const v = saved[i] ?? 0;
    card.cfgWrite(r.at, r.size, r.mask === undefined ? v : v & r.mask);
  });
  card.cfgWrite(PCI_COMMAND, 2, command);
  return true;
}
