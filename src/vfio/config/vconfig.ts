/**
 * The vfio-pci core's config-space virtualization (vfio_pci_config.c), §8.1–§8.3: the user's
 * view `vconfig`, a per-byte owner map built at open, and the read/write paths.
 *
 * Rules:
 * - Region size = card.cfgSize; an access outside it → EFAULT; length 0 → nothing.
 * - Accesses are chopped into aligned pieces (4 if aligned and available, else 2, else 1)
 *   that never cross a dword or a capability boundary; each piece uses its owner's table.
 * - Bytes no capability owns (gaps after the header) are raw pass-through.
 * - Hidden standard caps are unlinked; a hidden ext cap that is not first is unlinked, a
 *   hidden first one stays at 0x100 as a placeholder (ID/version 0, next kept); no visible ext
 *   cap → 0x100 reads 0; no visible std cap → Status.CapList reads 0.
 * - Side effects the core owns (FLR, power state, INTx masking, MSI state) are asked of the
 *   ConfigHost, so this file only knows config bytes.
 */
import type { Card } from '../../hw/card.js';
import {
  extCapId,
  extCapNext,
  PCI_CAP_ID_EXP,
  PCI_CAP_LIST_NEXT,
  PCI_CAPABILITY_LIST,
  PCI_CFG_SPACE_SIZE,
  PCI_COMMAND,
  PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_IO,
  PCI_COMMAND_MEMORY,
  PCI_EXP_DEVCAP,
  PCI_EXP_DEVCAP_FLR,
  PCI_EXP_DEVCTL,
  PCI_EXP_DEVCTL_BCR_FLR,
  PCI_EXP_DEVCTL_PAYLOAD,
  PCI_EXP_DEVCTL_READRQ,
  PCI_MSI_FLAGS,
  PCI_MSI_FLAGS_ENABLE,
  PCI_MSI_FLAGS_QMASK,
  PCI_MSI_FLAGS_QSIZE,
  PCI_PM_CAP_PME_MASK,
  PCI_PM_CTRL,
  PCI_PM_CTRL_PME_ENABLE,
  PCI_PM_CTRL_PME_STATUS,
  PCI_PM_CTRL_STATE_MASK,
  PCI_PM_PMC,
  PCI_STATUS,
  PCI_STATUS_CAP_LIST,
  PCI_STD_HEADER_SIZEOF,
} from '../../pci/constants.js';
import { fail } from '../errors.js';
import { fixupBars, isBarOffset } from './bar-fixup.js';
import { maskAt, ones, type PermTable } from './perm.js';
import { basicPerm, extCapLength, extCapPerm, stdCapLength, stdCapPerm } from './tables.js';

/** What config writes ask of the device core. */
export interface ConfigHost {
  /** DevCtl.BCR_FLR was written as 1 and DevCap says FLR: reset the function. */
  functionReset(): void;
  /** The virtual Command.INTxDisable changed. */
  intxDisableChanged(disabled: boolean): void;
  /** The user wrote the PMCSR power-state field. */
  setPowerState(state: number): void;
  /** True while MSI is the interrupt type enabled through SET_IRQS. */
  msiActive(): boolean;
  /** log2 of the MSI vectors allocated through SET_IRQS (msi_qmax). */
  msiQmax(): number;
}

/** A capability as the user sees it (after hiding). */
export interface VisibleCap {
  id: number;
  offset: number;
  length: number;
  ext: boolean;
}

interface Owner {
  start: number;
  perm: PermTable;
}

type Size = 1 | 2 | 4;

export class VirtualConfig {
  readonly size: number;
  readonly vconfig: Uint8Array;
  private owner: Int16Array;
  private owners: Owner[] = [];
  private bardirty = true;
  /** Capabilities exposed to the user, std then ext, in chain order. */
  caps: VisibleCap[] = [];

  constructor(
    private readonly card: Card,
    private readonly host: ConfigHost,
  ) {
    this.size = card.cfgSize;
    this.vconfig = new Uint8Array(this.size);
    this.owner = new Int16Array(this.size).fill(-1);
  }

  // --- little-endian helpers on vconfig ---------------------------------------------

  get(at: number, size: Size): number {
    return maskAt(this.vconfig, at, size);
  }

