/**
 * The vfio-pci core's interrupt state: VFIO_DEVICE_GET_IRQ_INFO / SET_IRQS and the routing of
 * the card's interrupts to the user's sinks (vfio_pci_intrs.c).
 *
 * Rules (each pinned in test/kernel-rules/vfio-pci-intrs.test.ts):
 * - Validation as vfio_set_irqs_validate_and_prepare (vfio_main.c): index < 5, known flag
 *   bits, start/count inside the index's count (so an index with no interrupts is EINVAL),
 *   exactly one data type; then vfio_pci_set_irqs_ioctl dispatches on the action: no
 *   handler for the combination (no action, two actions, MSI/MSI-X MASK/UNMASK, ERR/REQ
 *   MASK/UNMASK) → ENOTTY. INTx MASK with an eventfd → ENOTTY (vfio_pci_set_intx_mask).
 * - One mode at a time (none / INTx / MSI / MSI-X): enabling another while one is active →
 *   EINVAL; count 0 + DATA_NONE + TRIGGER disables the active index.
 * - MSI/MSI-X eventfds (vfio_msi_set_block): vectors are set one by one; assigning a vector
 *   beyond those enabled fails EINVAL (no dynamic MSI-X: NORESIZE) and de-assigns every vector
 *   of the block up to and including the failing one (the kernel's unwind).
 * - ERR/REQ (vfio_pci_set_ctx_trigger_single): DATA_NONE signals (count 1) or releases
 *   (count 0) the trigger, EINVAL when none is set; DATA_BOOL and DATA_EVENTFD need count 1
 *   (EINVAL for 0); an eventfd of -1 (no fd passed) releases.
 * - msi_qmax (log2 of the vectors vfio_msi_enable allocated) is kept after MSI is disabled:
 *   vfio_msi_disable does not reset it, so it keeps clipping the MSI flags' QSIZE.
 * - Doing what the host kernel does to the hardware: MSI → Multiple Message Enable + enable
 *   in the physical flags, every allocated vector masked then the ones with a trigger
 *   unmasked (msi_capability_init, request_irq/free_irq); disable → enable cleared, MME kept,
 *   allocated vectors unmasked (pci_msi_shutdown). MSI-X → physical enable, every table entry
 *   masked and the ones with a trigger unmasked (msix_capability_init); disable → entries
 *   masked, enable cleared (pci_msix_shutdown). INTx → physical INTx-Disable tracks the mask.
 * - INTx is automasked: after one signal it stays masked until UNMASK, or until the user
 *   clears the virtual INTx-Disable (vfio_basic_config_write → vfio_pci_intx_unmask). Setting
 *   INTx-Disable masks; UNMASK does nothing while it is set; the DATA_NONE/BOOL loopback
 *   signals nothing while it is set (vfio_send_intx_eventfd).
 * - Sinks the device lets go of (replaced, de-assigned, torn down) are closed; the sinks of a
 *   request that fails are never stored (the caller closes them).
 */
import type { Card, CardInterrupt } from '../hw/card.js';
import * as C from '../pci/constants.js';
import { IrqInfoFlags, IrqSetFlags, PciIrq } from '../uapi/vfio.js';
import type { IrqInfo, IrqSink, SetIrqsRequest } from './device.js';
import { fail } from './errors.js';

export type IrqMode = 'none' | 'intx' | 'msi' | 'msix';
type Mode = IrqMode;

export interface IrqLayout {
  intxPin: () => number;
  msiCap: number | undefined;
  msixCap: number | undefined;
  /** True when ERR applies (PCIe device). */
  isPcie: boolean;
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x; v; v &= v - 1) n++;
  return n;
}

export class IrqController {
  private mode: Mode = 'none';
  private intxTrigger: IrqSink | null = null;
  private intxUnmaskSink: IrqSink | null = null;
  private intxMasked = false;
  private virqDisabled = false;
  private vectors: (IrqSink | null)[] = [];
  private qmax = 0;
  private err: IrqSink | null = null;
  private req: IrqSink | null = null;
  /** Told when the interrupt mode or its vector count changes (control-plane events). */
  onModeChange: ((mode: IrqMode, vectors: number) => void) | null = null;

  constructor(
    private readonly card: Card,
    private readonly layout: IrqLayout,
  ) {}

  /** Install the card handler (device open). */
  attach(): void {
    this.card.onInterrupt((irq) => this.deliver(irq));
  }

