/**
 * The vfio-pci core's virtual config space: vconfig bytes + the permission map, serving the
 * config region's read()/write() (vfio_pci_config.c).
 *
 * Rules (docs/driver-rules.md §8.1–§8.3):
 * - pos/count outside [0, cfgSize) → EFAULT. Accesses are chopped into naturally aligned
 *   4/2/1-byte pieces that never cross a dword or an owner (header/cap/gap) boundary.
 * - BARs 0x10–0x27 and the ROM BAR are fully virtual with sizing emulation from the host
 *   resources (applied on the next BAR read after any BAR write, and at open).
 * - Command: INTx-Disable is virtual; other bits go to hardware; MSE/IO are also remembered
 *   in vconfig (they define "memory enabled").
 * - MSI flags low byte is virtual; on write the enable bit is kept only while MSI is on via
 *   SET_IRQS and the queue size is clipped to the allocated maximum, then written to hardware.
 * - PCIe DevCtl: FLR bit virtual, reads 0, setting it resets the function (DevCap FLR).
 * - PM: the power-state field is trapped and written to hardware by the core.
 */
import type { Card } from '../hw/card.js';
import * as C from '../pci/constants.js';
import type { ConfigMap } from './config-map.js';
import { buildConfigMap, RAW_RW, RAW_WRITE } from './config-map.js';
import { fail } from './errors.js';

export interface ConfigHooks {
  /** MSI enabled through SET_IRQS, and log2 of its allocated vectors. */
  msiActive(): boolean;
  msiQmax(): number;
  /** The virtual INTx-Disable bit changed. */
  intxDisableChanged(disabled: boolean): void;
  /** FLR requested through the PCIe DevCtl bit. */
  flr(): void;
}

type Size = 1 | 2 | 4;

export class VirtualConfig {
  readonly size: number;
  private vconfig: Uint8Array;
  private map: ConfigMap;
  private barDirty = true;
  /** The last power state read from hardware (the kernel's pdev->current_state). */
  private powerState = 0;
  private virqDisabled = false;

  constructor(
    private readonly card: Card,
    private readonly hooks: ConfigHooks,
  ) {
    this.size = card.cfgSize;
    this.vconfig = new Uint8Array(this.size);
    this.map = buildConfigMap((o, s) => card.cfgRead(o, s), this.size);
    this.init();
  }

  /** Rebuild vconfig from hardware (device open). */
  init(): void {
    const card = this.card;
    this.map = buildConfigMap((o, s) => card.cfgRead(o, s), this.size);
    for (let o = 0; o < this.size; o += 4) this.setV(o, 4, card.cfgRead(o, 4));
    for (const p of this.map.vconfigPatches) this.setV(p.offset, p.size, p.value);
    const pm = this.map.caps.get(C.PCI_CAP_ID_PM);
    if (pm !== undefined) {
      this.setV(pm + C.PCI_PM_PMC, 2, this.v(pm + C.PCI_PM_PMC, 2) & ~C.PCI_PM_CAP_PME_MASK);
      const ctrl = pm + C.PCI_PM_CTRL;
      this.setV(ctrl, 2, this.v(ctrl, 2) & ~(C.PCI_PM_CTRL_PME_ENABLE | C.PCI_PM_CTRL_PME_STATUS));
    }
    const exp = this.map.caps.get(C.PCI_CAP_ID_EXP);
    if (exp !== undefined) {
      const dc = exp + C.PCI_EXP_DEVCTL;
      this.setV(dc, 2, this.v(dc, 2) & ~C.PCI_EXP_DEVCTL_BCR_FLR);
    }
    if (this.card.romSize === 0) this.setV(C.PCI_ROM_ADDRESS, 4, 0);
    this.virqDisabled = (this.v(C.PCI_COMMAND, 2) & C.PCI_COMMAND_INTX_DISABLE) !== 0;
    this.barDirty = true;
  }

  /** Offset of an exposed standard capability. */
  capOffset(id: number): number | undefined {
    return this.map.caps.get(id);
  }