  set(at: number, size: Size, value: number): void {
    for (let i = 0; i < size; i++) this.vconfig[at + i] = (value >>> (8 * i)) & 0xff;
  }

  private hw(at: number, size: Size): number {
    return this.card.cfgRead(at, size) >>> 0;
  }

  /** Offset of the visible capability `id` (std unless ext), or null. */
  capOffset(id: number, ext = false): number | null {
    return this.caps.find((c) => c.id === id && c.ext === ext)?.offset ?? null;
  }

  // --- build (vfio_config_init) -------------------------------------------------------

  /** Rebuild vconfig and the owner map from the card's current config (device open). */
  init(): void {
    this.vconfig.fill(0);
    this.owner.fill(-1);
    this.owners = [];
    this.caps = [];
    this.fill(0, PCI_STD_HEADER_SIZEOF);
    this.assign(0, PCI_STD_HEADER_SIZEOF, basicPerm());
    const pcie = this.initCaps();
    if (pcie && this.size > PCI_CFG_SPACE_SIZE) this.initExtCaps();
    this.bardirty = true;
  }

  private fill(at: number, len: number): void {
    for (let i = 0; i < len; i++) this.vconfig[at + i] = this.hw(at + i, 1);
  }

  private assign(start: number, len: number, perm: PermTable): void {
    const idx = this.owners.length;
    this.owners.push({ start, perm });
    for (let i = 0; i < len && start + i < this.size; i++) this.owner[start + i] = idx;
  }