  /** The active interrupt mode. */
  get activeMode(): IrqMode {
    return this.mode;
  }

  /** Vectors enabled in the active mode (INTx: 1, none: 0). */
  get activeVectors(): number {
    if (this.mode === 'intx') return 1;
    return this.vectors.length;
  }

  /** Whether the user registered an eventfd for ERR (3) or REQ (4). */
  hasContextSink(index: number): boolean {
    return (index === PciIrq.ERR ? this.err : this.req) !== null;
  }

  /**
   * Signal the user's eventfd for `index`/`vector` from the host side, as the kernel does for
   * ERR (vfio_pci_core_aer_err_detected) and REQ (vfio_pci_core_request), and as a loopback
   * TRIGGER does for INTx/MSI/MSI-X. INTx honours its mask (vfio_send_intx_eventfd only
   * fires while unmasked, then automasks). Returns false when nothing was signalled (index
   * not active, vector without an eventfd, INTx masked).
   */
  signal(index: number, vector: number): boolean {
    let sink: IrqSink | null | undefined = null;
    if (index === PciIrq.ERR) sink = vector === 0 ? this.err : null;
    else if (index === PciIrq.REQ) sink = vector === 0 ? this.req : null;
    else if (index === PciIrq.INTX) {
      if (this.mode !== 'intx' || vector !== 0 || this.intxIsMasked) return false;
      sink = this.intxTrigger;
      if (sink) {
        sink.signal();
        this.intxMasked = true;
        this.syncIntxHw();
        return true;
      }
      return false;
    } else if (index === PciIrq.MSI || index === PciIrq.MSIX) {
      const kind = index === PciIrq.MSI ? 'msi' : 'msix';
      if (this.mode !== kind) return false;
      sink = this.vectors[vector];
    }
    if (!sink) return false;
    sink.signal();
    return true;
  }

  private modeChanged(): void {
    this.onModeChange?.(this.mode, this.activeVectors);
  }

  get msiActive(): boolean {
    return this.mode === 'msi';
  }

  get msiQmax(): number {
    return this.qmax;
  }

  /** Count of MSI vectors the hardware offers (2^MMC), 0 without the cap. */
  private msiCount(): number {
    if (this.layout.msiCap === undefined) return 0;
    const flags = this.card.cfgRead(this.layout.msiCap + C.PCI_MSI_FLAGS, 2);
    return 1 << ((flags & C.PCI_MSI_FLAGS_QMASK) >>> 1);
  }

  private msixCount(): number {
    if (this.layout.msixCap === undefined) return 0;
    const flags = this.card.cfgRead(this.layout.msixCap + C.PCI_MSIX_FLAGS, 2);
    return (flags & C.PCI_MSIX_FLAGS_QSIZE) + 1;
  }

  private count(index: number): number {
    switch (index) {
      case PciIrq.INTX:
        return this.layout.intxPin() !== 0 ? 1 : 0;
      case PciIrq.MSI:
        return this.msiCount();
      case PciIrq.MSIX:
        return this.msixCount();
      case PciIrq.ERR:
        return this.layout.isPcie ? 1 : 0;
      case PciIrq.REQ:
        return 1;
      default:
        return 0;
    }
  }

  info(index: number): IrqInfo {
    if (!Number.isInteger(index) || index < 0 || index >= PciIrq.NUM_IRQS) {
      fail('EINVAL', `IRQ index ${index} does not exist`);
    }
    if (index === PciIrq.ERR && !this.layout.isPcie) {
      fail('EINVAL', 'ERR IRQ needs a PCIe device');
    }
    const flags =
      index === PciIrq.INTX
        ? IrqInfoFlags.EVENTFD | IrqInfoFlags.MASKABLE | IrqInfoFlags.AUTOMASKED
        : IrqInfoFlags.EVENTFD | IrqInfoFlags.NORESIZE;
    return { index, flags, count: this.count(index) };
  }