  /** The core's "memory enabled": virtual MSE set and the function in D0..D2. */
  get memoryEnabled(): boolean {
    if ((this.v(C.PCI_COMMAND, 2) & C.PCI_COMMAND_MEMORY) === 0) return false;
    const pm = this.map.caps.get(C.PCI_CAP_ID_PM);
    if (pm === undefined) return true;
    // The kernel tests its cached pdev->current_state: a function that stopped answering
    // (config reads all-ones, e.g. off the bus) leaves the last known state in place.
    const raw = this.card.cfgRead(pm + C.PCI_PM_CTRL, 2);
    if (raw !== 0xffff) this.powerState = raw & C.PCI_PM_CTRL_STATE_MASK;
    return this.powerState < C.PCI_D3HOT;
  }

  /** The command register as vconfig remembers it (MSE/IO/INTx-Disable are the user's). */
  get virtualCommand(): number {
    return this.v(C.PCI_COMMAND, 2);
  }

  /** Virtual INTx-Disable (the user's view of Command bit 10). */
  get intxDisabled(): boolean {
    return this.virqDisabled;
  }

  /** Virtual interrupt pin. */
  get interruptPin(): number {
    return this.v(C.PCI_INTERRUPT_PIN, 1);
  }

  private v(o: number, s: Size): number {
    let x = 0;
    for (let i = s - 1; i >= 0; i--) x = x * 256 + (this.vconfig[o + i] ?? 0);
    return x >>> 0;
  }

  private setV(o: number, s: Size, value: number): void {
    for (let i = 0; i < s; i++) this.vconfig[o + i] = (value >>> (8 * i)) & 0xff;
  }

  private mask(arr: Uint8Array, o: number, s: Size): number {
    let x = 0;
    for (let i = s - 1; i >= 0; i--) x = x * 256 + (arr[o + i] ?? 0);
    return x >>> 0;
  }

  private check(pos: number, count: number): void {
    if (!Number.isSafeInteger(pos) || !Number.isSafeInteger(count) || pos < 0 || count < 0) {
      fail('EFAULT', `config access at ${pos} (+${count})`);
    }
    // vfio_pci_config_rw loops "while (count)": a zero-length access at any offset is 0.
    if (count === 0) return;
    if (pos + count > this.size || pos >= this.size) {
      fail('EFAULT', `config access 0x${pos.toString(16)} (+${count}) beyond ${this.size} bytes`);
    }
  }

  private pieceSize(pos: number, left: number): Size {
    let s: Size = left >= 4 && pos % 4 === 0 ? 4 : left >= 2 && pos % 2 === 0 ? 2 : 1;
    const owner = this.map.owner;
    while (s > 1 && owner[pos + s - 1] !== owner[pos]) s = s === 4 ? 2 : 1;
    return s;
  }

  read(pos: number, count: number): Uint8Array {
    const out = new Uint8Array(count);
    this.readInto(pos, out);
    return out;
  }

  /** read() into the caller's memory (the server's reply): all of `out` is written. */
  readInto(pos: number, out: Uint8Array): number {
    const count = out.length;
    this.check(pos, count);
    let done = 0;
    while (done < count) {
      const o = pos + done;
      const s = this.pieceSize(o, count - done);
      const value = this.readPiece(o, s);
      for (let i = 0; i < s; i++) out[done + i] = (value >>> (8 * i)) & 0xff;
      done += s;
    }
    return count;
  }

  write(pos: number, data: Uint8Array): number {
    this.check(pos, data.length);
    let done = 0;
    while (done < data.length) {
      const o = pos + done;
      const s = this.pieceSize(o, data.length - done);
      let value = 0;
      for (let i = s - 1; i >= 0; i--) value = value * 256 + (data[done + i] ?? 0);
      this.writePiece(o, s, value >>> 0);
      done += s;
    }
    return data.length;
  }