  /** Standard caps (vfio_cap_init); returns true when a PCIe capability is present. */
  private initCaps(): boolean {
    if ((this.hw(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST) === 0) return false;
    const read = (o: number, s: Size) => this.hw(o, s);
    let prev = PCI_CAPABILITY_LIST;
    let pos = this.hw(PCI_CAPABILITY_LIST, 1);
    let pcie = false;
    let visible = 0;
    for (let loops = (PCI_CFG_SPACE_SIZE - PCI_STD_HEADER_SIZEOF) / 4; pos && loops > 0; loops--) {
      if (pos < PCI_STD_HEADER_SIZEOF || pos + 2 > PCI_CFG_SPACE_SIZE) break;
      const id = this.hw(pos, 1);
      const next = this.hw(pos + PCI_CAP_LIST_NEXT, 1);
      const len = Math.min(stdCapLength(id, read, pos), PCI_CFG_SPACE_SIZE - pos);
      if (len === 0) {
        this.vconfig[prev] = next; // unlink
        pos = next;
        continue;
      }
      if (id === PCI_CAP_ID_EXP) pcie = true;
      this.fill(pos, len);
      this.assign(pos, len, stdCapPerm(id, len, read, pos));
      this.caps.push({ id, offset: pos, length: len, ext: false });
      prev = pos + PCI_CAP_LIST_NEXT;
      pos = next;
      visible++;
    }
    if (visible === 0) this.set(PCI_STATUS, 2, this.get(PCI_STATUS, 2) & ~PCI_STATUS_CAP_LIST);
    const pm = this.capOffset(0x01);
    if (pm !== null) {
      // The guest cannot take PME events: PME_Support, PME_En and PME_Status read 0.
      this.set(pm + PCI_PM_PMC, 2, this.get(pm + PCI_PM_PMC, 2) & ~PCI_PM_CAP_PME_MASK);
      const pme = PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS;
      this.set(pm + PCI_PM_CTRL, 2, this.get(pm + PCI_PM_CTRL, 2) & ~pme);
    }
    return pcie;
  }

  /** Extended caps (vfio_ecap_init). */
  private initExtCaps(): void {
    const read = (o: number, s: Size) => this.hw(o, s);
    let pos = PCI_CFG_SPACE_SIZE;
    let prev: number | null = null;
    let visible = 0;
    for (
      let loops = (this.size - PCI_CFG_SPACE_SIZE) / 4;
      loops > 0 && pos >= PCI_CFG_SPACE_SIZE;
      loops--
    ) {
      if (pos + 4 > this.size) break;
      const header = this.hw(pos, 4);
      const id = extCapId(header);
      let len = Math.min(extCapLength(id, read, pos), this.size - pos);
      let hidden = false;
      if (len === 0) {
        if (prev !== null) {
          // Not first: skip over it by rewriting the previous next pointer.
          const next = extCapNext(header);
          this.set(prev, 4, ((this.get(prev, 4) & ~(0xffc << 20)) | (next << 20)) >>> 0);
          pos = next;
          continue;
        }
        len = 4; // first in the chain: keep a placeholder that anchors the list
        hidden = true;
      }
      this.fill(pos, len);
      this.assign(pos, len, extCapPerm(hidden ? 0 : id, len));
      if (hidden) this.set(pos, 4, (this.get(pos, 4) & (0xffc << 20)) >>> 0);
      else {
        visible++;
        this.caps.push({ id, offset: pos, length: len, ext: true });
      }
      prev = pos;
      pos = extCapNext(header);
    }
    if (visible === 0) this.set(PCI_CFG_SPACE_SIZE, 4, 0);
  }

  // --- access ---------------------------------------------------------------------------

  private check(offset: number, length: number): void {
    if (
      !Number.isSafeInteger(offset) ||
      offset < 0 ||
      offset >= this.size ||
      offset + length > this.size
    ) {
      fail(
        'EFAULT',
        `config access at 0x${offset.toString(16)} (+${length}) is outside 0..0x${this.size.toString(16)}`,
      );
    }
  }

  /** Size of the next piece at `pos` with `count` bytes left (vfio_config_do_rw chopping). */
  private pieceSize(pos: number, count: number): Size {
    const id = this.owner[pos];
    let same = 1;
    while (same < 4 - (pos % 4) && this.owner[pos + same] === id) same++;
    const n = Math.min(count, same);
    if (n >= 4 && pos % 4 === 0) return 4;
    if (n >= 2 && pos % 2 === 0) return 2;
    return 1;
  }

  read(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    if (length === 0) return out;
    this.check(offset, length);
    for (let done = 0; done < length; ) {
      const pos = offset + done;
      const size = this.pieceSize(pos, length - done);
      const v = this.readPiece(pos, size);
      for (let i = 0; i < size; i++) out[done + i] = (v >>> (8 * i)) & 0xff;
      done += size;
    }
    return out;
  }

  write(offset: number, data: Uint8Array): number {
    if (data.length === 0) return 0;
    this.check(offset, data.length);
    for (let done = 0; done < data.length; ) {
      const pos = offset + done;
      const size = this.pieceSize(pos, data.length - done);
      this.writePiece(pos, size, maskAt(data, done, size));
      done += size;
    }
    return data.length;
  }

  private readPiece(pos: number, size: Size): number {
    const idx = this.owner[pos] ?? -1;
    const o = this.owners[idx];
    if (!o) return this.hw(pos, size);
    const { perm, start } = o;
    const offset = pos - start;
    if (perm.role === 'basic' && isBarOffset(offset)) this.barFixup();
    if (perm.role === 'msi' && offset <= PCI_MSI_FLAGS && offset + size >= PCI_MSI_FLAGS) {
      const f = this.get(start + PCI_MSI_FLAGS, 2) & ~PCI_MSI_FLAGS_QMASK;
      this.set(start + PCI_MSI_FLAGS, 2, f | (this.host.msiQmax() << 1));
    }
    if (perm.read === 'raw') return this.hw(pos, size);
    if (perm.read === 'direct') {
      let v = this.hw(pos, size);
      let keep = 0; // bytes from the start of the piece that come from vconfig
      if (pos >= PCI_CFG_SPACE_SIZE) keep = offset < 4 ? size : 0;
      else if (offset === 0 && size > 1) keep = 2;
      else if (offset === 1) keep = 1;
      if (keep) {
        const m = ones(keep);
        v = ((v & ~m) | (this.get(pos, size) & m)) >>> 0;
      }
      return v;
    }
    const virt = maskAt(perm.virt, offset, size);
    const val = this.get(pos, size);
    if (virt === ones(size)) return val;
    return ((this.hw(pos, size) & ~virt) | (val & virt)) >>> 0;
  }

  private defaultWrite(
    pos: number,
    size: Size,
    perm: PermTable,
    offset: number,
    value: number,
  ): void {
    const write = maskAt(perm.write, offset, size);
    if (!write) return;
    const virt = maskAt(perm.virt, offset, size);
    const wv = (write & virt) >>> 0;
    if (wv) this.set(pos, size, ((this.get(pos, size) & ~wv) | (value & wv)) >>> 0);
    const wh = (write & ~virt) >>> 0;
    if (wh) this.card.cfgWrite(pos, size, ((this.hw(pos, size) & ~wh) | (value & wh)) >>> 0);
  }

  private writePiece(pos: number, size: Size, value: number): void {
    const idx = this.owner[pos] ?? -1;
    const o = this.owners[idx];
    if (!o) {
      this.card.cfgWrite(pos, size, value);
      return;
    }
    const { perm, start } = o;
    const offset = pos - start;
    if (perm.writeKind === 'none') return;
    if (perm.writeKind === 'raw') {
      this.card.cfgWrite(pos, size, value);
      return;
    }
    switch (perm.role) {
      case 'basic':
        this.writeBasic(size, perm, offset, value);
        return;
      case 'pcie':
        this.writePcie(pos, size, perm, start, value);
        return;
      case 'pm':
        this.defaultWrite(pos, size, perm, offset, value);
        if (offset === PCI_PM_CTRL) this.host.setPowerState(value & PCI_PM_CTRL_STATE_MASK);
        return;
      case 'msi':
        this.defaultWrite(pos, size, perm, offset, value);
        if (offset <= PCI_MSI_FLAGS && offset + size >= PCI_MSI_FLAGS) this.fixMsiFlags(start);
        return;
      default:
        this.defaultWrite(pos, size, perm, offset, value);
    }
  }

  /** vfio_basic_config_write: MSE/IO remembered, INTx-disable emulated, BARs marked dirty. */
  private writeBasic(size: Size, perm: PermTable, offset: number, value: number): void {
    this.defaultWrite(offset, size, perm, offset, value);
    if (offset === PCI_COMMAND) {
      const m = PCI_COMMAND_MEMORY | PCI_COMMAND_IO;
      this.set(PCI_COMMAND, 2, (this.get(PCI_COMMAND, 2) & ~m) | (value & m));
    }
    if (offset >= PCI_COMMAND && offset <= PCI_COMMAND + 1) {
      this.host.intxDisableChanged((this.get(PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE) !== 0);
    }
    if (isBarOffset(offset)) this.bardirty = true;
  }

  /** vfio_exp_config_write: FLR triggers a function reset and reads 0; MRRS floor = MPS. */
  private writePcie(pos: number, size: Size, perm: PermTable, start: number, value: number): void {
    const ctl = start + PCI_EXP_DEVCTL;
    const readrq = this.get(ctl, 2) & PCI_EXP_DEVCTL_READRQ;
    this.defaultWrite(pos, size, perm, pos - start, value);
    const v = this.get(ctl, 2);
    if (v & PCI_EXP_DEVCTL_BCR_FLR) {
      this.set(ctl, 2, v & ~PCI_EXP_DEVCTL_BCR_FLR);
      if (this.hw(start + PCI_EXP_DEVCAP, 4) & PCI_EXP_DEVCAP_FLR) this.host.functionReset();
    }
    const now = this.get(ctl, 2) & PCI_EXP_DEVCTL_READRQ;
    if (now !== readrq) {
      const phys = this.hw(ctl, 2);
      const mps = (phys & PCI_EXP_DEVCTL_PAYLOAD) >> 5;
      const rq = Math.max(now >> 12, mps);
      this.card.cfgWrite(ctl, 2, (phys & ~PCI_EXP_DEVCTL_READRQ & 0xffff) | (rq << 12));
    }
  }

  /** vfio_msi_config_write tail: enable only via SET_IRQS, QSIZE clipped, flags to hardware. */
  private fixMsiFlags(start: number): void {
    let flags = this.get(start + PCI_MSI_FLAGS, 2);
    if (!this.host.msiActive()) flags &= ~PCI_MSI_FLAGS_ENABLE;
    const qmax = this.host.msiQmax();
    if ((flags & PCI_MSI_FLAGS_QSIZE) >> 4 > qmax)
      flags = (flags & ~PCI_MSI_FLAGS_QSIZE) | (qmax << 4);
    this.set(start + PCI_MSI_FLAGS, 2, flags);
    this.card.cfgWrite(start + PCI_MSI_FLAGS, 2, flags);
  }

  private barFixup(): void {
    if (!this.bardirty) return;
    fixupBars(this.vconfig, this.card.bars, this.card.romSize);
    this.bardirty = false;
  }
}