  set(req: SetIrqsRequest): void {
    const { flags, index, start, count } = req;
    if (!Number.isInteger(index) || index < 0 || index >= PciIrq.NUM_IRQS) {
      fail('EINVAL', `IRQ index ${index} does not exist`);
    }
    if (flags & ~(IrqSetFlags.DATA_TYPE_MASK | IrqSetFlags.ACTION_TYPE_MASK)) {
      fail('EINVAL', `unknown SET_IRQS flags 0x${flags.toString(16)}`);
    }
    if (popcount(flags & IrqSetFlags.DATA_TYPE_MASK) !== 1) {
      fail('EINVAL', 'SET_IRQS needs exactly one data type');
    }
    const max = this.count(index);
    if (max === 0) fail('EINVAL', `IRQ index ${index} has no interrupts`);
    if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0) {
      fail('EINVAL', 'SET_IRQS start/count must be non-negative integers');
    }
    if (start >= max || count > max - start) {
      fail('EINVAL', `SET_IRQS range ${start}+${count} exceeds ${max} interrupts`);
    }
    if (flags & IrqSetFlags.DATA_BOOL && req.bools?.length !== count) {
      fail('EINVAL', `SET_IRQS DATA_BOOL needs ${count} bytes`);
    }
    if (flags & IrqSetFlags.DATA_EVENTFD) {
      const n = req.sinks?.length ?? 0;
      if (n !== 0 && n !== count) fail('EINVAL', `SET_IRQS DATA_EVENTFD needs 0 or ${count} fds`);
    }
    // vfio_pci_set_irqs_ioctl: the handler is chosen by the whole action field; a value
    // that is not exactly one supported action has none → ENOTTY.
    const action = flags & IrqSetFlags.ACTION_TYPE_MASK;
    const trig = action === IrqSetFlags.ACTION_TRIGGER;
    switch (index) {
      case PciIrq.INTX:
        if (action === IrqSetFlags.ACTION_MASK) this.intxMask(req);
        else if (action === IrqSetFlags.ACTION_UNMASK) this.intxUnmask(req);
        else if (trig) this.intxTriggerSet(req);
        else fail('ENOTTY', `SET_IRQS action 0x${action.toString(16)} has no INTx handler`);
        return;
      case PciIrq.MSI:
      case PciIrq.MSIX:
        if (!trig) fail('ENOTTY', 'MSI/MSI-X take TRIGGER only (no masking via SET_IRQS)');
        this.msiTrigger(req, index === PciIrq.MSIX ? 'msix' : 'msi');
        return;
      default:
        if (!trig) fail('ENOTTY', 'ERR/REQ take TRIGGER only');
        if (start !== 0 || count > 1) fail('EINVAL', 'ERR/REQ have one interrupt');
        this.ctxTrigger(req, index === PciIrq.ERR ? 'err' : 'req');
    }
  }

  // --- INTx -----------------------------------------------------------------------------

  private get intxIsMasked(): boolean {
    return this.intxMasked || this.virqDisabled;
  }

  /** Physical INTx-Disable follows vfio's mask (PCI 2.3 masking). */
  private syncIntxHw(): void {
    const cmd = this.card.cfgRead(C.PCI_COMMAND, 2);
    const want = this.mode === 'intx' ? !this.intxIsMasked : this.mode === 'none';
    const disable = want ? 0 : C.PCI_COMMAND_INTX_DISABLE;
    const next = (cmd & ~C.PCI_COMMAND_INTX_DISABLE) | disable;
    if (next !== cmd) this.card.cfgWrite(C.PCI_COMMAND, 2, next);
  }

  /** The user's virtual INTx-Disable changed (config write). */
  setVirqDisabled(disabled: boolean): void {
    if (disabled === this.virqDisabled) return;
    this.virqDisabled = disabled;
    if (this.mode !== 'intx') return;
    // vfio_basic_config_write: setting the bit is vfio_pci_intx_mask (masked = true);
    // clearing it is vfio_pci_intx_unmask, which also lifts an automask.
    if (disabled) {
      this.intxMasked = true;
      this.syncIntxHw();
    } else {
      this.unmaskIntx();
    }
  }

  private boolSet(req: SetIrqsRequest): boolean {
    if (req.flags & IrqSetFlags.DATA_NONE) return true;
    return (req.bools?.[0] ?? 0) !== 0;
  }

  private intxMask(req: SetIrqsRequest): void {
    if (this.mode !== 'intx' || req.start !== 0 || req.count !== 1) {
      fail('EINVAL', 'INTx mask needs INTx enabled and start 0 count 1');
    }
    // vfio_pci_set_intx_mask: an eventfd-driven mask is not implemented ("XXX implement me").
    if (req.flags & IrqSetFlags.DATA_EVENTFD) fail('ENOTTY', 'INTx mask takes no eventfd');
    if (this.boolSet(req)) {
      this.intxMasked = true;
      this.syncIntxHw();
    }
  }

  private intxUnmask(req: SetIrqsRequest): void {
    if (this.mode !== 'intx' || req.start !== 0 || req.count !== 1) {
      fail('EINVAL', 'INTx unmask needs INTx enabled and start 0 count 1');
    }
    if (req.flags & IrqSetFlags.DATA_EVENTFD) {
      // Resample/unmask eventfd: kept (and closed later); this model cannot watch it.
      this.replaceIntxUnmask(req.sinks?.[0] ?? null);
      return;
    }
    if (this.boolSet(req)) this.unmaskIntx();
  }

  /** vfio_pci_intx_unmask_handler: only while masked and the virtual INTx-Disable is clear. */
  private unmaskIntx(): void {
    if (!this.intxMasked || this.virqDisabled) return;
    this.intxMasked = false;
    // Clearing the physical INTx-Disable re-delivers a still-asserted line (level).
    this.syncIntxHw();
  }

  private replaceIntxUnmask(sink: IrqSink | null): void {
    if (this.intxUnmaskSink && this.intxUnmaskSink !== sink) this.intxUnmaskSink.close();
    this.intxUnmaskSink = sink;
  }

  private intxTriggerSet(req: SetIrqsRequest): void {
    const { flags, start, count } = req;
    if (this.mode === 'intx' && count === 0 && flags & IrqSetFlags.DATA_NONE) {
      this.disableAll();
      return;
    }
    if ((this.mode !== 'intx' && this.mode !== 'none') || start !== 0 || count !== 1) {
      fail(
        'EINVAL',
        `INTx trigger not possible in mode ${this.mode} (start ${start} count ${count})`,
      );
    }
    if (flags & IrqSetFlags.DATA_EVENTFD) {
      const sink = req.sinks?.[0] ?? null;
      if (this.intxTrigger && this.intxTrigger !== sink) this.intxTrigger.close();
      this.intxTrigger = sink;
      if (this.mode === 'none') {
        this.mode = 'intx';
        // vfio_intx_enable: the initial mask is the virtual INTx-Disable.
        this.intxMasked = this.virqDisabled;
        this.syncIntxHw();
        this.modeChanged();
        return;
      }
      this.syncIntxHw();
      return;
    }
    if (this.mode !== 'intx') fail('EINVAL', 'INTx is not enabled');
    // vfio_send_intx_eventfd: the loopback is suppressed while INTx-Disable is set.
    if (this.boolSet(req) && !this.virqDisabled) this.intxTrigger?.signal();
  }

  // --- MSI / MSI-X ----------------------------------------------------------------------

  private msiTrigger(req: SetIrqsRequest, kind: 'msi' | 'msix'): void {
    const { flags, start, count } = req;
    if (this.mode === kind && count === 0 && flags & IrqSetFlags.DATA_NONE) {
      this.disableAll();
      return;
    }
    if (this.mode !== kind && this.mode !== 'none') {
      fail('EINVAL', `cannot enable ${kind} while ${this.mode} is active`);
    }
    if (flags & IrqSetFlags.DATA_EVENTFD) {
      const fresh = this.mode === 'none';
      // vfio_msi_enable(start + count): pci_alloc_irq_vectors(pdev, 1, 0) is -ERANGE.
      if (fresh && start + count === 0) fail('ERANGE', `${kind} enable with no vectors`);
      if (fresh) this.enableMsi(kind, start + count);
      const sinks = req.sinks ?? [];
      // vfio_msi_set_block: an fd for a vector that was not allocated fails (pci_irq_vector
      // → EINVAL; no dynamic MSI-X here); the vectors set before it are unwound to none.
      const bad = sinks.findIndex((s, i) => s !== null && start + i >= this.vectors.length);
      if (bad >= 0) {
        for (let v = start; v < Math.min(start + bad, this.vectors.length); v++)
          this.assign(v, null);
        if (fresh) this.disableAll();
        fail('EINVAL', `vector ${start + bad} beyond the ${this.vectors.length} enabled`);
      }
      for (let i = 0; i < count; i++) {
        const v = start + i;
        if (v < this.vectors.length) this.assign(v, sinks[i] ?? null);
      }
      return;
    }
    if (this.mode !== kind) fail('EINVAL', `${kind} is not enabled`);
    for (let i = 0; i < count; i++) {
      const fire = flags & IrqSetFlags.DATA_NONE || (req.bools?.[i] ?? 0) !== 0;
      if (fire) this.vectors[start + i]?.signal();
    }
  }

  /** Set one vector's trigger: the old one is closed, the hardware vector (un)masked. */
  private assign(v: number, sink: IrqSink | null): void {
    const old = this.vectors[v] ?? null;
    if (old && old !== sink) old.close();
    this.vectors[v] = sink;
    // request_irq unmasks the vector, free_irq masks it again.
    this.maskVector(v, sink === null);
  }

  private enableMsi(kind: 'msi' | 'msix', nvec: number): void {
    this.mode = kind;
    this.vectors = new Array<IrqSink | null>(nvec).fill(null);
    // vfio_msi_enable: msi_qmax = fls(nvec * 2 - 1) - 1, i.e. ceil(log2(nvec)).
    if (kind === 'msi') this.qmax = Math.ceil(Math.log2(nvec));
    this.programHw();
    this.modeChanged();
  }

  /** Allocated MSI vectors (2^MME) as a mask-bits value (msi_multi_mask). */
  private msiMultiMask(): number {
    const n = 1 << this.qmax;
    return n >= 32 ? 0xffffffff : (2 ** n - 1) >>> 0;
  }

  private msiMaskReg(): number | undefined {
    const cap = this.layout.msiCap;
    if (cap === undefined) return undefined;
    const flags = this.card.cfgRead(cap + C.PCI_MSI_FLAGS, 2);
    if (!(flags & C.PCI_MSI_FLAGS_MASKBIT)) return undefined;
    return cap + (flags & C.PCI_MSI_FLAGS_64BIT ? C.PCI_MSI_MASK_64 : C.PCI_MSI_MASK_32);
  }

  /** Per-vector mask in hardware, as the host kernel's irq chip does it. */
  private maskVector(v: number, masked: boolean): void {
    if (this.mode === 'msi') {
      const reg = this.msiMaskReg();
      if (reg === undefined || v >= 32) return;
      const bit = 2 ** v;
      const cur = this.card.cfgRead(reg, 4);
      const has = Math.floor(cur / bit) % 2 === 1;
      if (has !== masked) this.card.cfgWrite(reg, 4, (masked ? cur + bit : cur - bit) >>> 0);
    } else if (this.mode === 'msix') {
      this.setMsixEntry(v, masked);
    }
  }

  /** Put the hardware in the state the host kernel would have programmed (also after a reset). */
  programHw(): void {
    const card = this.card;
    if (this.mode === 'msi' && this.layout.msiCap !== undefined) {
      const f = this.layout.msiCap + C.PCI_MSI_FLAGS;
      const hw = card.cfgRead(f, 2);
      const next = (hw & ~C.PCI_MSI_FLAGS_QSIZE) | (this.qmax << 4) | C.PCI_MSI_FLAGS_ENABLE;
      card.cfgWrite(f, 2, next);
      const reg = this.msiMaskReg();
      if (reg !== undefined) {
        // Allocated vectors (2^MME) masked except those with a trigger; bits above kept.
        const all = this.msiMultiMask();
        let triggered = 0;
        for (let v = 0; v < Math.min(this.vectors.length, 32); v++) {
          if (this.vectors[v]) triggered += 2 ** v;
        }
        const cur = card.cfgRead(reg, 4);
        card.cfgWrite(reg, 4, ((cur & ~all) | (all & ~triggered)) >>> 0);
      }
    } else if (this.mode === 'msix' && this.layout.msixCap !== undefined) {
      const f = this.layout.msixCap + C.PCI_MSIX_FLAGS;
      card.cfgWrite(f, 2, card.cfgRead(f, 2) | C.PCI_MSIX_FLAGS_ENABLE);
      const n = (card.cfgRead(f, 2) & C.PCI_MSIX_FLAGS_QSIZE) + 1;
      for (let v = 0; v < n; v++) this.setMsixEntry(v, !this.vectors[v]);
    }
    this.syncIntxHw();
  }

  /** Mask/unmask one physical MSI-X entry (the host kernel's table programming). */
  private setMsixEntry(v: number, masked: boolean): void {
    const cap = this.layout.msixCap;
    if (cap === undefined) return;
    const tbl = this.card.cfgRead(cap + C.PCI_MSIX_TABLE, 4);
    const bir = tbl & C.PCI_MSIX_BIR_MASK;
    const base = tbl & C.PCI_MSIX_OFFSET_MASK;
    // The host reaches the table whatever the guest did to MSE: decode on for the write
    // (vfio_pci_memory_lock_and_enable).
    const cmd = this.card.cfgRead(C.PCI_COMMAND, 2);
    if (!(cmd & C.PCI_COMMAND_MEMORY))
      this.card.cfgWrite(C.PCI_COMMAND, 2, cmd | C.PCI_COMMAND_MEMORY);
    const at = base + v * C.PCI_MSIX_ENTRY_SIZE + C.PCI_MSIX_ENTRY_VECTOR_CTRL;
    this.card.barWrite(bir, at, new Uint8Array([masked ? 1 : 0, 0, 0, 0]));
    if (!(cmd & C.PCI_COMMAND_MEMORY)) {
      const now = this.card.cfgRead(C.PCI_COMMAND, 2);
      this.card.cfgWrite(C.PCI_COMMAND, 2, now & ~C.PCI_COMMAND_MEMORY);
    }
  }

  private disableHw(): void {
    if (this.mode === 'msi' && this.layout.msiCap !== undefined) {
      // pci_msi_shutdown: enable cleared, MME left as it was, allocated vectors unmasked.
      const f = this.layout.msiCap + C.PCI_MSI_FLAGS;
      const hw = this.card.cfgRead(f, 2);
      this.card.cfgWrite(f, 2, hw & ~C.PCI_MSI_FLAGS_ENABLE);
      const reg = this.msiMaskReg();
      if (reg !== undefined) {
        const cur = this.card.cfgRead(reg, 4);
        this.card.cfgWrite(reg, 4, (cur & ~this.msiMultiMask()) >>> 0);
      }
    } else if (this.mode === 'msix' && this.layout.msixCap !== undefined) {
      // pci_msix_shutdown: every entry masked, then enable cleared.
      const f = this.layout.msixCap + C.PCI_MSIX_FLAGS;
      const n = (this.card.cfgRead(f, 2) & C.PCI_MSIX_FLAGS_QSIZE) + 1;
      for (let v = 0; v < n; v++) this.setMsixEntry(v, true);
      this.card.cfgWrite(f, 2, this.card.cfgRead(f, 2) & ~C.PCI_MSIX_FLAGS_ENABLE);
    }
  }

  // --- ERR / REQ ------------------------------------------------------------------------

  /** vfio_pci_set_ctx_trigger_single (count is 0 or 1 here). */
  private ctxTrigger(req: SetIrqsRequest, which: 'err' | 'req'): void {
    const cur = which === 'err' ? this.err : this.req;
    const set = (s: IrqSink | null): void => {
      if (cur && cur !== s) cur.close();
      if (which === 'err') this.err = s;
      else this.req = s;
    };
    if (req.flags & IrqSetFlags.DATA_NONE) {
      // Loopback signal (count 1) or release (count 0) of a trigger that must exist.
      if (!cur) fail('EINVAL', `${which.toUpperCase()} has no trigger to signal or release`);
      if (req.count) cur.signal();
      else set(null);
      return;
    }
    if (req.count === 0) fail('EINVAL', `${which.toUpperCase()} DATA_BOOL/EVENTFD needs count 1`);
    if (req.flags & IrqSetFlags.DATA_EVENTFD) {
      // No fd passed is the kernel's fd -1: release.
      set(req.sinks?.[0] ?? null);
      return;
    }
    if ((req.bools?.[0] ?? 0) !== 0) cur?.signal();
  }

  // --- routing and teardown -------------------------------------------------------------

  private deliver(irq: CardInterrupt): void {
    if (irq.kind === 'intx') {
      if (this.mode !== 'intx' || this.intxIsMasked) return;
      this.intxTrigger?.signal();
      // Automask (vfio_intx_handler + pci_check_and_mask_intx).
      this.intxMasked = true;
      this.syncIntxHw();
      return;
    }
    if (irq.kind !== this.mode) return;
    this.vectors[irq.vector]?.signal();
  }

  /** Tear down the active mode (hardware back to masked/disabled), closing its sinks. */
  disableAll(): void {
    const was = this.mode;
    this.disableHw();
    for (const s of this.vectors) s?.close();
    this.vectors = [];
    // msi_qmax stays: vfio_msi_disable does not reset it.
    this.intxTrigger?.close();
    this.intxTrigger = null;
    this.replaceIntxUnmask(null);
    this.intxMasked = false;
    this.mode = 'none';
    if (was !== 'none') this.modeChanged();
  }

  /** Device close: everything torn down, every sink closed, handler removed. */
  release(): void {
    this.disableAll();
    this.err?.close();
    this.err = null;
    this.req?.close();
    this.req = null;
    this.card.onInterrupt(null);
  }
}