  private readPiece(o: number, s: Size): number {
    if (this.map.raw[o] === RAW_RW) return this.card.cfgRead(o, s);
    if (this.barDirty && o < C.PCI_ROM_ADDRESS + 4 && o + s > C.PCI_BASE_ADDRESS_0) {
      this.barFixup();
    }
    const virt = this.mask(this.map.virt, o, s);
    const all = s === 4 ? 0xffffffff : s === 2 ? 0xffff : 0xff;
    const hw = virt === all ? 0 : this.card.cfgRead(o, s);
    return ((hw & ~virt) | (this.v(o, s) & virt)) >>> 0;
  }

  private writePiece(o: number, s: Size, value: number): void {
    const rawKind = this.map.raw[o];
    if (rawKind === RAW_RW || rawKind === RAW_WRITE) {
      this.card.cfgWrite(o, s, value);
      return;
    }
    const pm = this.map.caps.get(C.PCI_CAP_ID_PM);
    const msi = this.map.caps.get(C.PCI_CAP_ID_MSI);
    const exp = this.map.caps.get(C.PCI_CAP_ID_EXP);
    const oldDevctl = exp === undefined ? 0 : this.v(exp + C.PCI_EXP_DEVCTL, 2);

    this.defaultWrite(o, s, value);

    if (o < C.PCI_ROM_ADDRESS + 4 && o + s > C.PCI_BASE_ADDRESS_0) this.barDirty = true;
    if (o === C.PCI_COMMAND) {
      const keep = C.PCI_COMMAND_MEMORY | C.PCI_COMMAND_IO;
      this.setV(C.PCI_COMMAND, 2, (this.v(C.PCI_COMMAND, 2) & ~keep) | (value & keep));
    }
    if (o <= C.PCI_COMMAND + 1 && o + s > C.PCI_COMMAND) {
      const dis = (this.v(C.PCI_COMMAND, 2) & C.PCI_COMMAND_INTX_DISABLE) !== 0;
      if (dis !== this.virqDisabled) {
        this.virqDisabled = dis;
        this.hooks.intxDisableChanged(dis);
      }
    }
    if (pm !== undefined && o === pm + C.PCI_PM_CTRL) this.pmStateWrite(pm, value);
    if (msi !== undefined) {
      const flags = msi + C.PCI_MSI_FLAGS;
      // vfio_msi_config_write: "offset <= PCI_MSI_FLAGS && offset + count >= PCI_MSI_FLAGS",
      // so a write ending just before the flags (the next pointer byte) also writes them back.
      if (o <= flags && o + s >= flags) this.msiFlagsWritten(flags);
    }
    if (exp !== undefined) {
      const dc = exp + C.PCI_EXP_DEVCTL;
      if (o <= dc + 1 && o + s > dc) this.devctlWritten(exp, oldDevctl);
    }
  }

  private defaultWrite(o: number, s: Size, value: number): void {
    const write = this.mask(this.map.write, o, s);
    const virt = this.mask(this.map.virt, o, s);
    const vbits = (write & virt) >>> 0;
    const hbits = (write & ~virt) >>> 0;
    if (vbits) this.setV(o, s, ((this.v(o, s) & ~vbits) | (value & vbits)) >>> 0);
    if (hbits) {
      const hw = this.card.cfgRead(o, s);
      this.card.cfgWrite(o, s, ((hw & ~hbits) | (value & hbits)) >>> 0);
    }
  }

  /** The user wrote PMCSR: the state field is performed by the core (D0 or D3hot). */
  private pmStateWrite(pm: number, value: number): void {
    const ctrl = pm + C.PCI_PM_CTRL;
    const want = value & C.PCI_PM_CTRL_STATE_MASK;
    const hw = this.card.cfgRead(ctrl, 2);
    if ((hw & C.PCI_PM_CTRL_STATE_MASK) === want) return;
    // vfio_pci_set_power_state: only D0 and D3hot are meaningful here; D1/D2 requests are
    // passed on and the hardware decides (this card keeps its state for D1/D2).
    this.card.cfgWrite(ctrl, 2, (hw & ~C.PCI_PM_CTRL_STATE_MASK) | want);
  }

