/**
 * The config state the PCI core saves before a function reset and restores after it
 * (pci_save_state / pci_restore_state), for the registers the card has that the interrupt
 * programming (IrqController.programHw) and the command register do not already cover.
 *
 * Rules: header cache line / latency / interrupt line, PCIe DevCtl (never the FLR bit),
 * LnkCtl, DevCtl2, LnkCtl2, AER masks/severity/control, LTR latencies. The user's vconfig is
 * not involved: after a reset the guest sees its own values plus the restored hardware bits.
 */
import type { Card } from '../hw/card.js';
import type { AccessSize } from '../pci/config-space.js';
import * as C from '../pci/constants.js';
import { findCap, findExtCap } from '../pci/walk.js';

interface Reg {
  at: number;
  size: AccessSize;
  mask?: number;
}

function registers(card: Card): Reg[] {
  const read = (o: number, s: AccessSize): number => card.cfgRead(o, s);
  const regs: Reg[] = [
    { at: C.PCI_CACHE_LINE_SIZE, size: 1 },
    { at: C.PCI_LATENCY_TIMER, size: 1 },
    { at: C.PCI_INTERRUPT_LINE, size: 1 },
  ];
  const exp = findCap(read, C.PCI_CAP_ID_EXP);
  if (exp !== null) {
    regs.push(
      { at: exp + C.PCI_EXP_DEVCTL, size: 2, mask: ~C.PCI_EXP_DEVCTL_BCR_FLR & 0xffff },
      { at: exp + C.PCI_EXP_LNKCTL, size: 2 },
      { at: exp + C.PCI_EXP_DEVCTL2, size: 2 },
      { at: exp + C.PCI_EXP_LNKCTL2, size: 2 },
    );
  }
  if (card.cfgSize > C.PCI_CFG_SPACE_SIZE) {
    const aer = findExtCap(read, C.PCI_EXT_CAP_ID_ERR, card.cfgSize);
    if (aer !== null) {
      for (const o of [
        C.PCI_ERR_UNCOR_MASK,
        C.PCI_ERR_UNCOR_SEVER,
        C.PCI_ERR_COR_MASK,
        C.PCI_ERR_CAP,
      ]) {
        regs.push({ at: aer + o, size: 4 });
      }
    }
    const ltr = findExtCap(read, C.PCI_EXT_CAP_ID_LTR, card.cfgSize);
    if (ltr !== null) regs.push({ at: ltr + C.PCI_LTR_MAX_SNOOP_LAT, size: 4 });
  }
  return regs.filter((r) => r.at + r.size <= card.cfgSize);
}

/** Save the state now; the returned function writes it back (after the reset). */
export function saveConfigState(card: Card): () => void {
  const regs = registers(card);
  const values = regs.map((r) => card.cfgRead(r.at, r.size));
  return () => {
    regs.forEach((r, i) => {
      const v = values[i] ?? 0;
      card.cfgWrite(r.at, r.size, r.mask === undefined ? v : v & r.mask);
    });
  };
}