  private msiFlagsWritten(flagsOff: number): void {
    let flags = this.v(flagsOff, 2);
    if (!this.hooks.msiActive()) flags &= ~C.PCI_MSI_FLAGS_ENABLE;
    const qmax = this.hooks.msiQmax();
    if ((flags & C.PCI_MSI_FLAGS_QSIZE) >>> 4 > qmax) {
      flags = (flags & ~C.PCI_MSI_FLAGS_QSIZE) | (qmax << 4);
    }
    this.setV(flagsOff, 2, flags);
    // Only the low byte is the user's; the hardware's upper byte is kept.
    const hw = this.card.cfgRead(flagsOff, 2);
    this.card.cfgWrite(flagsOff, 2, (hw & 0xff00) | (flags & 0xff));
  }

  private devctlWritten(exp: number, oldDevctl: number): void {
    const dc = exp + C.PCI_EXP_DEVCTL;
    const cur = this.v(dc, 2);
    const readrq = cur & C.PCI_EXP_DEVCTL_READRQ;
    if (readrq !== (oldDevctl & C.PCI_EXP_DEVCTL_READRQ)) {
      // MRRS reaches hardware as max(user MRRS, current MPS) (both encoded 128 << n).
      const hw = this.card.cfgRead(dc, 2);
      const mps = (hw & C.PCI_EXP_DEVCTL_PAYLOAD) >>> 5;
      const rq = Math.max(readrq >>> 12, mps) << 12;
      this.card.cfgWrite(dc, 2, (hw & ~C.PCI_EXP_DEVCTL_READRQ & ~C.PCI_EXP_DEVCTL_BCR_FLR) | rq);
    }
    if (cur & C.PCI_EXP_DEVCTL_BCR_FLR) {
      this.setV(dc, 2, cur & ~C.PCI_EXP_DEVCTL_BCR_FLR);
      const devcap = this.card.cfgRead(exp + C.PCI_EXP_DEVCAP, 4);
      if (devcap & C.PCI_EXP_DEVCAP_FLR) this.hooks.flr();
    }
  }

  /** vfio_bar_fixup: mask the virtual BARs to their sizes, set the type flags. */
  private barFixup(): void {
    const bars = this.card.bars;
    for (let i = 0; i < 6; i++) {
      const off = C.PCI_BASE_ADDRESS_0 + 4 * i;
      const bar = bars[i];
      if (!bar || bar.size === 0) {
        this.setV(off, 4, 0);
        continue;
      }
      const lowMask = bar.size >= 2 ** 32 ? 0 : (~(bar.size - 1) & 0xffffffff) >>> 0;
      let flags = 0;
      if (bar.io) flags = C.PCI_BASE_ADDRESS_SPACE_IO;
      else {
        if (bar.prefetch) flags |= C.PCI_BASE_ADDRESS_MEM_PREFETCH;
        if (bar.is64) flags |= C.PCI_BASE_ADDRESS_MEM_TYPE_64;
      }
      this.setV(off, 4, ((this.v(off, 4) & lowMask) | flags) >>> 0);
      if (!bar.io && bar.is64 && i < 5) {
        const hiMask = bar.size <= 2 ** 32 ? 0xffffffff : ~(bar.size / 2 ** 32 - 1) >>> 0;
        this.setV(off + 4, 4, (this.v(off + 4, 4) & hiMask) >>> 0);
        i++;
      }
    }
    // No ROM resource: the ROM BAR reads 0.
    if (this.card.romSize === 0) this.setV(C.PCI_ROM_ADDRESS, 4, 0);
    else {
      const mask = (~(this.card.romSize - 1) | C.PCI_ROM_ADDRESS_ENABLE) >>> 0;
      this.setV(C.PCI_ROM_ADDRESS, 4, (this.v(C.PCI_ROM_ADDRESS, 4) & mask) >>> 0);
    }
    this.barDirty = false;
  }
}
